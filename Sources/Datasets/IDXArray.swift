import Foundation
import TensorIO

/// An n-dimensional array in the IDX format of the MNIST family of data sets.
///
/// An IDX file is a 4-byte magic number `00 00 <type> <rank>`, then `rank` big-endian `UInt32`
/// dimensions, then the elements in row-major order, big-endian. The type codes are those of
/// ``ElementType``; MNIST and Fashion-MNIST use unsigned bytes: images have magic `0x00000803`
/// (`[n, rows, cols]`) and labels `0x00000801` (`[n]`).
///
/// Reading validates everything and never traps: a wrong magic number, a file cut short, or a
/// payload whose size is not the product of the dimensions throws a ``DatasetError`` naming the
/// file.
///
/// ```swift
/// let labels = try IDXArray.read(from: URL(fileURLWithPath: "t10k-labels-idx1-ubyte.gz"))
/// labels.dimensions        // [10000]
/// try labels.integers()    // [9, 2, 1, 1, 6, …]
/// ```
public struct IDXArray: Sendable, Equatable {
    /// The element types of the IDX format, by their type code.
    public enum ElementType: UInt8, Sendable, CaseIterable {
        /// Unsigned byte (`0x08`).
        case uint8 = 0x08
        /// Signed byte (`0x09`).
        case int8 = 0x09
        /// Big-endian signed 16-bit integer (`0x0B`).
        case int16 = 0x0B
        /// Big-endian signed 32-bit integer (`0x0C`).
        case int32 = 0x0C
        /// Big-endian IEEE binary32 (`0x0D`).
        case float32 = 0x0D
        /// Big-endian IEEE binary64 (`0x0E`).
        case float64 = 0x0E

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }

