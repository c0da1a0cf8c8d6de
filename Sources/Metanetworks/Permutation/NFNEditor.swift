import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A per-entry linear map of the feature channels of weight-space features: every weight and
/// bias entry's channel vector x ∈ ℝ^{c_in} becomes A·x + β (A `[c_out, c_in]`, β `[c_out]`,
/// shared by all entries and layers).
///
/// **Group.** Equivariant to every neuron permutation (NP, hence HNP): it acts on each entry
/// alone. Shapes: `[B, c_in, …]` → `[B, c_out, …]`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let readout = PointwiseChannelLinear(inChannels: 16, outChannels: 1, rng: &rng)
/// ```
/// - Complexity: O(B · c_in · c_out · dim 𝒲).
public final class PointwiseChannelLinear: Module, WeightSpaceLayer {
    /// A `[c_out, c_in]`.
    public let weight: Parameter
    /// β `[c_out]`.
    public let bias: Parameter

    /// A map with A, β from U(−1/√c_in, 1/√c_in).
    public init(inChannels: Int, outChannels: Int, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0, "PointwiseChannelLinear needs positive channel counts")
        let a = 1 / Float(inChannels).squareRoot()
        weight = Parameter(Tensor.uniform([outChannels, inChannels], low: -a, high: a, rng: &rng))
        bias = Parameter(Tensor.uniform([outChannels], low: -a, high: a, rng: &rng))
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        let tape = input.tape
        let a = weight.variable(on: tape), o = weight.shape[0]
        let beta = bias.variable(on: tape)
        func apply(_ x: Variable) -> Variable {
            let s = x.shape
            let y = PermutationOps.channelMix(a, x.reshaped([s[0], s[1], -1])) + beta.reshaped([1, o, 1])
            return y.reshaped([s[0], o] + Array(s.dropFirst(2)))
        }
        return WeightSpaceVariables(weights: input.weights.map(apply), biases: input.biases.map(apply))
    }
}

/// Multiplies a module's parameters in place (used to start editors near the identity edit).
func scaleParameters(of module: Module, by factor: Float) {
    for p in module.parameters { p.value = p.value * factor }
}

/// An equivariant weight-space editor (INR editing, Zhou et al. 2023, *Neural Functional
/// Transformers*, §5.2): weights in, edited weights out,
///
/// ```
/// edit(W) = W + α · f(W),   f = (NPLinear | HNPLinear → ReLU) × len(hiddenChannels) → NPLinear | HNPLinear (c → 1)
/// ```
///
/// with a learned scalar α (initialised to `scale`) and the last equivariant layer's parameters
/// multiplied by `finalLayerGain` at initialisation, so training starts from (almost) the
/// identity edit.
///
/// **Group.** f and so the edit commute with hidden-neuron permutations (`.hnp`) or with all
/// neuron permutations (`.np`, without IO embeddings): edit(g·W) = g·edit(W) (tested).
/// Not equivariant to sign flips or scalings. Widths may differ from the architecture's (except
/// for HNP's layer-specific terms, which fix nothing but the layer count).
///
/// **Shapes.** One-channel features `[B, 1, n_{i+1}, n_i, …]` in and out.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let arch = try FeedforwardArchitecture.siren(widths: [2, 32, 32, 1])
/// let editor = try NFNEditor(kind: .hnp, architecture: arch, hiddenChannels: [16, 16], rng: &rng)
/// let edited = editor(WeightSpaceVariables(sirenWeights))   // same shapes as the input
/// ```
/// - Complexity: the sum of its layers' (see ``NPLinear``, ``HNPLinear``).
public final class NFNEditor: Module, WeightSpaceLayer {
    /// NP (all neuron permutations) or HNP (hidden-neuron permutations) layers.
    public let kind: NFNPredictor.Kind
    /// The edited networks' architecture.
    public let architecture: FeedforwardArchitecture
    /// Channels of the hidden equivariant layers.
    public let hiddenChannels: [Int]
    /// The equivariant layers and activations computing f.
    public let layers: [any Module & WeightSpaceLayer]
    /// α, the learned edit scale `[1]`.
    public let scale: Parameter

