import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Differentiable feed-forward weight-space features: the ``Variable`` counterpart of
/// ``WeightSpaceFeatures``, in the same canonical layout (`weights[i]`:
/// `[B, C, n_{i+1}, n_i, spatial…]`, `biases[i]`: `[B, C, n_{i+1}]`).
///
/// Metanetwork layers take and return these, so a metanetwork trains with the ordinary tape.
public struct WeightSpaceVariables {
    /// Per-layer weights, `[B, C, n_{i+1}, n_i, spatial…]`.
    public var weights: [Variable]
    /// Per-layer biases, `[B, C, n_{i+1}]`.
    public var biases: [Variable]

    /// Wraps per-layer variables; traps unless there is one bias per weight and at least one layer.
    /// Shapes are not checked (``WeightSpaceFeatures/init(weights:biases:)`` is the checked wrapper).
    public init(weights: [Variable], biases: [Variable]) {
        precondition(weights.count == biases.count && !weights.isEmpty, "need one bias per weight")
        self.weights = weights
        self.biases = biases
    }

    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: WeightSpaceFeatures, tape: Tape? = nil) {
        func lift(_ t: Tensor) -> Variable { tape?.constant(t) ?? Variable(t) }
        self.init(weights: features.weights.map(lift), biases: features.biases.map(lift))
    }

    /// The current values.
    public var value: WeightSpaceFeatures {
        WeightSpaceFeatures(unchecked: weights.map(\.value), biases: biases.map(\.value))
    }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { weights.first?.tape ?? biases.first?.tape }
    /// B, the number of networks in the batch.
    public var batchSize: Int { weights[0].shape[0] }
    /// C, the number of feature channels.
    public var channelCount: Int { weights[0].shape[1] }
    /// L, the number of layers.
    public var layerCount: Int { weights.count }
    /// n₀ … n_L.
    public var widths: [Int] { [weights[0].shape[3]] + weights.map { $0.shape[2] } }

    /// Applies `transform` to every weight and bias.
    public func map(_ transform: (Variable) -> Variable) -> WeightSpaceVariables {
        WeightSpaceVariables(weights: weights.map(transform), biases: biases.map(transform))
    }

    /// Combines two feature sets of equal structure entry by entry.
    public static func zipWith(_ a: WeightSpaceVariables, _ b: WeightSpaceVariables,
                               _ combine: (Variable, Variable) -> Variable) -> WeightSpaceVariables {
        WeightSpaceVariables(weights: zip(a.weights, b.weights).map(combine), biases: zip(a.biases, b.biases).map(combine))
    }

    /// Entrywise sum (residual connections).
    public static func + (a: WeightSpaceVariables, b: WeightSpaceVariables) -> WeightSpaceVariables {
        zipWith(a, b, +)
    }
}

/// A metanetwork layer whose output is again weight-space features (equivariant layers, pointwise
/// nonlinearities, normalisation).
public protocol WeightSpaceLayer: AnyObject {
    /// Maps features to features; the layer may change the channel count but keeps the layers'
    /// structure.
    func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables
}

/// A metanetwork (or head) mapping feed-forward weight-space features to one vector per network,
/// `[B, outputs]` — e.g. a predicted test accuracy.
public protocol WeightSpaceModel: AnyObject {
    /// Maps a batch of B weight sets to `[B, outputs]`.
    func callAsFunction(_ input: WeightSpaceVariables) -> Variable
}

extension WeightSpaceModel {
    /// Inference without a tape: `[B, outputs]`.
    public func predict(_ features: WeightSpaceFeatures) -> Tensor {
        if let m = self as? Module { m.eval() }
        return self(WeightSpaceVariables(features)).value
    }
}
