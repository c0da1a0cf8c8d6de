import Foundation
import Tensors

/// A set of named tensors with string metadata, in the
/// [safetensors](https://github.com/huggingface/safetensors) format.
///
/// The format: an 8-byte little-endian `UInt64` header length `N`, then `N` bytes of UTF-8 JSON,
/// then the tensor bytes. The JSON object maps each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` (offsets relative to the first
/// byte after the header) and may hold a `"__metadata__"` object of string values. Tensors are
/// row-major and little-endian, and their byte ranges tile the data buffer exactly.
///
/// ```swift
/// var file = SafetensorsFile(metadata: ["format": "pt"])
/// file["layer0.weight"] = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
/// try file.write(to: URL(fileURLWithPath: "model.safetensors"))
/// let back = try SafetensorsFile.read(from: URL(fileURLWithPath: "model.safetensors"))
/// ```
///
/// **Reading** accepts every dtype in ``SafetensorsDType`` and converts elements to `Float` (see
/// that type for the exact conversions). Validation is strict and never traps: a short file, a
/// header length past the end of the file, bad JSON, an unknown dtype, offsets outside the data
/// buffer, a byte count that does not match `shape × dtype`, and overlapping, gapped or
/// incomplete data all throw a ``TensorIOError`` naming the file. NaN and ±∞ values are accepted.
///
/// **Writing** produces the same bytes as the reference implementation (`safetensors` 0.4+, as used
/// by `safetensors.numpy.save_file`) for F32 tensors: tensors sorted by name (byte-wise UTF-8 order,
/// which is the reference's order when all tensors share one dtype), laid out contiguously in that
/// order, the header written without whitespace in the order `__metadata__` then tensors, each entry's
/// keys in the order `dtype`, `shape`, `data_offsets`, and the header padded with spaces to a
/// multiple of 8 bytes. Two details the reference leaves open: metadata keys are written sorted
/// (the reference uses its hash map's order), and an empty ``metadata`` dictionary omits
/// `__metadata__` entirely (as `save_file(..., metadata=None)` does).
public struct SafetensorsFile: Sendable {
    private var storage: [String: Tensor]

    /// The tensors by name.
    ///
    /// Assigning this property keeps ``names`` in step: names that are gone are removed, the order of
    /// the remaining ones is kept, and new names are appended in sorted order. Assigning through
    /// ``subscript(_:)`` is cheaper for one tensor at a time.
    public var tensors: [String: Tensor] {
        get { storage }
        set {
            storage = newValue
            reconcileNames()
        }
    }

    /// The tensor names in order: for a file that was read, the order of the tensors' bytes in
    /// the file (by `data_offsets`, which is name order for files from the reference writer); for a
    /// file built in code, insertion order. Writing ignores this order and sorts by name.
    public private(set) var names: [String]

    /// The string-to-string `__metadata__` of the file (empty when the file has none).
    public var metadata: [String: String]

