import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

@Suite struct WeightSpaceFeaturesTests {
    @Test func smallCNNZooArchitecture() throws {
        let a = FeedforwardArchitecture.smallCNNZoo()
        #expect(a.parameterCount == 4970)
        #expect(a.weightShape(layer: 0) == [16, 1, 3, 3])
        #expect(a.weightShape(layer: 3) == [10, 16])
        #expect(a.weightAxisRoles(layer: 0) == [.hiddenNeurons, .inputNeurons, .spatial, .spatial])
        #expect(a.weightAxisRoles(layer: 3) == [.outputNeurons, .hiddenNeurons])
        #expect(a.biasAxisRoles(layer: 1) == [.hiddenNeurons])
        #expect(a.filterFactor(layer: 1) == 9)
        var rng = SeededGenerator(seed: 0)
        #expect(SmallCNN(rng: &rng).weightSpaceArchitecture == a)
    }

    @Test func invalidArchitecturesThrow() {
        #expect(throws: WeightSpaceError.self) { try FeedforwardArchitecture.mlp(widths: [3]) }
        #expect(throws: WeightSpaceError.self) { try FeedforwardArchitecture.mlp(widths: [3, 0, 2]) }
        #expect(throws: WeightSpaceError.self) {
            try FeedforwardArchitecture(family: .cnn, widths: [1, 4, 4], layers: [.dense, .conv2d(kernel: [3, 3], stride: [1, 1], padding: [0, 0])], activation: .relu)
        }
    }

    @Test func modelRoundTripIsExact() throws {
        var rng = SeededGenerator(seed: 1)
        let models: [any WeightSpaceConvertible] = [
            MLP(widths: [5, 7, 3], rng: &rng), SmallCNN(rng: &rng), SIREN(hiddenWidths: [8, 8], rng: &rng),
        ]
        for m in models {
            let before = m.parameterValues()
            let f = WeightSpaceFeatures(model: m)
            #expect(f.batchSize == 1 && f.channelCount == 1)
            #expect(f.widths == m.weightSpaceArchitecture.widths)
            for (k, p) in m.parameters.enumerated() { p.value = p.value * 0 + Float(k) }
            try m.load(f)
            #expect(m.parameterValues() == before)
        }
    }

    @Test func transformerRoundTripIsExact() throws {
        var rng = SeededGenerator(seed: 2)
        let a = SmallTransformer(rng: &rng), b = SmallTransformer(rng: &rng)
        try b.load(TransformerWeightSpaceFeatures(model: a))
        #expect(a.parameterValues() == b.parameterValues())
        let f = TransformerWeightSpaceFeatures(model: a)
        #expect(f.blocks[0].query.shape == [1, 1, 2, 32, 16])
        #expect(f.blocks[0].feedForwardInWeight.shape == [1, 1, 32, 64])
    }

    @Test func batchingAndUnbatching() throws {
        var rng = SeededGenerator(seed: 3)
        let models = (0..<4).map { _ in MLP(widths: [3, 5, 2], rng: &rng) }
        let batch = try WeightSpaceFeatures(models: models)
        #expect(batch.batchSize == 4)
        #expect(batch.weights[0].shape == [4, 1, 5, 3])
        let parts = batch.unbatched()
        for (m, p) in zip(models, parts) { #expect(p == WeightSpaceFeatures(model: m)) }
        #expect(try WeightSpaceFeatures.batched(parts) == batch)
        #expect(batch.gathering(members: [2, 0]).member(0) == parts[2])
        #expect(batch.flattened.shape == [4, 5 * 3 + 5 + 2 * 5 + 2])
    }

    @Test func inconsistentFeaturesThrow() {
        #expect(throws: WeightSpaceError.self) {
            try WeightSpaceFeatures(weights: [Tensor(zeros: [1, 1, 4, 3]), Tensor(zeros: [1, 1, 2, 5])],
                                    biases: [Tensor(zeros: [1, 1, 4]), Tensor(zeros: [1, 1, 2])])
        }
        #expect(throws: WeightSpaceError.self) {
            try WeightSpaceFeatures(weights: [Tensor(zeros: [2, 1, 4, 3])], biases: [Tensor(zeros: [1, 1, 4])])
        }
        var rng = SeededGenerator(seed: 0)
        let small = MLP(widths: [3, 5, 2], rng: &rng), big = MLP(widths: [3, 6, 2], rng: &rng)
        #expect(throws: WeightSpaceError.self) { try small.load(WeightSpaceFeatures(model: big)) }
    }

    @Test func nonFiniteWeightsAreRejected() throws {
        var rng = SeededGenerator(seed: 4)
        let m = MLP(widths: [3, 4, 2], rng: &rng)
        var f = WeightSpaceFeatures(model: m)
        f.biases[1][0, 0, 1] = .nan
        #expect(f.hasNonFinite)
        #expect(throws: WeightSpaceError.nonFinite("bias of layer 2 contains NaN or infinity")) { try f.validateFinite() }
        let before = m.parameterValues()
        #expect(throws: WeightSpaceError.self) { try m.load(f) }
        #expect(m.parameterValues() == before)
    }

    @Test func layerStatisticsMatchHandComputation() throws {
        let w = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let v = Tensor(shape: [1, 1, 2], scalars: [-1, 1])
        let f = try WeightSpaceFeatures(weights: [w], biases: [v])
        let s = f.layerStatistics()
        #expect(s.shape == [1, 1, 1, 14])
        let expected: [Float] = [2.5, 1.25, 1, 1.75, 2.5, 3.25, 4, 0, 1, -1, -0.5, 0, 0.5, 1]
        #expect(s.isApproximatelyEqual(to: Tensor(shape: [1, 1, 1, 14], scalars: expected)))
    }

    @Test func layerStatisticsAreInvariantToHiddenPermutations() throws {
        var rng = SeededGenerator(seed: 5)
        let f = WeightSpaceFeatures(model: MLP(widths: [4, 6, 5, 3], rng: &rng))
        for _ in 0..<10 {
            let g = NeuronGroupElement.random(widths: f.widths, kind: .hiddenPermutation, rng: &rng)
            #expect(try g.apply(to: f).layerStatistics().isApproximatelyEqual(to: f.layerStatistics(), rtol: 1e-5, atol: 1e-6))
        }
    }
}

