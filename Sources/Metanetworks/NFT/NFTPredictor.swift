import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// An invariant neural functional transformer (Zhou et al. 2023, *Neural Functional Transformers*,
/// §3.4): weights in, one vector per network out (e.g. predicted test accuracy of a Small CNN Zoo
/// member).
///
/// Pipeline: ``NFTInputProjection`` (random Fourier features of every scalar by default) →
/// ``LayerEncoding`` → `blocks` × ``NFTBlock`` → ``CrossAttentionPooling`` (M queries, d dims) →
/// MLP head (M·d → hidden → outputs, ReLU) → `[B, outputs]`.
///
/// **Group.** Invariant to the full neuron-permutation group 𝒮_NP, hence to hidden-neuron
/// permutations (HNP), the true symmetry. There is no input/output position encoding here, so the
/// model also ignores input and output neuron order (the paper adds IO encodings for tasks that
/// need them; not done here). Not invariant to per-neuron scalings.
///
/// **Shapes.** Canonical features `[B, c_in, n_{i+1}, n_i, spatial…]` of the architecture it was
/// built for (any widths); output `[B, outputs]`.
/// **Initialisation.** See the parts; the Fourier frequencies are fixed at construction.
///
/// - Complexity: per block O(B L n³ C) attention + O(dim 𝒲 · C² f · mlpFactor) pointwise MLP;
///   pooling O(dim 𝒰 · C f d).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = try NFTPredictor(architecture: .smallCNNZoo(),
///                              configuration: .init(channels: 16, blocks: 2, heads: 2), rng: &rng)
/// let accuracy = model(WeightSpaceVariables(zooBatch))     // [B, 1]
/// ```
public final class NFTPredictor: Module, WeightSpaceModel {
    /// Hyper-parameters (defaults in parentheses; the paper's Small-CNN-Zoo setting used 256
    /// channels, 4 blocks, 4 heads, Fourier scale 3 with 128 features).
    public struct Configuration: Sendable, Equatable, Codable {
        /// C, channels per filter tap in the blocks (32).
        public var channels: Int
        /// Number of ``NFTBlock``s (2).
        public var blocks: Int
        /// Attention heads, dividing C (4).
        public var heads: Int
        /// Pointwise-MLP hidden width per tap as a multiple of C (2).
        public var mlpFactor: Int
        /// Input projection (Fourier, scale 3, C/2 features when C is even, so no mixing map).
        public var inputProjection: NFTInputProjection.Kind
        /// Cross-attention queries M (4).
        public var poolQueries: Int
        /// Cross-attention dimension d (C).
        public var poolDimension: Int
        /// Hidden width of the MLP head (64).
        public var headHidden: Int
        /// Output count (1).
        public var outputs: Int
        /// Dropout in the blocks (0).
        public var dropout: Float
        /// Whether to add ``LayerEncoding`` (true; turning it off is for ablations only).
        public var layerEncoding: Bool
        /// Projection sharing for attention and pooling (automatic: shared for MLP spaces).
        public var sharing: NFTProjectionSharing?
        /// SwiftNFN's or the reference's choices where the two differ (nil: ``NFTRecipe/swiftNFN``).
        public var recipe: NFTRecipe?

        public init(channels: Int = 32, blocks: Int = 2, heads: Int = 4, mlpFactor: Int = 2,
                    inputProjection: NFTInputProjection.Kind? = nil, poolQueries: Int = 4, poolDimension: Int? = nil,
                    headHidden: Int = 64, outputs: Int = 1, dropout: Float = 0, layerEncoding: Bool = true,
                    sharing: NFTProjectionSharing? = nil) {
            self.channels = channels
            self.blocks = blocks
            self.heads = heads
            self.mlpFactor = mlpFactor
            self.inputProjection = inputProjection
                ?? (channels % 2 == 0 ? .fourier(features: channels / 2, scale: 3) : .linear)
            self.poolQueries = poolQueries
            self.poolDimension = poolDimension ?? channels
            self.headHidden = headHidden
            self.outputs = outputs
            self.dropout = dropout
            self.layerEncoding = layerEncoding
            self.sharing = sharing
        }
    }

    public let projection: NFTInputProjection
    public let encoding: LayerEncoding?
    public let blocks: [NFTBlock]
    public let pooling: CrossAttentionPooling
    public let head: MLP
    public let configuration: Configuration
    public let filterFactors: [Int]

    /// - Parameters:
    ///   - filterFactors: f_i = kh·kw per layer of the processed networks (1 for dense layers).
    ///   - inputChannels: channels of the input features (1 for raw weights).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for inconsistent sizes.
    public init(filterFactors: [Int], inputChannels: Int = 1, configuration: Configuration = .init(),
                rng: inout SeededGenerator) throws {
        let c = configuration
        guard c.blocks >= 0, c.headHidden > 0, c.outputs > 0 else {
            throw ModuleError.invalidConfiguration("NFTPredictor: need blocks ≥ 0, headHidden > 0, outputs > 0")
        }
        self.configuration = c
        self.filterFactors = filterFactors
        projection = try NFTInputProjection(inputChannels: inputChannels, channels: c.channels, kind: c.inputProjection, rng: &rng)
        let recipe = c.recipe ?? .swiftNFN
        encoding = c.layerEncoding
            ? try LayerEncoding(channels: c.channels, filterFactors: filterFactors, taps: recipe.layerEncodingTaps, rng: &rng) : nil
        var blocks: [NFTBlock] = []
        for _ in 0..<c.blocks {
            blocks.append(try NFTBlock(channels: c.channels, heads: c.heads, filterFactors: filterFactors,
                                       mlpFactor: c.mlpFactor, dropout: c.dropout, sharing: c.sharing, recipe: recipe, rng: &rng))
        }
        self.blocks = blocks
        pooling = try CrossAttentionPooling(channels: c.channels, queries: c.poolQueries, dimension: c.poolDimension,
                                            filterFactors: filterFactors, sharing: c.sharing, rng: &rng)
        head = MLP(widths: [pooling.outputCount, c.headHidden, c.outputs], activation: .relu, rng: &rng)
        super.init()
    }

    /// Builds the predictor for an architecture's layers (e.g. ``FeedforwardArchitecture/smallCNNZoo(activation:inputChannels:filters:classes:)``).
    public convenience init(architecture: FeedforwardArchitecture, inputChannels: Int = 1,
                            configuration: Configuration = .init(), rng: inout SeededGenerator) throws {
        try self.init(filterFactors: (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) },
                      inputChannels: inputChannels, configuration: configuration, rng: &rng)
    }

    /// `[B, outputs]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        var x = NFTFoldedFeatures(folding: projection(input), layout: .channelsLast)
        if let encoding { x = encoding.forward(x) }
        for block in blocks { x = block.forward(x) }
        return head(pooling.forward(x))
    }
}
