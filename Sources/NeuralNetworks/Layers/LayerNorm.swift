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
    public let features: Int
    public let epsilon: Float

    public init(_ features: Int, affine: Bool = true, epsilon: Float = 1e-5) {
        self.features = features
        self.epsilon = epsilon
        scale = affine ? Parameter(Tensor(ones: [features])) : nil
        offset = affine ? Parameter(Tensor(zeros: [features])) : nil
        super.init()
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.last == features, "LayerNorm expects last dimension \(features), got \(x.shape)")
        var y = x.layerNormalized(trailingAxes: 1, epsilon: epsilon)
        if let s = scale { y = y * s.variable(on: x.tape) }
        if let o = offset { y = y + o.variable(on: x.tape) }
        return y
    }
}
