import Tensors
import Autograd
import NeuralNetworks

/// Compares what two networks compute.
public enum FunctionalEquivalence {
    /// The outputs of `model` on `inputs`, in inference mode without a tape.
    public static func outputs(of model: some Layer, on inputs: Tensor) -> Tensor {
        if let m = model as? Module { m.eval() }
        return model(Variable(inputs)).value
    }

    /// max |f(x) − g(x)| / max |f(x)| over a batch of inputs: 0 for networks that compute the same
    /// function on these inputs, up to Float32 rounding (~1e-6).
    public static func maxRelativeDeviation(_ f: some Layer, _ g: some Layer, inputs: Tensor) -> Float {
        relativeDeviation(outputs(of: f, on: inputs), outputs(of: g, on: inputs))
    }

    /// max |a − b| / max |a| (with a floor of 1e-12 on the denominator).
    public static func relativeDeviation(_ reference: Tensor, _ other: Tensor) -> Float {
        reference.maxAbsDifference(other) / Swift.max(reference.abs().max(), 1e-12)
    }
}
