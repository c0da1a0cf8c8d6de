import Foundation
import Training
import Tensors
import WeightSpace
import NeuralNetworks

/// The robustness protocol of Tran et al. 2024 (*Monomial Matrix Group Equivariant NFNs*, §6.1) and
/// Tran et al. 2026 (*Quasi-Equivariant Metanetworks*, App. B.6): re-evaluate a trained predictor
/// on test sets whose weights were moved by random group elements (one independent element per
/// member). A truly invariant model's predictions — and so its τ — do not move; models that are not
/// invariant to that group lose accuracy.
public enum Robustness {
    /// One augmentation of a test set.
    public enum Augmentation: Sendable, Equatable, CustomStringConvertible {
        /// Hidden-neuron permutations.
        case permutation
        /// Hidden permutations × positive scales drawn log-uniformly from [low, high].
        case scaling(low: Float, high: Float)
        /// Hidden permutations × sign flips.
        case sign
        /// Transformer blocks: heads × GL(D_k) × GL(D_v) (κ ≤ bound) × π_O × π_A.
        case attention(maxConditionNumber: Float)

        public var description: String {
            switch self {
            case .permutation: return "permutation"
            case let .scaling(lo, hi): return "scale [\(Int(lo)), \(Int(hi))]"
            case .sign: return "sign"
            case let .attention(k): return "heads × GL (κ ≤ \(Int(k)))"
            }
        }
    }

    /// A test set moved by an augmentation, and how many of its members the augmentation's
    /// non-permutation part acted on.
    public struct AugmentedFeatures: Sendable {
        /// The moved members.
        public var features: WeightSpaceFeatures
        /// Members moved by the whole augmentation (scales or signs included); the others, whose
        /// activation lacks that symmetry, were only permuted.
        public var actedOn: Int
    }

    /// Each member of `features` moved by its own random element (seeded by `seed` and the member
    /// index, so augmentations are reproducible) — of the augmentation's group where that group is
    /// a symmetry of the member's activation, and of the hidden permutations alone where it is not.
    ///
    /// Scaling a tanh network (or sign-flipping a ReLU one) changes the function it computes, so a
    /// model whose prediction moves there is right to move; only true symmetries test invariance.
    ///
    /// - Parameter activations: each member's hidden activation, aligned with the batch.
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` for an attention augmentation or a count
    ///   of activations that does not match the batch.
    public static func augment(_ features: WeightSpaceFeatures, with augmentation: Augmentation, activations: [Activation],
                               seed: UInt64) throws -> AugmentedFeatures {
        guard activations.count == features.batchSize else {
            throw ExperimentError.invalidArgument("\(activations.count) activations for \(features.batchSize) members")
        }
        let base = SeededGenerator(seed: seed)
        let kind: NeuronGroupElement.Kind
        var range: (Float, Float) = (0.5, 2)
        switch augmentation {
        case .permutation: kind = .hiddenPermutation
        case let .scaling(lo, hi): kind = .positiveScaling; range = (lo, hi)
        case .sign: kind = .signFlip
        case .attention: throw ExperimentError.invalidArgument("attention augmentation needs transformer weights")
        }
        var actedOn = 0
        let parts = try (0..<features.batchSize).map { i -> WeightSpaceFeatures in
            var rng = base.split(stream: UInt64(i))
            let own = kind.isSymmetry(of: activations[i]) ? kind : .hiddenPermutation
            if own == kind { actedOn += 1 }
            let g = NeuronGroupElement.random(widths: features.widths, kind: own, scaleRange: range, rng: &rng)
            return try g.apply(to: features.member(i))
        }
        return AugmentedFeatures(features: try WeightSpaceFeatures.batched(parts), actedOn: actedOn)
    }

    /// Each transformer member moved by its own random attention-group element.
    public static func augment(_ features: TransformerWeightSpaceFeatures, maxConditionNumber: Float = 100,
                               seed: UInt64) throws -> TransformerWeightSpaceFeatures {
        let base = SeededGenerator(seed: seed)
        guard let first = features.blocks.first else { return features }
        let (h, d, dk, dv, da) = first.dimensions
        var parts: [TransformerWeightSpaceFeatures] = []
        for i in 0..<features.batchSize {
            var rng = base.split(stream: UInt64(i))
            let g = try AttentionGroupElement.random(
                blockCount: features.blocks.count, heads: h, modelDimension: d, keyDimension: dk, valueDimension: dv,
                feedForwardDimension: da, options: .init(maxConditionNumber: maxConditionNumber), rng: &rng)
            parts.append(try g.apply(to: features.member(i)))
        }
        return try TransformerWeightSpaceFeatures.batched(parts)
    }
}

