import Foundation
import Tensors
import Testing
import TensorIO

/// The examples in the DocC comments, compiled and run.
@Suite("Documentation examples")
struct TensorIODocExampleTests {
    @Test("SafetensorsFile overview example")
    func safetensorsOverview() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        var file = SafetensorsFile(metadata: ["format": "pt"])
        file["layer0.weight"] = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        try file.write(to: URL(fileURLWithPath: path))
        let back = try SafetensorsFile.read(from: URL(fileURLWithPath: path))
        #expect(back == file)
    }

    @Test("NumpyArray overview example: a few rows of a large weights.npy")
    func numpyArrayOverview() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("weights.npy")
        try NumpyArray.write(Tensor(shape: [600, 4970]) { Float($0 % 7) }, to: url)

        let weights = try NumpyArray(contentsOf: url)      // header only
        let batch = try weights.rows(0..<512)               // Tensor [512, 4970]
        #expect(batch.shape == [512, 4970])
        #expect(batch[1, 0] == Float(4970 % 7))
    }

    @Test("NumpyArchive overview example")
    func numpyArchiveOverview() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("arrays.npz")
        try storedZip([("w.npy", Array(NumpyArray.serialized(Tensor([1, 2]))))]).write(to: url)

        let archive = try NumpyArchive(contentsOf: url)
        let w = try archive.tensor(named: "w")
        #expect(w == Tensor([1, 2]))
    }

    @Test("PyTorchCheckpoint overview example")
    func pyTorchCheckpointOverview() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("nested.pt")
        try Fixtures.nestedCheckpoint.write(to: url)

        let checkpoint = try PyTorchCheckpoint(contentsOf: url)
        var shapes: [[Int]] = []
        for name in checkpoint.names { shapes.append(checkpoint[name]?.shape ?? []) }
        let epoch = checkpoint.metadata["epoch"]            // .int(3), say
        #expect(shapes == [[1, 2], [1]])
        #expect(epoch == .int(3))
    }
}
