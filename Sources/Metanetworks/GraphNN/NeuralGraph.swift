import Tensors
import Autograd
import WeightSpace

/// A batch of feed-forward networks seen as graphs (Kofinas et al. 2024, *Graph Neural Networks for
/// Learning Equivariant Representations of Neural Networks*): one node per neuron, one
/// directed edge per weight, from the neuron it reads to the neuron it feeds.
///
/// Stored densely, layer by layer, because the edges between two consecutive layers form a full
/// grid: `nodes[ℓ]` is `[B, n_ℓ, d]` (ℓ = 0…L, inputs first) and `edges[ℓ]` is
/// `[B, n_{ℓ+1}, n_ℓ, d]` — target neuron first, like the weight matrix W⁽ℓ⁺¹⁾ — so an edge
/// update is a broadcast add plus GEMMs over `B·n_{ℓ+1}·n_ℓ` rows and an aggregation is a
/// reduction over axis 2. No per-edge loops.
///
/// A neuron permutation of a hidden layer ℓ permutes axis 1 of `nodes[ℓ]`, axis 2 of `edges[ℓ]`
/// and axis 1 of `edges[ℓ − 1]` — exactly how it acts on the weights — so any layer that treats
/// every node and every edge with shared parameters is equivariant to it.
public struct NeuralGraph {
    /// Node features per neuron layer, `[B, n_ℓ, d]`, ℓ = 0…L.
    public var nodes: [Variable]
    /// Edge features per weight layer, `[B, n_{ℓ+1}, n_ℓ, d]`, ℓ = 0…L−1.
    public var edges: [Variable]

    /// Wraps per-layer node and edge features (L + 1 node tensors, L edge tensors).
    public init(nodes: [Variable], edges: [Variable]) {
        precondition(nodes.count == edges.count + 1 && !edges.isEmpty,
                     "a neural graph has L + 1 node layers and L ≥ 1 edge layers, got \(nodes.count) and \(edges.count)")
        self.nodes = nodes
        self.edges = edges
    }

    /// The number of networks in the batch.
    public var batchSize: Int { nodes[0].shape[0] }
    /// Neuron counts n₀ … n_L.
    public var widths: [Int] { nodes.map { $0.shape[1] } }
    /// The feature width of the nodes.
    public var nodeDimension: Int { nodes[0].shape[2] }
    /// The feature width of the edges.
    public var edgeDimension: Int { edges[0].shape[3] }

    /// The raw graph of weight-space features (before any learned projection).
    ///
    /// - Node features: the neuron's bias over the C feature channels, `[B, n_ℓ, C]`; input
    ///   neurons have no bias and get zeros.
    /// - Edge features: the weight between the two neurons over the channels and filter taps,
    ///   `[B, n_{ℓ+1}, n_ℓ, C·taps_ℓ]` (channel-major, then the kernel's row-major taps), zero
    ///   padded at the end to `edgeDimension` so that every layer shares one edge projection —
    ///   a dense layer's single weight fills the first slot (the reference
    ///   mkofinas/neural-graphs pads kernels to the largest one the same way).
    ///
    /// The networks' CNNs pool globally before their first dense layer, so a channel connects to a
    /// dense neuron by one weight and needs no flattening nodes.
    ///
    /// - Parameter edgeDimension: at least the largest C·taps over the layers.
    public static func raw(_ input: WeightSpaceVariables, edgeDimension: Int) -> NeuralGraph {
        let b = input.batchSize, c = input.channelCount, widths = input.widths
        let tape = input.tape
        let inputBias = Tensor(zeros: [b, widths[0], c])
        var nodes = [tape?.constant(inputBias) ?? Variable(inputBias)]
        nodes += input.biases.map { $0.permuted([0, 2, 1]) }
        let edges = input.weights.enumerated().map { i, w -> Variable in
            let (rows, cols) = (widths[i + 1], widths[i])
            // [B, C, out, in, taps…] → [B, out, in, C, taps…] → [B, out, in, C·taps].
            let order = [0, 2, 3, 1] + Array(4..<w.rank)
            let flat = w.permuted(order).reshaped([b, rows, cols, -1])
            let width = flat.shape[3]
            precondition(width <= edgeDimension, "layer \(i) has \(width) edge features, more than the edge dimension \(edgeDimension)")
            return width == edgeDimension ? flat : flat.padded([(0, 0), (0, 0), (0, 0), (0, edgeDimension - width)])
        }
        return NeuralGraph(nodes: nodes, edges: edges)
    }
}
