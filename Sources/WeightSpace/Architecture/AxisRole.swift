/// What the symmetry group does to one axis of a weight or bias tensor.
///
/// Every weight-space tensor carries one role per axis, so a reader (or a layer) can tell from the
/// architecture which axes a group element permutes, scales, or mixes.
public enum AxisRole: String, Codable, Sendable, Equatable {
    /// The batch of networks (never acted on).
    case batch
    /// Feature channels of a metanetwork (never acted on).
    case channel
    /// Neurons of a hidden layer: permuted (and, for monomial groups, scaled) by the group.
    case hiddenNeurons
    /// The network's input neurons: fixed by the true (HNP) symmetry; permuted only by NP.
    case inputNeurons
    /// The network's output neurons: fixed by the true symmetry; permuted only by NP.
    case outputNeurons
    /// Filter taps of a convolution: never permuted.
    case spatial
    /// Attention heads: permuted together by the head permutation.
    case heads
    /// An axis mixed by a GL(d) block (attention key/query or value/output dimension).
    case glBlock
    /// A residual-stream or FFN axis of a transformer block permuted by π_O / π_A.
    case permutedFeatures
    /// A transformer axis not acted on (the block input / output feature dimension).
    case fixedFeatures
}
