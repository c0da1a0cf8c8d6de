import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Feed-forward weight-space features with every convolution's filter taps folded into the
/// feature channels — the one representation the metanetwork families compute in between their
/// layers.
///
/// Neuron permutations never touch the spatial taps of a filter, so for a permutation-equivariant
/// layer a tap is one more feature channel (Zhou et al. 2023, Permutation Equivariant Neural
/// Functionals, §2.2; Zhou et al. 2023, Neural Functional Transformers, §3): the folded channel
/// index is `c·f_i + tap`, taps in row-major kernel order (einops' `(c h w)`), f_i = kh·kw
/// (1 for a dense layer). Biases are never folded.
///
/// **Policy.** A model folds once at its entry, passes folded features from layer to layer, and
/// unfolds only where weight-space features leave it (an editor's output, ``NFNPredictor/features(_:)``).
/// A layer called on its own with canonical ``WeightSpaceVariables`` folds on entry and unfolds on
/// exit, so its canonical call signature keeps working; inside a model it is called with this type
/// and no round trip happens.
///
/// **Layouts.** ``Layout/channelsFirst`` (weights `[B, C·f_i, n_{i+1}, n_i]`, biases
/// `[B, C, n_{i+1}]`) is what the NP/HNP layers compute in: every channel mixing is one
/// strided-batched gemm `T [C′f, Cf] · W_b [Cf, n·m]` over the long n·m axis, and the row/column
/// means read contiguous rows. ``Layout/channelsLast`` (weights `[B, n_{i+1}, n_i, C·f_i]`, biases
/// `[B, n_{i+1}, C]`) is what the NFT layers compute in: their per-entry maps and attention
/// projections are one gemm over all B·n·m entries, `X [B·n·m, Cf] · Tᵀ`.
///
/// ```swift
/// let folded = FoldedWeightSpace(folding: WeightSpaceVariables(features), layout: .channelsFirst)
/// let back = folded.unfolded()          // equal to the input
/// ```
public struct FoldedWeightSpace {
    /// Where the (folded) channel axis sits.
    public enum Layout: Sendable, Equatable {
        /// Weights `[B, C·f_i, n_{i+1}, n_i]`, biases `[B, C, n_{i+1}]`.
        case channelsFirst
        /// Weights `[B, n_{i+1}, n_i, C·f_i]`, biases `[B, n_{i+1}, C]`.
        case channelsLast
    }

    /// Folded weights, per layer, in ``layout``.
    public var weights: [Variable]
    /// Biases, per layer, in ``layout``.
    public var biases: [Variable]
    /// The spatial kernel of every layer (`[]` for dense layers), needed to unfold.
    public let kernels: [[Int]]
    /// The position of the channel axis.
    public let layout: Layout

    /// Wraps folded weights and biases as given (shapes are not checked).
    public init(weights: [Variable], biases: [Variable], kernels: [[Int]], layout: Layout) {
        precondition(weights.count == biases.count && weights.count == kernels.count && !weights.isEmpty,
                     "need one bias and one kernel per weight and at least one layer")
        self.weights = weights
        self.biases = biases
        self.kernels = kernels
        self.layout = layout
    }

    /// Folds canonical features (`[B, C, n_{i+1}, n_i, spatial…]` / `[B, C, n_{i+1}]`).
    /// Differentiable.
    /// - Complexity: one copy of every convolution weight (dense weights are free in
    ///   ``Layout/channelsFirst``); O(dim 𝒲 · C).
    public init(folding input: WeightSpaceVariables, layout: Layout) {
        let kernels = input.kernels
        switch layout {
        case .channelsFirst:
            self.init(weights: input.weights.map { FilterFolding.fold($0) }, biases: input.biases,
                      kernels: kernels, layout: layout)
        case .channelsLast:
            let ws = zip(input.weights, kernels).map { w, kernel -> Variable in
                let (b, c, o, i) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
                // [B, C, o, i, taps…] → [B, o, i, C, taps…] → [B, o, i, C·f].
                return w.permuted([0, 2, 3, 1] + Array(4..<w.rank)).reshaped([b, o, i, c * kernel.reduce(1, *)])
            }
            self.init(weights: ws, biases: input.biases.map { $0.permuted([0, 2, 1]) }, kernels: kernels, layout: layout)
        }
    }

    /// Back to the canonical layout. Inverse of ``init(folding:layout:)``; differentiable.
    public func unfolded() -> WeightSpaceVariables {
        switch layout {
        case .channelsFirst:
            return WeightSpaceVariables(weights: zip(weights, kernels).map { FilterFolding.unfold($0, kernel: $1) },
                                        biases: biases)
        case .channelsLast:
            let c = channels
            let ws = zip(weights, kernels).map { w, kernel -> Variable in
                let (b, o, i) = (w.shape[0], w.shape[1], w.shape[2])
                let x = w.reshaped([b, o, i, c] + kernel)
                // [B, o, i, C, taps…] → [B, C, o, i, taps…].
                return x.permuted([0, 3, 1, 2] + Array(4..<x.rank))
            }
            return WeightSpaceVariables(weights: ws, biases: biases.map { $0.permuted([0, 2, 1]) })
        }
    }

