import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// STATNN for transformer weight spaces: mean, variance and the 0/25/50/75/100 % quantiles of
/// every tensor (embedding, each block's eight tensors, classifier) → MLP.
///
/// Invariant to head permutations and to π_O/π_A (statistics of whole tensors), not to GL actions.
public final class TransformerStatisticsPredictor: Module {
    public let head: PredictionMLP

    /// - Parameter tensorCount: tensors per member (2 embedding + 8 per block + 4 classifier).
    public init(tensorCount: Int, hidden: Int = 256, rng: inout SeededGenerator) {
        head = PredictionMLP(inputs: tensorCount * 7, hidden: [hidden, hidden], outputs: 1, rng: &rng)
        super.init()
    }

    /// The statistics `[B, tensors·7]` (no gradient flows into the weights).
    public static func statistics(_ f: TransformerWeightSpaceFeatures) -> Tensor {
        let b = f.batchSize
        let parts = f.allTensors.map { t -> Tensor in
            let rows = t.reshaped([b, -1])
            let stats = WeightSpaceFeatures(unchecked: [rows.reshaped([b, 1, 1, rows.shape[1]])],
                                            biases: [Tensor(zeros: [b, 1, 1])]).layerStatistics()
            return stats.reshaped([b, 14]).slice(axis: 1, 0..<7)
        }
        return Tensor.concatenate(parts, alongAxis: 1)
    }

    /// Logits `[B, 1]`.
    public func callAsFunction(_ f: TransformerWeightSpaceFeatures, tape: Tape?) -> Variable {
        let s = Self.statistics(f)
        return head(tape?.constant(s) ?? Variable(s))
    }
}

/// The flat-weights MLP baseline for transformer weight spaces.
public final class TransformerFlatPredictor: Module {
    public let head: PredictionMLP

    public init(inputs: Int, hidden: Int = 256, rng: inout SeededGenerator) {
        head = PredictionMLP(inputs: inputs, hidden: [hidden, hidden], outputs: 1, rng: &rng)
        super.init()
    }

    /// Every scalar of each member, `[B, total]`.
    public static func flattened(_ f: TransformerWeightSpaceFeatures) -> Tensor {
        Tensor.concatenate(f.allTensors.map { $0.reshaped([f.batchSize, -1]) }, alongAxis: 1)
    }

    /// Logits `[B, 1]`.
    public func callAsFunction(_ f: TransformerWeightSpaceFeatures, tape: Tape?) -> Variable {
        let x = Self.flattened(f)
        return head(tape?.constant(x) ?? Variable(x))
    }
}

/// The transformer-zoo metanetworks by name.
public enum TransformerMetanetworkKind: String, Codable, Sendable, CaseIterable {
    case transformerNFN = "transformer-nfn"
    case quasiTransformerNFN = "quasi-transformer-nfn"
    case statnn = "transformer-statnn"
    case mlp = "transformer-mlp"

    /// Whether the output is invariant to the attention group by construction.
    public var isInvariant: Bool { self == .transformerNFN || self == .quasiTransformerNFN }

    /// A model and its forward pass (`[B, 1]` logits) for transformers of `configuration`.
    public func make(configuration: SmallTransformer.Configuration, size: MetanetworkKind.Size = .standard,
                     rng: inout SeededGenerator) throws -> (model: Module, forward: (TransformerWeightSpaceFeatures, Tape?) throws -> Variable) {
        var cfg = TransformerNFNConfiguration()
        cfg.sigmoidOutput = false
        if size == .small { cfg.hiddenChannels = [6, 6] }
        let tensorCount = 2 + 8 * configuration.blockCount + 4
        let d = configuration.modelDimension
        let perBlock = (try? TransformerArchitecture(
            blockCount: 1, heads: configuration.heads, modelDimension: d, keyDimension: configuration.keyDimension,
            valueDimension: configuration.valueDimension, feedForwardDimension: configuration.feedForwardDimension,
            residual: configuration.residual))?.parametersPerBlock ?? 0
        let total = d * configuration.inputChannels * configuration.patchSize * configuration.patchSize + d
            + perBlock * configuration.blockCount + d * d + d + configuration.classes * d + configuration.classes
        let hidden = size == .small ? 64 : 256
        switch self {
        case .transformerNFN:
            let m = TransformerNFNPredictor(architecture: configuration, configuration: cfg, rng: &rng)
            return (m, { f, tape in m(TransformerWeightSpaceVariables(f, tape: tape)) })
        case .quasiTransformerNFN:
            let m = QuasiTransformerNFNPredictor(architecture: configuration, configuration: cfg, rng: &rng)
            return (m, { f, tape in try m(TransformerWeightSpaceVariables(f, tape: tape)) })
        case .statnn:
            let m = TransformerStatisticsPredictor(tensorCount: tensorCount, hidden: hidden, rng: &rng)
            return (m, { f, tape in m(f, tape: tape) })
        case .mlp:
            let m = TransformerFlatPredictor(inputs: total, hidden: hidden, rng: &rng)
            return (m, { f, tape in m(f, tape: tape) })
        }
    }
}

/// `nfn check-equivariance` for the transformer metanetworks: random Small-Transformer-Zoo weight
/// sets, random attention-group elements (heads × GL(κ ≤ 100) × π_O × π_A).
public enum TransformerEquivarianceRunner {
    /// Whether `name` names a transformer metanetwork.
    public static func isTransformerModel(_ name: String) -> Bool { TransformerMetanetworkKind(rawValue: name) != nil }

    public static func run(_ name: String, trials: Int = 10, seed: UInt64 = 0) throws -> EquivarianceReport {
        guard let kind = TransformerMetanetworkKind(rawValue: name) else { throw ExperimentError.unknownModel(name) }
        var rng = SeededGenerator(seed: seed)
        let config = SmallTransformer.Configuration()
        let (model, forward) = try kind.make(configuration: config, size: .small, rng: &rng)
        model.eval()
        let members = (0..<3).map { _ in TransformerWeightSpaceFeatures(model: SmallTransformer(config, initStandardDeviation: 0.3, rng: &rng)) }
        let u = try TransformerWeightSpaceFeatures.batched(members)
        let reference = try forward(u, nil).value
        var worst: Float = 0
        for t in 0..<trials {
            let moved = try Robustness.augment(u, maxConditionNumber: 100, seed: seed &+ UInt64(t) &+ 1)
            worst = Swift.max(worst, FunctionalEquivalence.relativeDeviation(reference, try forward(moved, nil).value))
        }
        return EquivarianceReport(model: name, architecture: "small-transformer-zoo", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: ["attention": worst],
                                  expected_invariant: ["attention": kind.isInvariant])
    }
}
