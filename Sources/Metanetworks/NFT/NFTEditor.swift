import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// An equivariant neural functional transformer used as a weight-space editor (INR editing,
/// Zhou et al. 2023, *Neural Functional Transformers*, §5.2):
///
/// ```
/// edit(W) = W + α · R(Blocks(LayerEncoding(Projection(W))))
/// ```
///
/// ``NFTInputProjection`` (Fourier features) → ``LayerEncoding`` → `blocks` × ``NFTBlock`` →
/// R, a ``PointwiseChannelLinear`` read-out C → 1 whose initial parameters are multiplied by
/// `finalLayerGain`, so training starts near the identity edit; α is a learned scalar.
///
/// **Group.** Every part commutes with all neuron permutations (𝒮_NP), so the edit does too:
/// edit(g·W) = g·edit(W) for hidden and input/output permutations (tested).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let editor = try NFTEditor(architecture: try .siren(widths: [2, 32, 32, 1]), channels: 16, blocks: 1, heads: 2, rng: &rng)
/// ```
/// - Complexity: per block O(B L n³ C) attention + O(dim 𝒲 · C² · mlpFactor).
public final class NFTEditor: Module, WeightSpaceLayer {
    /// Lifts the one-channel weights to `channels` features per entry.
    public let projection: NFTInputProjection
    /// Layer-identity encodings added before the blocks.
    public let encoding: LayerEncoding
    /// The equivariant NFT blocks (self-attention + pointwise MLP).
    public let blocks: [NFTBlock]
    /// Back to one channel: the edit f(W).
    public let readout: PointwiseChannelLinear
    /// α `[1]`.
    public let scale: Parameter
    /// Feature channels per weight entry inside the blocks.
    public let channels: Int

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for inconsistent sizes (heads must divide
    ///   an even `channels`).
    public init(architecture: FeedforwardArchitecture, channels: Int = 16, blocks: Int = 1, heads: Int = 2,
                scale: Float = 0.1, finalLayerGain: Float = 1e-2, rng: inout SeededGenerator) throws {
        guard channels > 0, channels % 2 == 0, blocks >= 0 else {
            throw ModuleError.invalidConfiguration("NFTEditor needs an even channel count > 0 and blocks ≥ 0, got \(channels), \(blocks)")
        }
        let factors = (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) }
        self.channels = channels
        projection = try NFTInputProjection(inputChannels: 1, channels: channels,
                                            kind: .fourier(features: channels / 2, scale: 3), rng: &rng)
        encoding = try LayerEncoding(channels: channels, filterFactors: factors, rng: &rng)
        self.blocks = try (0..<blocks).map { _ in
            try NFTBlock(channels: channels, heads: heads, filterFactors: factors, rng: &rng)
        }
        readout = PointwiseChannelLinear(inChannels: channels, outChannels: 1, rng: &rng)
        scaleParameters(of: readout, by: finalLayerGain)
        self.scale = Parameter(Tensor(shape: [1], scalars: [scale]))
        super.init()
    }

    /// The unscaled edit direction (one channel).
    public func delta(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        var x = NFTFoldedFeatures(folding: projection(input), layout: .channelsLast)
        x = encoding.forward(x)
        for block in blocks { x = block.forward(x) }
        return readout(x.unfolded())
    }

    /// W + α·delta(W).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        precondition(input.channelCount == 1, "NFTEditor edits raw one-channel weights, got \(input.channelCount) channels")
        let alpha = scale.variable(on: input.tape)
        return input + delta(input).map { $0 * alpha }
    }
}
