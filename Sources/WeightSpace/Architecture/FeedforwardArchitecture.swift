import Tensors
import NeuralNetworks

/// The weight-space description of a feed-forward network (MLP, CNN, SIREN): its neuron counts,
/// its layer kinds, its activation, and from those the shape and axis roles of every tensor.
///
/// Layers are numbered 1…L as in the literature; arrays here are 0-based, so `widths[0]` is n₀
/// (inputs) and `weightShape(layer: 0)` is W⁽¹⁾'s shape `[n₁, n₀, kernel…]`. For a CNN the
/// "neurons" of a conv layer are its channels, and global pooling sits between the last
/// convolution and the first dense layer, so channels connect straight to dense inputs.
public struct FeedforwardArchitecture: Codable, Sendable, Equatable {
    /// The network family (determines the true symmetry group together with the activation).
    public enum Family: String, Codable, Sendable, CaseIterable {
        /// `mlp`: dense layers; `cnn`: 2-D convolutions, global average pooling, then dense layers;
        /// `siren`: dense layers with sine activations.
        case mlp, cnn, siren
    }

    /// One layer's kind.
    public enum LayerKind: Codable, Sendable, Equatable {
        /// A fully connected layer; W⁽ⁱ⁾ is `[n_i, n_{i−1}]`.
        case dense
        /// A 2-D convolution with 2-element `kernel`, `stride` (> 0) and `padding`; W⁽ⁱ⁾ is
        /// `[n_i, n_{i−1}] + kernel` (output channels, input channels, kh, kw).
        case conv2d(kernel: [Int], stride: [Int], padding: [Int])

        /// The filter extent (empty for dense).
        public var kernel: [Int] {
            if case .conv2d(let k, _, _) = self { return k }
            return []
        }
    }

    /// The network family (MLP, CNN or SIREN).
    public var family: Family
    /// n₀ … n_L.
    public var widths: [Int]
    /// L layer kinds.
    public var layers: [LayerKind]
    /// The hidden activation (the output layer is linear).
    public var activation: Activation

    /// Creates and validates an architecture.
    ///
    /// - Parameters:
    ///   - widths: n₀ … n_L, all positive (channels for convolutions, classes or outputs last).
    ///   - layers: L kinds, every ``LayerKind/conv2d(kernel:stride:padding:)`` before any
    ///     ``LayerKind/dense``.
    ///   - activation: the hidden activation.
    /// - Throws: ``WeightSpaceError/invalidArchitecture(_:)`` when ``validate()`` fails.
    public init(family: Family, widths: [Int], layers: [LayerKind], activation: Activation) throws {
        self.family = family
        self.widths = widths
        self.layers = layers
        self.activation = activation
        try validate()
    }

    /// The number of layers L.
    public var layerCount: Int { layers.count }

    /// Throws ``WeightSpaceError/invalidArchitecture(_:)`` unless widths and layers agree and
    /// convolutions precede dense layers.
    public func validate() throws {
        guard layers.count >= 1, widths.count == layers.count + 1 else {
            throw WeightSpaceError.invalidArchitecture("need L ≥ 1 layers and L + 1 widths, got \(layers.count) layers and widths \(widths)")
        }
        guard widths.allSatisfy({ $0 > 0 }) else {
            throw WeightSpaceError.invalidArchitecture("widths must be positive, got \(widths)")
        }
        var seenDense = false
        for layer in layers {
            switch layer {
            case .dense: seenDense = true
            case .conv2d(let k, let s, let p):
                guard !seenDense else {
                    throw WeightSpaceError.invalidArchitecture("a convolution after a dense layer needs flattened spatial maps, which are not supported")
                }
                guard k.count == 2, s.count == 2, p.count == 2, k.allSatisfy({ $0 > 0 }), s.allSatisfy({ $0 > 0 }), p.allSatisfy({ $0 >= 0 }) else {
                    throw WeightSpaceError.invalidArchitecture("conv2d needs 2-D kernel/stride/padding, got \(k), \(s), \(p)")
                }
            }
        }
    }

    /// The shape of W⁽ⁱ⁺¹⁾ (0-based `layer`): `[n_{i+1}, n_i] + kernel`.
    public func weightShape(layer i: Int) -> [Int] { [widths[i + 1], widths[i]] + layers[i].kernel }

    /// The shape of v⁽ⁱ⁺¹⁾: `[n_{i+1}]`.
    public func biasShape(layer i: Int) -> [Int] { [widths[i + 1]] }

    /// Axis roles of W⁽ⁱ⁺¹⁾ (without batch/channel axes).
    public func weightAxisRoles(layer i: Int) -> [AxisRole] {
        let rows: AxisRole = i == layerCount - 1 ? .outputNeurons : .hiddenNeurons
        let cols: AxisRole = i == 0 ? .inputNeurons : .hiddenNeurons
        return [rows, cols] + layers[i].kernel.map { _ in .spatial }
    }

    /// Axis roles of v⁽ⁱ⁺¹⁾.
    public func biasAxisRoles(layer i: Int) -> [AxisRole] {
        [i == layerCount - 1 ? .outputNeurons : .hiddenNeurons]
    }

    /// The filter factor f_i = ∏ kernel (1 for dense layers).
    public func filterFactor(layer i: Int) -> Int { layers[i].kernel.reduce(1, *) }

    /// The number of scalars in the network.
    public var parameterCount: Int {
        (0..<layerCount).reduce(0) { $0 + Tensor.elementCount(weightShape(layer: $1)) + widths[$1 + 1] }
    }

    // MARK: Named architectures

    /// An MLP with the given widths and hidden activation.
    public static func mlp(widths: [Int], activation: Activation = .relu) throws -> FeedforwardArchitecture {
        try FeedforwardArchitecture(family: .mlp, widths: widths,
                                    layers: Array(repeating: .dense, count: widths.count - 1), activation: activation)
    }

    /// A SIREN (sine activations) with the given widths.
    public static func siren(widths: [Int]) throws -> FeedforwardArchitecture {
        try FeedforwardArchitecture(family: .siren, widths: widths,
                                    layers: Array(repeating: .dense, count: widths.count - 1), activation: .sine)
    }

    /// The Small CNN Zoo network: 3 × conv 3×3 stride 2 valid (16 filters), global average pool,
    /// dense to 10 classes — 4,970 parameters with one input channel.
    public static func smallCNNZoo(activation: Activation = .relu, inputChannels: Int = 1,
                                   filters: Int = 16, classes: Int = 10) -> FeedforwardArchitecture {
        let conv = LayerKind.conv2d(kernel: [3, 3], stride: [2, 2], padding: [0, 0])
        // Valid by construction.
        return try! FeedforwardArchitecture(family: .cnn, widths: [inputChannels, filters, filters, filters, classes],
                                            layers: [conv, conv, conv, .dense], activation: activation)
    }
}
