import Tensors
import Autograd

/// Layer normalisation over the last axis: y = (x − μ)/√(σ² + ε) · γ + β.
///
/// With `affine: false` there are no parameters (the Small Transformer Zoo's
/// `elementwise_affine=False`). γ starts at ones, β at zeros.
public final class LayerNorm: Module, Layer {
    /// γ, `[features]`, when affine.
    public let scale: Parameter?
    /// β, `[features]`, when affine.
    public let offset: Parameter?
    /// The size of the normalised last axis.
    public let features: Int
    /// ε, added to the variance before the square root.
    public let epsilon: Float

    /// Creates a layer normalising last axes of size `features`.
    ///
    /// - Parameters:
    ///   - features: the last-axis size the layer accepts.
    ///   - affine: whether to learn γ (ones) and β (zeros); `false` gives a parameter-free layer.
    ///   - epsilon: ε, normally > 0, guarding the division for near-constant rows; 1e-5 as in PyTorch.
    public init(_ features: Int, affine: Bool = true, epsilon: Float = 1e-5) {
        self.features = features
        self.epsilon = epsilon
        scale = affine ? Parameter(Tensor(ones: [features])) : nil
        offset = affine ? Parameter(Tensor(zeros: [features])) : nil
        super.init()
    }

    /// Normalises each last-axis row with its own mean and population variance, then applies γ, β;
    /// shape unchanged. Traps if the last axis is not `features`.
    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.last == features, "LayerNorm expects last dimension \(features), got \(x.shape)")
        var y = x.layerNormalized(trailingAxes: 1, epsilon: epsilon)
        if let s = scale { y = y * s.variable(on: x.tape) }
        if let o = offset { y = y + o.variable(on: x.tape) }
        return y
    }
}