    /// The same features in `layout` (no copy when it is already this one).
    public func relaid(_ layout: Layout) -> FoldedWeightSpace {
        layout == self.layout ? self : FoldedWeightSpace(folding: unfolded(), layout: layout)
    }

    /// L.
    public var layerCount: Int { weights.count }
    /// B.
    public var batchSize: Int { weights[0].shape[0] }
    /// C, the per-tap channel count (the bias channel count).
    public var channels: Int { layout == .channelsFirst ? biases[0].shape[1] : biases[0].shape[2] }
    /// Neuron counts n₀ … n_L.
    public var widths: [Int] {
        switch layout {
        case .channelsFirst: return [weights[0].shape[3]] + weights.map { $0.shape[2] }
        case .channelsLast: return [weights[0].shape[2]] + weights.map { $0.shape[1] }
        }
    }
    /// f_i = ∏ kernel per layer (1 for dense layers).
    public var filterFactors: [Int] { kernels.map { $0.reduce(1, *) } }
    /// The tape the features are recorded on, if any.
    public var tape: Tape? { weights.first?.tape ?? biases.first?.tape }

    /// Applies `transform` to every weight and bias (entrywise maps: they commute with folding).
    public func map(_ transform: (Variable) -> Variable) -> FoldedWeightSpace {
        FoldedWeightSpace(weights: weights.map(transform), biases: biases.map(transform), kernels: kernels, layout: layout)
    }

    /// Applies one map to every weight and another to every bias, layer by layer.
    public func mapLayers(weight: (Int, Variable) -> Variable, bias: (Int, Variable) -> Variable) -> FoldedWeightSpace {
        FoldedWeightSpace(weights: weights.enumerated().map { weight($0.offset, $0.element) },
                          biases: biases.enumerated().map { bias($0.offset, $0.element) },
                          kernels: kernels, layout: layout)
    }

    /// Entrywise sum (residual connections); both operands must share kernels and layout.
    public static func + (a: FoldedWeightSpace, b: FoldedWeightSpace) -> FoldedWeightSpace {
        precondition(a.layout == b.layout && a.kernels == b.kernels, "adding folded features of different structure")
        return FoldedWeightSpace(weights: zip(a.weights, b.weights).map { $0 + $1 },
                                 biases: zip(a.biases, b.biases).map { $0 + $1 }, kernels: a.kernels, layout: a.layout)
    }
}

/// A weight-space layer that also computes on ``FoldedWeightSpace`` features directly, so that a
/// stack of them folds once (see the folding policy in ``FoldedWeightSpace``).
public protocol FoldedWeightSpaceLayer: WeightSpaceLayer {
    /// Maps folded features to folded features in the same layout (the channel count may change).
    func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace
}

/// A weight-space model (e.g. an invariant pooling) that also reads ``FoldedWeightSpace`` features,
/// giving the same output as on the unfolded features.
public protocol FoldedWeightSpaceModel: WeightSpaceModel {
    /// Maps folded features to `[B, outputs]`.
    func callAsFunction(_ input: FoldedWeightSpace) -> Variable
}

/// Features between the layers of a stack: canonical until the first layer that computes folded,
/// then folded until a layer that only takes canonical features.
enum WeightSpaceStackState {
    case canonical(WeightSpaceVariables)
    case folded(FoldedWeightSpace)

    /// Runs `layers` in order under the fold-once policy: consecutive ``FoldedWeightSpaceLayer``s
    /// pass folded features (in `layout`) to each other; other layers get canonical ones.
    static func run(_ layers: [any Module & WeightSpaceLayer], on input: WeightSpaceVariables,
                    layout: FoldedWeightSpace.Layout) -> WeightSpaceStackState {
        var state = WeightSpaceStackState.canonical(input)
        for layer in layers {
            if let foldedLayer = layer as? any FoldedWeightSpaceLayer {
                state = .folded(foldedLayer(state.folded(layout)))
            } else {
                state = .canonical(layer(state.canonical))
            }
        }
        return state
    }

    /// The features in the canonical layout (unfolding if needed).
    var canonical: WeightSpaceVariables {
        switch self {
        case .canonical(let x): return x
        case .folded(let x): return x.unfolded()
        }
    }

    /// The features folded in `layout` (folding if needed).
    func folded(_ layout: FoldedWeightSpace.Layout) -> FoldedWeightSpace {
        switch self {
        case .canonical(let x): return FoldedWeightSpace(folding: x, layout: layout)
        case .folded(let x): return x.relaid(layout)
        }
    }
}