@Suite struct GroupAlgebraTests {
    @Test(arguments: NeuronGroupElement.Kind.allCases)
    func inverseUndoesAndCompositionComposes(kind: NeuronGroupElement.Kind) throws {
        var rng = SeededGenerator(seed: 6)
        let f = WeightSpaceFeatures(model: SmallCNN(rng: &rng))
        for _ in 0..<10 {
            let g = NeuronGroupElement.random(widths: f.widths, kind: kind, rng: &rng)
            let h = NeuronGroupElement.random(widths: f.widths, kind: kind, rng: &rng)
            #expect(try g.inverse.apply(to: g.apply(to: f)).maxRelativeDeviation(from: f) < 1e-6)
            let sequential = try g.apply(to: h.apply(to: f))
            #expect(try g.composed(after: h).apply(to: f).maxRelativeDeviation(from: sequential) < 1e-6)
        }
        #expect(try NeuronGroupElement.identity(widths: f.widths).apply(to: f) == f)
    }

    @Test func hnpFixesInputsAndOutputs() {
        var rng = SeededGenerator(seed: 7)
        let g = NeuronGroupElement.random(widths: [5, 6, 7, 4], kind: .hiddenPermutation, rng: &rng)
        #expect(g.permutations[0] == Array(0..<5))
        #expect(g.permutations[3] == Array(0..<4))
        #expect(g.factors.allSatisfy { $0.allSatisfy { $0 == 1 } })
        let s = NeuronGroupElement.random(widths: [5, 6, 7, 4], kind: .positiveScaling, scaleRange: (1, 10), rng: &rng)
        #expect(s.factors[1].allSatisfy { $0 >= 1 && $0 <= 10 })
        #expect(s.factors[0].allSatisfy { $0 == 1 })
    }

    @Test func invalidGroupElementsThrow() {
        #expect(throws: WeightSpaceError.self) { try NeuronGroupElement(permutations: [[0, 0]]) }
        #expect(throws: WeightSpaceError.self) { try NeuronGroupElement(permutations: [[0, 1]], factors: [[1, 0]]) }
        var rng = SeededGenerator(seed: 8)
        let g = NeuronGroupElement.random(widths: [3, 4, 2], kind: .hiddenPermutation, rng: &rng)
        let f = WeightSpaceFeatures(model: MLP(widths: [3, 5, 2], rng: &rng))
        #expect(throws: WeightSpaceError.self) { try g.apply(to: f) }
    }
}

@Suite struct TransformerArchitectureTests {
    @Test func zooArchitectureMatchesTheModel() throws {
        var rng = SeededGenerator(seed: 0)
        let model = SmallTransformer(rng: &rng)
        let a = TransformerArchitecture(model: model)
        #expect(a == .smallTransformerZoo)
        #expect(a.parametersPerBlock == 8288)
        let f = TransformerWeightSpaceFeatures(model: model)
        for (t, spec) in zip(f.blocks[0].tensors, a.blockTensors) {
            #expect(Array(t.shape.dropFirst(2)) == spec.shape, "\(spec.name)")
            #expect(spec.roles.count == spec.shape.count)
        }
        #expect(a.blockTensors[3].roles == [.heads, .glBlock, .permutedFeatures])
        var residual = a
        residual.residual = true
        #expect(residual.blockTensors[3].roles == [.heads, .glBlock, .fixedFeatures])
        #expect(throws: WeightSpaceError.self) {
            try TransformerArchitecture(blockCount: 0, heads: 2, modelDimension: 8, keyDimension: 4, valueDimension: 4,
                                        feedForwardDimension: 8, residual: false)
        }
    }
}
