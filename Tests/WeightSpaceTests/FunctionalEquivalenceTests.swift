import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Datasets

/// Real inputs: Fashion-MNIST test images when the Debian package is installed (as `make test`
/// ensures), else the built-in synthetic digits.
let symmetryImages: Tensor = {
    if FashionMNIST.isAvailable(split: .test),
       let test = try? FashionMNIST.load(split: .test, pixelRange: .symmetric) {
        return test.prefix(32).images
    }
    return SyntheticDigits.make(count: 32, seed: 0, pixelRange: .symmetric).images
}()

struct SymmetryCase: CustomStringConvertible, Sendable {
    var family: NetworkFamily
    var group: SymmetryGroup
    var activation: Activation
    var description: String { "\(family.rawValue)/\(activation.rawValue) under \(group.rawValue)" }
}

/// Every (family, activation, group) whose group is a true symmetry.
let trueSymmetries: [SymmetryCase] = [
    .init(family: .mlp, group: .hnp, activation: .relu), .init(family: .mlp, group: .scale, activation: .relu),
    .init(family: .mlp, group: .hnp, activation: .tanh), .init(family: .mlp, group: .sign, activation: .tanh),
    .init(family: .cnn, group: .hnp, activation: .relu), .init(family: .cnn, group: .scale, activation: .relu),
    .init(family: .cnn, group: .hnp, activation: .tanh), .init(family: .cnn, group: .sign, activation: .tanh),
    .init(family: .siren, group: .hnp, activation: .sine), .init(family: .siren, group: .sign, activation: .sine),
    .init(family: .transformer, group: .attention, activation: .relu),
]

/// Groups that are NOT symmetries of these networks.
let nonSymmetries: [SymmetryCase] = [
    .init(family: .mlp, group: .np, activation: .relu), .init(family: .cnn, group: .np, activation: .tanh),
    .init(family: .cnn, group: .scale, activation: .tanh), .init(family: .mlp, group: .sign, activation: .relu),
    .init(family: .siren, group: .scale, activation: .sine), .init(family: .siren, group: .np, activation: .sine),
]

@Suite struct FunctionalEquivalenceTests {
    @Test(arguments: trueSymmetries)
    func trueSymmetryPreservesTheFunction(_ c: SymmetryCase) throws {
        let r = try SymmetryCheck.run(family: c.family, group: c.group, activation: c.activation, trials: 20, seed: 11,
                                      inputs: SymmetryCheck.inputs(for: c.family, images: symmetryImages))
        #expect(r.is_true_symmetry)
        #expect(r.true_symmetry_max_rel_dev <= 1e-4, "\(c): \(r.true_symmetry_max_rel_dev)")
        // The same action with its compensating half left out must change the function.
        #expect(r.false_symmetry_min_rel_dev >= 1e-2, "\(c): broken variant moved only \(r.false_symmetry_min_rel_dev)")
        if let k = r.max_condition_number { #expect(k <= 100 && k >= 1) }
    }

    @Test(arguments: nonSymmetries)
    func nonSymmetryChangesTheFunction(_ c: SymmetryCase) throws {
        let r = try SymmetryCheck.run(family: c.family, group: c.group, activation: c.activation, trials: 5, seed: 12,
                                      inputs: SymmetryCheck.inputs(for: c.family, images: symmetryImages))
        #expect(!r.is_true_symmetry)
        #expect(r.true_symmetry_max_rel_dev >= 1e-2, "\(c) should not be a symmetry: \(r.true_symmetry_max_rel_dev)")
    }

    @Test func unsupportedPairsThrow() {
        #expect(throws: WeightSpaceError.self) {
            try SymmetryCheck.run(family: .mlp, group: .attention, inputs: SymmetryCheck.inputs(for: .mlp, images: symmetryImages))
        }
        #expect(throws: WeightSpaceError.self) {
            try SymmetryCheck.run(family: .transformer, group: .hnp, inputs: symmetryImages)
        }
    }

    @Test func residualTransformerKeepsHeadsAndGLButNotFeaturePermutations() throws {
        var rng = SeededGenerator(seed: 13)
        var config = SmallTransformer.Configuration()
        config.residual = true
        let model = SmallTransformer(config, rng: &rng)
        let reference = FunctionalEquivalence.outputs(of: model, on: symmetryImages)
        let original = TransformerWeightSpaceFeatures(model: model)
        func deviation(_ options: AttentionGroupElement.Options) throws -> Float {
            let g = try AttentionGroupElement.random(blockCount: 2, heads: 2, modelDimension: 32, keyDimension: 16,
                                                     valueDimension: 16, feedForwardDimension: 64, options: options, rng: &rng)
            try model.load(g.apply(to: original))
            return FunctionalEquivalence.relativeDeviation(reference, FunctionalEquivalence.outputs(of: model, on: symmetryImages))
        }
        for _ in 0..<5 {
            #expect(try deviation(.init(featurePermutations: false)) <= 1e-4)
            // π_O without permuting the residual stream is not a symmetry of a residual block.
            #expect(try deviation(.init(featurePermutations: true)) >= 1e-2)
        }
    }

    @Test func actingOnFeaturesEqualsActingOnTheModel() throws {
        var rng = SeededGenerator(seed: 14)
        let m = SmallCNN(rng: &rng)
        let f = WeightSpaceFeatures(model: m)
        let g = NeuronGroupElement.random(widths: f.widths, kind: .positiveScaling, rng: &rng)
        try g.apply(to: m)
        #expect(WeightSpaceFeatures(model: m) == (try g.apply(to: f)))
    }

    @Test func glSamplesAreWellConditionedAndInvertible() throws {
        var rng = SeededGenerator(seed: 15)
        for _ in 0..<20 {
            let g = try AttentionGroupElement.random(blockCount: 1, heads: 2, modelDimension: 32, keyDimension: 16,
                                                     valueDimension: 16, feedForwardDimension: 64, rng: &rng)
            for m in g.blocks[0].queryKey + g.blocks[0].valueOutput {
                let k = try m.conditionNumber()
                #expect(k >= 1 && k <= 100)
                #expect(Tensor.matmul(m, try m.inverse()).isApproximatelyEqual(to: Tensor.identity(16), rtol: 0, atol: 1e-3))
            }
        }
    }
}
