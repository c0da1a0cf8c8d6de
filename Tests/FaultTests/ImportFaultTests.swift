import Foundation
import Testing
import _TestSupport
import Tensors
import TensorIO
import Datasets
import Zoo

/// Importers and data sets on damaged input: the Small CNN Zoo folder (layout, weights, metrics),
/// metrics tables, IDX files and the labels of a generic IDX data set. Each failure is an error
/// naming the file, and an import that fails leaves nothing behind.
@Suite struct ImportFaultTests {
    nonisolated(unsafe) static let fake = FakeSmallCNNZoo.standard()

    // MARK: layout.csv

    /// (the kernel row of conv2d replaced by, fragment of the error).
    static let layoutRows: [(String, String)] = [
        (#"sequential/conv2d/kernel:0,16,160,144,"(4294967296, 4294967296, 1, 16)""#, "integer"),
        (#"sequential/conv2d/kernel:0,16,160,144,"(3037000500, 3037000500, 1, 1)""#, "integer"),
        (#"sequential/conv2d/kernel:0,16,160,144,"(99999999999999999999, 1, 1, 16)""#, "too large"),
        (#"sequential/conv2d/kernel:0,16,160,144,"(3, 3, 0, 16)""#, "shape"),
        (#"sequential/conv2d/kernel:0,16,9223372036854775807,144,"(3, 3, 1, 16)""#, "layout.csv"),
        (#"sequential/conv2d/kernel:0,16,-5,144,"(3, 3, 1, 16)""#, "before its start"),
        (#"sequential/conv2d/kernel:0,-9223372036854775808,160,144,"(3, 3, 1, 16)""#, "layout.csv"),
        (#"sequential/conv2d/kernel:0,16,99999999999999999999,144,"(3, 3, 1, 16)""#, "not integers"),
        (#"sequential/conv2d/kernel:0,16,160,144,"(3, 3, 1, 17)""#, "layout.csv"),
        (#"sequential/conv2d/kernel:0,16,160,144,"()""#, "layout.csv"),
    ]

    @Test(arguments: 0..<layoutRows.count)
    func layoutRow(_ index: Int) throws {
        let (row, fragment) = Self.layoutRows[index]
        let source = try Self.fake.write()
        let url = source.appendingPathComponent("layout.csv")
        let text = FakeSmallCNNZoo.layoutCSV.replacingOccurrences(of: #"sequential/conv2d/kernel:0,16,160,144,"(3, 3, 1, 16)""#, with: row)
        #expect(text != FakeSmallCNNZoo.layoutCSV)
        try Data(text.utf8).write(to: url)
        let out = makeTemporaryDirectory("import").appendingPathComponent("zoo")
        expectError(ZooError.self, mentioning: [url.path, fragment], row) {
            _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: .init(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        }
        #expect(leftNothing(at: out))
    }

    /// The three files of the folder cut at 8 points each.
    @Test(arguments: ["layout.csv", "weights.npy", "metrics.csv"], 0..<8)
    func folderFileTruncated(_ name: String, _ index: Int) throws {
        let source = try Self.fake.write(gzip: false)
        let url = source.appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        let cut = cutPoints(data.count - 6, count: 8)[index]   // −6: a cut inside the last number would leave a valid row
        try truncated(data, to: cut).write(to: url)
        let out = makeTemporaryDirectory("import").appendingPathComponent("zoo")
        expectError(ZooError.self, mentioning: [name], "\(name) cut at \(cut)") {
            _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: .init(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        }
        #expect(leftNothing(at: out))
    }

    @Test func metricsWithARepeatedColumn() throws {
        let csv = Self.fake.metricsCSV().replacingOccurrences(of: "test_accuracy,test_loss", with: "test_accuracy,test_accuracy")
        let source = try Self.fake.write(metrics: csv, gzip: false)
        let out = makeTemporaryDirectory("import").appendingPathComponent("zoo")
        expectError(ZooError.self, mentioning: ["metrics.csv", "'test_accuracy' appears twice"]) {
            _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: .init(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        }
    }

    /// weights.npy (or another file of the folder) as a FIFO: refused at once.
    @Test(arguments: ["weights.npy", "layout.csv", "metrics.csv"])
    func folderFileIsAFIFO(_ name: String) throws {
        let source = try Self.fake.write(gzip: false)
        let url = source.appendingPathComponent(name)
        try FileManager.default.removeItem(at: url)
        try makeFIFO(url)
        let out = makeTemporaryDirectory("import").appendingPathComponent("zoo")
        let result = withDeadline(10) {
            _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: .init(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        }
        guard let result else { Issue.record("import blocked on the FIFO \(name)"); return }
        #expect(throws: ZooError.self) { try result.get() }
        if case .failure(let error) = result { #expect("\(error)".contains("FIFO"), "\(error)") }
    }

    // MARK: Metrics tables of the PyTorch / tensor-file importers

    /// Metrics tables naming one checkpoint twice, or nested absurdly.
    static let metricsTables: [(String, String, String)] = [
        ("m.csv", "file,test_accuracy\na.pt,0.5\nb.pt,0.6\na.pt,0.7\n", "both describe 'a.pt'"),
        ("m.csv", "file,test_accuracy\nx/a.pt,0.5\ny/a.pt,0.7\n", "both describe 'a.pt'"),
        ("m.json", #"[{"file":"a.pt","test_accuracy":0.5},{"file":"a.pt","test_accuracy":0.7}]"#, "both describe 'a.pt'"),
        ("m.json", #"{"a.pt":0.5,"a.pt":0.7}"#, "appears twice"),
        ("m.json", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "nested"),
        ("m.csv", "file,file\na.pt,b.pt\n", "appears twice"),
    ]

    @Test(arguments: 0..<metricsTables.count)
    func metricsTable(_ index: Int) throws {
        let (name, text, fragment) = Self.metricsTables[index]
        let dir = makeTemporaryDirectory("pt")
        try ImportFixtures.run1Epoch75.bytes.write(to: dir.appendingPathComponent("a.pt"))
        try ImportFixtures.run2Epoch75.bytes.write(to: dir.appendingPathComponent("b.pt"))
        let metrics = try scratchFile(name, Data(text.utf8))
        let out = makeTemporaryDirectory("import").appendingPathComponent("zoo")
        expectError(ZooError.self, mentioning: [metrics.path, fragment], "\(name): \(text.prefix(40))") {
            _ = try PyTorchZooImporter.importZoo(from: dir, to: out, options: .init(metrics: metrics))
        }
        #expect(leftNothing(at: out))
    }

    // MARK: IDX

    static func writeIDX(_ dir: URL, split: String, labels: [UInt8]) throws {
        let n = labels.count
        try IDXArray(elementType: .uint8, dimensions: [n, 4, 4], payload: Data((0..<(n * 16)).map { UInt8($0 % 251) }))
            .write(to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
        try IDXArray(elementType: .uint8, dimensions: [n], payload: Data(labels))
            .write(to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    }

    /// A generic IDX data set with one stray label (3 values × 3 positions × 2 splits): an error
    /// naming the labels file and the label, never a zoo with hundreds of classes.
    @Test(arguments: 0..<9, ["train", "t10k"])
    func strayLabel(_ combination: Int, _ split: String) throws {
        let value = [11, 200, 255][combination / 3], position = [0, 17, 39][combination % 3]
        let dir = makeTemporaryDirectory("idx")
        var labels = (0..<40).map { UInt8($0 % 10) }
        for other in ["train", "t10k"] where other != split { try Self.writeIDX(dir, split: other, labels: labels) }
        labels[position] = UInt8(value)
        try Self.writeIDX(dir, split: split, labels: labels)
        let spec = ZooDataSpec(kind: .idx, path: dir.path)
        expectError(DatasetError.self, mentioning: ["\(split)-labels-idx1-ubyte", "label \(value)"], "\(split)[\(position)] = \(value)") {
            _ = try spec.load()
        }
    }

    @Test func cleanGenericIDXKeepsItsClasses() throws {
        let dir = makeTemporaryDirectory("idx")
        try Self.writeIDX(dir, split: "train", labels: (0..<40).map { UInt8($0 % 10) })
        try Self.writeIDX(dir, split: "t10k", labels: (0..<20).map { UInt8($0 % 7) })   // the test split may lack classes
        let data = try ZooDataSpec(kind: .idx, path: dir.path).load()
        #expect(data.classCount == 10 && data.train.count == 40 && data.test.count == 20)
    }

    /// IDX bytes cut at 16 points, and headers with absurd dimensions.
    @Test(arguments: 0..<16)
    func idxTruncated(_ index: Int) throws {
        let bytes = try IDXArray(elementType: .uint8, dimensions: [5, 4, 3], payload: Data(count: 60)).serialized()
        let cut = cutPoints(bytes.count - 1, count: 16)[index]
        expectError(DatasetError.self, mentioning: ["cut.idx"], "cut at \(cut)") { _ = try IDXArray(data: truncated(bytes, to: cut), source: "cut.idx") }
    }

    @Test(arguments: [[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF],
                      [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]] as [[UInt8]])
    func idxAbsurdDimensions(_ dims: [UInt8]) throws {
        let bytes = Data([0, 0, 0x08, 3] + dims + [1, 2, 3])
        expectError(DatasetError.self, mentioning: ["big.idx"]) { _ = try IDXArray(data: bytes, source: "big.idx") }
    }

    @Test func idxFileThatIsAFIFO() throws {
        let url = makeTemporaryDirectory("fifo").appendingPathComponent("train-images-idx3-ubyte")
        try makeFIFO(url)
        let result = withDeadline(10) { _ = try IDXArray.read(from: url) }
        guard let result else { Issue.record("IDXArray.read blocked on a FIFO"); return }
        #expect(throws: DatasetError.self) { try result.get() }
    }
}
