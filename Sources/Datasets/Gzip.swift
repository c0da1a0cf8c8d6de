import CNFNZlib
import Foundation
import TensorIO

/// gzip compression and decompression through the system zlib.
///
/// Decompression auto-detects gzip and zlib wrappers (`inflateInit2` with `windowBits` 15 + 32),
/// checks the CRC and length trailers, and accepts several gzip members written one after another
/// (as `cat a.gz b.gz` produces); trailing zero bytes (tape padding) are ignored. Anything else
/// after the last member, and any stream that ends early, is an error.
///
/// ```swift
/// let packed = try Gzip.compress(Data("hello".utf8))
/// let unpacked = try Gzip.decompress(packed)            // "hello"
/// let idx = try Gzip.readFile(at: URL(fileURLWithPath: "train-labels-idx1-ubyte.gz"))
/// ```
public enum Gzip {
    /// Output is produced in pieces of this many bytes.
    static let chunkSize = 1 << 16
    /// Input is handed to zlib in pieces of at most this many bytes (`avail_in` is 32-bit).
    static let maximumInputPiece = 1 << 30

    /// Whether `data` starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Reads a whole file, decompressing it when it is gzip-compressed.
    ///
    /// A file is decompressed when it starts with the gzip magic bytes; a file whose name ends in
    /// `.gz` but does not start with them is reported as corrupt. Any other file is returned as is,
    /// so plain (already decompressed) IDX or CIFAR files are accepted too.
    ///
    /// - Throws: ``DatasetError/fileNotFound(file:)``, ``DatasetError/io(file:detail:)`` (also for
    ///   something that is not a regular file, such as a FIFO) or
    ///   ``DatasetError/corruptGzip(file:detail:)``, each naming the file.
    public static func readFile(at url: URL) throws -> Data {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.fileNotFound(file: path) }
        let raw: Data
        do {
            // A regular file only: a FIFO named like a data file would block the open forever.
            raw = try RegularFile.read(url, limit: Int.max, mapped: true)
        } catch TensorIOError.io(_, let detail) {
            throw DatasetError.io(file: path, detail: detail)
        }
        if isGzip(raw) { return try decompress(raw, source: path) }
        if url.pathExtension.lowercased() == "gz" {
            throw DatasetError.corruptGzip(file: path, detail: "the file is named .gz but does not start with the gzip magic bytes 1f 8b")
        }
        return raw
    }

    /// Decompresses gzip (or zlib-wrapped) data.
    ///
    /// - Parameters:
    ///   - data: the compressed bytes.
    ///   - source: a name for the bytes, used in error messages (usually the file path).
    /// - Throws: ``DatasetError/corruptGzip(file:detail:)`` naming `source` for invalid or
    ///   truncated data; ``DatasetError/zlib(_:)`` if zlib cannot start.
    /// - Complexity: O(compressed + decompressed size).
    public static func decompress(_ data: Data, source: String = "<memory>") throws -> Data {
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, MAX_WBITS + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw DatasetError.zlib("inflateInit2 returned \(initStatus)") }
        defer { inflateEnd(&stream) }

        var output = Data(capacity: capacityHint(for: data))
        let chunk = UnsafeMutablePointer<Bytef>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }

        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self) else {
                throw DatasetError.corruptGzip(file: source, detail: "the data is empty")
            }
            let total = raw.count
            var handedOver = 0            // bytes given to zlib so far
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = 0
            while true {
                if stream.avail_in == 0 && handedOver < total {
                    let piece = min(total - handedOver, maximumInputPiece)
                    stream.next_in = UnsafeMutablePointer(mutating: base + handedOver)
                    stream.avail_in = uInt(piece)
                    handedOver += piece
                }
                stream.next_out = chunk
                stream.avail_out = uInt(chunkSize)
                let status = inflate(&stream, Z_NO_FLUSH)
                let produced = chunkSize - Int(stream.avail_out)
                if produced > 0 { output.append(chunk, count: produced) }
                let consumed = handedOver - Int(stream.avail_in)

                switch status {
                case Z_STREAM_END:
                    let rest = UnsafeRawBufferPointer(start: base + consumed, count: total - consumed)
                    if rest.count >= 2 && rest[0] == 0x1F && rest[1] == 0x8B {
                        // Another gzip member follows.
                        guard inflateReset(&stream) == Z_OK else {
                            throw DatasetError.zlib("inflateReset failed")
                        }
                        continue
                    }
                    if rest.allSatisfy({ $0 == 0 }) { return }
                    throw DatasetError.corruptGzip(
                        file: source, detail: "\(rest.count) bytes of trailing data after the compressed stream at offset \(consumed)")
                case Z_OK, Z_BUF_ERROR:
                    let starved = stream.avail_in == 0 && handedOver == total && stream.avail_out > 0
                    if starved {
                        throw DatasetError.corruptGzip(
                            file: source, detail: "the compressed stream ends early (after \(total) bytes, \(output.count) decompressed)")
                    }
                case Z_NEED_DICT:
                    throw DatasetError.corruptGzip(file: source, detail: "the stream needs a preset dictionary")
                case Z_DATA_ERROR:
                    throw DatasetError.corruptGzip(file: source, detail: zlibMessage(stream) ?? "invalid deflate data")
                case Z_MEM_ERROR:
                    throw DatasetError.zlib("out of memory while decompressing \(source)")
                default:
                    throw DatasetError.corruptGzip(file: source, detail: zlibMessage(stream) ?? "zlib status \(status)")
                }
            }
        }
        return output
    }

    /// Compresses `data` into a single gzip member (with header and CRC-32 trailer), readable by
    /// `gunzip` and by ``decompress(_:source:)``.
    ///
    /// - Parameter level: the zlib compression level, 0 (store) … 9 (smallest); the default 6 is
    ///   zlib's usual trade-off.
    /// - Throws: ``DatasetError/invalidArgument(_:)`` for a level outside 0…9,
    ///   ``DatasetError/zlib(_:)`` if zlib fails.
    public static func compress(_ data: Data, level: Int = 6) throws -> Data {
        guard (0...9).contains(level) else {
            throw DatasetError.invalidArgument("gzip compression level \(level) is not in 0...9")
        }
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, Int32(level), Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY,
                                       zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw DatasetError.zlib("deflateInit2 returned \(initStatus)") }
        defer { deflateEnd(&stream) }

        var output = Data(capacity: data.count / 2 + 64)
        let chunk = UnsafeMutablePointer<Bytef>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }

        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
            let total = raw.count
            var handedOver = 0
            stream.avail_in = 0
            while true {
                if stream.avail_in == 0 && handedOver < total, let base {
                    let piece = min(total - handedOver, maximumInputPiece)
                    stream.next_in = UnsafeMutablePointer(mutating: base + handedOver)
                    stream.avail_in = uInt(piece)
                    handedOver += piece
                }
                let flush = handedOver == total ? Z_FINISH : Z_NO_FLUSH
                stream.next_out = chunk
                stream.avail_out = uInt(chunkSize)
                let status = deflate(&stream, flush)
                let produced = chunkSize - Int(stream.avail_out)
                if produced > 0 { output.append(chunk, count: produced) }
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw DatasetError.zlib("deflate returned \(status)")
                }
            }
        }
        return output
    }

    /// A starting capacity for the output: the gzip trailer's ISIZE (length mod 2³²) when it is
    /// plausible, otherwise four times the input.
    private static func capacityHint(for data: Data) -> Int {
        let fallback = min(data.count, 1 << 28) * 4
        guard isGzip(data), data.count >= 18 else { return fallback }
        let end = data.endIndex
        let isize = Int(data[end - 4]) | Int(data[end - 3]) << 8 | Int(data[end - 2]) << 16 | Int(data[end - 1]) << 24
        // deflate cannot expand more than about 1032:1.
        return isize <= data.count * 1032 ? isize : fallback
    }

    private static func zlibMessage(_ stream: z_stream) -> String? {
        stream.msg.map { String(cString: $0) }
    }
}
