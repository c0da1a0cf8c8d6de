import Foundation
import Tensors

/// A NumPy `.npy` array: its header, and lazy access to its elements as `Float`.
///
/// The format (NumPy Enhancement Proposal 1) is a magic string `\x93NUMPY`, a format version
/// (1.0, 2.0 or 3.0), a header length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), a header that is
/// a Python dictionary literal with exactly the keys `descr` (the element type, see
/// ``NumpyDType``), `fortran_order` and `shape`, and then the raw elements.
///
/// Opening an array reads and checks only its header: the elements stay in the file (which
/// ``init(contentsOf:)`` memory-maps) until ``tensor()``, ``rows(_:)`` or ``row(_:)`` converts the
/// part that is asked for. This is how a zoo's `weights.npy` of N × 4970 float32 (up to about a
/// gigabyte) is read a few rows at a time:
///
/// ```swift
/// let weights = try NumpyArray(contentsOf: url)      // header only
/// let batch = try weights.rows(0..<512)               // Tensor [512, 4970]
/// ```
///
/// Arrays stored in Fortran (column-major) order are returned in SwiftNFN's row-major order, with
/// the same shape: element `[i, j]` of the result is element `[i, j]` of the NumPy array.
/// Bytes after the elements are ignored, as NumPy ignores them (several arrays saved one after
/// another into one file are read as the first).
///
/// Checks, each a thrown ``TensorIOError`` naming the file:
/// - `.malformedNumpy`: bad magic string, unknown version, a header that is not a dictionary
///   literal with exactly the three keys of the right types, a negative dimension or an element
///   count that overflows, or a payload shorter than `count × dtype.byteSize`.
/// - `.unsupportedDType`: object arrays (`O`, which hold pickles and are never loaded), structured,
///   string, complex and date types.
public struct NumpyArray: Sendable {
    /// The largest header the reader accepts, in bytes.
    public static let maximumHeaderLength = 1 << 20

    /// The element type in the file.
    public let dtype: NumpyDType
    /// The array's shape (`[]` for a 0-d array).
    public let shape: [Int]
    /// Whether the file stores the elements in Fortran (column-major) order. The accessors return
    /// row-major tensors either way.
    public let isFortranOrder: Bool
    /// The major format version (1, 2 or 3; the minor version is always 0).
    public let formatVersion: Int
    /// The name used in error messages (usually the path the bytes came from).
    public let source: String?

    /// The whole file (or archive entry); the elements start at `payloadOffset`.
    private let data: Data
    private let payloadOffset: Int

    /// The number of elements (the product of ``shape``).
    public let count: Int

    /// The extent of axis 0, which ``rows(_:)`` indexes; 0 for a 0-d array, which has no rows.
    public var rowCount: Int { shape.first ?? 0 }

    /// Opens the `.npy` file at `url`, memory-mapping it, and checks its header and size.
    ///
    /// - Throws: ``TensorIOError`` naming the file: `.io` if it cannot be opened or mapped, or a
    ///   validation error listed on ``NumpyArray``.
    /// - Complexity: O(header length); no element is read.
    public init(contentsOf url: URL) throws {
        try self.init(data: try MappedFile.data(contentsOf: url), source: url.path)
    }

    /// Parses `.npy` bytes held in memory (they are kept, not copied).
    ///
    /// - Parameters:
    ///   - data: the complete file contents.
    ///   - source: a name for the bytes (usually the path they came from), used in error messages.
    /// - Throws: ``TensorIOError`` (see ``NumpyArray`` for the checks).
    /// - Complexity: O(header length).
    public init(data: Data, source: String? = nil) throws {
        let header = try NumpyArray.parseHeader(data, source: source)
        self.dtype = header.dtype
        self.shape = header.shape
        self.isFortranOrder = header.fortranOrder
        self.formatVersion = header.version
        self.source = source
        self.data = data
        self.payloadOffset = header.payloadOffset
        self.count = header.count
    }

    /// Reads a whole `.npy` file as a row-major tensor.
    ///
    /// - Throws: ``TensorIOError`` naming the file (see ``NumpyArray``).
    /// - Complexity: O(file size).
    public static func load(from url: URL) throws -> Tensor {
        try NumpyArray(contentsOf: url).tensor()
    }

    // MARK: Element access