    /// - Parameters:
    ///   - hiddenChannels: channels of the hidden equivariant layers (1 → c₁ → … → c_k → 1).
    ///   - scale: the initial α.
    ///   - finalLayerGain: factor applied to the last layer's initial parameters (0 gives an exact
    ///     identity edit at initialisation).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive channels, or HNP with
    ///   fewer than 2 layers.
    public init(kind: NFNPredictor.Kind, architecture: FeedforwardArchitecture, hiddenChannels: [Int] = [16, 16],
                scale: Float = 0.1, finalLayerGain: Float = 1e-2, rng: inout SeededGenerator) throws {
        guard hiddenChannels.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("NFNEditor hidden channels must be positive, got \(hiddenChannels)")
        }
        if kind == .hnp && architecture.layerCount < 2 {
            throw ModuleError.invalidConfiguration("HNP layers need at least 2 layers, the architecture has \(architecture.layerCount)")
        }
        self.kind = kind
        self.architecture = architecture
        self.hiddenChannels = hiddenChannels
        var layers: [any Module & WeightSpaceLayer] = []
        var channels = 1
        func equivariant(_ i: Int, _ o: Int) -> any Module & WeightSpaceLayer {
            switch kind {
            case .np: return NPLinear(inChannels: i, outChannels: o, architecture: architecture, rng: &rng)
            case .hnp: return HNPLinear(inChannels: i, outChannels: o, architecture: architecture, rng: &rng)
            }
        }
        for hidden in hiddenChannels {
            layers.append(equivariant(channels, hidden))
            layers.append(WeightSpaceActivation(.relu))
            channels = hidden
        }
        let last = equivariant(channels, 1)
        scaleParameters(of: last, by: finalLayerGain)
        layers.append(last)
        self.layers = layers
        self.scale = Parameter(Tensor(shape: [1], scalars: [scale]))
        super.init()
    }

    /// f(W), the unscaled edit direction (one channel). The filter taps are folded once on entry
    /// and unfolded once on exit (see ``FoldedWeightSpace``).
    public func delta(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        WeightSpaceStackState.run(layers, on: input, layout: .channelsFirst).canonical
    }

    /// W + α·f(W).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        precondition(input.channelCount == 1, "NFNEditor edits raw one-channel weights, got \(input.channelCount) channels")
        let alpha = scale.variable(on: input.tape)
        return input + delta(input).map { $0 * alpha }
    }
}

/// The non-equivariant editing baseline: every weight and bias flattened (layer order, weight
/// then bias) → MLP (ReLU) → a flat delta of the same length, reshaped back and added:
/// edit(W) = W + α·MLP(flat W). α is learned (initialised to `scale`); the MLP's last layer
/// starts scaled by `finalLayerGain`.
///
/// **Group.** None: permuting hidden neurons moves the MLP's inputs and outputs arbitrarily
/// (tested as the failing control of the editor equivariance tests).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let editor = FlatMLPEditor(architecture: try .siren(widths: [2, 32, 32, 1]), hidden: [64, 64], rng: &rng)
/// ```
/// - Complexity: O(B · (N·h₁ + Σ h_i h_{i+1} + h_k·N)) for N scalars per network.
public final class FlatMLPEditor: Module, WeightSpaceLayer {
    /// The edited networks' architecture (fixes the flattened size N).
    public let architecture: FeedforwardArchitecture
    /// The MLP from the N flattened weights to an N-dimensional edit.
    public let mlp: PredictionMLP
    /// α `[1]`.
    public let scale: Parameter

    /// An editor with MLP widths `hidden`, α initialised to `scale`, and its last layer's
    /// parameters multiplied by `finalLayerGain` (training starts near the identity edit).
    public init(architecture: FeedforwardArchitecture, hidden: [Int] = [64, 64], scale: Float = 0.1,
                finalLayerGain: Float = 1e-2, rng: inout SeededGenerator) {
        self.architecture = architecture
        let n = architecture.parameterCount
        mlp = PredictionMLP(inputs: n, hidden: hidden, outputs: n, rng: &rng)
        if let last = mlp.layers.last { scaleParameters(of: last, by: finalLayerGain) }
        self.scale = Parameter(Tensor(shape: [1], scalars: [scale]))
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        precondition(input.channelCount == 1, "FlatMLPEditor edits raw one-channel weights, got \(input.channelCount) channels")
        let b = input.batchSize
        let parts = zip(input.weights, input.biases).flatMap { [$0.reshaped([b, -1]), $1.reshaped([b, -1])] }
        let flat = Variable.concatenate(parts, alongAxis: 1)
        precondition(flat.shape[1] == architecture.parameterCount,
                     "FlatMLPEditor expects \(architecture.parameterCount) scalars per network, got \(flat.shape[1])")
        let delta = mlp(flat) * scale.variable(on: input.tape)
        var offset = 0
        func take(_ like: Variable) -> Variable {
            let n = like.shape.reduce(1, *) / b
            defer { offset += n }
            return like + delta.slice(axis: 1, offset..<(offset + n)).reshaped(like.shape)
        }
        var weights: [Variable] = [], biases: [Variable] = []
        for (w, v) in zip(input.weights, input.biases) {
            weights.append(take(w))
            biases.append(take(v))
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }
}
