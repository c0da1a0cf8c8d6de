import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra

/// The relaxed quasi-equivariant Transformer-NFN predictor (Tran et al. 2026, *Quasi-Equivariant
/// Metanetworks*, §4.3, §5.3): ``QuasiTransformerNFNPredictor`` with every layer a
/// ``RelaxedQuasiTransformerNFN``, whose φ̃(U) adds learned cross-head noise outside the attention
/// group.
///
/// **Group.** None exactly: unlike the strict model (where φ(U) is a group element that the
/// invariant readout absorbs, so φ gets no gradient), φ̃'s off-diagonal blocks act on the query and
/// value side only, so QKᵀ and VO change and the output moves slightly under the attention group —
/// by an amount the learned β controls (at β = 0 it is the strict, invariant model). That is what
/// lets φ̃ learn at all.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// var arch = SmallTransformer.Configuration()
/// arch.modelDimension = 8; arch.keyDimension = 4; arch.valueDimension = 4; arch.feedForwardDimension = 16
/// var cfg = TransformerNFNConfiguration()
/// cfg.hiddenChannels = [4]
/// let predictor = RelaxedQuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
/// let zoo = TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng))
/// let accuracy = try predictor.predict(zoo)            // [1, 1]
/// ```
public final class RelaxedQuasiTransformerNFNPredictor: Module, TransformerWeightSpaceModel {
    /// The strict predictor's shape bookkeeping (sizes, statistics length) and readout.
    public let configuration: TransformerNFNConfiguration
    public let modelDimension: Int
    public let blockCount: Int
    public let heads: Int
    public let keyDimension: Int
    public let valueDimension: Int
    public let embeddingParameterCount: Int
    public let classifierParameterCount: Int
    /// Layer-major: entry `l·L + i` is layer l on block i.
    public let relaxedLayers: [RelaxedQuasiTransformerNFN]
    public let readout: TransformerNFNReadout

    /// - Parameters: as ``QuasiTransformerNFNPredictor``, plus β's initial value.
    public init(architecture a: SmallTransformer.Configuration, configuration cfg: TransformerNFNConfiguration = .init(),
                groupHidden: Int = 32, gamma: Float = 0.01, noiseScale: Float = 0.01, conditionLimit: Float = 1e4,
                rng: inout SeededGenerator) {
        configuration = cfg
        modelDimension = a.modelDimension
        blockCount = a.blockCount
        heads = a.heads
        keyDimension = a.keyDimension
        valueDimension = a.valueDimension
        embeddingParameterCount = a.modelDimension * a.inputChannels * a.patchSize * a.patchSize + a.modelDimension
        classifierParameterCount = a.modelDimension * a.modelDimension + a.modelDimension + a.classes * a.modelDimension + a.classes
        let statisticsCount = 56 * a.blockCount * cfg.inputChannels
        var layers: [RelaxedQuasiTransformerNFN] = []
        var c = cfg.inputChannels
        for e in cfg.hiddenChannels {
            for _ in 0..<a.blockCount {
                layers.append(RelaxedQuasiTransformerNFN(
                    inChannels: c, outChannels: e, modelDimension: a.modelDimension, heads: a.heads,
                    keyDimension: a.keyDimension, valueDimension: a.valueDimension,
                    feedForwardDimension: a.feedForwardDimension, statisticsCount: statisticsCount,
                    groupHidden: groupHidden, gamma: gamma, noiseScale: noiseScale, conditionLimit: conditionLimit, rng: &rng))
            }
            c = e
        }
        relaxedLayers = layers
        readout = TransformerNFNReadout(
            invariantChannels: c, modelDimension: a.modelDimension, heads: a.heads,
            feedForwardDimension: a.feedForwardDimension, blockCount: a.blockCount,
            embeddingInputs: embeddingParameterCount * cfg.inputChannels,
            classifierInputs: classifierParameterCount * cfg.inputChannels, configuration: cfg, rng: &rng)
        super.init()
    }

    /// `[B]` weight spaces → `[B, outputs]`.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` naming the layer and block when a learned φ̃(U)
    ///   is singular or too ill-conditioned.
    public func callAsFunction(_ input: TransformerWeightSpaceVariables) throws -> Variable {
        let statsTensor = input.features.quasiStatistics()
        let stats = input.tape?.constant(statsTensor) ?? Variable(statsTensor)
        var blocks = input.blocks
        for l in 0..<configuration.hiddenChannels.count {
            blocks = try blocks.indices.map { i in
                do {
                    return try relaxedLayers[l * blockCount + i](blocks[i], statistics: stats).mapFeedForward { $0.relu() }
                } catch let error as LinearAlgebraError {
                    throw ModuleError.invalidInput("layer \(l), block \(i): the learned element φ̃(U) is not safely invertible: \(error)")
                }
            }
        }
        return readout(blocks: blocks, embedding: input.embedding, classifier: input.classifier)
    }

    /// As ``QuasiTransformerNFNPredictor/validate(_:)``.
    public func validate(_ features: TransformerWeightSpaceFeatures) throws {
        try TransformerNFNPredictor.validate(features, channels: configuration.inputChannels, modelDimension: modelDimension,
                                             blockCount: blockCount, embeddingCount: embeddingParameterCount,
                                             classifierCount: classifierParameterCount)
        for (i, block) in features.blocks.enumerated() {
            let (h, _, dk, dv, _) = block.dimensions
            guard h == heads, dk == keyDimension, dv == valueDimension else {
                throw ModuleError.invalidInput("block \(i) has h = \(h), D_k = \(dk), D_v = \(dv); expected \(heads), \(keyDimension), \(valueDimension)")
            }
        }
    }
}
