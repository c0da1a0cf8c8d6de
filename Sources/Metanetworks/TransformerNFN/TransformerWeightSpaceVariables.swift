import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

// `TransformerBlockVariables` and `TransformerWeightSpaceVariables` are the `Variable` forms of
// `TransformerBlockWeights` and `TransformerWeightSpace`, defined in the WeightSpace module beside
// their tensor forms; this file holds the protocol transformer metanetworks conform to.

/// A metanetwork mapping a batch of transformer weight spaces to one vector per network,
/// `[B, outputs]` (e.g. a predicted test accuracy) — the transformer counterpart of
/// ``WeightSpaceModel``.
public protocol TransformerWeightSpaceModel: AnyObject {
    /// The forward pass on the input's tape (or tape-less).
    func callAsFunction(_ input: TransformerWeightSpaceVariables) throws -> Variable
    /// Throws a ``ModuleError/invalidInput(_:)`` describing the first shape mismatch or NaN/∞.
    func validate(_ features: TransformerWeightSpaceFeatures) throws
}

extension TransformerWeightSpaceModel {
    /// Validated inference without a tape: `[B, outputs]`.
    /// - Throws: whatever ``validate(_:)`` or the forward pass throws.
    public func predict(_ features: TransformerWeightSpaceFeatures) throws -> Tensor {
        try validate(features)
        if let m = self as? Module { m.eval() }
        return try self(TransformerWeightSpaceVariables(features)).value
    }
}
