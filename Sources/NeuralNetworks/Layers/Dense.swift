import Tensors
import Autograd

/// A fully connected layer: y = x·Wᵀ + b.
///
/// `weight` is `[outFeatures, inFeatures]` (rows = output neurons), the canonical weight-space
/// layout and PyTorch's `nn.Linear` layout, so state dicts map one to one. Inputs may have any
/// leading batch axes: `[..., inFeatures] → [..., outFeatures]`.
/// Initialisation: weight from `initializer` (default Glorot uniform), bias from `biasInitializer`
/// (default zeros).
public final class Dense: Module, Layer {
    /// `[outFeatures, inFeatures]`.
    public let weight: Parameter
    /// `[outFeatures]`, or nil for a bias-free layer.
    public let bias: Parameter?

    /// The input width, `weight.shape[1]`.
    public var inFeatures: Int { weight.shape[1] }
    /// The output width, `weight.shape[0]`.
    public var outFeatures: Int { weight.shape[0] }

    /// Creates an `inFeatures → outFeatures` layer with freshly sampled weights.
    ///
    /// - Parameters:
    ///   - bias: whether to add a learned `[outFeatures]` bias.
    ///   - initializer: weight initialiser, with fan-in `inFeatures` and fan-out `outFeatures`.
    ///   - biasInitializer: bias initialiser (same fans); zeros by default.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                initializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                rng: inout SeededGenerator) {
        weight = Parameter(initializer.sample([outFeatures, inFeatures], fanIn: inFeatures,
                                              fanOut: outFeatures, rng: &rng))
        self.bias = bias ? Parameter(biasInitializer.sample([outFeatures], fanIn: inFeatures,
                                                            fanOut: outFeatures, rng: &rng)) : nil
        super.init()
    }

    /// `[..., inFeatures] → [..., outFeatures]`; traps if the last axis is not `inFeatures`.
    /// - Complexity: one sgemm, O(M·inFeatures·outFeatures) for M = the product of the leading axes.
    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.last == inFeatures, "Dense expects last dimension \(inFeatures), got shape \(x.shape)")
        let w = weight.variable(on: x.tape)
        var y = x.rank == 2
            ? Variable.matmul(x, w, transposeB: true)
            : Variable.matmul(x.reshaped([-1, inFeatures]), w, transposeB: true)
                .reshaped(Array(x.shape.dropLast()) + [outFeatures])
        if let b = bias { y = y + b.variable(on: x.tape) }
        return y
    }
}
