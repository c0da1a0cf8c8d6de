import Tensors
import Autograd

/// A SIREN implicit neural representation: coordinates `[N, inputs]` → values `[N, outputs]`,
/// `hidden.count` sine layers then a linear output layer.
public final class SIREN: Module, Layer {
    /// The sine layers, `inputs → hiddenWidths[0] → … → hiddenWidths.last`.
    public let hidden: [SirenLayer]
    /// The final linear layer, weights U(−√(6/n)/ω₀, √(6/n)/ω₀) with n its fan-in, zero bias.
    public let output: Dense

    /// Creates the network with the SIREN initialisation, sampled from `rng`.
    ///
    /// - Parameters:
    ///   - inputs: coordinate dimension; 2 (an image's x, y) by default.
    ///   - hiddenWidths: width of each sine layer; `[32, 32]` by default. Empty gives a single linear
    ///     layer.
    ///   - outputs: value dimension; 1 (greyscale) by default.
    ///   - frequency: ω₀ of every sine layer; 30 by default (Sitzmann et al., 2020).
    public init(inputs: Int = 2, hiddenWidths: [Int] = [32, 32], outputs: Int = 1, frequency: Float = 30,
                rng: inout SeededGenerator) {
        var layers: [SirenLayer] = []
        var n = inputs
        for (i, w) in hiddenWidths.enumerated() {
            layers.append(SirenLayer(n, w, frequency: frequency, isFirst: i == 0, rng: &rng))
            n = w
        }
        hidden = layers
        let bound = (6 / Float(n)).squareRoot() / frequency
        output = Dense(n, outputs, initializer: .uniform(low: -bound, high: bound), rng: &rng)
        super.init()
    }

    /// `[N, inputs] → [N, outputs]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for layer in hidden { h = layer(h) }
        return output(h)
    }
}
