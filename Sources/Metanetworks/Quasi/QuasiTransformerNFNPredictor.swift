import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra

/// The quasi-equivariant Transformer-NFN generalisation predictor ("Transformer-NFN Quasi" of
/// Tran et al. 2026, *Quasi-Equivariant Metanetworks*, §5.3): ``TransformerNFNPredictor`` with
/// every equivariant layer replaced by a ``QuasiTransformerNFN`` (one group-element MLP per layer
/// and block, reading the statistics of the whole input network, 56·L·C numbers), followed by the
/// same ReLU on W_A, b_A, W_B, b_B and the same ``TransformerNFNReadout``.
///
/// **Group.** Invariant to ``AttentionGroupElement`` on every block (Tran et al. 2026, Prop. 3.3:
/// invariant ∘ quasi-equivariant is invariant).
///
/// **Note.** Each φ(U) is a group element applied to the features; the following equivariant
/// layers, the masked ReLU and the invariant readout all commute with or absorb it, so the output
/// equals that of the plain predictor with the same E and readout parameters, and φ's parameters
/// (MLP, γ) receive zero gradient — measured in the tests. It is provided for completeness and for
/// the comparison Tran et al. 2026 make (§5.3); it cannot be more expressive than
/// ``TransformerNFNPredictor``.
///
/// **Relaxed variant** (`relaxedNoiseScale` given; Tran et al. 2026, §4.3, §5.3): every layer is a
/// ``RelaxedQuasiTransformerNFN``, whose φ̃(U) adds learned cross-head noise outside the attention
/// group. Not invariant: φ̃'s off-diagonal blocks act on the query and value side only, so QKᵀ and
/// VO change and the output moves slightly under the attention group — by an amount the learned β
/// controls (at β = 0 it is the strict, invariant model). That is what lets φ̃ learn at all.
///
/// - Complexity: that of ``TransformerNFNPredictor`` plus the statistics (a sort per tensor) and
///   O(B·h·(D_k³ + D_v³)) inverses per layer and block.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// var arch = SmallTransformer.Configuration()
/// arch.modelDimension = 8; arch.keyDimension = 4; arch.valueDimension = 4; arch.feedForwardDimension = 16
/// var cfg = TransformerNFNConfiguration()
/// cfg.hiddenChannels = [4]
/// let predictor = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
/// let zoo = TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng))
/// let accuracy = try predictor.predict(zoo)            // [1, 1]
/// ```
public final class QuasiTransformerNFNPredictor: Module, TransformerWeightSpaceModel {
    public let configuration: TransformerNFNConfiguration
    public let modelDimension: Int
    public let blockCount: Int
    public let heads: Int
    public let keyDimension: Int
    public let valueDimension: Int
    public let embeddingParameterCount: Int
    public let classifierParameterCount: Int
    /// The statistics length S = 56·L·C.
    public let statisticsCount: Int
    /// Layer-major: entry `l·L + i` is layer l on block i (empty in the relaxed variant).
    public let quasiLayers: [QuasiTransformerNFN]
    /// The relaxed variant's layers, layer-major like ``quasiLayers`` (empty in the strict model).
    public let relaxedLayers: [RelaxedQuasiTransformerNFN]
    public let readout: TransformerNFNReadout

    /// Whether this is the relaxed (not invariant) variant.
    public var isRelaxed: Bool { !relaxedLayers.isEmpty }

