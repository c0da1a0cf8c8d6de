import Foundation
import ZIPFoundation

/// Read access to the file entries of a ZIP archive held in memory or memory-mapped, with every
/// failure a ``TensorIOError`` that names the archive.
///
/// The archive's directory (end record, ZIP64 end record, central directory, local headers) is
/// parsed and bounds-checked here, with overflow-checked arithmetic, before any byte of an entry is
/// touched; ZIPFoundation then inflates deflated entries and computes CRC-32s. ZIPFoundation's own
/// `Archive` reader is not used on untrusted bytes: it seeks to offsets it has not checked against
/// the file size (a damaged directory can crash it, and a deflate stream that never ends can make it
/// loop), and it scans a whole non-ZIP file backwards one byte at a time.
///
/// Checks: the end record must sit within the last 65,557 bytes and its comment must end exactly at
/// the end of the file; the central directory must hold exactly the entries the end record
/// announces and lie before it; every entry's local header and data must lie before the central
/// directory; only "stored" and "deflate" entries, unencrypted, are read; extraction must produce
/// exactly the declared size and CRC-32.
struct ZipReader {
    /// One file entry, after validation.
    struct Entry {
        /// The entry's path inside the archive.
        var path: String
        /// 0 (stored) or 8 (deflate).
        var method: UInt16
        var crc32: UInt32
        var uncompressedSize: Int
        /// The compressed bytes, as offsets into the archive's bytes.
        var dataRange: Range<Int>
    }

    /// The archive's name in error messages.
    let source: String?
    /// The file entries (directories left out), in central-directory order.
    let entries: [Entry]
    private let data: Data

    /// The four bytes every ZIP archive with at least one entry starts with (`PK\u{3}\u{4}`).
    static let localHeaderMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// The four bytes an empty ZIP archive starts with (`PK\u{5}\u{6}`, its end record).
    static let emptyArchiveMagic: [UInt8] = [0x50, 0x4B, 0x05, 0x06]

    /// Whether `prefix` (the first bytes of a file) looks like a ZIP archive.
    static func looksLikeZip<C: Collection>(_ prefix: C) -> Bool where C.Element == UInt8 {
        prefix.starts(with: localHeaderMagic) || prefix.starts(with: emptyArchiveMagic)
    }

    /// Parses the directory of an archive held in `data` (which may be memory-mapped; stored
    /// entries are returned as slices of it, without copying).
    init(data: Data, source: String?) throws {
        self.data = data
        self.source = source
        self.entries = try data.withUnsafeBytes { raw in
            try ZipReader.parseDirectory(ByteReader(raw), source: source)
        }
    }

    /// The first file entry with exactly this path.
    func entry(_ path: String) -> Entry? {
        entries.first { $0.path == path }
    }

    /// The uncompressed contents of `entry`.
    ///
    /// - Throws: ``TensorIOError/malformedArchive(file:detail:)`` if the data does not inflate to
    ///   exactly the declared size or fails its CRC-32 check.
    /// - Complexity: O(uncompressed size). A stored entry is a slice of the archive's bytes.
    func contents(of entry: Entry) throws -> Data {
        let start = data.startIndex
        let compressed = data[(start + entry.dataRange.lowerBound)..<(start + entry.dataRange.upperBound)]
        let output: Data
        let checksum: CRC32
        if entry.method == 0 {
            output = compressed
            checksum = compressed.crc32(checksum: 0)
        } else {
            (output, checksum) = try inflate(compressed, entry: entry)
        }
        guard output.count == entry.uncompressedSize else {
            throw malformed("entry '\(entry.path)' holds \(output.count) bytes, its header declares \(entry.uncompressedSize)")
        }
        guard checksum == entry.crc32 else {
            throw malformed("entry '\(entry.path)' fails its CRC-32 check")
        }
        return output
    }

    /// Inflates a raw deflate stream with ZIPFoundation, never reading past `compressed` and
    /// never producing more than the declared size.
    private func inflate(_ compressed: Data, entry: Entry) throws -> (Data, CRC32) {
        let chunkSize = 1 << 16
        var consumed = 0
        var out = Data()
        out.reserveCapacity(entry.uncompressedSize)
        do {
            let checksum = try Data.decompress(
                size: Int64(compressed.count), bufferSize: chunkSize, skipCRC32: false,
                provider: { _, _ in
                    guard consumed < compressed.count else {
                        throw TensorIOError.malformedArchive(
                            file: source, detail: "entry '\(entry.path)': the deflate stream ends early (truncated?)")
                    }
                    let begin = compressed.startIndex + consumed
                    let end = min(begin + chunkSize, compressed.endIndex)
                    var chunk = Data(compressed[begin..<end])
                    consumed += end - begin
                    // ZIPFoundation hands zlib a full buffer of input on Linux: pad the last chunk
                    // so that zlib never reads past it (bytes after the stream's end are ignored).
                    if chunk.count < chunkSize { chunk.append(Data(count: chunkSize - chunk.count)) }
                    return chunk
                },
                consumer: { piece in
                    guard out.count + piece.count <= entry.uncompressedSize else {
                        throw TensorIOError.malformedArchive(
                            file: source, detail: "entry '\(entry.path)' inflates past its declared \(entry.uncompressedSize) bytes")
                    }
                    out.append(piece)
                })
            return (out, checksum)
        } catch let error as TensorIOError {
            throw error
        } catch {
            throw malformed("entry '\(entry.path)' is not a valid deflate stream (\(error))")
        }
    }