    /// The whole array as a row-major `Float` tensor of shape ``shape``.
    ///
    /// - Complexity: O(``count``); every element is converted once.
    public func tensor() -> Tensor {
        guard let rows = shape.first else {
            var out = Tensor(uninitializedShape: [])
            withPayload { payload in
                out.withUnsafeMutableBufferPointer { dtype.decode(payload, count: 1, into: $0) }
            }
            return out
        }
        return extractRows(0..<rows)
    }

    /// Rows `range` along axis 0 as a tensor of shape `[range.count] + shape.dropFirst()`,
    /// converting only those elements.
    ///
    /// - Throws: ``TensorIOError/outOfRange(file:detail:)`` if the array is 0-d or `range` is not
    ///   within `0..<rowCount`.
    /// - Complexity: O(`range.count × count / rowCount`). For a C-order file only the requested
    ///   rows' bytes are touched; for a Fortran-order file they are gathered in runs of
    ///   `range.count` elements.
    public func rows(_ range: Range<Int>) throws -> Tensor {
        guard !shape.isEmpty else {
            throw TensorIOError.outOfRange(file: source, detail: "a 0-d array has no rows")
        }
        guard range.lowerBound >= 0, range.upperBound <= rowCount else {
            throw TensorIOError.outOfRange(
                file: source, detail: "rows \(range.lowerBound)..<\(range.upperBound) of an array with \(rowCount) rows")
        }
        return extractRows(range)
    }

    /// Row `index` along axis 0 as a tensor of shape `shape.dropFirst()`.
    ///
    /// - Throws: ``TensorIOError/outOfRange(file:detail:)`` if the array is 0-d or `index` is not
    ///   in `0..<rowCount`.
    public func row(_ index: Int) throws -> Tensor {
        guard index >= 0, index < rowCount else {
            throw TensorIOError.outOfRange(file: source, detail: "row \(index) of an array with \(rowCount) rows")
        }
        return extractRows(index..<(index + 1)).reshaped(Array(shape.dropFirst()))
    }

    private func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[payloadOffset...]))
        }
    }

    /// Rows of a rank ≥ 1 array; `range` is already validated.
    private func extractRows(_ range: Range<Int>) -> Tensor {
        var outShape = shape
        outShape[0] = range.count
        var out = Tensor(uninitializedShape: outShape)
        let rowElements = shape.dropFirst().reduce(1, *)
        guard out.count > 0 else { return out }
        let size = dtype.byteSize
        withPayload { payload in
            out.withUnsafeMutableBufferPointer { dst in
                if !isFortranOrder || shape.count == 1 || rowElements == 1 {
                    // Row-major storage (a 1-D or single-column array is the same in both orders).
                    let begin = range.lowerBound * rowElements * size
                    let bytes = UnsafeRawBufferPointer(rebasing: payload[begin..<(begin + dst.count * size)])
                    dtype.decode(bytes, count: dst.count, into: dst)
                    return
                }
                // Fortran order: axis 0 varies fastest, so for each index of the other axes the
                // requested rows are one contiguous run of `range.count` elements.
                let rest = Array(shape.dropFirst())
                var fortranStrides = [Int](repeating: 0, count: rest.count)
                var stride = shape[0]
                for k in 0..<rest.count {
                    fortranStrides[k] = stride
                    stride *= rest[k]
                }
                let run = range.count
                let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: run)
                defer { scratch.deallocate() }
                var index = [Int](repeating: 0, count: rest.count)
                var sourceOffset = 0
                for restFlat in 0..<rowElements {
                    let begin = (range.lowerBound + sourceOffset) * size
                    dtype.decode(UnsafeRawBufferPointer(rebasing: payload[begin..<(begin + run * size)]),
                                 count: run, into: scratch)
                    for i in 0..<run { dst[i * rowElements + restFlat] = scratch[i] }
                    // Advance the row-major multi-index over the other axes.
                    var k = rest.count - 1
                    while k >= 0 {
                        index[k] += 1
                        sourceOffset += fortranStrides[k]
                        if index[k] < rest[k] { break }
                        sourceOffset -= fortranStrides[k] * index[k]
                        index[k] = 0
                        k -= 1
                    }
                }
            }
        }
        return out
    }
}

// MARK: - Header

extension NumpyArray {
    /// The magic string every `.npy` file starts with.
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    struct Header {
        var dtype: NumpyDType
        var shape: [Int]
        var fortranOrder: Bool
        var version: Int
        var payloadOffset: Int
        var count: Int
    }

