import Tensors
import Autograd
import NeuralNetworks

/// How a node combines the messages on its incoming edges.
public enum GraphNNAggregation: String, Sendable, Codable, CaseIterable {
    /// The mean over incoming edges (the scale does not grow with the previous layer's width).
    case mean
    /// The sum over incoming edges.
    case sum
}

/// One message-passing layer with edge updates on a ``NeuralGraph`` (the edge-updating GNN of
/// Kofinas et al. 2024, in its simple form: mean or sum aggregation, no PNA scalers).
///
/// For an edge i → j (i in layer ℓ, j in layer ℓ + 1) and a node j:
///
///     e′ᵢⱼ = eᵢⱼ + W₂ · ReLU(Wₑ eᵢⱼ + Wₛ hᵢ + Wₜ hⱼ + b₁) + b₂          (edge MLP on [e, h_src, h_dst])
///     mⱼ   = mean (or sum) over i of e′ᵢⱼ         (0 for input neurons, which have no incoming edge)
///     h′ⱼ  = LayerNorm(hⱼ + U₂ · ReLU(Uₕ hⱼ + Uₘ mⱼ + c₁) + c₂)      (node MLP on [h, m])
///
/// `Wₑ eᵢⱼ + Wₛ hᵢ + Wₜ hⱼ` is the first layer of an MLP on the concatenation `[e, h_src, h_dst]`,
/// split so that the node terms are computed once per node and broadcast over the grid of
/// edges instead of being copied onto every edge. The layer norm has no affine part.
///
/// **Group.** Every node and edge is updated by the same parameters and the aggregation is
/// symmetric in the sources, so permuting the neurons of a hidden layer permutes the outputs the
/// same way (tested).
///
/// - Complexity: O(B·E·d²) for E edges (GEMMs over `B·n_{ℓ+1}·n_ℓ` rows), plus O(B·N·d²).
public final class GraphMessagePassing: Module {
    /// Wₑ (with b₁).
    public let edgeFromEdge: Dense
    /// Wₛ, on the source node.
    public let edgeFromSource: Dense
    /// Wₜ, on the target node.
    public let edgeFromTarget: Dense
    /// W₂ (with b₂).
    public let edgeOutput: Dense
    /// Uₕ (with c₁).
    public let nodeFromNode: Dense
    /// Uₘ, on the aggregated messages.
    public let nodeFromMessage: Dense
    /// U₂ (with c₂).
    public let nodeOutput: Dense
    public let aggregation: GraphNNAggregation

    /// A layer on d-wide node and edge features (PyTorch `nn.Linear` initialisation).
    public init(dimension d: Int, aggregation: GraphNNAggregation = .mean, rng: inout SeededGenerator) {
        func dense(bias: Bool = true) -> Dense {
            Dense(d, d, bias: bias, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        }
        edgeFromEdge = dense()
        edgeFromSource = dense(bias: false)
        edgeFromTarget = dense(bias: false)
        edgeOutput = dense()
        nodeFromNode = dense()
        nodeFromMessage = dense(bias: false)
        nodeOutput = dense()
        self.aggregation = aggregation
        super.init()
    }

    /// The updated graph (same shapes).
    public func callAsFunction(_ graph: NeuralGraph) -> NeuralGraph {
        let b = graph.batchSize, d = graph.nodeDimension, widths = graph.widths
        let tape = graph.nodes[0].tape
        let allNodes = Variable.concatenate(graph.nodes, alongAxis: 1)        // [B, N, d]
        let offsets = widths.reduce(into: [0]) { $0.append($0.last! + $1) }
        func layer(_ x: Variable, _ l: Int) -> Variable { x.slice(axis: 1, offsets[l]..<offsets[l + 1]) }
        let sources = edgeFromSource(allNodes), targets = edgeFromTarget(allNodes)

        var edges: [Variable] = [], messages: [Variable] = []
        let noMessage = Tensor(zeros: [b, widths[0], d])
        messages.append(tape?.constant(noMessage) ?? Variable(noMessage))
        for (l, e) in graph.edges.enumerated() {
            let (rows, cols) = (widths[l + 1], widths[l])
            let pre = edgeFromEdge(e)
                + layer(sources, l).reshaped([b, 1, cols, d])
                + layer(targets, l + 1).reshaped([b, rows, 1, d])
            let updated = e + edgeOutput(pre.relu())
            edges.append(updated)
            messages.append(aggregation == .mean ? updated.mean(alongAxes: [2]) : updated.sum(alongAxes: [2]))
        }
        let allMessages = Variable.concatenate(messages, alongAxis: 1)
        let hidden = (nodeFromNode(allNodes) + nodeFromMessage(allMessages)).relu()
        let newNodes = (allNodes + nodeOutput(hidden)).layerNormalized()
        return NeuralGraph(nodes: (0..<widths.count).map { layer(newNodes, $0) }, edges: edges)
    }
}