    private func malformed(_ detail: String) -> TensorIOError {
        TensorIOError.malformedArchive(file: source, detail: detail)
    }
}

// MARK: - Directory parsing

extension ZipReader {
    /// Bounds-checked little-endian reads.
    struct ByteReader {
        let bytes: UnsafeRawBufferPointer
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
        var count: Int { bytes.count }

        /// Whether `length` bytes at `offset` lie within the buffer.
        func contains(_ offset: Int, _ length: Int) -> Bool {
            offset >= 0 && length >= 0 && offset <= count && length <= count - offset
        }

        func u16(_ offset: Int) -> Int {
            Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        }

        func u32(_ offset: Int) -> UInt32 {
            UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }

        func u64(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }

        func slice(_ offset: Int, _ length: Int) -> [UInt8] {
            Array(bytes[offset..<(offset + length)])
        }
    }

    static let endRecordSignature: UInt32 = 0x0605_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64EndRecordSignature: UInt32 = 0x0606_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let localHeaderSignature: UInt32 = 0x0403_4B50

    static func parseDirectory(_ r: ByteReader, source: String?) throws -> [Entry] {
        func malformed(_ detail: String) -> TensorIOError {
            TensorIOError.malformedArchive(file: source, detail: detail)
        }
        // The end record: 22 bytes plus a comment of up to 65,535 bytes that must end the file.
        var endOffset = -1
        var candidate = r.count - 22
        while candidate >= 0 && candidate >= r.count - 22 - 0xFFFF {
            if r.bytes[candidate] == 0x50, r.u32(candidate) == endRecordSignature,
               r.u16(candidate + 20) == r.count - candidate - 22 {
                endOffset = candidate
                break
            }
            candidate -= 1
        }
        guard endOffset >= 0 else {
            throw malformed("no end-of-central-directory record (the file is truncated or not a ZIP archive)")
        }
        var diskNumber = r.u16(endOffset + 4)
        var directoryDisk = r.u16(endOffset + 6)
        var entriesOnDisk = UInt64(r.u16(endOffset + 8))
        var entryCount = UInt64(r.u16(endOffset + 10))
        var directorySize = UInt64(r.u32(endOffset + 12))
        var directoryOffset = UInt64(r.u32(endOffset + 16))
        var directoryEnd = endOffset

        let saturated = diskNumber == 0xFFFF || directoryDisk == 0xFFFF || entriesOnDisk == 0xFFFF
            || entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF
        let locatorOffset = endOffset - 20
        if saturated {
            guard locatorOffset >= 0, r.u32(locatorOffset) == zip64LocatorSignature else {
                throw malformed("the end record needs a ZIP64 end record, but there is no ZIP64 locator")
            }
            let recordOffset64 = r.u64(locatorOffset + 8)
            guard recordOffset64 <= UInt64(locatorOffset), let recordOffset = Int(exactly: recordOffset64),
                  r.contains(recordOffset, 56), recordOffset + 56 <= locatorOffset,
                  r.u32(recordOffset) == zip64EndRecordSignature else {
                throw malformed("the ZIP64 locator points to no ZIP64 end record")
            }
            diskNumber = Int(r.u32(recordOffset + 16))
            directoryDisk = Int(r.u32(recordOffset + 20))
            entriesOnDisk = r.u64(recordOffset + 24)
            entryCount = r.u64(recordOffset + 32)
            directorySize = r.u64(recordOffset + 40)
            directoryOffset = r.u64(recordOffset + 48)
            directoryEnd = recordOffset
        } else if locatorOffset >= 0, r.u32(locatorOffset) == zip64LocatorSignature {
            // A ZIP64 end record that is not needed (torch always writes one): the central
            // directory ends where that record starts.
            let recordOffset64 = r.u64(locatorOffset + 8)
            if recordOffset64 <= UInt64(locatorOffset), let recordOffset = Int(exactly: recordOffset64),
               r.contains(recordOffset, 56), r.u32(recordOffset) == zip64EndRecordSignature {
                directoryEnd = recordOffset
            } else {
                directoryEnd = locatorOffset
            }
        }
        guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == entryCount else {
            throw malformed("multi-volume archives are not supported")
        }
        guard directoryOffset <= UInt64(directoryEnd), directorySize <= UInt64(directoryEnd) - directoryOffset,
              let start = Int(exactly: directoryOffset), let size = Int(exactly: directorySize),
              start + size == directoryEnd else {
            throw malformed("the central directory (offset \(directoryOffset), \(directorySize) bytes) does not end where the end record starts (\(directoryEnd))")
        }
        // Each central header takes at least 46 bytes, which bounds a plausible entry count.
        guard entryCount <= UInt64(size / 46) else {
            throw malformed("\(entryCount) entries cannot fit in a central directory of \(size) bytes")
        }

        var entries: [Entry] = []
        var offset = start
        for index in 0..<Int(entryCount) {
            guard r.contains(offset, 46), offset + 46 <= directoryEnd, r.u32(offset) == centralHeaderSignature else {
                throw malformed("central directory entry \(index) at \(offset) is damaged")
            }
            let flags = r.u16(offset + 8)
            let method = UInt16(r.u16(offset + 10))
            let crc = r.u32(offset + 16)
            var compressedSize = UInt64(r.u32(offset + 20))
            var uncompressedSize = UInt64(r.u32(offset + 24))
            let nameLength = r.u16(offset + 28)
            let extraLength = r.u16(offset + 30)
            let commentLength = r.u16(offset + 32)
            var diskStart = r.u16(offset + 34)
            var localOffset = UInt64(r.u32(offset + 42))
            let variable = nameLength + extraLength + commentLength
            guard r.contains(offset + 46, variable), offset + 46 + variable <= directoryEnd else {
                throw malformed("central directory entry \(index) runs past the directory")
            }
            let nameBytes = r.slice(offset + 46, nameLength)
            let path = String(decoding: nameBytes, as: UTF8.self)

            // The ZIP64 extended-information extra field holds, in this order, the fields whose
            // 32-bit (16-bit for the disk) values are saturated.
            var extra = offset + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = r.u16(extra)
                let length = r.u16(extra + 2)
                guard extra + 4 + length <= extraEnd else {
                    throw malformed("entry '\(path)' has a damaged extra field")
                }
                if id == 0x0001 {
                    var field = extra + 4
                    let fieldEnd = field + length
                    func next64() throws -> UInt64 {
                        guard field + 8 <= fieldEnd else { throw malformed("entry '\(path)' has a short ZIP64 field") }
                        defer { field += 8 }
                        return r.u64(field)
                    }
                    if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try next64() }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = try next64() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next64() }
                    if diskStart == 0xFFFF {
                        guard field + 4 <= fieldEnd else { throw malformed("entry '\(path)' has a short ZIP64 field") }
                        diskStart = Int(r.u32(field))
                    }
                }
                extra += 4 + length
            }
            offset += 46 + variable

            if path.hasSuffix("/") { continue }  // a directory
            guard diskStart == 0 else { throw malformed("entry '\(path)' starts on another disk") }
            guard flags & 0x0001 == 0 else {
                throw TensorIOError.unsupportedFormat(file: source, detail: "entry '\(path)' is encrypted")
            }
            guard method == 0 || method == 8 else {
                throw TensorIOError.unsupportedFormat(
                    file: source, detail: "entry '\(path)' uses compression method \(method) (only stored and deflate are read)")
            }
            // The local header and the data must lie before the central directory.
            guard localOffset <= UInt64(start), let local = Int(exactly: localOffset), r.contains(local, 30),
                  local + 30 <= start, r.u32(local) == localHeaderSignature else {
                throw malformed("entry '\(path)': no local header at offset \(localOffset)")
            }
            let localNameLength = r.u16(local + 26)
            let localExtraLength = r.u16(local + 28)
            let dataStart = local + 30 + localNameLength + localExtraLength
            guard dataStart <= start, r.slice(local + 30, localNameLength) == nameBytes,
                  UInt16(r.u16(local + 8)) == method else {
                throw malformed("entry '\(path)': the local header does not match the central directory")
            }
            guard compressedSize <= UInt64(start - dataStart), let compressed = Int(exactly: compressedSize) else {
                throw malformed("entry '\(path)': \(compressedSize) compressed bytes run past the central directory")
            }
            guard uncompressedSize <= UInt64(Int.max / 2), let uncompressed = Int(exactly: uncompressedSize) else {
                throw malformed("entry '\(path)' declares an impossible size of \(uncompressedSize) bytes")
            }
            if method == 0 && compressed != uncompressed {
                throw malformed("stored entry '\(path)' declares \(compressed) bytes but \(uncompressed) uncompressed")
            }
            if method == 8 && compressed == 0 {
                throw malformed("deflated entry '\(path)' has no compressed bytes")
            }
            entries.append(Entry(path: path, method: method, crc32: crc, uncompressedSize: uncompressed,
                                 dataRange: dataStart..<(dataStart + compressed)))
        }
        guard offset == directoryEnd else {
            throw malformed("the central directory holds \(directoryEnd - offset) bytes after its \(entryCount) entries")
        }
        return entries
    }
}
