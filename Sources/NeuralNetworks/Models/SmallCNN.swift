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

    /// Logits `[N, classes]` for images `[N, C, H, W]` (H, W ≥ 15).
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = dropout(activation(conv1(x)))
        h = dropout(activation(conv2(h)))
        h = dropout(activation(conv3(h)))
        return classifier(h.globalAveragePool2d())
    }
}
