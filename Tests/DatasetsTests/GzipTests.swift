import Datasets
import Foundation
import Tensors
import Testing

@Suite("gzip through zlib")
struct GzipTests {
    /// `gzip.compress(b"hello, idx\n", mtime=0)` from Python's gzip module: a stream made by
    /// another encoder.
    static let foreignStream: [UInt8] = [
        0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0xD7,
        0x51, 0xC8, 0x4C, 0xA9, 0xE0, 0x02, 0x00, 0x31, 0xD9, 0xDF, 0x49, 0x0B, 0x00, 0x00, 0x00,
    ]

    @Test("decompresses a stream written by another gzip encoder")
    func foreign() throws {
        let out = try Gzip.decompress(Data(Self.foreignStream))
        #expect(String(decoding: out, as: UTF8.self) == "hello, idx\n")
    }

    @Test("compress then decompress returns the input", arguments: [0, 1, 1000, 70_000, 400_000])
    func roundTrip(count: Int) throws {
        var rng = SeededGenerator(seed: UInt64(count))
        // Half random bytes, half a repeating pattern, so both stored and compressed blocks occur.
        let bytes = (0..<count).map { i in i % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(i % 7) }
        let packed = try Gzip.compress(Data(bytes))
        #expect(Gzip.isGzip(packed))
        #expect(Array(try Gzip.decompress(packed)) == bytes)
    }

    @Test("every compression level round trips; 0 stores, 9 compresses")
    func levels() throws {
        let bytes = Data((0..<20_000).map { UInt8($0 % 13) })
        for level in 0...9 {
            #expect(try Gzip.decompress(try Gzip.compress(bytes, level: level)) == bytes)
        }
        #expect(try Gzip.compress(bytes, level: 0).count > bytes.count)
        #expect(try Gzip.compress(bytes, level: 9).count < bytes.count / 10)
        expectDatasetError("invalidArgument") { _ = try Gzip.compress(bytes, level: 10) }
    }

    @Test("concatenated members decompress to the concatenation; trailing zeros are ignored")
    func members() throws {
        let a = try Gzip.compress(Data("first ".utf8))
        let b = try Gzip.compress(Data("second".utf8))
        #expect(String(decoding: try Gzip.decompress(a + b), as: UTF8.self) == "first second")
        #expect(String(decoding: try Gzip.decompress(a + Data(count: 7)), as: UTF8.self) == "first ")
    }

    @Test("corrupt, truncated and trailing-garbage streams throw corruptGzip naming the source")
    func corrupt() throws {
        let packed = try Gzip.compress(Data((0..<5000).map { UInt8($0 % 251) }))
        var flipped = packed
        flipped[12] ^= 0xFF
        flipped[13] ^= 0x5A
        expectDatasetError("corruptGzip", mentioning: "a.gz") { _ = try Gzip.decompress(flipped, source: "a.gz") }
        expectDatasetError("corruptGzip", mentioning: "b.gz") {
            _ = try Gzip.decompress(packed.prefix(packed.count - 10), source: "b.gz")
        }
        expectDatasetError("corruptGzip", mentioning: "c.gz") {
            _ = try Gzip.decompress(packed.prefix(11), source: "c.gz")
        }
        var badCRC = packed
        badCRC[badCRC.count - 6] ^= 0x01
        expectDatasetError("corruptGzip", mentioning: "d.gz") { _ = try Gzip.decompress(badCRC, source: "d.gz") }
        expectDatasetError("corruptGzip", mentioning: "e.gz") {
            _ = try Gzip.decompress(packed + Data("junk".utf8), source: "e.gz")
        }
        expectDatasetError("corruptGzip") { _ = try Gzip.decompress(Data()) }
    }

    @Test("readFile decompresses gzip files, passes plain files through, and names bad files")
    func readFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let payload: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2, 7, 9]
        let gz = try writeFile(payload, named: "x.gz", in: dir, gzip: true)
        let plain = try writeFile(payload, named: "x", in: dir)
        #expect(Array(try Gzip.readFile(at: gz)) == payload)
        #expect(Array(try Gzip.readFile(at: plain)) == payload)

        let fake = try writeFile(payload, named: "fake.gz", in: dir)
        expectDatasetError("corruptGzip", mentioning: fake.path) { _ = try Gzip.readFile(at: fake) }
        let missing = dir.appendingPathComponent("missing.gz")
        expectDatasetError("fileNotFound", mentioning: missing.path) { _ = try Gzip.readFile(at: missing) }
    }

    @Test("random corruptions never trap")
    func fuzz() throws {
        var rng = SeededGenerator(seed: 3)
        let packed = try Gzip.compress(Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }))
        for _ in 0..<500 {
            var bytes = packed
            let i = 10 + Int(rng.next(upperBound: UInt64(bytes.count - 10)))
            bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            do { _ = try Gzip.decompress(bytes) } catch is DatasetError {}
        }
    }
}
