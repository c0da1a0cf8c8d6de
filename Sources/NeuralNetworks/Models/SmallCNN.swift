import Tensors
import Autograd

/// The network of the Small CNN Zoo (Unterthiner et al., 2020): three 3×3 convolutions with
/// `filters` channels, stride 2, valid padding, each followed by the activation (and dropout when
/// its rate is non-zero), global average pooling, and a dense classifier.
///
/// With one input channel, 16 filters and 10 classes it has exactly 4,970 parameters:
/// 160 + 2,320 + 2,320 + 170.
public final class SmallCNN: Module, Layer {
    /// The three 3×3, stride-2, unpadded convolutions: C → F, F → F, F → F (F = `filters`).
    public let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
    /// The final `Dense(filters, classes)` on the pooled features.
    public let classifier: Dense
    /// The activation after each convolution (`sine` is sin(x) here, with no ω₀ factor).
    public let activation: Activation
    /// Applied after each activated convolution; the identity when its rate is 0 or in evaluation mode.
    public let dropout: Dropout

    /// The configuration that built this network.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Channels C of the input images; default 1.
        public var inputChannels = 1
        /// Channels F of every convolution; default 16.
        public var filters = 16
        /// Number of output logits; default 10.
        public var classes = 10
        /// The activation after each convolution; default ``Activation/relu``.
        public var activation: Activation = .relu
        /// Dropout rate in [0, 1) after each convolution; default 0 (off). Out-of-range rates trap at
        /// construction.
        public var dropout: Float = 0
        /// Initialiser for the convolution and classifier weights; default Glorot uniform.
        public var initializer: Initializer = .glorotUniform
        /// Initialiser for every bias; default zeros.
        public var biasInitializer: Initializer = .zeros
        /// Creates a configuration; the defaults give the 4,970-parameter network described above.
        public init(inputChannels: Int = 1, filters: Int = 16, classes: Int = 10, activation: Activation = .relu,
                    dropout: Float = 0, initializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros) {
            self.inputChannels = inputChannels; self.filters = filters; self.classes = classes
            self.activation = activation; self.dropout = dropout
            self.initializer = initializer; self.biasInitializer = biasInitializer
        }
    }

    /// The configuration that built this network.
    public let configuration: Configuration

    /// Creates the network with weights sampled from `rng` (conv1, conv2, conv3, classifier, then the
    /// dropout seed, in that order).
    public init(_ c: Configuration = Configuration(), rng: inout SeededGenerator) {
        configuration = c
        conv1 = Conv2d(c.inputChannels, c.filters, kernelSize: (3, 3), stride: (2, 2),
                       initializer: c.initializer, biasInitializer: c.biasInitializer, rng: &rng)
        conv2 = Conv2d(c.filters, c.filters, kernelSize: (3, 3), stride: (2, 2),
                       initializer: c.initializer, biasInitializer: c.biasInitializer, rng: &rng)
        conv3 = Conv2d(c.filters, c.filters, kernelSize: (3, 3), stride: (2, 2),
                       initializer: c.initializer, biasInitializer: c.biasInitializer, rng: &rng)
        classifier = Dense(c.filters, c.classes, initializer: c.initializer,
                           biasInitializer: c.biasInitializer, rng: &rng)
        activation = c.activation
        dropout = Dropout(rate: c.dropout, seed: rng.next())
        super.init()
    }

    private func act(_ x: Variable) -> Variable {
        switch activation {
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sine: return x.sin()
        case .identity: return x
        }
    }

    /// Logits `[N, classes]` for images `[N, C, H, W]` (H, W ≥ 15).
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = dropout(act(conv1(x)))
        h = dropout(act(conv2(h)))
        h = dropout(act(conv3(h)))
        return classifier(h.globalAveragePool2d())
    }

    /// Checks that `shape` is a valid input batch, throwing a descriptive error if not.
    public func validateInput(_ shape: [Int]) throws {
        guard shape.count == 4, shape[1] == configuration.inputChannels, shape[2] >= 15, shape[3] >= 15 else {
            throw ModuleError.invalidInput(
                "SmallCNN expects images [N, \(configuration.inputChannels), H≥15, W≥15], got \(shape)")
        }
    }
}

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
            if i < layers.count - 1 {
                switch activation {
                case .relu: h = h.relu()
                case .tanh: h = h.tanh()
                case .sine: h = h.sin()
                case .identity: break
                }
            }
        }
        return h
    }
}

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
