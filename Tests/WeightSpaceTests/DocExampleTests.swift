import Testing
import Tensors
import NeuralNetworks
import WeightSpace

/// The examples of Docs/WeightSpaceSymmetries.md, compiled and run.
@Suite struct WeightSpaceDocExampleTests {
    @Test func documentedExamplesRun() throws {
        var rng = SeededGenerator(seed: 0)
        let cnn = SmallCNN(rng: &rng)
        let f = WeightSpaceFeatures(model: cnn)
        #expect(f.weights[0].shape == [1, 1, 16, 1, 3, 3])
        try cnn.load(f)
        let zooBatch = try WeightSpaceFeatures(models: [cnn, SmallCNN(rng: &rng)])
        #expect(zooBatch.batchSize == 2)

        let g = NeuronGroupElement.random(widths: f.widths, kind: .hiddenPermutation, rng: &rng)
        let moved = try g.apply(to: f)
        #expect(try g.inverse.apply(to: moved) == f)

        let scale = NeuronGroupElement.random(widths: f.widths, kind: .positiveScaling, scaleRange: (1, 10), rng: &rng)
        try scale.apply(to: cnn)
        let sign = NeuronGroupElement.random(widths: f.widths, kind: .signFlip, rng: &rng)
        #expect(sign.factors[1].allSatisfy { abs($0) == 1 })

        let t = SmallTransformer(rng: &rng)
        let h = try AttentionGroupElement.random(blockCount: 2, heads: 2, modelDimension: 32, keyDimension: 16,
                                                 valueDimension: 16, feedForwardDimension: 64, rng: &rng)
        try h.apply(to: t)
    }
}
