import Foundation
import Training
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks

/// What `nfn check-equivariance` reports for one model.
public struct EquivarianceReport: Codable, Sendable, Equatable {
    /// The model name.
    public var model: String
    /// The weight space the model was built for (`small-cnn-zoo`, `small-transformer-zoo`).
    public var architecture: String
    /// The model's trainable parameters.
    public var parameters: Int
    /// Random group elements tried per group.
    public var trials: Int
    /// Seeds the weights and the group elements.
    public var seed: UInt64
    /// max over trials of |f(gU) − f(U)| / max|f(U)|, by group.
    public var invariance_max_rel_dev: [String: Float]
    /// Whether the model is invariant to each group by construction.
    public var expected_invariant: [String: Bool]
}

/// Measures how a metanetwork's output moves under random group elements acting on its input.
public enum EquivarianceCheckRunner {
    static func groupName(_ k: NeuronGroupElement.Kind) -> String {
        switch k {
        case .hiddenPermutation: return "hnp"
        case .allPermutation: return "np"
        case .positiveScaling: return "scale[1,10]"
        case .signFlip: return "sign"
        }
    }

    /// Builds `kind` for the Small CNN Zoo weight space, evaluates it on random weight sets
    /// (batch 4) and on `trials` random elements of each group.
    public static func run(_ kind: MetanetworkKind, trials: Int = 10, seed: UInt64 = 0,
                           size: MetanetworkKind.Size = .small) throws -> EquivarianceReport {
        var rng = SeededGenerator(seed: seed)
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let model = try kind.makePredictor(architecture: arch, size: size, rng: &rng)
        model.eval()
        let u = try randomWeightSets(arch, rng: &rng)
        let (deviations, expected) = try groupSweep(u, trials: trials, invariantTo: kind.invariantTo, rng: &rng) { model.predict($0) }
        return EquivarianceReport(model: kind.rawValue, architecture: "small-cnn-zoo", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: deviations,
                                  expected_invariant: expected)
    }

    /// Four random weight sets of `arch`, one channel (weights σ 0.3, biases σ 0.1).
    static func randomWeightSets(_ arch: FeedforwardArchitecture, rng: inout SeededGenerator) throws -> WeightSpaceFeatures {
        let weights = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.weightShape(layer: $0), std: 0.3, rng: &rng) }
        let biases = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.biasShape(layer: $0), std: 0.1, rng: &rng) }
        return try WeightSpaceFeatures(weights: weights, biases: biases)
    }

    /// For every neuron group: the largest relative change of `outputs` over `trials` batches whose
    /// members were each moved by their own random element (scales in [1, 10]), by group name, and
    /// whether the model is invariant to that group by construction.
    static func groupSweep(_ u: WeightSpaceFeatures, trials: Int, invariantTo: [NeuronGroupElement.Kind],
                           rng: inout SeededGenerator, outputs: (WeightSpaceFeatures) throws -> Tensor) throws
        -> (deviations: [String: Float], expected: [String: Bool]) {
        let reference = try outputs(u)
        var deviations: [String: Float] = [:], expected: [String: Bool] = [:]
        for group in NeuronGroupElement.Kind.allCases {
            var worst: Float = 0
            for _ in 0..<trials {
                let moved = try (0..<u.batchSize).map { i -> WeightSpaceFeatures in
                    let g = NeuronGroupElement.random(widths: u.widths, kind: group, scaleRange: (1, 10), rng: &rng)
                    return try g.apply(to: u.member(i))
                }
                worst = Swift.max(worst, FunctionalEquivalence.relativeDeviation(reference, try outputs(try WeightSpaceFeatures.batched(moved))))
            }
            deviations[groupName(group)] = worst
            expected[groupName(group)] = invariantTo.contains(group)
        }
        return (deviations, expected)
    }
}

/// `nfn check-equivariance` for the transformer metanetworks: random Small-Transformer-Zoo weight
/// sets, random attention-group elements (heads × GL(κ ≤ 100) × π_O × π_A).
public enum TransformerEquivarianceRunner {
    /// Whether `name` names a transformer metanetwork.
    public static func isTransformerModel(_ name: String) -> Bool { TransformerMetanetworkKind(rawValue: name) != nil }

    /// Builds transformer metanetwork `name` (small), evaluates it on 3 random transformers and on
    /// `trials` random attention-group moves of them, and reports the largest relative deviation.
    ///
    /// - Throws: ``ExperimentError/unknownModel(_:)`` for a name that is not a transformer metanetwork.
    public static func run(_ name: String, trials: Int = 10, seed: UInt64 = 0) throws -> EquivarianceReport {
        guard let kind = TransformerMetanetworkKind(rawValue: name) else { throw ExperimentError.unknownModel(name) }
        var rng = SeededGenerator(seed: seed)
        let config = SmallTransformer.Configuration()
        let model = try kind.make(configuration: config, size: .small, rng: &rng)
        model.eval()
        let members = (0..<3).map { _ in TransformerWeightSpaceFeatures(model: SmallTransformer(config, initStandardDeviation: 0.3, rng: &rng)) }
        let u = try TransformerWeightSpaceFeatures.batched(members)
        let reference = try model.predict(u)
        var worst: Float = 0
        for t in 0..<trials {
            let moved = try Robustness.augment(u, maxConditionNumber: 100, seed: seed &+ UInt64(t) &+ 1)
            worst = Swift.max(worst, FunctionalEquivalence.relativeDeviation(reference, try model.predict(moved)))
        }
        return EquivarianceReport(model: name, architecture: "small-transformer-zoo", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: ["attention": worst],
                                  expected_invariant: ["attention": kind.isInvariant])
    }
}
