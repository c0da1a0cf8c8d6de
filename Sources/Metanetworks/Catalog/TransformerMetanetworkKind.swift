import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The transformer-zoo metanetworks by name.
public enum TransformerMetanetworkKind: String, Codable, Sendable, CaseIterable {
    case transformerNFN = "transformer-nfn"
    case quasiTransformerNFN = "quasi-transformer-nfn"
    /// The relaxed quasi model: φ̃(U) leaves the group (cross-head noise), so it is not exactly invariant.
    case relaxedQuasiTransformerNFN = "relaxed-quasi-transformer-nfn"
    case statnn = "transformer-statnn"
    case mlp = "transformer-mlp"

    /// Whether the output is invariant to the attention group by construction.
    public var isInvariant: Bool { self == .transformerNFN || self == .quasiTransformerNFN }

    /// A freshly initialised model (`[B, 1]` logits) for transformers of `configuration`.
    public func make(configuration: SmallTransformer.Configuration, size: MetanetworkKind.Size = .standard,
                     rng: inout SeededGenerator) throws -> Module & TransformerWeightSpaceModel {
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
            return TransformerNFNPredictor(architecture: configuration, configuration: cfg, rng: &rng)
        case .quasiTransformerNFN:
            return QuasiTransformerNFNPredictor(architecture: configuration, configuration: cfg, rng: &rng)
        case .relaxedQuasiTransformerNFN:
            return QuasiTransformerNFNPredictor(architecture: configuration, configuration: cfg, relaxedNoiseScale: 0.01, rng: &rng)
        case .statnn:
            return TransformerStatisticsPredictor(tensorCount: tensorCount, hidden: hidden, rng: &rng)
        case .mlp:
            return TransformerFlatPredictor(inputs: total, hidden: hidden, rng: &rng)
        }
    }
}
