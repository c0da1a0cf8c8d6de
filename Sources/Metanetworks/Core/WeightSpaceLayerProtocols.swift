import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

// `WeightSpaceVariables` is `FeedforwardWeightSpace<Variable>`, defined in the WeightSpace module
// beside `WeightSpaceFeatures`; this file holds the protocols metanetwork layers and models
// conform to.

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
