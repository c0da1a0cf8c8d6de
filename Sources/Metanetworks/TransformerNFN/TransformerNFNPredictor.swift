import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Sizes of a Transformer-NFN predictor (``TransformerNFNPredictor``,
/// ``QuasiTransformerNFNPredictor``). Defaults follow the reference code's `InvariantNFN`
/// (`transformers_nfn_channels = [10, 10]`, `num_out_encoder = 5`, `num_out_embedding = 10`,
/// `num_out_classify = 10`, `MlpHead(h_size = 10)`, sigmoid output).
public struct TransformerNFNConfiguration: Codable, Sendable, Equatable {
    /// Channels of the input weight-space features (1 for raw weights).
    public var inputChannels = 1
    /// Output channels of each equivariant layer over the blocks (each followed by ReLU on
    /// W_A, b_A, W_B, b_B). The invariant layer keeps the last width, which should be ≥ 3 (its
    /// LayerNorm over 2 values would be constant). The 1.812M-parameter MNIST model of Tran et al.
    /// 2025 (*Equivariant Neural Functional Networks for Transformers*) corresponds to `[10]`.
    public var hiddenChannels = [10, 10]
    /// Hidden width of the encoder's MLP head (`MlpHead.h_size`).
    public var encoderHidden = 10
    /// Outputs of the encoder branch (`num_out_encoder`).
    public var encoderOutputs = 5
    /// Outputs of the embedding branch (one Linear layer on the flattened patch embedding); 0 drops it.
    public var embeddingOutputs = 10
    /// Hidden widths of the classifier-branch MLP (on the flattened classifier weights).
    public var classifierHidden = [10, 10]
    /// Outputs of the classifier branch; 0 drops it.
    public var classifierOutputs = 10
    /// Outputs of the whole predictor (1: predicted accuracy).
    public var outputs = 1
    /// Apply a sigmoid to the outputs (accuracies lie in [0, 1]).
    public var sigmoidOutput = true

    public init() {}
}

/// Everything of a Transformer-NFN predictor after the equivariant layers: the per-block
/// invariant layers, the encoder head, and the plain MLP branches for the patch embedding and
/// the classifier, joined by a final linear layer.
///
/// Layout (as the reference's `InvariantNFN` with `enc_mode = 'inv'`, `emb_mode = 'mlp'`,
/// `cls_mode = 'mlp'`):
/// - encoder: per block ``TransformerNFNInvariant`` (E → E, with its LayerNorm), concatenated
///   `[B, E·L]` → LayerNorm → Linear(E·L, H) → [LayerNorm → ReLU → Linear(H, H)] →
///   [LayerNorm → ReLU → Linear(H, encoderOutputs)];
/// - embedding: flattened patch-embedding weights then biases → Linear(·, embeddingOutputs);
/// - classifier: flattened classifier (W₁, b₁, W₂, b₂) → Linear → ReLU → … → Linear → ReLU;
/// - concat [encoder, classifier, embedding] → Linear(·, outputs) → optional sigmoid.
///
/// The embedding and classifier are **not** acted on by the attention group (with the Small
/// Transformer Zoo's residual-free blocks, π_O acts inside each block only), so plain MLPs on them
/// keep the predictor invariant. The reference's default classifier branch is an HNPS
/// (Monomial-NFN) network; this predictor uses the reference's `'mlp'` option, which Tran et al.
/// 2026 (*Quasi-Equivariant Metanetworks*, App. B.4) also describe. Linear layers use PyTorch's
/// default initialisation U(±1/√fan_in) for weights and biases, as the reference.
///
/// - Complexity: O(B·(L·E·C·D² + embedding + classifier parameters)).
public final class TransformerNFNReadout: Module {
    /// One invariant layer per block.
    public let invariantLayers: [TransformerNFNInvariant]
    /// LayerNorm over the concatenated `[B, E·L]` invariants.
    public let encoderNorm: LayerNorm
    /// Linear(E·L, H), Linear(H, H), Linear(H, encoderOutputs).
    public let encoderLayers: [Dense]
    /// The LayerNorms before the 2nd and 3rd encoder Linear layers.
    public let encoderLayerNorms: [LayerNorm]
    /// Linear(embedding parameters · C, embeddingOutputs), or nil.
    public let embeddingLayer: Dense?
    /// The classifier-branch MLP (ReLU after every layer, the last included), empty if dropped.
    public let classifierLayers: [Dense]
    /// Linear(encoderOutputs + classifierOutputs + embeddingOutputs, outputs).
    public let finalLayer: Dense
    public let sigmoidOutput: Bool

    /// - Parameters:
    ///   - invariantChannels: E, the channels reaching the invariant layers.
    ///   - embeddingInputs, classifierInputs: flattened feature counts (parameters × channels).
    public init(invariantChannels e: Int, modelDimension d: Int, heads: Int, feedForwardDimension da: Int,
                blockCount: Int, embeddingInputs: Int, classifierInputs: Int,
                configuration cfg: TransformerNFNConfiguration, rng: inout SeededGenerator) {
        invariantLayers = (0..<blockCount).map { _ in
            TransformerNFNInvariant(inChannels: e, outChannels: e, modelDimension: d, heads: heads,
                                    feedForwardDimension: da, rng: &rng)
        }
        func linear(_ i: Int, _ o: Int) -> Dense {
            Dense(i, o, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        }
        encoderNorm = LayerNorm(e * blockCount)
        encoderLayers = [linear(e * blockCount, cfg.encoderHidden), linear(cfg.encoderHidden, cfg.encoderHidden),
                         linear(cfg.encoderHidden, cfg.encoderOutputs)]
        encoderLayerNorms = [LayerNorm(cfg.encoderHidden), LayerNorm(cfg.encoderHidden)]
        embeddingLayer = cfg.embeddingOutputs > 0 ? linear(embeddingInputs, cfg.embeddingOutputs) : nil
        if cfg.classifierOutputs > 0 {
            let widths = [classifierInputs] + cfg.classifierHidden + [cfg.classifierOutputs]
            classifierLayers = (0..<(widths.count - 1)).map { linear(widths[$0], widths[$0 + 1]) }
        } else {
            classifierLayers = []
        }
        finalLayer = linear(cfg.encoderOutputs + Swift.max(cfg.classifierOutputs, 0) + Swift.max(cfg.embeddingOutputs, 0),
                            cfg.outputs)
        sigmoidOutput = cfg.sigmoidOutput
        super.init()
    }

    /// Blocks (after the equivariant layers, E channels) plus the raw embedding and classifier
    /// features → `[B, outputs]`.
    public func callAsFunction(blocks: [TransformerBlockVariables], embedding: WeightSpaceVariables,
                               classifier: WeightSpaceVariables) -> Variable {
        precondition(blocks.count == invariantLayers.count, "expected \(invariantLayers.count) blocks, got \(blocks.count)")
        var enc = encoderNorm(Variable.concatenate(zip(invariantLayers, blocks).map { $0($1) }, alongAxis: 1))
        enc = encoderLayers[0](enc)
        for i in 0..<2 { enc = encoderLayers[i + 1](encoderLayerNorms[i](enc).relu()) }
        var features = [enc]
        if !classifierLayers.isEmpty {
            var x = TransformerNFNReadout.flatten(zip(classifier.weights, classifier.biases).flatMap { [$0, $1] })
            for layer in classifierLayers { x = layer(x).relu() }
            features.append(x)
        }
        if let layer = embeddingLayer {
            features.append(layer(TransformerNFNReadout.flatten(embedding.weights + embedding.biases)))
        }
        let y = finalLayer(features.count == 1 ? features[0] : Variable.concatenate(features, alongAxis: 1))
        return sigmoidOutput ? y.sigmoid() : y
    }

    /// `[B, …]` tensors flattened per member and joined: `[B, Σ sizes]`.
    static func flatten(_ parts: [Variable]) -> Variable {
        let b = parts[0].shape[0]
        let flat = parts.map { $0.reshaped([b, $0.value.count / Swift.max(b, 1)]) }
        return flat.count == 1 ? flat[0] : Variable.concatenate(flat, alongAxis: 1)
    }
}

/// The Transformer-NFN generalisation predictor for the Small Transformer Zoo (Tran et al. 2025,
/// *Equivariant Neural Functional Networks for Transformers*; the reference's `InvariantNFN` with
/// `enc_mode = 'inv'` in Fsoft-AIC/Transformer-NFN): `[B]` transformer weight spaces →
/// `[B, outputs]` (a predicted test accuracy by default).
///
/// **Architecture.** For every entry of ``TransformerNFNConfiguration/hiddenChannels``, one
/// ``TransformerNFNLinear`` per encoder block (separate parameters per block), each followed by
/// ReLU on W_A, b_A, W_B, b_B only (the reference masks Q, K, V, O: a pointwise nonlinearity does
/// not commute with GL(D_k)/GL(D_v)); then ``TransformerNFNReadout`` (invariant layer per block +
/// LayerNorm + MLP head, joined with plain MLP branches on the patch embedding and classifier).
///
/// **Group.** Invariant to ``AttentionGroupElement`` acting on every block (heads × GL × π_O × π_A).
/// The embedding and classifier are outside the attention group and go through plain MLPs.
///
/// On the Small Transformer Zoo (D = 32) the model has 1,812,121 parameters with `[10]` channels —
/// the 1.812M MNIST-Transformers model of Tran et al. 2025 — and 17,476,641 with the default
/// `[10, 10]`, nearly all in the `[E·(2+2D), C·G]` global maps (the reference's `[E, C, D, D, D]`
/// tensors).
///
/// - Complexity: per block and layer O(B·E·C·D³) (the global GEMM) + O(B·E·C·D²·(h·D_k + D_A)).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// var arch = SmallTransformer.Configuration()
/// arch.modelDimension = 8; arch.keyDimension = 4; arch.valueDimension = 4; arch.feedForwardDimension = 16
/// var cfg = TransformerNFNConfiguration()
/// cfg.hiddenChannels = [4]
/// let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
/// let zoo = try TransformerWeightSpaceFeatures.batched((0..<3).map { _ in
///     TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng)) })
/// let accuracy = try predictor.predict(zoo)            // [3, 1]
/// ```
public final class TransformerNFNPredictor: Module, TransformerWeightSpaceModel {
    public let configuration: TransformerNFNConfiguration
    /// D.
    public let modelDimension: Int
    /// L.
    public let blockCount: Int
    /// Flattened patch-embedding and classifier parameter counts per channel.
    public let embeddingParameterCount: Int
    public let classifierParameterCount: Int
    /// The equivariant layers, layer-major: entry `l·L + i` is layer l on block i.
    public let equivariantLayers: [TransformerNFNLinear]
    public let readout: TransformerNFNReadout

    /// A predictor for transformers of architecture `architecture` (only D, h, D_A, the block
    /// count and the embedding/classifier sizes matter).
    public init(architecture a: SmallTransformer.Configuration, configuration cfg: TransformerNFNConfiguration = .init(),
                rng: inout SeededGenerator) {
        configuration = cfg
        modelDimension = a.modelDimension
        blockCount = a.blockCount
        embeddingParameterCount = a.modelDimension * a.inputChannels * a.patchSize * a.patchSize + a.modelDimension
        classifierParameterCount = a.modelDimension * a.modelDimension + a.modelDimension + a.classes * a.modelDimension + a.classes
        var layers: [TransformerNFNLinear] = []
        var c = cfg.inputChannels
        for e in cfg.hiddenChannels {
            for _ in 0..<a.blockCount {
                layers.append(TransformerNFNLinear(inChannels: c, outChannels: e, modelDimension: a.modelDimension,
                                                   heads: a.heads, feedForwardDimension: a.feedForwardDimension, rng: &rng))
            }
            c = e
        }
        equivariantLayers = layers
        readout = TransformerNFNReadout(
            invariantChannels: c, modelDimension: a.modelDimension, heads: a.heads,
            feedForwardDimension: a.feedForwardDimension, blockCount: a.blockCount,
            embeddingInputs: embeddingParameterCount * cfg.inputChannels,
            classifierInputs: classifierParameterCount * cfg.inputChannels, configuration: cfg, rng: &rng)
        super.init()
    }

    /// `[B]` weight spaces → `[B, outputs]`. Input shapes must be valid (see ``validate(_:)``).
    public func callAsFunction(_ input: TransformerWeightSpaceVariables) -> Variable {
        var blocks = input.blocks
        for l in 0..<configuration.hiddenChannels.count {
            blocks = blocks.indices.map { i in
                equivariantLayers[l * blockCount + i](blocks[i]).mapFeedForward { $0.relu() }
            }
        }
        return readout(blocks: blocks, embedding: input.embedding, classifier: input.classifier)
    }

    /// Throws ``ModuleError/invalidInput(_:)`` unless `features` fit this predictor: L blocks of
    /// consistent shapes with C = ``TransformerNFNConfiguration/inputChannels`` and D =
    /// ``modelDimension``, matching embedding/classifier sizes, and no NaN/∞.
    public func validate(_ features: TransformerWeightSpaceFeatures) throws {
        try TransformerNFNPredictor.validate(features, channels: configuration.inputChannels, modelDimension: modelDimension,
                                             blockCount: blockCount, embeddingCount: embeddingParameterCount,
                                             classifierCount: classifierParameterCount)
    }

    static func validate(_ f: TransformerWeightSpaceFeatures, channels c: Int, modelDimension d: Int, blockCount: Int,
                         embeddingCount: Int, classifierCount: Int) throws {
        guard f.blocks.count == blockCount else {
            throw ModuleError.invalidInput("expected \(blockCount) transformer blocks, got \(f.blocks.count)")
        }
        let b = f.batchSize
        for (i, block) in f.blocks.enumerated() {
            do {
                try TransformerBlockVariables.checkShapes(block.tensors.map(\.shape), channels: c, modelDimension: d)
            } catch {
                throw ModuleError.invalidInput("block \(i): \(error)")
            }
            guard block.query.shape[0] == b else {
                throw ModuleError.invalidInput("block \(i) has batch \(block.query.shape[0]), embedding has \(b)")
            }
            if block.tensors.contains(where: \.hasNonFinite) {
                throw ModuleError.invalidInput("block \(i) contains NaN or infinity")
            }
        }
        for (name, part, count) in [("embedding", f.embedding, embeddingCount), ("classifier", f.classifier, classifierCount)] {
            let tensors = part.weights + part.biases
            guard tensors.allSatisfy({ $0.rank >= 2 && $0.shape[0] == b && $0.shape[1] == c }) else {
                throw ModuleError.invalidInput("\(name) tensors must be [B = \(b), C = \(c), …]")
            }
            let n = tensors.reduce(0) { $0 + $1.count } / Swift.max(b * c, 1)
            guard n == count else {
                throw ModuleError.invalidInput("\(name) has \(n) parameters per channel, expected \(count)")
            }
            if part.hasNonFinite { throw ModuleError.invalidInput("\(name) contains NaN or infinity") }
        }
    }
}
