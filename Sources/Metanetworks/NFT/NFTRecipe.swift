/// The three places where SwiftNFN's neural functional transformer departs from the reference
/// code (AllanYangZhou/nfn), each a named switch so that a run can follow the reference exactly.
/// The defaults (``swiftNFN``) are SwiftNFN's choices; ``reference`` flips all three.
///
/// | switch | SwiftNFN (default) | reference |
/// | --- | --- | --- |
/// | ``normalization`` | (x − μ)/√(σ²_biased + ε) | (x − μ)/(σ_unbiased + ε) |
/// | ``unprojectionBias`` | the CNN unprojection C → C·f_i is applied once to the sum of the attention terms, its bias added once | applied to each term (column, row, layer mean), its bias added once per term |
/// | ``layerEncodingTaps`` | one learned vector per filter tap, φ⁽ⁱ⁾ ∈ ℝ^{C·f_i} | one vector per layer shared by its taps, φ⁽ⁱ⁾ ∈ ℝ^C |
///
/// Why the defaults: the biased variance under the square root is what `LayerNorm` everywhere else
/// computes and is defined for a single channel; adding one bias rather than one per term is the
/// same model with fewer redundant offsets (the reference's three biases only ever appear summed);
/// a per-tap encoding costs C·f_i parameters per layer and lets the encoding tell the taps of a
/// filter apart. None of the three changes the symmetry group.
public struct NFTRecipe: Codable, Sendable, Equatable {
    /// How ``NFTLayerNorm`` normalises a channel vector.
    public enum Normalization: String, Codable, Sendable, CaseIterable {
        /// (x − μ)/√(σ² + ε), σ² the biased (1/n) variance — PyTorch's `nn.LayerNorm`.
        case biasedVariance = "biased-variance"
        /// (x − μ)/(σ + ε), σ the unbiased (1/(n − 1)) standard deviation — the reference's
        /// `ChannelLayerNorm` (`x.std(dim=-1)`); needs at least two channels.
        case unbiasedStandardDeviation = "unbiased-std"
    }

    /// How often the per-layer CNN unprojection of ``NFTSelfAttention`` adds its bias.
    public enum UnprojectionBias: String, Codable, Sendable, CaseIterable {
        /// Once: unproject(Σ terms).
        case once
        /// Once per attention term written into the layer: Σ unproject(term), as the reference
        /// unprojects the column, row and layer-mean terms separately.
        case perTerm = "per-term"
    }

    /// What ``LayerEncoding`` adds to a convolution layer's folded weight channels.
    public enum LayerEncodingTaps: String, Codable, Sendable, CaseIterable {
        /// One learned C-vector per filter tap (C·f_i numbers per layer).
        case perTap = "per-tap"
        /// One learned C-vector per layer, added to every tap — the reference's
        /// `LearnedPosEmbedding` (an `nn.Embedding(layers, C)` broadcast over the filter axes).
        case shared
    }

    /// The layer norm (default ``Normalization/biasedVariance``).
    public var normalization: Normalization
    /// The unprojection bias (default ``UnprojectionBias/once``).
    public var unprojectionBias: UnprojectionBias
    /// The layer encoding of filter taps (default ``LayerEncodingTaps/perTap``).
    public var layerEncodingTaps: LayerEncodingTaps

    /// A recipe; every argument defaults to SwiftNFN's choice.
    public init(normalization: Normalization = .biasedVariance, unprojectionBias: UnprojectionBias = .once,
                layerEncodingTaps: LayerEncodingTaps = .perTap) {
        self.normalization = normalization
        self.unprojectionBias = unprojectionBias
        self.layerEncodingTaps = layerEncodingTaps
    }

    /// SwiftNFN's choices.
    public static let swiftNFN = NFTRecipe()
    /// The reference code's choices (AllanYangZhou/nfn).
    public static let reference = NFTRecipe(normalization: .unbiasedStandardDeviation, unprojectionBias: .perTerm,
                                            layerEncodingTaps: .shared)
}
