import NeuralNetworks

/// The weight-space description of a transformer encoder (the Small Transformer Zoo's vision
/// transformer, or a standard residual one): its dimensions and the symmetry role of every axis of
/// every block tensor.
///
/// Roles follow the attention group (Tran et al. 2025, *Equivariant Neural Functional Networks for
/// Transformers*): heads are permuted together (``AxisRole/heads``),
/// the key/query and value/output dimensions are mixed by GL blocks (``AxisRole/glBlock``), the
/// attention-output / FFN-input features are permuted by π_O (``AxisRole/permutedFeatures``) only
/// in residual-free blocks — with residual connections they are tied to the residual stream and
/// left fixed (``AxisRole/fixedFeatures``) — and the FFN hidden units by π_A.
public struct TransformerArchitecture: Codable, Sendable, Equatable {
    /// Number of encoder blocks, > 0.
    public var blockCount: Int
    /// Attention heads h per block, > 0.
    public var heads: Int
    /// Token (residual-stream) width D, > 0.
    public var modelDimension: Int
    /// Per-head query/key width D_k, > 0.
    public var keyDimension: Int
    /// Per-head value width D_v, > 0.
    public var valueDimension: Int
    /// Feed-forward hidden width D_A, > 0.
    public var feedForwardDimension: Int
    /// Whether blocks have skip connections (then π_O is not a symmetry).
    public var residual: Bool

    /// Creates an architecture from its dimensions (see the properties) and residual flag.
    ///
    /// - Throws: ``WeightSpaceError/invalidArchitecture(_:)`` when any dimension is not positive.
    public init(blockCount: Int, heads: Int, modelDimension: Int, keyDimension: Int, valueDimension: Int,
                feedForwardDimension: Int, residual: Bool) throws {
        guard [blockCount, heads, modelDimension, keyDimension, valueDimension, feedForwardDimension].allSatisfy({ $0 > 0 }) else {
            throw WeightSpaceError.invalidArchitecture("transformer dimensions must be positive")
        }
        self.blockCount = blockCount; self.heads = heads; self.modelDimension = modelDimension
        self.keyDimension = keyDimension; self.valueDimension = valueDimension
        self.feedForwardDimension = feedForwardDimension; self.residual = residual
    }

    /// The Small Transformer Zoo: 2 residual-free blocks, h = 2, D = 32, D_k = D_v = 16, D_A = 64.
    public static let smallTransformerZoo = try! TransformerArchitecture(
        blockCount: 2, heads: 2, modelDimension: 32, keyDimension: 16, valueDimension: 16,
        feedForwardDimension: 64, residual: false)   // valid by construction

    /// The architecture of a ``SmallTransformer`` model.
    public init(model: SmallTransformer) {
        let c = model.configuration
        self = try! TransformerArchitecture(   // a built model has positive dimensions
            blockCount: c.blockCount, heads: c.heads, modelDimension: c.modelDimension, keyDimension: c.keyDimension,
            valueDimension: c.valueDimension, feedForwardDimension: c.feedForwardDimension, residual: c.residual)
    }

    private var outputFeatures: AxisRole { residual ? .fixedFeatures : .permutedFeatures }

    /// Shapes (without batch/channel axes) and axis roles of one block's tensors, in
    /// ``TransformerBlockFeatures/tensors`` order: W_Q, W_K, W_V, W_O, W_A, b_A, W_B, b_B.
    public var blockTensors: [(name: String, shape: [Int], roles: [AxisRole])] {
        let (h, d, dk, dv, da) = (heads, modelDimension, keyDimension, valueDimension, feedForwardDimension)
        return [
            ("query", [h, d, dk], [.heads, .fixedFeatures, .glBlock]),
            ("key", [h, d, dk], [.heads, .fixedFeatures, .glBlock]),
            ("value", [h, d, dv], [.heads, .fixedFeatures, .glBlock]),
            ("output", [h, dv, d], [.heads, .glBlock, outputFeatures]),
            ("feedForwardInWeight", [d, da], [outputFeatures, .permutedFeatures]),
            ("feedForwardInBias", [da], [.permutedFeatures]),
            ("feedForwardOutWeight", [da, d], [.permutedFeatures, .fixedFeatures]),
            ("feedForwardOutBias", [d], [.fixedFeatures]),
        ]
    }

    /// Scalars per block.
    public var parametersPerBlock: Int { blockTensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
