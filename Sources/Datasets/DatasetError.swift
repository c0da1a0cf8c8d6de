/// Errors raised while reading data set files or building data sets.
///
/// Every case that concerns a file carries its path, and ``description`` starts with it, so a
/// message says which file was wrong and how.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist.
    case fileNotFound(file: String)
    /// The operating system refused to read or write the file.
    case io(file: String, detail: String)
    /// The file looks gzip-compressed (or is named `.gz`) but is not a valid gzip stream:
    /// bad header, bad deflate data, CRC or length mismatch, or a stream cut short.
    case corruptGzip(file: String, detail: String)
    /// The file's magic number is not the one expected (IDX: `00 00 <type> <rank>` with a known
    /// type code; for a data set loader also the expected rank, e.g. `0x00000803` for images).
    case wrongMagic(file: String, detail: String)
    /// The file ends before its header or its last record is complete.
    case truncated(file: String, detail: String)
    /// The payload size disagrees with the dimensions in the header (too many or too few bytes).
    case sizeMismatch(file: String, detail: String)
    /// An images file and a labels file hold different numbers of examples.
    case countMismatch(images: String, labels: String, imageCount: Int, labelCount: Int)
    /// A label is outside `0..<classCount`, or label values are not integers.
    case invalidLabel(file: String, detail: String)
    /// An argument is outside its valid range (for example a fraction not in (0, 1]).
    case invalidArgument(String)
    /// zlib itself failed in a way unrelated to the data (out of memory, version mismatch).
    case zlib(String)

    /// A one-line message that starts with the file concerned (when there is one) and says what
    /// was wrong.
    public var description: String {
        switch self {
        case .fileNotFound(let f): return "\(f): no such file"
        case .io(let f, let d): return "\(f): \(d)"
        case .corruptGzip(let f, let d): return "\(f): corrupt gzip data: \(d)"
        case .wrongMagic(let f, let d): return "\(f): wrong magic number: \(d)"
        case .truncated(let f, let d): return "\(f): file is truncated: \(d)"
        case .sizeMismatch(let f, let d): return "\(f): payload size does not match the header: \(d)"
        case .countMismatch(let images, let labels, let ni, let nl):
            return "\(images) holds \(ni) images but \(labels) holds \(nl) labels"
        case .invalidLabel(let f, let d): return "\(f): invalid label: \(d)"
        case .invalidArgument(let d): return "invalid argument: \(d)"
        case .zlib(let d): return "zlib failure: \(d)"
        }
    }
}
