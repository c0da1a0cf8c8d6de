import Datasets
import Foundation
import Tensors
import Testing

@Suite("CIFAR-10 binary")
struct CIFAR10Tests {
    /// A record with `label` whose red plane is `r + p % 2`, green `g`, blue `b` (p = pixel index).
    static func record(label: UInt8, r: UInt8, g: UInt8, b: UInt8) -> [UInt8] {
        [label] + (0..<1024).map { r + UInt8($0 % 2) } + [UInt8](repeating: g, count: 1024)
            + [UInt8](repeating: b, count: 1024)
    }

    @Test("records decode channel-major into [n, 3, 32, 32]")
    func colour() throws {
        let bytes = Self.record(label: 3, r: 10, g: 20, b: 30) + Self.record(label: 9, r: 254, g: 0, b: 255)
        let data = try CIFAR10.decode(Data(bytes), name: "crafted", pixelRange: .unit)
        #expect(data.count == 2 && data.labels == [3, 9])
        #expect(data.images.shape == [2, 3, 32, 32])
        #expect(data.images[0, 0, 0, 0] == Float(10) / 255 && data.images[0, 0, 0, 1] == Float(11) / 255)
        #expect(data.images[0, 0, 31, 31] == Float(11) / 255)
        #expect(data.images[0, 1, 5, 7] == Float(20) / 255 && data.images[0, 2, 31, 0] == Float(30) / 255)
        #expect(data.images[1, 0, 0, 1] == 1 && data.images[1, 1, 3, 3] == 0 && data.images[1, 2, 0, 0] == 1)
        #expect(data.classCount == 10)
    }

    @Test("grayscale is the channel average")
    func grayscale() throws {
        let bytes = Self.record(label: 1, r: 10, g: 20, b: 60)
        let data = try CIFAR10.decode(Data(bytes), name: "g", grayscale: true, pixelRange: .symmetric)
        #expect(data.images.shape == [1, 1, 32, 32])
        #expect(data.images[0, 0, 0, 0] == PixelRange.symmetric.scale(Float(10 + 20 + 60) / 3))
        #expect(data.images[0, 0, 0, 1] == PixelRange.symmetric.scale(Float(11 + 20 + 60) / 3))
    }

    @Test("a partial record throws truncated; a label above 9 throws invalidLabel")
    func errors() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let bytes = Self.record(label: 1, r: 0, g: 0, b: 0) + Self.record(label: 2, r: 0, g: 0, b: 0)
        let cut = try writeFile(Array(bytes.dropLast(5)), named: "test_batch.bin", in: dir)
        expectDatasetError("truncated", mentioning: cut.path) { _ = try CIFAR10.readBatch(from: cut) }
        expectDatasetError("truncated", mentioning: cut.path) { _ = try CIFAR10.load(split: .test, directory: dir) }
        let badLabel = try writeFile(Self.record(label: 10, r: 0, g: 0, b: 0), named: "bad.bin", in: dir)
        expectDatasetError("invalidLabel", mentioning: badLabel.path) { _ = try CIFAR10.readBatch(from: badLabel) }
        let missing = dir.appendingPathComponent("nothing-here")
        expectDatasetError("fileNotFound") { _ = try CIFAR10.load(split: .train, directory: missing) }
    }

    @Test("splits load from a directory or its cifar-10-batches-bin subfolder, gzipped or not")
    func splits() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let nested = dir.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        for (i, name) in CIFAR10.Split.train.fileNames.enumerated() {
            try writeFile(Self.record(label: UInt8(i), r: UInt8(i), g: 0, b: 0), named: name, in: nested)
        }
        // The test batch is gzip-compressed but keeps its name.
        try writeFile(Self.record(label: 7, r: 0, g: 0, b: 0) + Self.record(label: 8, r: 0, g: 0, b: 0),
                      named: "test_batch.bin", in: nested, gzip: true)
        #expect(CIFAR10.isAvailable(split: .train, directory: dir))
        let train = try CIFAR10.load(split: .train, directory: dir, grayscale: true)
        #expect(train.labels == [0, 1, 2, 3, 4])
        #expect(train.images.shape == [5, 1, 32, 32])
        #expect(train.images[4, 0, 0, 0] == Float(4) / 3 / 255)
        let test = try CIFAR10.load(split: .test, directory: nested)
        #expect(test.labels == [7, 8] && test.name == "cifar10/test")
    }
}