    static func parseHeader(_ data: Data, source: String?) throws -> Header {
        func malformed(_ detail: String) -> TensorIOError {
            TensorIOError.malformedNumpy(file: source, detail: detail)
        }
        let bytes = data.prefix(12)
        let prefix = Array(bytes)
        guard prefix.count >= 8, Array(prefix[0..<6]) == magic else {
            if prefix.count < 8 && magic.starts(with: prefix) {
                throw malformed("\(data.count) bytes, too short for the magic string and version")
            }
            throw malformed("the file does not start with the magic string \\x93NUMPY")
        }
        let major = Int(prefix[6]), minor = Int(prefix[7])
        guard (1...3).contains(major), minor == 0 else {
            throw malformed("unsupported format version \(major).\(minor) (1.0, 2.0 and 3.0 are known)")
        }
        let lengthSize = major == 1 ? 2 : 4
        guard prefix.count >= 8 + lengthSize else {
            throw malformed("\(data.count) bytes, too short for the header length")
        }
        var headerLength = 0
        for b in (0..<lengthSize).reversed() { headerLength = headerLength << 8 | Int(prefix[8 + b]) }
        let headerStart = 8 + lengthSize
        guard headerLength <= maximumHeaderLength else {
            throw malformed("header length \(headerLength) exceeds the limit of \(maximumHeaderLength) bytes")
        }
        guard headerLength <= data.count - headerStart else {
            throw malformed("header length \(headerLength) is larger than the \(data.count - headerStart) bytes that follow it")
        }
        let start = data.startIndex
        let headerBytes = Array(data[(start + headerStart)..<(start + headerStart + headerLength)])
        if major < 3, headerBytes.contains(where: { $0 >= 0x80 }) {
            throw malformed("a version \(major).0 header must be ASCII (latin-1 text is not supported)")
        }
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(headerBytes)
        } catch {
            throw malformed("header is not a Python literal: \(error.message) at header byte \(error.offset)")
        }
        guard case .dict(let entries) = literal else {
            throw malformed("header is a \(literal.typeName), not a dictionary")
        }
        let keys = Set(entries.map(\.key))
        guard keys == ["descr", "fortran_order", "shape"] else {
            throw malformed("header keys are \(entries.map(\.key)), expected exactly 'descr', 'fortran_order' and 'shape'")
        }
        func value(_ key: String) -> PythonLiteral { entries.first { $0.key == key }?.value ?? .none }

        let name = source.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "array"
        let dtype: NumpyDType
        switch value("descr") {
        case .string(let descr):
            guard let parsed = NumpyDType(descr: descr) else {
                let trimmed = descr.drop { "<>|=".contains($0) }
                if trimmed.hasPrefix("O") {
                    throw TensorIOError.unsupportedDType(
                        file: source, tensor: name,
                        dtype: "\(descr) (object arrays hold pickled Python objects and are never loaded)")
                }
                throw TensorIOError.unsupportedDType(file: source, tensor: name, dtype: descr)
            }
            dtype = parsed
        case .list:
            throw TensorIOError.unsupportedDType(file: source, tensor: name, dtype: "structured dtype (a list of fields)")
        case let other:
            throw malformed("'descr' is a \(other.typeName), expected a string")
        }
        guard case .bool(let fortranOrder) = value("fortran_order") else {
            throw malformed("'fortran_order' is a \(value("fortran_order").typeName), expected True or False")
        }
        guard case .tuple(let dimensions) = value("shape") else {
            throw malformed("'shape' is a \(value("shape").typeName), expected a tuple of integers")
        }
        var shape: [Int] = []
        var count = 1
        for d in dimensions {
            guard case .int(let n) = d else { throw malformed("'shape' holds a \(d.typeName), expected integers") }
            guard n >= 0 else { throw malformed("negative dimension in shape \(dimensions.map { "\($0)" })") }
            shape.append(n)
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw malformed("shape \(shape) has too many elements") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw malformed("shape \(shape) of \(dtype) needs too many bytes") }
        let payloadOffset = headerStart + headerLength
        let available = data.count - payloadOffset
        guard available >= byteCount else {
            throw malformed("truncated payload: shape \(shape) of \(dtype) needs \(byteCount) bytes, the file holds \(available)")
        }
        return Header(dtype: dtype, shape: shape, fortranOrder: fortranOrder, version: major,
                      payloadOffset: payloadOffset, count: count)
    }
}
