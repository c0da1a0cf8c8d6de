/// Errors raised while reading or writing tensor files.
///
/// Every case carries the file it concerns (`file`), which is `nil` only when the bytes came from
/// memory without a name (for example ``SafetensorsFile/init(data:source:)`` with `source: nil`).
/// For an entry inside an archive the file reads `archive.npz:entry.npy`. The
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
    /// A NumPy `.npy` file is damaged: bad magic string, an unknown format version, a header that is
    /// not the Python dictionary literal NumPy writes (exactly the keys `descr`, `fortran_order` and
    /// `shape`), or a payload shorter than the shape and dtype need.
    case malformedNumpy(file: String?, detail: String)
    /// A ZIP archive (`.npz`, PyTorch `.pt`) cannot be read: its directory is missing or damaged, an
    /// entry fails its CRC-32 check, or an entry the format requires is absent.
    case malformedArchive(file: String?, detail: String)
    /// A pickle stream is damaged: it ends early, pops from an empty stack, reads a memo slot that
    /// was never written, or passes arguments of the wrong type to an allowed callable.
    case malformedPickle(file: String?, detail: String)
    /// A pickle stream uses an opcode or a global (`module.name`) outside the reader's allow-list.
    /// The reader never imports or calls anything: such a stream is rejected, not executed.
    case unsupportedPickle(file: String?, detail: String)
    /// The bytes are in a format, or a variant of one, that SwiftNFN does not read (for example the
    /// legacy pre-1.6 `torch.save` format, or a file that is not a ZIP archive at all).
    case unsupportedFormat(file: String?, detail: String)
    /// A requested index range lies outside the array (for example rows past the end of a `.npy`).
    case outOfRange(file: String?, detail: String)

    /// The file the error concerns, if known.
    public var file: String? {
        switch self {
        case .truncated(let f, _), .headerLengthExceedsFile(let f, _, _), .malformedHeader(let f, _),
             .unsupportedDType(let f, _, _), .offsetsOutOfBounds(let f, _, _), .shapeMismatch(let f, _, _),
             .nonContiguousData(let f, _), .io(let f, _), .malformedNumpy(let f, _), .malformedArchive(let f, _),
             .malformedPickle(let f, _), .unsupportedPickle(let f, _), .unsupportedFormat(let f, _),
             .outOfRange(let f, _):
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
        case .malformedNumpy(_, let d):
            return prefix + "malformed .npy data: \(d)"
        case .malformedArchive(_, let d):
            return prefix + "malformed ZIP archive: \(d)"
        case .malformedPickle(_, let d):
            return prefix + "malformed pickle: \(d)"
        case .unsupportedPickle(_, let d):
            return prefix + "unsupported pickle: \(d)"
        case .unsupportedFormat(_, let d):
            return prefix + "unsupported format: \(d)"
        case .outOfRange(_, let d):
            return prefix + "out of range: \(d)"
        }
    }
}
