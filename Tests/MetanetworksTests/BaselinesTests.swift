import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// The STATNN and flat-MLP baselines: what they are and are not invariant to.
@Suite struct BaselinesTests {
    typealias F = PermutationFixtures

    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func statnnIsPermutationInvariantButNotScaleInvariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 50)
        let model = STATNNPredictor(architecture: space.architecture, hidden: 32, outputs: 2, rng: &rng)
        let x = F.features(space.architecture, batch: 3)
        let hnp = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.predict($0) }
        let np = try F.invarianceDeviation(x, kind: .allPermutation) { model.predict($0) }
        let scaling = try F.invarianceDeviation(x, kind: .positiveScaling, scaleRange: (1, 10)) { model.predict($0) }
        print("STATNNPredictor \(space): HNP \(hnp), NP \(np), positive scaling (1, 10) (control) \(scaling)")
        #expect(hnp <= 1e-4)
        #expect(np <= 1e-4)
        #expect(scaling >= 1e-2)
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func flatMLPIsNotPermutationInvariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 51)
        let model = FlatMLPPredictor(architecture: space.architecture, hidden: [32, 32], rng: &rng)
        let x = F.features(space.architecture, batch: 3)
        let hnp = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.predict($0) }
        print("FlatMLPPredictor \(space): HNP (control) \(hnp)")
        #expect(hnp >= 1e-2)
    }

    @Test func flatMLPUsesTheFlattenedOrder() {
        // The first layer sees WeightSpaceFeatures.flattened: check by a manual product.
        var rng = SeededGenerator(seed: 52)
        let arch = F.mlp2.architecture
        let model = FlatMLPPredictor(architecture: arch, hidden: [], outputs: 1, rng: &rng)
        let x = F.features(arch, batch: 2)
        let dense = model.head.layers[0]
        let expected = x.flattened.matmul(dense.weight.value.transposed()) + dense.bias!.value
        #expect(model.predict(x).maxAbsDifference(expected) < 1e-5)
    }

    @Test func statnnFeedsTheLayerStatistics() {
        var rng = SeededGenerator(seed: 53)
        let arch = F.mlp2.architecture
        let model = STATNNPredictor(architecture: arch, hidden: 8, rng: &rng)
        let x = F.features(arch, batch: 2)
        let stats = x.layerStatistics().reshaped([2, -1])
        #expect(stats.shape == [2, 28])
        #expect(model.predict(x).maxAbsDifference(model.head(Variable(stats)).value) == 0)
    }

    @Test func baselinesTrain() throws {
        var rng = SeededGenerator(seed: 54)
        let arch = F.mlp3.architecture
        let x = F.features(arch, batch: 8)
        let target = Tensor.uniform([8, 1], rng: &rng)
        let models: [(String, Module & WeightSpaceModel)] = [
            ("STATNN", STATNNPredictor(architecture: arch, hidden: 32, rng: &rng)),
            ("flat MLP", FlatMLPPredictor(architecture: arch, hidden: [32, 32], rng: &rng)),
        ]
        for (name, model) in models {
            let optimizer = Adam(learningRate: 3e-3)
            var first: Float = 0, last: Float = 0
            for step in 0..<40 {
                let tape = Tape()
                let loss = Variable.meanSquaredError(model(WeightSpaceVariables(x, tape: tape)), target)
                if step == 0 { first = loss.value.scalar }
                last = loss.value.scalar
                optimizer.step(model, gradients: tape.gradients(of: loss))
            }
            #expect(last < 0.5 * first, "\(name): \(first) → \(last)")
        }
    }
}
