import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The permutation-equivariant generalization predictor of Zhou et al. (2023), *Permutation
/// Equivariant Neural Functionals* (reference `InvariantNFN` with `MlpHead`): a stack of
/// equivariant NP or HNP layers, invariant pooling, and an MLP head, `[B, outputs]` per batch of
/// networks (e.g. a predicted test accuracy).
///
/// ```
/// U → [GaussianFourierFeatures] → [SinusoidalIOEncoding]
///   → (NPLinear | HNPLinear → [ChannelLayerNorm] → ReLU → [ChannelDropout]) × len(hiddenChannels)
///   → NPPool | HNPPool → Dense(·, h) → ReLU → Dense(h, h) → ReLU → Dense(h, outputs) [→ sigmoid]
/// ```
///
/// **Group.** `.hnp`: invariant to hidden-neuron permutations. `.np` without IO embedding/encoding
/// (and NP pooling, the default then): invariant to all neuron permutations; with `ioEmbedding`
/// (learned, inside every NP layer), `ioEncoding` (sinusoidal) or HNP pooling it is HNP-invariant
/// only.
/// Not invariant to positive scaling (the papers' permutation NFNs ignore that symmetry).
///
/// **Sigmoid.** Off by default (as the reference `MlpHead`): a linear output trained with MSE on
/// accuracies. `sigmoid: true` bounds predictions to (0, 1) — use it with a binary cross-entropy
/// on accuracy targets.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = try NFNPredictor(kind: .hnp, architecture: .smallCNNZoo(), hiddenChannels: [16, 16, 16],
///                              headHidden: 1000, rng: &rng)
/// print(model.parameterCount)
/// ```
/// - Complexity: the sum of its layers' (see ``NPLinear``, ``HNPLinear``).
public final class NFNPredictor: Module, WeightSpaceModel {
    /// Which permutation group the equivariant layers respect.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// ``NPLinear`` layers (all neurons permuted).
        case np
        /// ``HNPLinear`` layers (hidden neurons permuted).
        case hnp
    }

    /// Random Fourier input features (``GaussianFourierFeatures``).
    public struct FourierFeatureOptions: Sendable, Equatable {
        /// m, giving 2m channels.
        public var features: Int
        /// σ of the projection.
        public var scale: Float
        public init(features: Int = 128, scale: Float = 3) {
            self.features = features
            self.scale = scale
        }
    }

    public let kind: Kind
    public let architecture: FeedforwardArchitecture
    /// Channels of the input features it was built for.
    public let inputChannels: Int
    public let hiddenChannels: [Int]
    /// Input encodings, then (equivariant layer, [norm], activation, [dropout]) per hidden size.
    public let layers: [any Module & WeightSpaceLayer]
    /// ``NPPool`` or ``HNPPool``.
    public let pool: any Module & FoldedWeightSpaceModel
    public let head: PredictionMLP

    /// - Parameters:
    ///   - inChannels: channels of the input features (1 for raw weights).
    ///   - hiddenChannels: the output channels of each equivariant layer.
    ///   - headHidden: the width of the head's two hidden layers (the reference uses 1000).
    ///   - ioEmbedding: learned IO embeddings in every NP layer (`.np` only).
    ///   - ioEncoding: append ``SinusoidalIOEncoding`` channels first.
    ///   - fourierFeatures: project the input with ``GaussianFourierFeatures`` first.
    ///   - layerNorm: a ``ChannelLayerNorm`` after every equivariant layer.
    ///   - featureDropout: ``ChannelDropout`` rate after every activation (0: none).
    ///   - headDropout: dropout rate in the head.
    ///   - pooling: the invariant pooling. Defaults to HNP pooling for `.hnp` and for `.np` with IO
    ///     embeddings or encodings (the IO neurons are then told apart, so their pooled values are
    ///     kept apart — the reference `MlpHead` always uses HNP pooling), else NP pooling.
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for HNP with fewer than 2 layers, IO
    ///   embeddings with HNP, or non-positive sizes / rates outside [0, 1).
    public init(kind: Kind, architecture: FeedforwardArchitecture, inChannels: Int = 1,
                hiddenChannels: [Int] = [16, 16, 16], headHidden: Int = 1000, outputs: Int = 1,
                ioEmbedding: Bool = false, ioEncoding: Bool = false,
                fourierFeatures: FourierFeatureOptions? = nil, layerNorm: Bool = false,
                featureDropout: Float = 0, headDropout: Float = 0, pooling: Kind? = nil,
                poolReduction: NeuronPoolReduction = .mean, sigmoid: Bool = false,
                rng: inout SeededGenerator) throws {
        let L = architecture.layerCount
        if kind == .hnp && L < 2 {
            throw ModuleError.invalidConfiguration("HNP layers need at least 2 layers, the architecture has \(L)")
        }
        if kind == .hnp && ioEmbedding {
            throw ModuleError.invalidConfiguration("learned IO embeddings belong to NP layers; HNP layers already treat IO neurons apart")
        }
        guard inChannels > 0, headHidden > 0, outputs > 0, hiddenChannels.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("channel counts and widths must be positive (in \(inChannels), hidden \(hiddenChannels), head \(headHidden), outputs \(outputs))")
        }
        guard (0..<1).contains(featureDropout), (0..<1).contains(headDropout) else {
            throw ModuleError.invalidConfiguration("dropout rates must be in [0, 1), got \(featureDropout) and \(headDropout)")
        }
        if let ff = fourierFeatures, ff.features <= 0 || !(ff.scale > 0) {
            throw ModuleError.invalidConfiguration("Fourier features need features > 0 and scale > 0, got \(ff)")
        }
        self.kind = kind
        self.architecture = architecture
        self.inputChannels = inChannels
        self.hiddenChannels = hiddenChannels
        let factors = FilterFolding.filterFactors(architecture)
        var layers: [any Module & WeightSpaceLayer] = []
        var channels = inChannels
        if let ff = fourierFeatures {
            let fourier = GaussianFourierFeatures(inChannels: channels, features: ff.features, scale: ff.scale, rng: &rng)
            layers.append(fourier)
            channels = fourier.outChannels
        }
        if ioEncoding {
            let encoding = SinusoidalIOEncoding(architecture: architecture)
            layers.append(encoding)
            channels = encoding.outputChannels(forInput: channels)
        }
        for (index, hidden) in hiddenChannels.enumerated() {
            switch kind {
            case .np:
                layers.append(NPLinear(inChannels: channels, outChannels: hidden, architecture: architecture,
                                       ioEmbedding: ioEmbedding, rng: &rng))
            case .hnp:
                layers.append(HNPLinear(inChannels: channels, outChannels: hidden, architecture: architecture, rng: &rng))
            }
            if layerNorm { layers.append(ChannelLayerNorm(channels: hidden, filterFactors: factors)) }
            layers.append(WeightSpaceActivation(.relu))
            if featureDropout > 0 { layers.append(ChannelDropout(rate: featureDropout, seed: rng.next() &+ UInt64(index))) }
            channels = hidden
        }
        self.layers = layers
        // Once the IO neurons are told apart, pool them apart too (HNP pooling keeps their values).
        let poolKind = pooling ?? (kind == .hnp || ioEmbedding || ioEncoding ? .hnp : .np)
        let pooled: Int
        switch poolKind {
        case .np:
            pool = NPPool(reduction: poolReduction)
            pooled = NPPool.outputCount(filterFactors: factors, channels: channels)
        case .hnp:
            pool = HNPPool(reduction: poolReduction)
            pooled = HNPPool.outputCount(widths: architecture.widths, filterFactors: factors, channels: channels)
        }
        head = PredictionMLP(inputs: pooled, hidden: [headHidden, headHidden], outputs: outputs,
                             dropout: headDropout, sigmoid: sigmoid, dropoutSeed: rng.next(), rng: &rng)
        super.init()
    }

    /// The trainable scalars of the equivariant layers (without the head).
    public var equivariantParameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// The equivariant features before pooling.
    public func features(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        WeightSpaceStackState.run(layers, on: input, layout: .channelsFirst).canonical
    }

    /// The pooled invariant representation fed to the head, `[B, pooled]`.
    ///
    /// The filter taps are folded once, before the first equivariant layer, and the pool reads the
    /// folded features of the last one (see ``FoldedWeightSpace``).
    public func invariantFeatures(_ input: WeightSpaceVariables) -> Variable {
        switch WeightSpaceStackState.run(layers, on: input, layout: .channelsFirst) {
        case .canonical(let h): return pool(h)
        case .folded(let h): return pool(h)
        }
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        head(invariantFeatures(input))
    }
}