    /// - Parameters: as ``TransformerNFNPredictor``, plus φ's hidden width, γ's initial value and
    ///   the condition-number limit of the learned matrices (see ``QuasiTransformerNFN``);
    ///   `relaxedNoiseScale`: β's initial value for the relaxed variant (nil: the strict model).
    public init(architecture a: SmallTransformer.Configuration, configuration cfg: TransformerNFNConfiguration = .init(),
                groupHidden: Int = 32, gamma: Float = 0.01, relaxedNoiseScale: Float? = nil, conditionLimit: Float = 1e4,
                rng: inout SeededGenerator) {
        configuration = cfg
        modelDimension = a.modelDimension
        blockCount = a.blockCount
        heads = a.heads
        keyDimension = a.keyDimension
        valueDimension = a.valueDimension
        embeddingParameterCount = a.modelDimension * a.inputChannels * a.patchSize * a.patchSize + a.modelDimension
        classifierParameterCount = a.modelDimension * a.modelDimension + a.modelDimension + a.classes * a.modelDimension + a.classes
        statisticsCount = 56 * a.blockCount * cfg.inputChannels
        var layers: [QuasiTransformerNFN] = [], relaxed: [RelaxedQuasiTransformerNFN] = []
        var c = cfg.inputChannels
        for e in cfg.hiddenChannels {
            for _ in 0..<a.blockCount {
                if let relaxedNoiseScale {
                    relaxed.append(RelaxedQuasiTransformerNFN(
                        inChannels: c, outChannels: e, modelDimension: a.modelDimension, heads: a.heads,
                        keyDimension: a.keyDimension, valueDimension: a.valueDimension,
                        feedForwardDimension: a.feedForwardDimension, statisticsCount: statisticsCount,
                        groupHidden: groupHidden, gamma: gamma, noiseScale: relaxedNoiseScale, conditionLimit: conditionLimit,
                        rng: &rng))
                } else {
                    layers.append(QuasiTransformerNFN(
                        inChannels: c, outChannels: e, modelDimension: a.modelDimension, heads: a.heads,
                        keyDimension: a.keyDimension, valueDimension: a.valueDimension,
                        feedForwardDimension: a.feedForwardDimension, statisticsCount: statisticsCount,
                        groupHidden: groupHidden, gamma: gamma, conditionLimit: conditionLimit, rng: &rng))
                }
            }
            c = e
        }
        quasiLayers = layers
        relaxedLayers = relaxed
        readout = TransformerNFNReadout(
            invariantChannels: c, modelDimension: a.modelDimension, heads: a.heads,
            feedForwardDimension: a.feedForwardDimension, blockCount: a.blockCount,
            embeddingInputs: embeddingParameterCount * cfg.inputChannels,
            classifierInputs: classifierParameterCount * cfg.inputChannels, configuration: cfg, rng: &rng)
        super.init()
    }

    /// `[B]` weight spaces → `[B, outputs]`.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` naming the layer and block when a learned
    ///   element (φ(U), or φ̃(U) in the relaxed variant) is singular or too ill-conditioned (the
    ///   underlying `LinearAlgebraError` is in the message). Shapes must be valid (see ``validate(_:)``).
    public func callAsFunction(_ input: TransformerWeightSpaceVariables) throws -> Variable {
        let statsTensor = input.features.quasiStatistics()
        let stats = input.tape?.constant(statsTensor) ?? Variable(statsTensor)
        var blocks = input.blocks
        for l in 0..<configuration.hiddenChannels.count {
            blocks = try blocks.indices.map { i in
                let k = l * blockCount + i
                do {
                    let y = isRelaxed ? try relaxedLayers[k](blocks[i], statistics: stats) : try quasiLayers[k](blocks[i], statistics: stats)
                    return y.mapFeedForward { $0.relu() }
                } catch let error as LinearAlgebraError {
                    let element = isRelaxed ? "element φ̃(U)" : "group element φ(U)"
                    let g = (isRelaxed ? relaxedLayers[k].strict : quasiLayers[k]).gamma.value[0]
                    throw ModuleError.invalidInput(
                        "layer \(l), block \(i): the learned \(element) is not safely invertible (γ = \(g)): \(error)")
                }
            }
        }
        return readout(blocks: blocks, embedding: input.embedding, classifier: input.classifier)
    }

    /// As ``TransformerNFNPredictor/validate(_:)``, plus the head sizes h, D_k, D_v.
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