    /// Creates a file from tensors and metadata; ``names`` is sorted.
    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.storage = tensors
        self.names = tensors.keys.sorted(by: SafetensorsFile.utf8Precedes)
        self.metadata = metadata
    }

    /// The tensor with the given name, or `nil`. Setting a new name appends it to ``names``;
    /// setting `nil` removes the tensor.
    public subscript(_ name: String) -> Tensor? {
        get { storage[name] }
        set {
            if let tensor = newValue {
                if storage.updateValue(tensor, forKey: name) == nil { names.append(name) }
            } else if storage.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// The number of tensors.
    public var count: Int { names.count }

    private mutating func reconcileNames() {
        var seen = Set<String>()
        var kept: [String] = []
        kept.reserveCapacity(storage.count)
        for name in names where storage[name] != nil && seen.insert(name).inserted { kept.append(name) }
        let added = storage.keys.filter { !seen.contains($0) }.sorted(by: SafetensorsFile.utf8Precedes)
        names = kept + added
    }

    /// Byte-wise comparison of the UTF-8 encodings (Rust's `String` order), not Swift's
    /// Unicode-aware `<`.
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

extension SafetensorsFile: Equatable {
    /// Whether both files hold the same tensors (by name, shape and every element, so a tensor
    /// containing NaN is never equal) and the same metadata; the order of ``names`` is ignored.
    public static func == (lhs: SafetensorsFile, rhs: SafetensorsFile) -> Bool {
        lhs.storage == rhs.storage && lhs.metadata == rhs.metadata
    }
}

// MARK: - Reading

extension SafetensorsFile {
    /// The largest header the reader accepts (100 MB, the reference implementation's limit).
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// Reads a safetensors file.
    ///
    /// The file is memory-mapped and its tensors are copied into `Float` storage. Anything but a
    /// regular file (a FIFO, a device) is refused before it is read.
    ///
    /// - Throws: ``TensorIOError`` naming the file: `.io` if it is missing, not a regular file or
    ///   cannot be read, or any validation error listed on ``SafetensorsFile`` (a repeated tensor
    ///   name in the header is `.malformedHeader`).
    /// - Complexity: O(file size).
    public static func read(from url: URL) throws -> SafetensorsFile {
        // A regular file only (a FIFO would block the open forever), mapped rather than copied.
        try SafetensorsFile(data: try MappedFile.data(contentsOf: url), source: url.path)
    }

    /// Parses safetensors bytes held in memory.
    ///
    /// - Parameters:
    ///   - data: the complete file contents.
    ///   - source: a name for the bytes (usually the path they came from), used in error messages.
    /// - Throws: ``TensorIOError`` (see ``SafetensorsFile`` for the checks).
    /// - Complexity: O(`data.count`).
    public init(data: Data, source: String? = nil) throws {
        let file = source
        guard data.count >= 8 else {
            throw TensorIOError.truncated(
                file: file, detail: "\(data.count) bytes, fewer than the 8-byte header length")
        }
        let headerLength: UInt64 = data.withUnsafeBytes { raw in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        let available = data.count - 8
        guard headerLength <= UInt64(available) else {
            throw TensorIOError.headerLengthExceedsFile(file: file, headerLength: headerLength, available: available)
        }
        guard headerLength <= SafetensorsFile.maximumHeaderLength else {
            throw TensorIOError.malformedHeader(
                file: file, detail: "header length \(headerLength) exceeds the limit of \(SafetensorsFile.maximumHeaderLength) bytes")
        }
        let n = Int(headerLength)
        let start = data.startIndex
        let headerBytes = data.subdata(in: (start + 8)..<(start + 8 + n))
        let header = try RawHeader.decode(headerBytes, file: file)
        let bufferLength = available - n
        let entries = try SafetensorsFile.validate(header.entries, bufferLength: bufferLength, file: file)

        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(entries.count)
        data.withUnsafeBytes { raw in
            let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + n)...])
            for entry in entries {
                var tensor = Tensor(uninitializedShape: entry.shape)
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[entry.begin..<entry.end])
                tensor.withUnsafeMutableBufferPointer { out in
                    entry.dtype.decode(bytes, count: out.count, into: out)
                }
                tensors[entry.name] = tensor
            }
        }
        self.storage = tensors
        self.names = entries.map(\.name)
        self.metadata = header.metadata
    }

    /// A header entry after validation.
    struct Entry {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Checks dtypes, shapes and offsets, and that the byte ranges tile `0..<bufferLength`.
    /// Returns the entries in data order.
    static func validate(_ raw: [(name: String, entry: RawEntry)], bufferLength: Int,
                         file: String?) throws -> [Entry] {
        // Deterministic order for both validation messages and ``names``.
        let sorted = raw.sorted { a, b in
            let ka = (a.entry.offsets.first ?? 0, a.entry.offsets.last ?? 0)
            let kb = (b.entry.offsets.first ?? 0, b.entry.offsets.last ?? 0)
            if ka != kb { return ka < kb }
            return utf8Precedes(a.name, b.name)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(sorted.count)
        for (name, e) in sorted {
            guard let dtype = SafetensorsDType(rawValue: e.dtype) else {
                throw TensorIOError.unsupportedDType(file: file, tensor: name, dtype: e.dtype)
            }
            guard e.offsets.count == 2 else {
                throw TensorIOError.malformedHeader(
                    file: file, detail: "tensor '\(name)': data_offsets must hold 2 numbers, found \(e.offsets.count)")
            }
            let begin = e.offsets[0], end = e.offsets[1]
            guard begin >= 0, end >= begin, end <= bufferLength else {
                throw TensorIOError.offsetsOutOfBounds(
                    file: file, tensor: name, detail: "[\(begin), \(end)] in a data buffer of \(bufferLength) bytes")
            }
            guard e.shape.allSatisfy({ $0 >= 0 }) else {
                throw TensorIOError.shapeMismatch(file: file, tensor: name, detail: "negative dimension in shape \(e.shape)")
            }
            var byteCount = dtype.byteSize
            for d in e.shape {
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw TensorIOError.shapeMismatch(file: file, tensor: name, detail: "shape \(e.shape) is too large")
                }
                byteCount = product
            }
            guard byteCount == end - begin else {
                throw TensorIOError.shapeMismatch(
                    file: file, tensor: name,
                    detail: "\(e.dtype) \(e.shape) needs \(byteCount) bytes, data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: e.shape, begin: begin, end: end))
        }
        var expected = 0
        for entry in entries {
            if entry.begin < expected {
                throw TensorIOError.nonContiguousData(
                    file: file, detail: "tensor '\(entry.name)' at [\(entry.begin), \(entry.end)] overlaps data that ends at \(expected)")
            }
            if entry.begin > expected {
                throw TensorIOError.nonContiguousData(
                    file: file, detail: "gap of \(entry.begin - expected) bytes before tensor '\(entry.name)' at \(entry.begin)")
            }
            expected = entry.end
        }
        guard expected == bufferLength else {
            throw TensorIOError.nonContiguousData(
                file: file, detail: "tensors cover \(expected) bytes but the data buffer holds \(bufferLength)")
        }
        return entries
    }
}

// MARK: - Header JSON decoding

/// One tensor entry as it appears in the JSON header, before validation.
struct RawEntry: Decodable {
    var dtype: String
    var shape: [Int]
    var offsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case offsets = "data_offsets"
    }
}

/// The JSON header: tensor entries plus optional metadata.
struct RawHeader: Decodable {
    var entries: [(name: String, entry: RawEntry)] = []
    var metadata: [String: String] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                if try !container.decodeNil(forKey: key) {
                    metadata = try container.decode([String: String].self, forKey: key)
                }
            } else {
                entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
            }
        }
    }

    static func decode(_ bytes: Data, file: String?) throws -> RawHeader {
        guard bytes.first == UInt8(ascii: "{") else {
            throw TensorIOError.malformedHeader(file: file, detail: "the header does not start with '{'")
        }
        guard String(data: bytes, encoding: .utf8) != nil else {
            throw TensorIOError.malformedHeader(file: file, detail: "the header is not valid UTF-8")
        }
        // JSONDecoder keeps one of two values of a repeated key without a word; a header naming a
        // tensor twice is ambiguous, so it is refused.
        if let problem = StructureScan.jsonProblem(bytes, maximumDepth: 64) {
            throw TensorIOError.malformedHeader(file: file, detail: "\(problem)")
        }
        do {
            return try JSONDecoder().decode(RawHeader.self, from: bytes)
        } catch let error as DecodingError {
            throw TensorIOError.malformedHeader(file: file, detail: describe(error))
        } catch {
            throw TensorIOError.malformedHeader(file: file, detail: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "header" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c):
            return "invalid JSON at \(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c):
            return "\(path(c.codingPath)) lacks the key '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            return "wrong type at \(path(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
