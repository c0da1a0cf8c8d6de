import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The entry of ``GraphNNPredictor``: raw biases and weights projected to d features, plus the
/// positional embeddings that tell the graph's fixed neurons apart (Kofinas et al. 2024).
///
/// `h⁰ = NodeIn(bias) + P[pos(node)]`, `e⁰ = EdgeIn(weight taps)`, with `NodeIn: C → d`,
/// `EdgeIn: D → d` and one learned table `P` of `n₀ + (L − 1) + n_L` rows: one per input neuron,
/// one per *hidden layer* (shared by all of its neurons), one per output neuron. Sharing a row
/// across a hidden layer is what keeps the model equivariant to hidden-neuron permutations while
/// still telling layers apart; inputs and outputs have a fixed order, so each keeps its own row.
///
/// - Complexity: two GEMMs, O(B·(N·C + E·D)·d) for N neurons and E weights.
public final class GraphNNInputEncoding: Module {
    /// `C → d` on the node (bias) features.
    public let nodeInput: Dense
    /// `D → d` on the edge (weight) features.
    public let edgeInput: Dense
    /// `[n₀ + (L − 1) + n_L, d]`, initialised N(0, 1) like the reference's `pos_embed`.
    public let positionEmbedding: Parameter
    /// The raw edge width D (the largest C·taps over the layers).
    public let rawEdgeDimension: Int

    /// - Parameters:
    ///   - widths: n₀ … n_L of the networks it reads.
    ///   - channels: C, feature channels of the input.
    ///   - rawEdgeDimension: D, the padded per-edge input width.
    ///   - dimension: d, the node and edge feature width.
    public init(widths: [Int], channels: Int, rawEdgeDimension: Int, dimension: Int, rng: inout SeededGenerator) {
        let L = widths.count - 1
        nodeInput = Dense(channels, dimension, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        edgeInput = Dense(rawEdgeDimension, dimension, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        positionEmbedding = Parameter(Tensor.normal([widths[0] + (L - 1) + widths[L], dimension], rng: &rng))
        self.rawEdgeDimension = rawEdgeDimension
        super.init()
    }

    /// The table row of every neuron of networks with `widths`, inputs first: its own row for an
    /// input or output neuron, its layer's row for a hidden one (so hidden widths may vary).
    public static func positionRows(widths: [Int]) -> [Int] {
        let L = widths.count - 1, firstOutput = widths[0] + L - 1
        var rows = Array(0..<widths[0])
        for l in 1..<L { rows += Array(repeating: widths[0] + l - 1, count: widths[l]) }
        return rows + Array(firstOutput..<(firstOutput + widths[L]))
    }

    /// The projected graph of `input`: nodes `[B, n_ℓ, d]`, edges `[B, n_{ℓ+1}, n_ℓ, d]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> NeuralGraph {
        let raw = NeuralGraph.raw(input, edgeDimension: rawEdgeDimension)
        let tape = input.tape
        let table = positionEmbedding.variable(on: tape)
        // All nodes in one GEMM: [B, N, C] → [B, N, d], then the table rows, then back to layers.
        let allNodes = nodeInput(Variable.concatenate(raw.nodes, alongAxis: 1))
            + table.gathering(Self.positionRows(widths: raw.widths), alongAxis: 0)
        var nodes: [Variable] = [], start = 0
        for n in raw.widths {
            nodes.append(allNodes.slice(axis: 1, start..<(start + n)))
            start += n
        }
        return NeuralGraph(nodes: nodes, edges: raw.edges.map { edgeInput($0) })
    }
}
