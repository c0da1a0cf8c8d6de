import Foundation
import Training
import Tensors
import WeightSpace

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

    /// Each member of `features` moved by its own random element (seeded by `seed` and the member
    /// index, so augmentations are reproducible).
    public static func augment(_ features: WeightSpaceFeatures, with augmentation: Augmentation,
                               seed: UInt64) throws -> WeightSpaceFeatures {
        let base = SeededGenerator(seed: seed)
        let kind: NeuronGroupElement.Kind
        var range: (Float, Float) = (0.5, 2)
        switch augmentation {
        case .permutation: kind = .hiddenPermutation
        case let .scaling(lo, hi): kind = .positiveScaling; range = (lo, hi)
        case .sign: kind = .signFlip
        case .attention: throw ExperimentError.invalidArgument("attention augmentation needs transformer weights")
        }
        let parts = try (0..<features.batchSize).map { i -> WeightSpaceFeatures in
            var rng = base.split(stream: UInt64(i))
            let g = NeuronGroupElement.random(widths: features.widths, kind: kind, scaleRange: range, rng: &rng)
            return try g.apply(to: features.member(i))
        }
        return try WeightSpaceFeatures.batched(parts)
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

