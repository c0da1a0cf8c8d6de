import Tensors
import Autograd

/// A multilayer perceptron: Dense → activation → … → Dense (no activation after the last layer).
///
/// `widths = [n₀, n₁, …, n_L]` gives L dense layers `layers.0 … layers.(L−1)`.
public final class MLP: Module, Layer {
    /// The L dense layers; `layers.i` maps nᵢ → nᵢ₊₁.
    public let layers: [Dense]
    /// Applied between layers, never after the last (`sine` is sin(x) here, with no ω₀ factor).
    public let activation: Activation
    /// `[n₀, …, n_L]`, the input, hidden and output widths.
    public let widths: [Int]

    /// Creates the network with weights sampled from `rng`.
    ///
    /// - Parameters:
    ///   - widths: `[n₀, …, n_L]`, at least two entries (traps otherwise).
    ///   - activation: between layers; `.relu` by default.
    ///   - initializer: for every weight matrix; biases start at zero.
    public init(widths: [Int], activation: Activation = .relu, initializer: Initializer = .glorotUniform,
                rng: inout SeededGenerator) {
        precondition(widths.count >= 2, "an MLP needs at least input and output widths, got \(widths)")
        self.widths = widths
        self.activation = activation
        layers = (0..<(widths.count - 1)).map { Dense(widths[$0], widths[$0 + 1], initializer: initializer, rng: &rng) }
        super.init()
    }

    /// `[..., n₀] → [..., n_L]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return h
    }
}
