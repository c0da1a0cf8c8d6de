import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import TensorIO

@Suite struct ModuleTests {
    @Test func parametersAreAddressedByPath() {
        var rng = SeededGenerator(seed: 1)
        let mlp = MLP(widths: [4, 8, 3], rng: &rng)
        #expect(mlp.namedParameters().map(\.path) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        #expect(mlp.parameterCount == 4 * 8 + 8 + 8 * 3 + 3)
        #expect(mlp.parameter(at: "layers.1.weight")?.shape == [3, 8])
        let block = TransformerBlock(modelDimension: 8, heads: 2, keyDimension: 4, valueDimension: 4,
                                     feedForwardDimension: 16, rng: &rng)
        let paths = block.namedParameters().map(\.path)
        #expect(paths.contains("attention.query"))
        #expect(paths.contains("norm1.scale"))
        #expect(paths.contains("feedForwardOut.bias"))
    }

    @Test func smallCNNHasTheZooParameterCount() {
        var rng = SeededGenerator(seed: 0)
        #expect(SmallCNN(rng: &rng).parameterCount == 4970)
    }

    @Test func smallTransformerHasTheZooParameterCount() {
        var rng = SeededGenerator(seed: 0)
        let model = SmallTransformer(rng: &rng)
        #expect(model.parameterCount == 18_506)
        let y = model(Variable(Tensor.normal([3, 1, 28, 28], rng: &rng)))
        #expect(y.shape == [3, 10])
    }

    @Test func sameSeedBuildsTheSameNetwork() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        #expect(SmallCNN(rng: &a).parameterValues() == SmallCNN(rng: &b).parameterValues())
    }

    @Test func loadingRejectsBadParameterSetsAndLeavesModelUnchanged() throws {
        var rng = SeededGenerator(seed: 3)
        let mlp = MLP(widths: [2, 3, 1], rng: &rng)
        let before = mlp.parameterValues()
        var values = before
        values["layers.0.weight"] = Tensor(zeros: [2, 3])
        #expect(throws: ModuleError.shapeMismatch(path: "layers.0.weight", expected: [3, 2], found: [2, 3])) {
            try mlp.loadParameterValues(values)
        }
        values = before
        values["layers.1.bias"] = Tensor([Float.nan])
        #expect(throws: ModuleError.nonFinite(path: "layers.1.bias")) { try mlp.loadParameterValues(values) }
        values = before
        values.removeValue(forKey: "layers.0.bias")
        #expect(throws: ModuleError.missingParameters(["layers.0.bias"])) { try mlp.loadParameterValues(values) }
        values = before
        values["extra"] = Tensor(1)
        #expect(throws: ModuleError.unexpectedParameters(["extra"])) { try mlp.loadParameterValues(values) }
        #expect(mlp.parameterValues() == before)
    }

    @Test func checkpointRoundTripsThroughSafetensors() throws {
        var rng = SeededGenerator(seed: 4)
        let a = SmallCNN(rng: &rng), b = SmallCNN(rng: &rng)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-ckpt-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try a.saveParameters(to: url, metadata: ["epoch": "3"])
        #expect(a.parameterValues() != b.parameterValues())
        let meta = try b.loadParameters(from: url)
        #expect(meta["epoch"] == "3")
        #expect(a.parameterValues() == b.parameterValues())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
    }

    @Test func dropoutIsSeededAndOffInEvaluation() {
        let x = Variable(Tensor(ones: [1000]))
        let d1 = Dropout(rate: 0.5, seed: 9), d2 = Dropout(rate: 0.5, seed: 9)
        let y1 = d1(x).value, y2 = d2(x).value
        #expect(y1 == y2)
        let zeros = y1.scalars.filter { $0 == 0 }.count
        #expect(zeros > 400 && zeros < 600)
        #expect(Set(y1.scalars).isSubset(of: [0, 2]))
        d1.eval()
        #expect(d1(x).value == x.value)
    }

    @Test func multiHeadAttentionMatchesPerHeadFormula() {
        // Σ_i softmax(X Wq_i (X Wk_i)ᵀ/√dk) X Wv_i Wo_i, computed head by head with plain tensors.
        var rng = SeededGenerator(seed: 5)
        let mha = MultiHeadAttention(modelDimension: 6, heads: 3, keyDimension: 2, valueDimension: 4, rng: &rng)
        let x = Tensor.normal([2, 5, 6], rng: &rng)
        let y = mha(Variable(x)).value
        var expected = Tensor(zeros: [2, 5, 6])
        for b in 0..<2 {
            let xb = x[b]
            var acc = Tensor(zeros: [5, 6])
            for i in 0..<3 {
                let q = xb.matmul(mha.query.value[i]), k = xb.matmul(mha.key.value[i])
                let s = Tensor.matmul(q, k, transposeB: true) * (1 / Float(2).squareRoot())
                acc = acc + s.softmax(alongAxis: -1).matmul(xb.matmul(mha.value.value[i])).matmul(mha.output.value[i])
            }
            expected = expected + Tensor.concatenate(
                (0..<2).map { $0 == b ? acc.expandingShape(at: 0) : Tensor(zeros: [1, 5, 6]) }, alongAxis: 0)
        }
        #expect(y.isApproximatelyEqual(to: expected, rtol: 1e-4, atol: 1e-5))
    }
}