        /// Whether the type holds integers (so its values can be labels).
        public var isInteger: Bool { self != .float32 && self != .float64 }
    }

    /// The element type.
    public let elementType: ElementType
    /// The extent of each axis.
    public let dimensions: [Int]
    /// The elements as stored in the file: row-major, big-endian.
    public let payload: Data
    /// Where the array came from (a file path, or a name given to in-memory bytes).
    public let source: String

    /// The number of elements (the product of ``dimensions``).
    public var count: Int { dimensions.reduce(1, *) }

    /// The 4-byte magic number, for example `0x00000803` for a rank-3 array of bytes.
    public var magic: UInt32 { UInt32(elementType.rawValue) << 8 | UInt32(dimensions.count) }

    /// Creates an array from its parts.
    ///
    /// - Throws: ``DatasetError/sizeMismatch(file:detail:)`` if `payload` does not hold exactly
    ///   `product(dimensions) × elementType.byteSize` bytes or a dimension is negative or larger
    ///   than `UInt32.max`.
    public init(elementType: ElementType, dimensions: [Int], payload: Data, source: String = "<memory>") throws {
        guard dimensions.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }), dimensions.count <= 255 else {
            throw DatasetError.sizeMismatch(file: source, detail: "invalid dimensions \(dimensions)")
        }
        guard let expected = IDXArray.byteCount(dimensions, elementType), expected == payload.count else {
            throw DatasetError.sizeMismatch(
                file: source,
                detail: "dimensions \(dimensions) of \(elementType) need \(IDXArray.byteCount(dimensions, elementType).map(String.init) ?? "too many") bytes, payload has \(payload.count)")
        }
        self.elementType = elementType
        self.dimensions = dimensions
        self.payload = payload
        self.source = source
    }

    /// Reads an IDX file, gzip-compressed or plain (see ``Gzip/readFile(at:)``).
    ///
    /// - Throws: ``DatasetError`` naming the file — `.fileNotFound`, `.io`, `.corruptGzip`,
    ///   `.wrongMagic`, `.truncated` or `.sizeMismatch`.
    public static func read(from url: URL) throws -> IDXArray {
        try IDXArray(data: try Gzip.readFile(at: url), source: url.path)
    }

    /// Parses the bytes of an (uncompressed) IDX file.
    ///
    /// - Parameters:
    ///   - data: the file contents.
    ///   - source: a name for error messages, usually the file path.
    /// - Throws: ``DatasetError/wrongMagic(file:detail:)`` unless the first two bytes are zero and
    ///   the third is a known type code; ``DatasetError/truncated(file:detail:)`` if the header or
    ///   payload is cut short; ``DatasetError/sizeMismatch(file:detail:)`` if bytes are left over.
    public init(data: Data, source: String = "<memory>") throws {
        let bytes = [UInt8](data.prefix(4))
        guard bytes.count == 4 else {
            throw DatasetError.truncated(file: source, detail: "\(data.count) bytes, fewer than the 4-byte magic number")
        }
        let magicText = String(format: "0x%02X%02X%02X%02X", bytes[0], bytes[1], bytes[2], bytes[3])
        guard bytes[0] == 0, bytes[1] == 0, let type = ElementType(rawValue: bytes[2]) else {
            throw DatasetError.wrongMagic(
                file: source, detail: "\(magicText) is not an IDX magic number (00 00 <type 08/09/0B/0C/0D/0E> <rank>)")
        }
        let rank = Int(bytes[3])
        let headerLength = 4 + 4 * rank
        guard data.count >= headerLength else {
            throw DatasetError.truncated(
                file: source, detail: "\(data.count) bytes, fewer than the \(headerLength)-byte header of a rank-\(rank) array")
        }
        let start = data.startIndex
        var dimensions: [Int] = []
        dimensions.reserveCapacity(rank)
        for axis in 0..<rank {
            let o = start + 4 + 4 * axis
            dimensions.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
        }
        let payloadCount = data.count - headerLength
        guard let expected = IDXArray.byteCount(dimensions, type) else {
            throw DatasetError.sizeMismatch(file: source, detail: "dimensions \(dimensions) are too large")
        }
        if payloadCount < expected {
            throw DatasetError.truncated(
                file: source, detail: "dimensions \(dimensions) of \(type) need \(expected) bytes after the header, found \(payloadCount)")
        }
        if payloadCount > expected {
            throw DatasetError.sizeMismatch(
                file: source, detail: "dimensions \(dimensions) of \(type) need \(expected) bytes after the header, found \(payloadCount) (\(payloadCount - expected) extra)")
        }
        self.elementType = type
        self.dimensions = dimensions
        self.payload = data.subdata(in: (start + headerLength)..<data.endIndex)
        self.source = source
    }

    /// The bytes of an uncompressed IDX file holding this array.
    public func serialized() -> Data {
        var data = Data(capacity: 4 + 4 * dimensions.count + payload.count)
        data.append(contentsOf: [0, 0, elementType.rawValue, UInt8(dimensions.count)])
        for d in dimensions {
            let u = UInt32(d)
            data.append(contentsOf: [UInt8(u >> 24), UInt8(u >> 16 & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u & 0xFF)])
        }
        data.append(payload)
        return data
    }

    /// Writes this array as an IDX file, gzip-compressed when `compressed` is true.
    ///
    /// - Throws: ``DatasetError/io(file:detail:)`` naming `url` if it cannot be written.
    public func write(to url: URL, compressed: Bool = false) throws {
        let bytes = compressed ? try Gzip.compress(serialized()) : serialized()
        do {
            try AtomicFile.write(bytes, to: url)
        } catch TensorIOError.io(_, let detail) {
            throw DatasetError.io(file: url.path, detail: "cannot write file: \(detail)")
        }
    }

    /// The elements converted to `Float` (exactly for 8- and 16-bit integers and `float32`;
    /// rounded to nearest for `int32` beyond 2²⁴ and for `float64`).
    public func floats() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        payload.withUnsafeBytes { raw in
            switch elementType {
            case .uint8: for i in out.indices { out[i] = Float(raw[i]) }
            case .int8: for i in out.indices { out[i] = Float(Int8(bitPattern: raw[i])) }
            case .int16:
                for i in out.indices { out[i] = Float(Int16(bigEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .int32:
                for i in out.indices { out[i] = Float(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .float32:
                for i in out.indices {
                    out[i] = Float(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case .float64:
                for i in out.indices {
                    out[i] = Float(Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            }
        }
        return out
    }

    /// The elements as integers.
    ///
    /// - Throws: ``DatasetError/invalidLabel(file:detail:)`` for the floating-point types.
    public func integers() throws -> [Int] {
        guard elementType.isInteger else {
            throw DatasetError.invalidLabel(file: source, detail: "expected integer elements, the file holds \(elementType)")
        }
        var out = [Int](repeating: 0, count: count)
        payload.withUnsafeBytes { raw in
            switch elementType {
            case .uint8: for i in out.indices { out[i] = Int(raw[i]) }
            case .int8: for i in out.indices { out[i] = Int(Int8(bitPattern: raw[i])) }
            case .int16:
                for i in out.indices { out[i] = Int(Int16(bigEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .int32:
                for i in out.indices { out[i] = Int(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .float32, .float64: break
            }
        }
        return out
    }

    /// `product(dimensions) × size`, or `nil` on overflow.
    static func byteCount(_ dimensions: [Int], _ type: ElementType) -> Int? {
        var total = type.byteSize
        for d in dimensions {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }
}
