import Foundation

/// Cheap scans of JSON and YAML text that run before the real parser, so that input a parser
/// would mishandle is refused with a clear message instead.
///
/// Why: the parsers are recursive (Yams' YAML parser and composer overflow the stack on a few
/// thousand nesting levels and crash the process), and JSON objects with a repeated key are
/// silently resolved to one of the values by `JSONDecoder`. Neither is acceptable for files that
/// describe tensors, zoos or runs. The scans read every byte once and allocate nothing per byte.
public enum StructureScan {
    /// What a scan found wrong.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// Brackets (or YAML indentation levels) nest deeper than the limit.
        case tooDeep(limit: Int)
        /// An object holds `key` twice; `path` is the dotted path of the object (`""`: the top level).
        case duplicateKey(key: String, path: String)

        /// A phrase for an error message.
        public var description: String {
            switch self {
            case .tooDeep(let limit):
                return "nested more than \(limit) levels deep (refused before parsing)"
            case .duplicateKey(let key, let path):
                return "the key '\(key)' appears twice in the same object" + (path.isEmpty ? "" : " at \(path)")
            }
        }
    }

    /// The first structural problem of the JSON text `data`: nesting deeper than `maximumDepth`, or
    /// a key repeated in one object. Syntax errors are left to the parser (`nil` here).
    ///
    /// - Complexity: O(`data.count`).
    public static func jsonProblem(_ data: Data, maximumDepth: Int = 64) -> Problem? {
        // One frame per open bracket: for objects, the keys seen and whether the next string is a key.
        struct Frame {
            var isObject: Bool
            var keys: Set<String> = []
            var expectingKey: Bool
            var name: String
        }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Problem? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var stack: [Frame] = []
            var lastKey = ""
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard stack.count < maximumDepth else { return .tooDeep(limit: maximumDepth) }
                    let isObject = b == UInt8(ascii: "{")
                    let parentIsObject = stack.last?.isObject ?? false
                    stack.append(Frame(isObject: isObject, expectingKey: isObject, name: parentIsObject ? lastKey : "[]"))
                    i += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if !stack.isEmpty { stack.removeLast() }
                    i += 1
                case UInt8(ascii: ","):
                    if let top = stack.last, top.isObject { stack[stack.count - 1].expectingKey = true }
                    i += 1
                case UInt8(ascii: ":"):
                    if let top = stack.last, top.isObject { stack[stack.count - 1].expectingKey = false }
                    i += 1
                case UInt8(ascii: "\""):
                    var j = i + 1
                    var escaped = false
                    while j < n, bytes[j] != UInt8(ascii: "\"") {
                        if bytes[j] == UInt8(ascii: "\\") {
                            escaped = true
                            j += 1
                        }
                        j += 1
                    }
                    let end = Swift.min(j, n)
                    if let top = stack.last, top.isObject, top.expectingKey {
                        let literal = UnsafeBufferPointer(rebasing: bytes[i..<Swift.min(end + 1, n)])
                        var key = String(decoding: UnsafeBufferPointer(rebasing: bytes[(i + 1)..<end]), as: UTF8.self)
                        if escaped, let decoded = try? JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed) as? String {
                            key = decoded
                        }
                        if !stack[stack.count - 1].keys.insert(key).inserted {
                            let path = stack.dropFirst().map(\.name).joined(separator: ".")
                            return .duplicateKey(key: key, path: path)
                        }
                        lastKey = key
                        stack[stack.count - 1].expectingKey = false
                    }
                    i = end + 1
                default:
                    i += 1
                }
            }
            return nil
        }
    }

    /// The first structural problem of the YAML text `text`: nesting deeper than `maximumDepth`
    /// (block levels — each deeper indentation, and each `- ` that opens a sequence item on the
    /// line — plus flow brackets `[`, `{` outside quotes and comments), or a key repeated at the
    /// top level of a block mapping (Yams keeps one of the values without a word). A text that is
    /// a JSON object (first character `{`) gets ``jsonProblem(_:maximumDepth:)`` instead.
    ///
    /// The count is an upper bound of the parser's recursion, which is what matters: a flat
    /// configuration file is far below any sensible limit.
    ///
    /// - Complexity: O(`text.utf8.count`).
    public static func yamlProblem(_ text: String, maximumDepth: Int = 64) -> Problem? {
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            return jsonProblem(Data(text.utf8), maximumDepth: maximumDepth)
        }
        var topKeys: Set<Substring> = []
        var indents: [Int] = []   // the indentation of each open block level
        var flow = 0              // open flow brackets (they may span lines)
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let utf8 = Array(line.utf8)
            var column = 0
            while column < utf8.count, utf8[column] == UInt8(ascii: " ") || utf8[column] == UInt8(ascii: "\t") { column += 1 }
            if column == utf8.count || utf8[column] == UInt8(ascii: "#") { continue }
            if flow == 0, column == 0, let colon = line.firstIndex(of: ":"),
               line[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }),
               line.index(after: colon) == line.endIndex || line[line.index(after: colon)] == " " {
                let key = line[..<colon]
                if !key.isEmpty, !topKeys.insert(key).inserted { return .duplicateKey(key: String(key), path: "") }
            }
            if flow == 0 {
                while let last = indents.last, last >= column { indents.removeLast() }
                indents.append(column)
                // `- - - x` opens one sequence level per dash.
                var k = column
                while k + 1 < utf8.count, utf8[k] == UInt8(ascii: "-"), utf8[k + 1] == UInt8(ascii: " ") {
                    k += 2
                    while k < utf8.count, utf8[k] == UInt8(ascii: " ") { k += 1 }
                    indents.append(k)
                }
            }
            var quote: UInt8? = nil
            for (index, c) in utf8.enumerated() where index >= column {
                if let q = quote {
                    if c == q { quote = nil }
                    continue
                }
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = c
                case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = Swift.max(0, flow - 1)
                default: break
                }
                if c == UInt8(ascii: "#") && quote == nil { break }
                if indents.count + flow > maximumDepth { return .tooDeep(limit: maximumDepth) }
            }
            if indents.count + flow > maximumDepth { return .tooDeep(limit: maximumDepth) }
        }
        return nil
    }
}
