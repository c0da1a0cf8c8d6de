import Foundation
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks

/// The metanetworks the command line and the main job can build by name.
public enum MetanetworkKind: String, Codable, Sendable, CaseIterable {
    case np, hnp, nft, monomial
    case monomialSign = "monomial-sign"
    case quasiMonomial = "quasi-monomial"
    case statnn, mlp

    /// The group under which the model's output is invariant by construction (nil: none).
    public var invariantTo: [NeuronGroupElement.Kind] {
        switch self {
        case .np: return [.hiddenPermutation, .allPermutation]
        case .hnp: return [.hiddenPermutation]
        case .nft: return [.hiddenPermutation, .allPermutation]
        case .monomial, .quasiMonomial: return [.hiddenPermutation, .positiveScaling]
        case .monomialSign: return [.hiddenPermutation, .signFlip]
        case .statnn: return [.hiddenPermutation, .allPermutation]   // statistics of a whole layer
        case .mlp: return []
        }
    }

    /// Model sizes: `.small` for tests and `--quick`, `.standard` for the main job.
    public enum Size: String, Sendable { case small, standard }

    /// A freshly initialised predictor for feed-forward weight spaces of `architecture`.
    ///
    /// - Parameter outputs: outputs per network: 1 (default) for the generalization task's logit
    ///   (it applies the sigmoid), the class count for INR classification (logits for a softmax).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the model does not fit the
    ///   architecture or `outputs` < 1.
    public func makePredictor(architecture: FeedforwardArchitecture, size: Size = .standard, outputs: Int = 1,
                              rng: inout SeededGenerator) throws -> Module & WeightSpaceModel {
        guard outputs >= 1 else { throw ModuleError.invalidConfiguration("a predictor needs at least one output, got \(outputs)") }
        let channels = size == .small ? 8 : 16
        let head = size == .small ? 64 : 256
        switch self {
        case .np:
            return try NFNPredictor(kind: .np, architecture: architecture, hiddenChannels: [channels, channels, channels],
                                    headHidden: head, outputs: outputs, rng: &rng)
        case .hnp:
            return try NFNPredictor(kind: .hnp, architecture: architecture, hiddenChannels: [channels, channels, channels],
                                    headHidden: head, outputs: outputs, rng: &rng)
        case .nft:
            return try NFTPredictor(architecture: architecture, configuration: .init(
                channels: channels, blocks: size == .small ? 1 : 2, heads: 2, poolQueries: 4, headHidden: 64,
                outputs: outputs), rng: &rng)
        case .monomial, .monomialSign:
            return try MonomialPredictor(architecture: architecture, configuration: .init(
                kind: self == .monomial ? .positiveScaling : .sign, hiddenChannels: [channels, channels, 5],
                headWidth: size == .small ? 64 : 200, outputs: outputs), rng: &rng)
        case .quasiMonomial:
            return try QuasiMonomialPredictor(architecture: architecture, configuration: .init(
                kind: .positiveScaling, hiddenChannels: [channels, channels, 5], headWidth: size == .small ? 64 : 200,
                outputs: outputs),
                placement: .allLayers, rng: &rng)
        case .statnn:
            return STATNNPredictor(architecture: architecture, hidden: head, outputs: outputs, rng: &rng)
        case .mlp:
            return FlatMLPPredictor(architecture: architecture, hidden: [head, head], outputs: outputs, rng: &rng)
        }
    }
}

/// The weight-space editors (INR editing) that can be built by name.
public enum EditorKind: String, Codable, Sendable, CaseIterable {
    /// ``NFNEditor`` with NP layers (equivariant to all neuron permutations).
    case np
    /// ``NFNEditor`` with HNP layers (equivariant to hidden-neuron permutations).
    case hnp
    /// ``NFTEditor`` (equivariant to all neuron permutations).
    case nft
    /// ``FlatMLPEditor`` (not equivariant; the baseline).
    case mlp

    /// Whether the edit commutes with hidden-neuron permutations by construction.
    public var isEquivariant: Bool { self != .mlp }

    /// A freshly initialised editor for `architecture` (one-channel weights in and out), starting
    /// near the identity edit (α = 0.1, last layer scaled by 0.01).
    ///
    /// Sizes: `.small` uses 8 hidden channels (NP/HNP: two hidden layers; NFT: one block) and a
    /// 64-wide MLP; `.standard` 16 channels (NFT: two blocks) and a 256-wide MLP.
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the model does not fit the architecture.
    public func makeEditor(architecture: FeedforwardArchitecture, size: MetanetworkKind.Size = .standard,
                           rng: inout SeededGenerator) throws -> Module & WeightSpaceLayer {
        let channels = size == .small ? 8 : 16
        switch self {
        case .np:
            return try NFNEditor(kind: .np, architecture: architecture, hiddenChannels: [channels, channels], rng: &rng)
        case .hnp:
            return try NFNEditor(kind: .hnp, architecture: architecture, hiddenChannels: [channels, channels], rng: &rng)
        case .nft:
            return try NFTEditor(architecture: architecture, channels: channels, blocks: size == .small ? 1 : 2,
                                 heads: 2, rng: &rng)
        case .mlp:
            let h = size == .small ? 64 : 256
            return FlatMLPEditor(architecture: architecture, hidden: [h, h], rng: &rng)
        }
    }
}

/// What `nfn check-equivariance` reports for one model.
public struct EquivarianceReport: Codable, Sendable, Equatable {
    public var model: String
    public var architecture: String
    public var parameters: Int
    public var trials: Int
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
        let weights = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.weightShape(layer: $0), std: 0.3, rng: &rng) }
        let biases = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.biasShape(layer: $0), std: 0.1, rng: &rng) }
        let u = try WeightSpaceFeatures(weights: weights, biases: biases)
        let reference = model.predict(u)
        var deviations: [String: Float] = [:], expected: [String: Bool] = [:]
        for group in NeuronGroupElement.Kind.allCases {
            var worst: Float = 0
            for _ in 0..<trials {
                let moved = try (0..<u.batchSize).map { i -> WeightSpaceFeatures in
                    let g = NeuronGroupElement.random(widths: u.widths, kind: group, scaleRange: (1, 10), rng: &rng)
                    return try g.apply(to: u.member(i))
                }
                let out = model.predict(try WeightSpaceFeatures.batched(moved))
                worst = Swift.max(worst, FunctionalEquivalence.relativeDeviation(reference, out))
            }
            deviations[groupName(group)] = worst
            expected[groupName(group)] = kind.invariantTo.contains(group)
        }
        return EquivarianceReport(model: kind.rawValue, architecture: "small-cnn-zoo", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: deviations,
                                  expected_invariant: expected)
    }
}
