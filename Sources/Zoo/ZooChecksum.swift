import Foundation
import CNFNZlib
import TensorIO

/// CRC-32 checksums of shard files, recorded in `members.jsonl` (`shard_crc32`) when a shard is
/// written and compared by `nfn zoo verify` and by a resumed generation.
///
/// Why: re-evaluating a member only finds damage that changes its accuracy; a flipped bit in a
/// weight that hardly matters, or in a checkpoint whose metric is not recomputed, would go
/// unnoticed. CRC-32 (zlib's, the one gzip and ZIP use) finds every burst of up to 32 flipped bits
/// and any truncation; it guards against damage, not against tampering.
public enum ZooChecksum {
    /// The checksum of `data` as 8 lowercase hexadecimal digits.
    public static func crc32(of data: Data) -> String {
        var crc: UInt = CNFNZlib.crc32(0, nil, 0)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
            var offset = 0
            // zlib takes 32-bit lengths: feed the bytes in pieces of at most 1 GiB.
            while offset < raw.count {
                let piece = Swift.min(raw.count - offset, 1 << 30)
                crc = CNFNZlib.crc32(crc, base + offset, uInt(piece))
                offset += piece
            }
        }
        let hex = String(crc & 0xFFFF_FFFF, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The checksum of the file at `url` (a regular file, memory-mapped while it is summed).
    ///
    /// - Throws: ``ZooError/io(file:detail:)`` when the file is missing, not a regular file or unreadable.
    public static func crc32(ofFile url: URL) throws -> String {
        do {
            return crc32(of: try RegularFile.read(url, limit: Int.max, mapped: true))
        } catch TensorIOError.io(_, let detail) {
            throw ZooError.io(file: url.path, detail: detail)
        }
    }
}
