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
}
