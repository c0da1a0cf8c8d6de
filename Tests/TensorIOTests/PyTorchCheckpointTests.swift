import Foundation
import Tensors
import Testing
import TensorIO

@Suite("PyTorch checkpoints written by torch.save")
struct PyTorchCheckpointTests {
    @Test("an nn.Linear state_dict, in memory and from a file")
    func linear() throws {
        let checkpoint = try PyTorchCheckpoint(data: Fixtures.linearStateDict)
        #expect(checkpoint.names == ["weight", "bias"])
        #expect(checkpoint["weight"] == Tensor(shape: [2, 3], scalars: [-1, -0.5, 0, 0.5, 1, 1.5]))
        #expect(checkpoint["bias"] == Tensor([0.25, -0.75]))
        #expect(checkpoint.metadata.isEmpty, "the OrderedDict's _metadata attribute is not an item")

        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("linear.pt")
        try Fixtures.linearStateDict.write(to: url)
        let tensors = try PyTorchCheckpoint.load(from: url)
        #expect(tensors == checkpoint.tensors)
    }

    @Test("views on one shared storage: transposed, offset, strided")
    func sharedStorageViews() throws {
        let checkpoint = try PyTorchCheckpoint(data: Fixtures.sharedStorageViews)
        let base = Tensor(shape: [3, 4]) { Float($0) }
        #expect(checkpoint.names == ["base", "t", "row", "col", "block"])
        #expect(checkpoint["base"] == base)
        #expect(checkpoint["t"] == Tensor(shape: [4, 3], scalars: [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]))
        #expect(checkpoint["row"] == Tensor([5, 6, 7]))
        #expect(checkpoint["col"] == Tensor([2, 6, 10]))
        #expect(checkpoint["block"] == Tensor(shape: [2, 2], scalars: [4, 6, 8, 10]))
    }

    @Test("float16 and int64 tensors, a 0-d and an empty tensor")
    func halfAndLong() throws {
        let checkpoint = try PyTorchCheckpoint(data: Fixtures.halfAndLong)
        #expect(checkpoint["h"] == Tensor([1.5, -2, 65504, 0x1p-24]))
        #expect(checkpoint["l"] == Tensor(shape: [2, 2], scalars: [1, -2, 3, 0x1p40]))
        #expect(checkpoint["z"]?.shape == [])
        #expect(checkpoint["z"]?.scalars == [3.25])
        #expect(checkpoint["e"]?.shape == [0, 4])
    }

    @Test("the other storage types, uint16 through _rebuild_tensor_v3, and an nn.Parameter")
    func otherDTypes() throws {
        let checkpoint = try PyTorchCheckpoint(data: Fixtures.otherDTypes)
        #expect(checkpoint["bf"] == Tensor([1, -0.5]))
        #expect(checkpoint["b"] == Tensor([1, 0, 1]))
        #expect(checkpoint["d"] == Tensor([Float(0.1)]))
        #expect(checkpoint["i"] == Tensor([7, -8]))
        #expect(checkpoint["u8"] == Tensor([200]))
        #expect(checkpoint["i8"] == Tensor([-3]))
        #expect(checkpoint["i16"] == Tensor([-300]))
        #expect(checkpoint["u16"] == Tensor([1, 65535]))
        #expect(checkpoint["p"] == Tensor([2, 4]))
    }

    @Test("a nested checkpoint: dotted tensor names and scalar metadata")
    func nested() throws {
        let checkpoint = try PyTorchCheckpoint(data: Fixtures.nestedCheckpoint)
        #expect(checkpoint.names == ["model.weight", "model.bias"])
        #expect(checkpoint["model.weight"] == Tensor(shape: [1, 2], scalars: [0.5, -1.5]))
        #expect(checkpoint["model.bias"] == Tensor([2]))
        let m = checkpoint.metadata
        #expect(m["epoch"] == .int(3))
        #expect(m["lr"] == .float(0.01))
        #expect(m["name"] == .string("run-7"))
        #expect(m["best"] == .bool(true))
        #expect(m["history.0"] == .float(0.5))
        #expect(m["history.1"] == .float(0.25))
        #expect(m["big"] == .int(1 << 40))
        #expect(m["neg"] == .int(-300_000))
        #expect(m["note"] == nil, "None is skipped")
        #expect(m["opt.param_groups.0.lr"] == .float(0.01))
        #expect(m["opt.param_groups.0.params.1"] == .int(1))
        #expect(checkpoint.metadataNames.prefix(3) == ["epoch", "lr", "name"])
        #expect(checkpoint.metadataNames.count == m.count)
        #expect(m["name"]?.description == "'run-7'")
    }

    @Test("pickle protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL")
    func protocol4() throws {
        #expect(try PyTorchCheckpoint(data: Fixtures.protocol4)["w"] == Tensor([1, 2]))
    }

    @Test("the legacy format is named, with what to do")
    func legacy() {
        let error = expectTensorIOError("unsupportedFormat") { _ = try PyTorchCheckpoint(data: Fixtures.legacyFormat, source: "old.pt") }
        #expect(error?.description.contains("legacy") == true)
        #expect(error?.description.contains("torch>=1.6") == true)
        #expect(error?.description.hasPrefix("old.pt: ") == true)
    }

    // MARK: Hand-built views

