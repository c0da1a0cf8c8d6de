import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The INR2ARRAY encoder (Zhou et al. 2023, *Neural Functional Transformers*, §4): SIREN weights
/// in, an M × d latent array out, invariant to every neuron permutation of the SIREN.
///
/// ```
/// U → NFTInputProjection (Fourier features) → LayerEncoding
///   → backbone: blocks × NFTBlock            (.nft, the paper's INR2ARRAY (NFT))
///             | blocks × (NPLinear → ReLU)    (.np,  INR2ARRAY (NFN))
///             | blocks × (HNPLinear → ReLU)   (.hnp)
///   → CrossAttentionPooling with M learned queries → [B, M, d]
/// ```
///
/// **Group.** The projection, layer encoding and backbone are 𝒮_NP-equivariant and the pooling is
/// 𝒮_NP-invariant, so the array is invariant (not merely invariant as a set: its rows are ordered by
/// the learned queries e₁ … e_M, which no permutation of the SIREN touches). With `.hnp` only
/// hidden-neuron permutations (HNP layers tell the IO neurons apart).
///
/// **Shapes.** One-channel features `[B, 1, n_{i+1}, n_i]` of a dense network (any widths for
/// `.nft`; the exact widths it was built for with `.np`/`.hnp`), output `[B, M, d]`.
/// **Parameters.** Layer encoding Σ_i 2C + backbone + pooling M·d + (C + 1)·2d (see the parts).
/// - Complexity: the backbone's (per NFT block O(B L n³ C)), plus the pooling's O(B · dim 𝒰 · C d).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let siren = try FeedforwardArchitecture.siren(widths: [2, 32, 32, 1])
/// let encoder = try INR2ArrayEncoder(architecture: siren, configuration: .init(channels: 16, latents: 16), rng: &rng)
/// let z = encoder(WeightSpaceVariables(features))     // [B, 16, 32]
/// ```
public final class INR2ArrayEncoder: Module {
    /// What sits between the input projection and the pooling.
    public enum Backbone: String, Sendable, Codable, CaseIterable {
        /// ``NFTBlock``s (weight-space self-attention).
        case nft
        /// ``NPLinear`` layers with ReLU.
        case np
        /// ``HNPLinear`` layers with ReLU.
        case hnp
    }

    /// Hyper-parameters.
    public struct Configuration: Sendable, Equatable, Codable {
        public var backbone: Backbone
        /// C, channels per weight entry (even: the Fourier features give C/2 sines and C/2 cosines).
        public var channels: Int
        /// Backbone depth.
        public var blocks: Int
        /// Attention heads (NFT backbone), dividing C.
        public var heads: Int
        /// Fourier scale σ of the input projection (the paper's 3).
        public var fourierScale: Float
        /// M, the latent rows (learned queries of the pooling).
        public var latents: Int
        /// d, the width of a latent row.
        public var latentDimension: Int

        public init(backbone: Backbone = .nft, channels: Int = 16, blocks: Int = 2, heads: Int = 2, fourierScale: Float = 3,
                    latents: Int = 16, latentDimension: Int = 32) {
            self.backbone = backbone; self.channels = channels; self.blocks = blocks; self.heads = heads
            self.fourierScale = fourierScale; self.latents = latents; self.latentDimension = latentDimension
        }
    }

    public let projection: NFTInputProjection
    public let encoding: LayerEncoding
    /// The NFT backbone (empty otherwise).
    public let transformerBlocks: [NFTBlock]
    /// The NFN backbone: equivariant layer, activation, … (empty otherwise).
    public let permutationLayers: [any Module & WeightSpaceLayer]
    public let pooling: CrossAttentionPooling
    public let configuration: Configuration
    /// The dense weight space it was built for.
    public let architecture: FeedforwardArchitecture

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for odd or non-positive channels, a
    ///   convolutional architecture, or sizes the parts refuse.
    public init(architecture: FeedforwardArchitecture, configuration c: Configuration = .init(),
                rng: inout SeededGenerator) throws {
        guard c.channels > 0, c.channels % 2 == 0, c.blocks >= 0, c.fourierScale > 0, c.fourierScale.isFinite else {
            throw ModuleError.invalidConfiguration("INR2ArrayEncoder: need an even channel count > 0, blocks ≥ 0 and a positive Fourier scale, got C=\(c.channels), blocks=\(c.blocks), scale=\(c.fourierScale)")
        }
        let factors = (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) }
        guard factors.allSatisfy({ $0 == 1 }) else {
            throw ModuleError.invalidConfiguration("INR2ArrayEncoder: encodes dense networks (SIRENs), got filter factors \(factors)")
        }
        self.configuration = c
        self.architecture = architecture
        projection = try NFTInputProjection(inputChannels: 1, channels: c.channels,
                                            kind: .fourier(features: c.channels / 2, scale: c.fourierScale), rng: &rng)
        encoding = try LayerEncoding(channels: c.channels, filterFactors: factors, rng: &rng)
        var blocks: [NFTBlock] = [], layers: [any Module & WeightSpaceLayer] = []
        for _ in 0..<c.blocks {
            switch c.backbone {
            case .nft:
                blocks.append(try NFTBlock(channels: c.channels, heads: c.heads, filterFactors: factors, rng: &rng))
            case .np:
                layers.append(NPLinear(inChannels: c.channels, outChannels: c.channels, architecture: architecture, rng: &rng))
                layers.append(WeightSpaceActivation(.relu))
            case .hnp:
                guard architecture.layerCount >= 2 else {
                    throw ModuleError.invalidConfiguration("INR2ArrayEncoder: HNP layers need at least 2 layers, got \(architecture.layerCount)")
                }
                layers.append(HNPLinear(inChannels: c.channels, outChannels: c.channels, architecture: architecture, rng: &rng))
                layers.append(WeightSpaceActivation(.relu))
            }
        }
        transformerBlocks = blocks
        permutationLayers = layers
        pooling = try CrossAttentionPooling(channels: c.channels, queries: c.latents, dimension: c.latentDimension,
                                            filterFactors: factors, rng: &rng)
        super.init()
    }

    /// M.
    public var latents: Int { configuration.latents }
    /// d.
    public var latentDimension: Int { configuration.latentDimension }

    /// The latent array `[B, M, d]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        let batch = input.batchSize
        let lifted = encoding(projection(input))
        let pooled: Variable
        if configuration.backbone == .nft {
            var x = NFTFoldedFeatures(folding: lifted, layout: .channelsLast)
            for block in transformerBlocks { x = block.forward(x) }
            pooled = pooling.forward(x)
        } else {
            pooled = pooling(WeightSpaceStackState.run(permutationLayers, on: lifted, layout: .channelsFirst).canonical)
        }
        return pooled.reshaped([batch, latents, latentDimension])
    }
}
