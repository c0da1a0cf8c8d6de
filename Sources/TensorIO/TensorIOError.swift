/// Errors raised while reading or writing tensor files.
///
/// Every case carries the file it concerns (`file`), which is `nil` only when the bytes came from
/// memory without a name (``SafetensorsFile/init(data:source:)`` with `source: nil`). The
/// ``description`` always starts with the file, so a message printed by a command-line tool says
/// which file was wrong and what was wrong with it.
public enum TensorIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end before a structure they announce is complete (for example fewer than the
    /// 8 bytes of the header length).
    case truncated(file: String?, detail: String)
    /// The header length in the first 8 bytes is larger than the bytes that follow it.
    case headerLengthExceedsFile(file: String?, headerLength: UInt64, available: Int)
    /// The JSON header is not valid UTF-8 JSON of the expected form (a top-level object whose
    /// entries have `dtype`, `shape` and `data_offsets`, plus an optional `__metadata__` object of
    /// strings), or a tensor name is not allowed.
    case malformedHeader(file: String?, detail: String)
    /// A tensor's `dtype` is not one SwiftNFN can decode.
    case unsupportedDType(file: String?, tensor: String, dtype: String)
    /// A tensor's `data_offsets` are reversed or reach past the end of the data buffer.
    case offsetsOutOfBounds(file: String?, tensor: String, detail: String)
    /// A tensor's byte range does not hold exactly `product(shape) × size(dtype)` bytes, or its
    /// shape has a negative dimension or an element count that overflows.
    case shapeMismatch(file: String?, tensor: String, detail: String)
    /// The tensors' byte ranges overlap, leave a gap, or do not cover the data buffer exactly.
    case nonContiguousData(file: String?, detail: String)
    /// The operating system refused a read, write or rename.
    case io(file: String?, detail: String)

    /// The file the error concerns, if known.
    public var file: String? {
        switch self {
        case .truncated(let f, _), .headerLengthExceedsFile(let f, _, _), .malformedHeader(let f, _),
             .unsupportedDType(let f, _, _), .offsetsOutOfBounds(let f, _, _), .shapeMismatch(let f, _, _),
             .nonContiguousData(let f, _), .io(let f, _):
            return f
        }
    }

    /// A one-line message that starts with the file (or `<memory>`) and says what was wrong.
    public var description: String {
        let prefix = file.map { "\($0): " } ?? "<memory>: "
        switch self {
        case .truncated(_, let d):
            return prefix + "truncated safetensors data: \(d)"
        case .headerLengthExceedsFile(_, let n, let available):
            return prefix + "header length \(n) is larger than the \(available) bytes that follow it"
        case .malformedHeader(_, let d):
            return prefix + "malformed safetensors header: \(d)"
        case .unsupportedDType(_, let t, let d):
            return prefix + "tensor '\(t)' has unsupported dtype '\(d)'"
        case .offsetsOutOfBounds(_, let t, let d):
            return prefix + "tensor '\(t)' has data_offsets out of bounds: \(d)"
        case .shapeMismatch(_, let t, let d):
            return prefix + "tensor '\(t)' shape does not match its bytes: \(d)"
        case .nonContiguousData(_, let d):
            return prefix + "tensor data is not contiguous: \(d)"
        case .io(_, let d):
            return prefix + d
        }
    }
}