    @Test("a strided view with an offset is gathered in row-major order")
    func stridedView() throws {
        let pickle = Pickle.stateDict("w", numel: 12, offset: 1, size: [2, 2], stride: [1, 4])
        let storage = floatBytes((0..<12).map(Float.init))
        let checkpoint = try PyTorchCheckpoint(data: torchZip(pickle: pickle, storages: ["0": storage]))
        #expect(checkpoint["w"] == Tensor(shape: [2, 2], scalars: [1, 5, 2, 6]))
        // The same through init(pickle:storages:).
        let direct = try PyTorchCheckpoint(pickle: Data(pickle), storages: ["0": Data(storage)])
        #expect(direct.tensors == checkpoint.tensors)
    }

    @Test("an int64 storage read through LongStorage")
    func longStorage() throws {
        let pickle = Pickle.stateDict("n", storageClass: "LongStorage", numel: 2, size: [2], stride: [1])
        let checkpoint = try PyTorchCheckpoint(pickle: Data(pickle), storages: ["0": Data(leBytes([Int64(-9), 1 << 30]))])
        #expect(checkpoint["n"] == Tensor([-9, 0x1p30]))
    }

    @Test("a view reaching past its storage's declared size throws .shapeMismatch naming the tensor")
    func viewPastStorage() {
        let pickle = Pickle.stateDict("w", numel: 6, size: [3, 3], stride: [3, 1])
        let zip = torchZip(pickle: pickle, storages: ["0": floatBytes(Array(repeating: 1, count: 6))])
        let error = expectTensorIOError("shapeMismatch") { _ = try PyTorchCheckpoint(data: zip, source: "v.pt") }
        #expect(error?.description.contains("'w'") == true)
        #expect(error?.description.hasPrefix("v.pt: ") == true)
    }

    @Test("a storage entry smaller than declared throws .shapeMismatch")
    func storageTooSmall() {
        let pickle = Pickle.stateDict("w", numel: 6, size: [2, 3], stride: [3, 1])
        let zip = torchZip(pickle: pickle, storages: ["0": floatBytes([1, 2, 3, 4, 5])])
        let error = expectTensorIOError("shapeMismatch") { _ = try PyTorchCheckpoint(data: zip) }
        #expect(error?.description.contains("holds 20") == true)
    }

    @Test("negative strides and mismatched size/stride lengths throw .shapeMismatch")
    func badViews() {
        let storages = ["0": Data(floatBytes(Array(repeating: 0, count: 8)))]
        for pickle in [
            Pickle.stateDict("w", numel: 8, offset: 7, size: [2], stride: [-1]),
            Pickle.stateDict("w", numel: 8, size: [2, 2], stride: [1]),
        ] {
            expectTensorIOError("shapeMismatch") { _ = try PyTorchCheckpoint(pickle: Data(pickle), storages: storages) }
        }
    }

    @Test("a missing storage entry throws .malformedArchive")
    func missingStorage() {
        let pickle = Pickle.stateDict("w", key: "7", numel: 1, size: [1], stride: [1])
        let error = expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: torchZip(pickle: pickle)) }
        #expect(error?.description.contains("archive/data/7") == true)
    }

    // MARK: Archive problems

    @Test("a truncated archive throws; no truncation traps")
    func truncatedArchive() {
        let data = Fixtures.linearStateDict
        expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: data.prefix(1000)) }
        for n in 0..<data.count {
            #expect(throws: TensorIOError.self) { _ = try PyTorchCheckpoint(data: data.prefix(n)) }
        }
    }

    @Test("an archive without data.pkl, an empty archive and a loose entry throw .malformedArchive")
    func missingPickle() {
        let error = expectTensorIOError("malformedArchive") {
            _ = try PyTorchCheckpoint(data: storedZip([("archive/version", Array("3\n".utf8))]))
        }
        #expect(error?.description.contains("archive/data.pkl") == true)
        expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: storedZip([])) }
        expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: storedZip([("data.pkl", [0x80, 2, 0x7D, 0x2E])])) }
    }

    @Test("a corrupted storage fails its CRC check")
    func corruptedStorage() throws {
        var data = Fixtures.linearStateDict
        let range = try #require(data.range(of: Data(floatBytes([-1, -0.5, 0]))))
        data[range.lowerBound + 1] ^= 0x40
        let error = expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(data: data) }
        #expect(error?.description.contains("CRC") == true)
    }

    @Test("a big-endian checkpoint and a non-ZIP file throw .unsupportedFormat")
    func unsupportedFormats() {
        var entries: [(name: String, bytes: [UInt8])] = [("archive/data.pkl", [0x80, 2, 0x7D, 0x2E])]
        entries.append(("archive/byteorder", Array("big".utf8)))
        expectTensorIOError("unsupportedFormat") { _ = try PyTorchCheckpoint(data: storedZip(entries)) }
        expectTensorIOError("unsupportedFormat") { _ = try PyTorchCheckpoint(data: Data("hello world".utf8)) }
        expectTensorIOError("unsupportedFormat") { _ = try PyTorchCheckpoint(data: Data()) }
    }

    @Test("errors from a file name the file")
    func errorsNameTheFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("broken.pt")
        try Fixtures.linearStateDict.prefix(500).write(to: url)
        let error = expectTensorIOError("malformedArchive") { _ = try PyTorchCheckpoint(contentsOf: url) }
        #expect(error?.description.contains(url.path) == true)
        let missing = dir.appendingPathComponent("missing.pt")
        let io = expectTensorIOError("io") { _ = try PyTorchCheckpoint(contentsOf: missing) }
        #expect(io?.description.contains(missing.path) == true)
    }
}
