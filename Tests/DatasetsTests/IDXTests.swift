import Datasets
import Foundation
import Tensors
import Testing

@Suite("IDX files")
struct IDXTests {
    @Test("unsigned-byte images and labels read back, gzipped or plain", arguments: [true, false])
    func readBack(gzip: Bool) throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let pixels = (0..<(5 * 4 * 3)).map { UInt8($0 * 4) }
        let images = try writeFile(idxBytes(type: 0x08, dimensions: [5, 4, 3], payload: pixels),
                                   named: gzip ? "img.gz" : "img", in: dir, gzip: gzip)
        let labels = try writeFile(idxBytes(type: 0x08, dimensions: [5], payload: [3, 0, 1, 3, 2]),
                                   named: gzip ? "lbl.gz" : "lbl", in: dir, gzip: gzip)

        let array = try IDXArray.read(from: images)
        #expect(array.elementType == .uint8)
        #expect(array.dimensions == [5, 4, 3])
        #expect(array.magic == 0x0000_0803)
        #expect(Array(array.payload) == pixels)
        #expect(array.source == images.path)
        #expect(try IDXArray.read(from: labels).magic == 0x0000_0801)

        let data = try IDXDataset.load(images: images, labels: labels)
        #expect(data.images.shape == [5, 1, 4, 3])
        #expect(data.labels == [3, 0, 1, 3, 2])
        #expect(data.classCount == 4)
        #expect(data.name == "img")
        #expect(data.images.scalars == pixels.map { Float($0) / 255 })
    }

    @Test("pixel ranges map 0 and 255 to the documented bounds")
    func pixelRanges() throws {
        let images = try IDXArray(elementType: .uint8, dimensions: [1, 1, 3], payload: Data([0, 51, 255]))
        let labels = try IDXArray(elementType: .uint8, dimensions: [1], payload: Data([0]))
        let unit = try IDXDataset.makeDataset(images: images, labels: labels, name: "u", pixelRange: .unit)
        let symmetric = try IDXDataset.makeDataset(images: images, labels: labels, name: "s", pixelRange: .symmetric)
        #expect(unit.images.scalars == [0, 0.2, 1])
        #expect(symmetric.images.scalars.map { ($0 * 1e5).rounded() / 1e5 } == [-1, -0.6, 1])
        #expect(PixelRange.unit.bounds == 0...1 && PixelRange.symmetric.bounds == -1...1)
    }

    @Test("the other IDX element types decode big-endian values")
    func otherTypes() throws {
        let i8 = try IDXArray(data: Data(idxBytes(type: 0x09, dimensions: [2], payload: [0xFF, 0x05])))
        #expect(try i8.integers() == [-1, 5])
        let i16 = try IDXArray(data: Data(idxBytes(type: 0x0B, dimensions: [2], payload: [0x01, 0x00, 0xFF, 0xFE])))
        #expect(try i16.integers() == [256, -2])
        let i32 = try IDXArray(data: Data(idxBytes(type: 0x0C, dimensions: [1, 1], payload: [0x00, 0x01, 0x00, 0x00])))
        #expect(try i32.integers() == [65536])
        #expect(i32.floats() == [65536])
        // 1.5 = 0x3FC00000, −2 = 0xC0000000 as big-endian float32.
        let f32 = try IDXArray(data: Data(idxBytes(type: 0x0D, dimensions: [2], payload: [0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0])))
        #expect(f32.floats() == [1.5, -2])
        expectDatasetError("invalidLabel") { _ = try f32.integers() }
        // 0.25 = 0x3FD0000000000000 as big-endian float64.
        let f64 = try IDXArray(data: Data(idxBytes(type: 0x0E, dimensions: [1], payload: [0x3F, 0xD0, 0, 0, 0, 0, 0, 0])))
        #expect(f64.floats() == [0.25])
    }

    @Test("serialize and write reproduce the hand-written bytes")
    func serialization() throws {
        let bytes = idxBytes(type: 0x0B, dimensions: [2, 1], payload: [0x12, 0x34, 0x56, 0x78])
        let array = try IDXArray(data: Data(bytes))
        #expect(Array(array.serialized()) == bytes)
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("a.idx.gz")
        try array.write(to: url, compressed: true)
        #expect(try IDXArray.read(from: url) == IDXArray(elementType: .int16, dimensions: [2, 1],
                                                         payload: Data([0x12, 0x34, 0x56, 0x78]), source: url.path))
        expectDatasetError("sizeMismatch") { _ = try IDXArray(elementType: .int16, dimensions: [3], payload: Data([1, 2])) }
    }

    @Test("a wrong magic number throws wrongMagic naming the file")
    func wrongMagic() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let notIDX = try writeFile([0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 9], named: "notidx.gz", in: dir, gzip: true)
        expectDatasetError("wrongMagic", mentioning: notIDX.path) { _ = try IDXArray.read(from: notIDX) }
        let badType = try writeFile([0x00, 0x00, 0x07, 0x01, 0, 0, 0, 1, 9], named: "badtype", in: dir)
        expectDatasetError("wrongMagic", mentioning: badType.path) { _ = try IDXArray.read(from: badType) }

        // Valid IDX, but labels where images are expected (and vice versa).
        let labels = try writeFile(idxBytes(type: 0x08, dimensions: [2], payload: [1, 2]), named: "labels", in: dir)
        let images = try writeFile(idxBytes(type: 0x08, dimensions: [2, 1, 1], payload: [1, 2]), named: "images", in: dir)
        expectDatasetError("wrongMagic", mentioning: labels.path) { _ = try IDXDataset.load(images: labels, labels: labels) }
        expectDatasetError("wrongMagic", mentioning: images.path) { _ = try IDXDataset.load(images: images, labels: images) }
    }

    @Test("truncated headers and payloads throw truncated naming the file")
    func truncated() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let short = try writeFile([0x00, 0x00], named: "short.gz", in: dir, gzip: true)
        expectDatasetError("truncated", mentioning: short.path) { _ = try IDXArray.read(from: short) }
        let header = try writeFile([0x00, 0x00, 0x08, 0x03, 0, 0, 0, 2, 0, 0], named: "header", in: dir)
        expectDatasetError("truncated", mentioning: header.path) { _ = try IDXArray.read(from: header) }
        let full = idxBytes(type: 0x08, dimensions: [2, 28, 28], payload: [UInt8](repeating: 7, count: 2 * 28 * 28))
        let payload = try writeFile(Array(full.dropLast(100)), named: "payload.gz", in: dir, gzip: true)
        expectDatasetError("truncated", mentioning: payload.path) { _ = try IDXArray.read(from: payload) }
    }

    @Test("a payload larger than the dimensions say throws sizeMismatch naming the file")
    func extraBytes() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = try writeFile(idxBytes(type: 0x08, dimensions: [2, 2, 2], payload: [UInt8](repeating: 1, count: 9)),
                                named: "extra", in: dir)
        expectDatasetError("sizeMismatch", mentioning: url.path) { _ = try IDXArray.read(from: url) }
        // Dimensions whose product overflows must not trap.
        let huge = try writeFile(idxBytes(type: 0x0E, dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: []),
                                 named: "huge", in: dir)
        expectDatasetError("sizeMismatch", mentioning: huge.path) { _ = try IDXArray.read(from: huge) }
    }

    @Test("a corrupt gzip file throws corruptGzip naming the file")
    func corruptGzip() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        var bytes = try Gzip.compress(Data(idxBytes(type: 0x08, dimensions: [3], payload: [1, 2, 3])))
        bytes[bytes.count - 5] ^= 0x40     // damage the CRC-32 / length trailer
        let url = dir.appendingPathComponent("labels.gz")
        try bytes.write(to: url)
        expectDatasetError("corruptGzip", mentioning: url.path) { _ = try IDXArray.read(from: url) }
    }

    @Test("image and label counts must match")
    func countMismatch() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let images = try writeFile(idxBytes(type: 0x08, dimensions: [3, 2, 2], payload: [UInt8](repeating: 0, count: 12)),
                                   named: "images.gz", in: dir, gzip: true)
        let labels = try writeFile(idxBytes(type: 0x08, dimensions: [2], payload: [0, 1]), named: "labels.gz", in: dir, gzip: true)
        let error = expectDatasetError("countMismatch", mentioning: images.path) {
            _ = try IDXDataset.load(images: images, labels: labels)
        }
        #expect(error?.description.contains(labels.path) == true)
        #expect(error == .countMismatch(images: images.path, labels: labels.path, imageCount: 3, labelCount: 2))
    }

    @Test("labels outside 0..<classCount throw invalidLabel naming the labels file")
    func labelRange() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let images = try writeFile(idxBytes(type: 0x08, dimensions: [2, 1, 1], payload: [0, 0]), named: "i", in: dir)
        let labels = try writeFile(idxBytes(type: 0x08, dimensions: [2], payload: [0, 10]), named: "l", in: dir)
        expectDatasetError("invalidLabel", mentioning: labels.path) {
            _ = try IDXDataset.load(images: images, labels: labels, classCount: 10)
        }
        let negative = try writeFile(idxBytes(type: 0x09, dimensions: [2], payload: [0, 0xFF]), named: "n", in: dir)
        expectDatasetError("invalidLabel", mentioning: negative.path) {
            _ = try IDXDataset.load(images: images, labels: negative)
        }
        #expect(try IDXDataset.load(images: images, labels: labels).classCount == 11)
    }

    @Test("random corruptions of an IDX file never trap")
    func fuzz() throws {
        var rng = SeededGenerator(seed: 11)
        let good = idxBytes(type: 0x08, dimensions: [3, 2, 2], payload: [UInt8](repeating: 5, count: 12))
        for _ in 0..<1000 {
            var bytes = good
            let i = Int(rng.next(upperBound: UInt64(bytes.count)))
            bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            let cut = Int(rng.next(upperBound: UInt64(bytes.count + 1)))
            do { _ = try IDXArray(data: Data(bytes.prefix(cut)), source: "fuzz") } catch is DatasetError {}
        }
    }
}
