import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The sizes of a ``GraphNNPredictor``.
public struct GraphNNConfiguration: Sendable, Equatable, Codable {
    /// d, the node and edge feature width (the reference uses 32).
    public var dimension: Int
    /// The number of message-passing layers (the reference uses 4).
    public var layers: Int
    /// The width of the head's two hidden layers.
    public var headHidden: Int
    /// Outputs per network (1 for the generalization logit, the class count for INR classification).
    public var outputs: Int
    /// C, the feature channels of the input (1 for raw weights).
    public var inputChannels: Int
    /// How nodes combine their incoming edges.
    public var aggregation: GraphNNAggregation
    /// A sigmoid on the outputs.
    public var sigmoid: Bool

    public init(dimension: Int = 32, layers: Int = 4, headHidden: Int = 256, outputs: Int = 1, inputChannels: Int = 1,
                aggregation: GraphNNAggregation = .mean, sigmoid: Bool = false) {
        self.dimension = dimension; self.layers = layers; self.headHidden = headHidden; self.outputs = outputs
        self.inputChannels = inputChannels; self.aggregation = aggregation; self.sigmoid = sigmoid
    }
}

/// The graph-network baseline of Kofinas et al. 2024, *Graph Neural Networks for Learning
/// Equivariant Representations of Neural Networks* (ICLR 2024; reference mkofinas/neural-graphs):
/// the network becomes a graph of neurons and weights (``NeuralGraph``), a message-passing GNN
/// with edge updates runs on it, and an invariant readout feeds an MLP head, `[B, outputs]`.
///
/// ```
/// U → NeuralGraph (bias → node, weight taps → edge) → GraphNNInputEncoding (+ positions)
///   → GraphMessagePassing × layers
///   → [output nodes' features, mean of each hidden layer's nodes] → Dense → ReLU → Dense → ReLU → Dense
/// ```
///
/// The readout keeps the output neurons apart (they have a fixed order; the reference reads only
/// those) and adds the mean over each hidden layer, so that a network deeper than the number of
/// message-passing layers still reaches the head: messages only flow forward, from inputs to
/// outputs, as in the reference's default graph.
///
/// Differences from the reference's default (PNA): one mean (or sum) aggregation instead of
/// mean/min/max/std with degree scalers, a residual edge MLP and a residual node MLP with a
/// layer norm instead of PNA's FiLM-modulated messages, ReLU instead of SiLU, and a linear input
/// projection instead of random Fourier features.
///
/// **Group.** Invariant to permutations of hidden neurons (positional embeddings are shared
/// within a hidden layer); not to permutations of input or output neurons (they have their own
/// embeddings), nor to scalings or sign flips.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let gnn = try GraphNNPredictor(architecture: .smallCNNZoo(), configuration: .init(dimension: 16, layers: 2),
///                                rng: &rng)
/// print(gnn.parameterCount)
/// ```
/// - Complexity: O(layers · B · (E + N) · d²) for E weights and N neurons per network, plus the head.
public final class GraphNNPredictor: Module, WeightSpaceModel {
    public let configuration: GraphNNConfiguration
    /// The architecture it was built for.
    public let architecture: FeedforwardArchitecture
    /// Filter taps per layer (1 for dense layers).
    public let filterFactors: [Int]
    public let encoding: GraphNNInputEncoding
    public let layers: [GraphMessagePassing]
    public let head: PredictionMLP

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive sizes.
    public init(architecture: FeedforwardArchitecture, configuration: GraphNNConfiguration = .init(),
                rng: inout SeededGenerator) throws {
        let c = configuration
        guard c.dimension > 0, c.layers > 0, c.headHidden > 0, c.outputs > 0, c.inputChannels > 0 else {
            throw ModuleError.invalidConfiguration("GraphNNPredictor sizes must be positive, got \(c)")
        }
        self.configuration = c
        self.architecture = architecture
        filterFactors = (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) }
        encoding = GraphNNInputEncoding(widths: architecture.widths, channels: c.inputChannels,
                                        rawEdgeDimension: c.inputChannels * filterFactors.max()!, dimension: c.dimension, rng: &rng)
        layers = (0..<c.layers).map { _ in GraphMessagePassing(dimension: c.dimension, aggregation: c.aggregation, rng: &rng) }
        head = PredictionMLP(inputs: Self.readoutWidth(widths: architecture.widths, dimension: c.dimension),
                             hidden: [c.headHidden, c.headHidden], outputs: c.outputs, sigmoid: c.sigmoid, rng: &rng)
        super.init()
    }

    /// The readout's width: `(n_L + L − 1) · d`.
    public static func readoutWidth(widths: [Int], dimension: Int) -> Int {
        (widths[widths.count - 1] + widths.count - 2) * dimension
    }

    /// The graph after the message-passing layers.
    public func graph(_ input: WeightSpaceVariables) -> NeuralGraph {
        precondition(input.channelCount == configuration.inputChannels && input.layerCount == architecture.layerCount
                     && input.widths.first == architecture.widths.first && input.widths.last == architecture.widths.last
                     && input.weights.enumerated().allSatisfy { $1.shape.dropFirst(4).reduce(1, *) == filterFactors[$0] },
                     "GraphNNPredictor built for \(architecture.widths) with kernels \(filterFactors) and \(configuration.inputChannels) channels (validateInput says what differs)")
        return layers.reduce(encoding(input)) { g, layer in layer(g) }
    }

    /// The invariant representation fed to the head, `[B, (n_L + L − 1)·d]`.
    public func invariantFeatures(_ input: WeightSpaceVariables) -> Variable {
        let g = graph(input)
        let b = g.batchSize, L = g.edges.count
        let outputs = g.nodes[L].reshaped([b, -1])
        let hiddenMeans = (1..<L).map { g.nodes[$0].mean(alongAxes: [1]) }
        return Variable.concatenate([outputs] + hiddenMeans, alongAxis: 1)
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        head(invariantFeatures(input))
    }
}

extension GraphNNPredictor: WeightSpaceInputConstrained {
    /// Channels, layer count, filter taps, and the input and output widths (hidden widths are free:
    /// nothing in the model is sized by them).
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: configuration.inputChannels, filterFactors: filterFactors,
                                    inputWidth: architecture.widths.first, outputWidth: architecture.widths.last)
    }
}
