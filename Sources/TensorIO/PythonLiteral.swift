/// A value of the small subset of Python literal syntax that NumPy writes in `.npy` headers:
/// strings, integers, `True`/`False`/`None`, tuples, lists and dictionaries with string keys.
///
/// The parser is a strict recursive-descent reader with a nesting limit; it never evaluates
/// anything.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(key: String, value: PythonLiteral)])

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.none, .none): return true
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): return a == b
        case let (.dict(a), .dict(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// A short description of the value's Python type, for error messages.
    var typeName: String {
        switch self {
        case .string: return "str"
        case .int: return "int"
        case .bool: return "bool"
        case .none: return "None"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        }
    }

    /// Parses `text`, which must hold exactly one literal, optionally surrounded by whitespace.
    ///
    /// - Throws: ``PythonLiteral/SyntaxError`` with the byte offset of the problem.
    static func parse(_ text: [UInt8]) throws(SyntaxError) -> PythonLiteral {
        var parser = Parser(bytes: text)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == text.count else {
            throw SyntaxError(offset: parser.position, message: "unexpected text after the literal")
        }
        return value
    }

    /// Why a header did not parse, and where.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        static let maximumDepth = 16

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        func fail(_ message: String) -> SyntaxError {
            SyntaxError(offset: position, message: message)
        }

        mutating func value(depth: Int) throws(SyntaxError) -> PythonLiteral {
            guard depth < Parser.maximumDepth else { throw fail("nesting deeper than \(Parser.maximumDepth) levels") }
            guard position < bytes.count else { throw fail("unexpected end of the header") }
            switch bytes[position] {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .int(try integer())
            case UInt8(ascii: "("):
                let (items, sawComma) = try sequence(closing: UInt8(ascii: ")"), depth: depth)
                // `(x)` is just `x` in Python; only `()` and `(x,)` are tuples.
                if items.count == 1 && !sawComma { return items[0] }
                return .tuple(items)
            case UInt8(ascii: "["):
                return .list(try sequence(closing: UInt8(ascii: "]"), depth: depth).items)
            case UInt8(ascii: "{"):
                return try dictionary(depth: depth)
            default:
                if consume("True") { return .bool(true) }
                if consume("False") { return .bool(false) }
                if consume("None") { return .none }
                throw fail("unexpected character '\(Unicode.Scalar(bytes[position]))'")
            }
        }

        mutating func consume(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard bytes.count - position >= w.count, Array(bytes[position..<(position + w.count)]) == w else { return false }
            // The word must end here (`Truex` is not `True`).
            let end = position + w.count
            if end < bytes.count {
                let next = bytes[end]
                let isIdentifier = (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z"))
                    || (next >= UInt8(ascii: "A") && next <= UInt8(ascii: "Z"))
                    || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || next == UInt8(ascii: "_")
                if isIdentifier { return false }
            }
            position = end
            return true
        }

        mutating func string() throws(SyntaxError) -> String {
            let quote = bytes[position]
            position += 1
            var out: [UInt8] = []
            while true {
                guard position < bytes.count else { throw fail("unterminated string") }
                let c = bytes[position]
                position += 1
                if c == quote { break }
                if c == 0x0A { throw fail("newline inside a string") }
                if c == UInt8(ascii: "\\") {
                    guard position < bytes.count else { throw fail("unterminated string") }
                    let e = bytes[position]
                    position += 1
                    switch e {
                    case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                    default: throw fail("unsupported escape '\\\(Unicode.Scalar(e))' in a string")
                    }
                } else {
                    out.append(c)
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
            return s
        }

        mutating func integer() throws(SyntaxError) -> Int {
            let start = position
            var negative = false
            if bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            var magnitude = 0
            var digits = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                let d = Int(bytes[position] - UInt8(ascii: "0"))
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else {
                    position = start
                    throw fail("integer too large")
                }
                magnitude = s
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw fail("expected digits") }
            // Python 2 NumPy wrote long integers with an `L` suffix.
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
            return negative ? -magnitude : magnitude
        }

        mutating func sequence(closing: UInt8, depth: Int) throws(SyntaxError) -> (items: [PythonLiteral], sawComma: Bool) {
            position += 1
            var items: [PythonLiteral] = []
            var sawComma = false
            skipWhitespace()
            while true {
                guard position < bytes.count else { throw fail("unterminated sequence") }
                if bytes[position] == closing {
                    position += 1
                    return (items, sawComma)
                }
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw fail("unterminated sequence") }
                if bytes[position] == UInt8(ascii: ",") {
                    sawComma = true
                    position += 1
                    skipWhitespace()
                } else if bytes[position] != closing {
                    throw fail("expected ',' or '\(Unicode.Scalar(closing))'")
                }
            }
        }

        mutating func dictionary(depth: Int) throws(SyntaxError) -> PythonLiteral {
            position += 1
            var entries: [(key: String, value: PythonLiteral)] = []
            skipWhitespace()
            while true {
                guard position < bytes.count else { throw fail("unterminated dictionary") }
                if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .dict(entries)
                }
                guard bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
                    throw fail("dictionary keys must be strings")
                }
                let key = try string()
                guard !entries.contains(where: { $0.key == key }) else { throw fail("duplicate key '\(key)'") }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':' after key '\(key)'") }
                position += 1
                skipWhitespace()
                entries.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard position < bytes.count else { throw fail("unterminated dictionary") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                } else if bytes[position] != UInt8(ascii: "}") {
                    throw fail("expected ',' or '}'")
                }
            }
        }
    }
}
