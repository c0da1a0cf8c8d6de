import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// Shared fixtures for the permutation-family and baseline tests.
enum PermutationFixtures {
    /// A named feed-forward weight space for table-driven tests.
    struct Space: CustomStringConvertible, Sendable {
        var name: String
        var architecture: FeedforwardArchitecture
        var description: String { name }
    }

    static let mlp3 = Space(name: "MLP [5, 7, 6, 3]", architecture: try! .mlp(widths: [5, 7, 6, 3]))
    static let mlp2 = Space(name: "MLP [4, 6, 3]", architecture: try! .mlp(widths: [4, 6, 3]))
    static let mlp4 = Space(name: "MLP [3, 5, 4, 6, 2]", architecture: try! .mlp(widths: [3, 5, 4, 6, 2]))
    static let smallCNNZoo = Space(name: "Small CNN Zoo", architecture: .smallCNNZoo())
    /// A small mixed CNN (2×2 conv, 3×1 conv, dense) to keep gradient checks cheap.
    static let tinyCNN = Space(name: "tiny CNN", architecture: try! FeedforwardArchitecture(
        family: .cnn, widths: [2, 3, 4, 3],
        layers: [.conv2d(kernel: [2, 2], stride: [1, 1], padding: [0, 0]),
                 .conv2d(kernel: [3, 1], stride: [1, 1], padding: [0, 0]), .dense],
        activation: .relu))
    /// A two-layer CNN whose *last* layer is a convolution (exercises conv output layers).
    static let convLast = Space(name: "conv-last CNN", architecture: try! FeedforwardArchitecture(
        family: .cnn, widths: [2, 4, 3],
        layers: [.conv2d(kernel: [2, 2], stride: [1, 1], padding: [0, 0]),
                 .conv2d(kernel: [1, 2], stride: [1, 1], padding: [0, 0])],
        activation: .relu))

    static let equivarianceSpaces = [mlp3, mlp2, mlp4, smallCNNZoo, tinyCNN, convLast]

    /// Random normal features `[batch, channels, …]` for `architecture`.
    static func features(_ architecture: FeedforwardArchitecture, batch: Int = 2, channels: Int = 1,
                         seed: UInt64 = 7) -> WeightSpaceFeatures {
        var rng = SeededGenerator(seed: seed)
        return WeightSpaceFeatures(
            unchecked: (0..<architecture.layerCount).map { Tensor.normal([batch, channels] + architecture.weightShape(layer: $0), rng: &rng) },
            biases: (0..<architecture.layerCount).map { Tensor.normal([batch, channels] + architecture.biasShape(layer: $0), rng: &rng) })
    }

    /// The largest relative deviation of f(g·U) from g·f(U) over `trials` random elements of `kind`.
    static func equivarianceDeviation(_ input: WeightSpaceFeatures, kind: NeuronGroupElement.Kind, trials: Int = 10,
                                      seed: UInt64 = 11,
                                      _ layer: @escaping (WeightSpaceFeatures) -> WeightSpaceFeatures) throws -> Float {
        var rng = SeededGenerator(seed: seed)
        let widths = input.widths
        return try checkEquivariance(
            input: input, trials: trials,
            sample: {
                let g = NeuronGroupElement.random(widths: widths, kind: kind, scaleRange: (1, 10), rng: &rng)
                return ({ try g.apply(to: $0) }, { try g.apply(to: $0) })
            },
            tensors: { $0.weights + $0.biases },
            layer)
    }

    /// The largest relative deviation of f(g·U) from f(U) over `trials` random elements of `kind`.
    static func invarianceDeviation(_ input: WeightSpaceFeatures, kind: NeuronGroupElement.Kind, trials: Int = 10,
                                    seed: UInt64 = 13, scaleRange: (Float, Float) = (1, 10),
                                    _ model: @escaping (WeightSpaceFeatures) -> Tensor) throws -> Float {
        var rng = SeededGenerator(seed: seed)
        let widths = input.widths
        return try checkInvariance(
            input: input, trials: trials,
            sample: {
                let g = NeuronGroupElement.random(widths: widths, kind: kind, scaleRange: scaleRange, rng: &rng)
                return { try g.apply(to: $0) }
            },
            model)
    }

    /// Runs a weight-space layer without a tape.
    static func apply(_ layer: WeightSpaceLayer, _ x: WeightSpaceFeatures) -> WeightSpaceFeatures {
        layer(WeightSpaceVariables(x)).value
    }

    /// Flattens features into one vector-like list of tensors (for gradient checks).
    static func tensors(_ x: WeightSpaceFeatures) -> [Tensor] { x.weights + x.biases }

    /// Rebuilds features from a tensor list made by ``tensors(_:)``.
    static func variables(_ vars: [Variable]) -> WeightSpaceVariables {
        let L = vars.count / 2
        return WeightSpaceVariables(weights: Array(vars[0..<L]), biases: Array(vars[L...]))
    }

    /// All output tensors of a layer concatenated into one flat variable.
    static func flatten(_ y: WeightSpaceVariables) -> Variable {
        Variable.concatenate((y.weights + y.biases).map { $0.reshaped([-1]) }, alongAxis: 0)
    }

    /// Finite-difference check of the gradients with respect to every parameter of `module`:
    /// the tape's gradient of ⟨f, R⟩ vs central differences of a tape-less forward, probing at
    /// most `maxEntries` entries per parameter. Returns the largest |a − n| / max(1, |n|).
    static func parameterGradientError(_ module: Module, epsilon: Float = 1e-2, maxEntries: Int = 24, seed: UInt64 = 5,
                                       _ forward: (Tape?) -> Variable) -> Float {
        checkParameterGradients(module.parameters, epsilon: epsilon, maxEntries: maxEntries, seed: seed, forward)
    }
}
