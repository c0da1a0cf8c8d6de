import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A pointwise nonlinearity applied to every weight and bias feature entry (reference `TupleOp`).
///
/// y = φ(x) entrywise, φ ∈ {ReLU, tanh, sin (ω₀ = 1), identity}. Equivariant to every neuron
/// permutation (NP and HNP) since it acts on each entry alone. Shapes unchanged. No parameters.
///
/// ```swift
/// let relu = WeightSpaceActivation(.relu)
/// let y = relu(features)
/// ```
/// - Complexity: O(size of the features).
public final class WeightSpaceActivation: Module, FoldedWeightSpaceLayer {
    public let activation: Activation

    public init(_ activation: Activation = .relu) {
        self.activation = activation
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        switch activation {
        case .relu: return input.map(PermutationOps.relu)
        case .tanh: return input.map { $0.tanh() }
        case .sine: return input.map { $0.sin() }
        case .identity: return input
        }
    }

    /// The activation on folded features (any layout: an entrywise map commutes with folding).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        switch activation {
        case .relu: return input.map(PermutationOps.relu)
        case .tanh: return input.map { $0.tanh() }
        case .sine: return input.map { $0.sin() }
        case .identity: return input
        }
    }
}

/// Layer normalisation over the feature channels at every weight/bias entry (reference
/// `SimpleLayerNorm`): for each entry, x̂ = (x − μ)/√(σ² + ε) over its channels, then y = γ ⊙ x̂ + β.
///
/// Conv weights are normalised in the folded view (``FilterFolding``): the f_i·C channels of an
/// entry (all taps of all channels) form one group, with per-layer γ, β of length f_i·C for the
/// weights and C for the biases (ones and zeros at initialisation).
///
/// **Group.** Equivariant to every neuron permutation (NP and HNP): statistics are taken per entry.
/// (Not to positive scaling.) Shapes unchanged.
///
/// ```swift
/// let norm = ChannelLayerNorm(channels: 16, filterFactors: [9, 9, 9, 1])
/// ```
/// - Complexity: O(size of the features).
public final class ChannelLayerNorm: Module, FoldedWeightSpaceLayer {
    public let channels: Int
    public let filterFactors: [Int]
    public let epsilon: Float
    /// Per-layer γ `[f_i·C]` and β for the weights, when affine.
    public let weightScales: [Parameter]
    public let weightOffsets: [Parameter]
    /// Per-layer γ `[C]` and β for the biases, when affine.
    public let biasScales: [Parameter]
    public let biasOffsets: [Parameter]

    public init(channels: Int, filterFactors: [Int], affine: Bool = true, epsilon: Float = 1e-5) {
        self.channels = channels
        self.filterFactors = filterFactors
        self.epsilon = epsilon
        weightScales = affine ? filterFactors.map { Parameter(Tensor(ones: [$0 * channels])) } : []
        weightOffsets = affine ? filterFactors.map { Parameter(Tensor(zeros: [$0 * channels])) } : []
        biasScales = affine ? filterFactors.map { _ in Parameter(Tensor(ones: [channels])) } : []
        biasOffsets = affine ? filterFactors.map { _ in Parameter(Tensor(zeros: [channels])) } : []
        super.init()
    }

    /// A layer normalisation for `channels`-channel features of `architecture`.
    public convenience init(channels: Int, architecture: FeedforwardArchitecture, affine: Bool = true, epsilon: Float = 1e-5) {
        self.init(channels: channels, filterFactors: FilterFolding.filterFactors(architecture), affine: affine, epsilon: epsilon)
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        self(FoldedWeightSpace(folding: input, layout: .channelsFirst)).unfolded()
    }

    /// The normalisation on channels-first folded features.
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        precondition(input.layout == .channelsFirst, "ChannelLayerNorm computes on channels-first folded features")
        precondition(input.channels == channels && input.filterFactors == filterFactors,
                     "ChannelLayerNorm built for \(channels) channels and filter factors \(filterFactors)")
        let tape = input.tape
        var weights: [Variable] = [], biases: [Variable] = []
        for (i, (folded, v)) in zip(input.weights, input.biases).enumerated() {
            let s = folded.shape
            var y = PermutationOps.channelNormalize(folded.reshaped([s[0], s[1], -1]), epsilon: epsilon).reshaped(s)
            var z = PermutationOps.channelNormalize(v, epsilon: epsilon)
            if !weightScales.isEmpty {
                y = y * weightScales[i].variable(on: tape).reshaped([1, s[1], 1, 1]) + weightOffsets[i].variable(on: tape).reshaped([1, s[1], 1, 1])
                z = z * biasScales[i].variable(on: tape).reshaped([1, channels, 1]) + biasOffsets[i].variable(on: tape).reshaped([1, channels, 1])
            }
            weights.append(y)
            biases.append(z)
        }
        return FoldedWeightSpace(weights: weights, biases: biases, kernels: input.kernels, layout: .channelsFirst)
    }
}

/// Channel dropout for weight-space features (reference `ChannelDropout`): in training mode each
/// (member, channel) of a weight matrix — for conv layers each (member, channel, tap), i.e. each
/// folded channel — is zeroed with probability `rate` and survivors scaled by 1/(1 − rate); the
/// identity in evaluation mode.
///
/// **Choice.** The reference drops bias entries independently (`nn.Dropout`), which is
/// equivariant only in distribution; here biases use channel masks too, so for a fixed mask the
/// layer is exactly NP/HNP-equivariant (tested). Masks come from the layer's own seeded generator.
/// - Complexity: O(size of the features).
public final class ChannelDropout: Module, FoldedWeightSpaceLayer, StochasticModule {
    public let rate: Float
    private var rng: SeededGenerator

    public var drawsRandomNumbers: Bool { rate > 0 }

    public init(rate: Float, seed: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
        self.rate = rate
        rng = SeededGenerator(seed: seed)
        super.init()
    }

    private func mask(_ shape: [Int]) -> Tensor { Dropout.mask(shape: shape, rate: rate, rng: &rng) }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        guard isTraining, rate > 0 else { return input }
        let weights = input.weights.map { w -> Variable in
            // One mask value per (member, channel, tap): neuron axes get length 1.
            var s = w.shape; s[2] = 1; s[3] = 1
            return w * PermutationOps.constant(mask(s), like: w)
        }
        let biases = input.biases.map { v -> Variable in
            v * PermutationOps.constant(mask([v.shape[0], v.shape[1], 1]), like: v)
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }

    /// Dropout on channels-first folded features: the same masks, drawn in the same order, as on
    /// the canonical features (one value per member and folded channel c·f + tap).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        guard isTraining, rate > 0 else { return input }
        precondition(input.layout == .channelsFirst, "ChannelDropout computes on channels-first folded features")
        let weights = input.weights.map { w -> Variable in
            w * PermutationOps.constant(mask([w.shape[0], w.shape[1], 1, 1]), like: w)
        }
        let biases = input.biases.map { v -> Variable in
            v * PermutationOps.constant(mask([v.shape[0], v.shape[1], 1]), like: v)
        }
        return FoldedWeightSpace(weights: weights, biases: biases, kernels: input.kernels, layout: .channelsFirst)
    }
}
