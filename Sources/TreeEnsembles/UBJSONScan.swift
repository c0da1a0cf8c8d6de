import Foundation

/// A structural check of a Universal Binary JSON document before XGBoost parses it.
///
/// XGBoost 1.7 trusts the lengths and counts inside a UBJ model: a truncated or damaged file can
/// make it reserve gigabytes and be killed instead of reporting an error (measured: a model cut to
/// 100 bytes). This scan walks the document once, checking that every length and count fits in
/// the bytes that remain and that nesting stays within ``maximumDepth``, so such a file is refused
/// with a message instead.
enum UBJSONScan {
    /// The deepest nesting accepted (an XGBoost model nests about ten levels).
    static let maximumDepth = 64

    /// Nil for a well-formed document that fills `data` exactly; otherwise what is wrong.
    static func problem(in data: Data) -> String? {
        let bytes = [UInt8](data)
        var position = 0
        do {
            try value(bytes, &position, depth: 0)
            guard position == bytes.count else { return "\(bytes.count - position) bytes after the end of the document" }
            return nil
        } catch let e as Failure {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    private struct Failure: Error { let message: String }

    private static func fail(_ m: String, _ position: Int) -> Failure { Failure(message: "\(m) at byte \(position)") }

    /// The payload size of a fixed-size marker, nil for the others.
    private static func fixedSize(_ marker: UInt8) -> Int? {
        switch marker {
        case UInt8(ascii: "Z"), UInt8(ascii: "N"), UInt8(ascii: "T"), UInt8(ascii: "F"): return 0
        case UInt8(ascii: "i"), UInt8(ascii: "U"), UInt8(ascii: "C"): return 1
        case UInt8(ascii: "I"): return 2
        case UInt8(ascii: "l"), UInt8(ascii: "d"): return 4
        case UInt8(ascii: "L"), UInt8(ascii: "D"): return 8
        default: return nil
        }
    }

    private static func byte(_ b: [UInt8], _ p: inout Int) throws -> UInt8 {
        guard p < b.count else { throw fail("unexpected end", p) }
        defer { p += 1 }
        return b[p]
    }

    /// An integer value (marker and big-endian payload), as UBJ writes lengths and counts.
    private static func integer(_ b: [UInt8], _ p: inout Int) throws -> Int {
        let start = p
        let marker = try byte(b, &p)
        let size: Int
        switch marker {
        case UInt8(ascii: "i"), UInt8(ascii: "U"): size = 1
        case UInt8(ascii: "I"): size = 2
        case UInt8(ascii: "l"): size = 4
        case UInt8(ascii: "L"): size = 8
        default: throw fail("a length or count must be an integer, found marker \(marker)", start)
        }
        guard p + size <= b.count else { throw fail("unexpected end", p) }
        var v: Int64 = 0
        for k in 0..<size { v = (v << 8) | Int64(b[p + k]) }
        if marker == UInt8(ascii: "i") { v = Int64(Int8(truncatingIfNeeded: v)) }
        if marker == UInt8(ascii: "I") { v = Int64(Int16(truncatingIfNeeded: v)) }
        if marker == UInt8(ascii: "l") { v = Int64(Int32(truncatingIfNeeded: v)) }
        p += size
        guard v >= 0 else { throw fail("negative length \(v)", start) }
        return Int(v)
    }

    /// Skips `length` bytes, refusing a length beyond the end.
    private static func skip(_ b: [UInt8], _ p: inout Int, _ length: Int) throws {
        guard length <= b.count - p else { throw fail("a length of \(length) bytes runs past the end (\(b.count - p) left)", p) }
        p += length
    }

    private static func value(_ b: [UInt8], _ p: inout Int, depth: Int) throws {
        try payload(b, &p, marker: try byte(b, &p), depth: depth)
    }

    private static func payload(_ b: [UInt8], _ p: inout Int, marker: UInt8, depth: Int) throws {
        if let size = fixedSize(marker) { return try skip(b, &p, size) }
        switch marker {
        case UInt8(ascii: "S"), UInt8(ascii: "H"):
            try skip(b, &p, try integer(b, &p))
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            guard depth < maximumDepth else { throw fail("nested deeper than \(maximumDepth)", p) }
            try container(b, &p, object: marker == UInt8(ascii: "{"), depth: depth + 1)
        default:
            throw fail("unknown marker \(marker)", p - 1)
        }
    }

    private static func container(_ b: [UInt8], _ p: inout Int, object: Bool, depth: Int) throws {
        var type: UInt8?
        var count: Int?
        if p < b.count, b[p] == UInt8(ascii: "$") {
            p += 1
            type = try byte(b, &p)
            guard p < b.count, b[p] == UInt8(ascii: "#") else { throw fail("a typed container needs a count", p) }
        }
        if p < b.count, b[p] == UInt8(ascii: "#") {
            p += 1
            count = try integer(b, &p)
        }
        let end = UInt8(ascii: object ? "}" : "]")
        if let count {
            // Every element takes at least one byte (a key at least two): refuse impossible counts
            // before walking them.
            if let type, let size = fixedSize(type), !object {
                let (total, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow else { throw fail("a count of \(count) overflows", p) }
                return try skip(b, &p, total)
            }
            guard count <= b.count - p else { throw fail("a count of \(count) runs past the end", p) }
            for _ in 0..<count {
                if object { try skip(b, &p, try integer(b, &p)) }
                if let type { try payload(b, &p, marker: type, depth: depth) } else { try value(b, &p, depth: depth) }
            }
            return
        }
        while true {
            guard p < b.count else { throw fail("unexpected end inside a container", p) }
            if b[p] == end { p += 1; return }
            if object { try skip(b, &p, try integer(b, &p)) }
            try value(b, &p, depth: depth)
        }
    }
}
