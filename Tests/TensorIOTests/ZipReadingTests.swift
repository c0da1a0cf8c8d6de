import Foundation
import Tensors
import Testing
import TensorIO

/// `hello hello hello` as a raw deflate stream (zlib level 9, no header), and its CRC-32.
private let helloDeflated: [UInt8] = [203, 72, 205, 201, 201, 87, 200, 64, 144, 0]
private let helloCRC: UInt32 = 0xE5F9_8880
/// 4,000 zero bytes as a raw deflate stream.
private let zerosDeflated: [UInt8] = [237, 193, 49, 1, 0, 0, 0, 194, 160, 245, 79, 109, 12, 31, 160, 0, 0, 0, 128, 183, 1]

/// The `.npy` bytes of `[1, 2]`.
private let smallArray = Array(NumpyArray.serialized(Tensor([1, 2])))

@Suite("ZIP archive reading (shared by .npz and .pt)")
struct ZipReadingTests {
    @Test("the crafted helper's stored and ZIP64 archives read back; a trailing comment is allowed")
    func craftedArchives() throws {
        for zip64 in [false, true] {
            let data = craftZip([ZipEntrySpec(name: "x.npy", stored: smallArray)], zip64: zip64, comment: Array("hi".utf8))
            #expect(try NumpyArchive(data: data).tensor(named: "x") == Tensor([1, 2]), "zip64: \(zip64)")
        }
        let pickle = Pickle.stateDict("w", numel: 2, size: [2], stride: [1])
        let pt = craftZip([ZipEntrySpec(name: "big/data.pkl", stored: pickle),
                           ZipEntrySpec(name: "big/data/0", stored: floatBytes([3, 4]))], zip64: true)
        #expect(try PyTorchCheckpoint(data: pt)["w"] == Tensor([3, 4]))
    }

    @Test("a deflated entry whose stream ends early throws instead of hanging")
    func truncatedDeflate() {
        let zip = craftZip([ZipEntrySpec(name: "a/data.pkl", stored: Array(helloDeflated.prefix(4)), deflated: true,
                                         uncompressedSize: 17, crc: helloCRC)])
        let error = expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: zip) }
        #expect(error?.description.contains("a/data.pkl") == true)
    }

    @Test("a deflated entry that inflates past its declared size throws")
    func inflationBomb() {
        let zip = craftZip([ZipEntrySpec(name: "x.npy", stored: zerosDeflated, deflated: true, uncompressedSize: 100, crc: 0)])
        let error = expectTensorIOError("malformedArchive") { _ = try NumpyArchive(data: zip) }
        #expect(error?.description.contains("inflates past") == true)
    }

    @Test("a deflated entry shorter than declared, or with a wrong CRC, throws")
    func inflatedMismatch() {
        let short = craftZip([ZipEntrySpec(name: "a/data.pkl", stored: helloDeflated, deflated: true,
                                           uncompressedSize: 18, crc: helloCRC)])
        expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: short) }
        let badCRC = craftZip([ZipEntrySpec(name: "a/data.pkl", stored: helloDeflated, deflated: true,
                                            uncompressedSize: 17, crc: helloCRC ^ 1)])
        let error = expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: badCRC) }
        #expect(error?.description.contains("CRC") == true)
        let garbage = craftZip([ZipEntrySpec(name: "x.npy", stored: [0xFF, 0xFF, 0xFF, 0xFF], deflated: true,
                                             uncompressedSize: 4, crc: 0)])
        expectTensorIOError("malformedArchive") { _ = try NumpyArchive(data: garbage) }
    }

    @Test("directory damage is reported, not trusted")
    func damagedDirectory() {
        let good = Array(storedZip([("x.npy", smallArray)]))
        let eocd = good.count - 22
        let central = eocd - (46 + 5)
        func patched(_ offset: Int, _ bytes: [UInt8]) -> Data {
            var b = good
            for (i, v) in bytes.enumerated() { b[offset + i] = v }
            return Data(b)
        }
        let cases: [(String, Data)] = [
            ("entry count too large", patched(eocd + 8, [9, 0, 9, 0])),
            ("central directory offset past the end", patched(eocd + 16, [0xFF, 0xFF, 0xFF, 0x7F])),
            ("central directory size wrong", patched(eocd + 12, [0, 0, 0, 0])),
            ("local header offset past the directory", patched(central + 42, [0xFF, 0xFF, 0, 0])),
            ("compressed size past the directory", patched(central + 20, [0xFF, 0xFF, 0xFF, 0xFF])),
            ("local header name differs", patched(30, [UInt8(ascii: "y")])),
            ("saturated fields without ZIP64 records", patched(eocd + 16, [0xFF, 0xFF, 0xFF, 0xFF])),
            ("comment length past the end", patched(eocd + 20, [5, 0])),
        ]
        for (what, data) in cases {
            do {
                _ = try NumpyArchive(data: data)
                Issue.record("accepted: \(what)")
            } catch let error as TensorIOError {
                #expect(caseName(error) == "malformedArchive", "\(what): \(error)")
            } catch {
                Issue.record("\(what): unexpected \(error)")
            }
        }
    }

    @Test("encrypted entries and other compression methods throw .unsupportedFormat")
    func unsupportedEntries() {
        var encrypted = Array(storedZip([("x.npy", smallArray)]))
        let central = encrypted.count - 22 - (46 + 5)
        encrypted[central + 8] = 1                  // general-purpose flag bit 0
        expectTensorIOError("unsupportedFormat") { _ = try NumpyArchive(data: Data(encrypted)) }
        var bzip2 = Array(storedZip([("x.npy", smallArray)]))
        bzip2[central + 10] = 12                    // method 12 (bzip2), central and local
        bzip2[8] = 12
        expectTensorIOError("unsupportedFormat") { _ = try NumpyArchive(data: Data(bzip2)) }
    }

    @Test("a large non-ZIP tail is rejected quickly (the end record is only searched for in the last 64 KiB)")
    func noEndRecord() {
        var data = Data(ZipReaderTestsConstants.localHeaderMagic)
        data.append(Data(count: 8 << 20))
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: data) }
        }
        #expect(elapsed < .seconds(5))
    }
}

private enum ZipReaderTestsConstants {
    static let localHeaderMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
}
