import Tensors
import Autograd
import NeuralNetworks

/// The MLP head of the generalization predictors (reference `MlpHead` / `StatNet`):
/// `Dense → ReLU → [Dropout] → … → Dense → [sigmoid]`, `[B, inputs] → [B, outputs]`.
///
/// Initialisation: PyTorch's `nn.Linear` default, weights and biases from U(±1/√fan-in).
/// With `sigmoid: true` the outputs lie in (0, 1), which suits accuracy targets; the reference
/// default (and ours) is a linear output trained with a regression loss.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let head = PredictionMLP(inputs: 64, hidden: [1000, 1000], outputs: 1, rng: &rng)
/// ```
/// - Complexity: O(B · Σ fan-in × fan-out) per call (BLAS).
public final class PredictionMLP: Module, Layer {
    public let layers: [Dense]
    public let dropout: Dropout?
    public let sigmoid: Bool

    /// - Parameters:
    ///   - hidden: widths of the hidden layers (each followed by ReLU and dropout).
    ///   - dropout: rate in [0, 1) after every hidden activation (0: none).
    public init(inputs: Int, hidden: [Int], outputs: Int, dropout: Float = 0, sigmoid: Bool = false,
                dropoutSeed: UInt64 = 0, rng: inout SeededGenerator) {
        let widths = [inputs] + hidden + [outputs]
        precondition(widths.allSatisfy { $0 > 0 }, "PredictionMLP widths must be positive, got \(widths)")
        layers = (0..<(widths.count - 1)).map {
            Dense(widths[$0], widths[$0 + 1], initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        }
        self.dropout = dropout > 0 ? Dropout(rate: dropout, seed: dropoutSeed) : nil
        self.sigmoid = sigmoid
        super.init()
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 {
                h = h.relu()
                if let d = dropout { h = d(h) }
            }
        }
        return sigmoid ? h.sigmoid() : h
    }
}
