import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Pointwise layer normalisation of weight-space features (Zhou et al. 2023, *Neural Functional
/// Transformers*, §3.4; the reference's `SimpleLayerNorm` in AllanYangZhou/nfn): every weight
/// entry W⁽ⁱ⁾_{jk} ∈ ℝ^{C·f_i} (filter taps folded into the channels) and every bias entry
/// v⁽ⁱ⁾_j ∈ ℝ^C is normalised over its channels,
/// y = (x − μ)/√(σ² + ε) · γ + β, with affine γ, β per layer and separately for weights and biases.
/// With ``NFTRecipe/Normalization/unbiasedStandardDeviation`` it is the reference's
/// y = (x − μ)/(σ_unbiased + ε) · γ + β instead (see ``NFTRecipe``).
///
/// **Group.** Pointwise, so equivariant to every permutation that keeps the layer index (𝒮_NP
/// included). **Shapes.** Canonical in and out. **Initialisation.** γ = 1, β = 0.
/// **Parameters.** Σ_i 2C·(f_i + 1).
/// - Complexity: O(dim 𝒰 · C).
///
/// ```swift
/// let norm = try NFTLayerNorm(channels: 8, filterFactors: [1, 1])
/// let normalised = norm(features)
/// ```
public final class NFTLayerNorm: Module, WeightSpaceLayer {
    /// Over C·f_i, one per layer.
    public let weightNorms: [LayerNorm]
    /// Over C, one per layer.
    public let biasNorms: [LayerNorm]
    public let channels: Int
    public let filterFactors: [Int]
    /// The normalisation formula.
    public let normalization: NFTRecipe.Normalization

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive counts, or fewer than
    ///   two channels with the unbiased standard deviation (it divides by n − 1).
    public init(channels: Int, filterFactors: [Int], epsilon: Float = 1e-5,
                normalization: NFTRecipe.Normalization = .biasedVariance) throws {
        guard channels > 0, !filterFactors.isEmpty, filterFactors.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("NFTLayerNorm: need channels > 0 and positive filter factors, got \(channels), \(filterFactors)")
        }
        if normalization == .unbiasedStandardDeviation, channels < 2 {
            throw ModuleError.invalidConfiguration("NFTLayerNorm: the unbiased standard deviation needs at least 2 channels, got \(channels)")
        }
        self.normalization = normalization
        self.channels = channels
        self.filterFactors = filterFactors
        weightNorms = filterFactors.map { LayerNorm(channels * $0, epsilon: epsilon) }
        biasNorms = filterFactors.map { _ in LayerNorm(channels, epsilon: epsilon) }
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        forward(NFTFoldedFeatures(folding: input, layout: .channelsLast)).unfolded()
    }

    func forward(_ x: NFTFoldedFeatures) -> NFTFoldedFeatures {
        nftCheckStructure(x, channels: channels, filterFactors: filterFactors, layer: "NFTLayerNorm")
        if normalization == .unbiasedStandardDeviation {
            return x.mapLayers(weight: { i, w in nftReferenceLayerNorm(w, self.weightNorms[i]) },
                               bias: { i, b in nftReferenceLayerNorm(b, self.biasNorms[i]) })
        }
        return x.mapLayers(weight: { i, w in nftLayerNorm(w, self.weightNorms[i]) }, bias: { i, b in nftLayerNorm(b, self.biasNorms[i]) })
    }
}

/// The pointwise feed-forward network of an NFT block (the MLP of Eq. 10 in Zhou et al. 2023,
/// *Neural Functional Transformers*): per entry,
/// x ↦ W₂ GELU(W₁ x + b₁) + b₂, applied independently to every weight entry (ℝ^{C·f_i} →
/// ℝ^{H·f_i} → ℝ^{C·f_i}, taps folded into channels, as the reference's `Pointwise` does) and
/// every bias entry (ℝ^C → ℝ^H → ℝ^C), with separate parameters per layer. H = `hidden`.
/// GELU is the exact (erf) form, as PyTorch's `nn.GELU()` in the reference block.
///
/// **Group.** Pointwise: equivariant to every layer-preserving permutation (𝒮_NP included).
/// **Shapes.** Canonical in and out. **Initialisation.** Glorot uniform weights, zero biases.
/// **Parameters.** Σ_i [2 C H f_i² + (C + H) f_i + 2 C H + C + H].
/// - Complexity: O(n_{i+1} n_i · C H f_i²) per layer in gemms, i.e. O(dim 𝒲 · C H f) with dim 𝒲
///   counting every filter tap — f = 9 times a tap-shared MLP for 3×3 filters (and f times the
///   parameters). This is the reference's (and the NFT paper's §3.3) folding; it dominates the
///   NFT's cost on the Small CNN Zoo.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let mlp = try NFTPointwiseMLP(channels: 8, hidden: 16, filterFactors: [1, 1], rng: &rng)
/// let y = mlp(features)
/// ```
public final class NFTPointwiseMLP: Module, WeightSpaceLayer {
    public let weightIn: [Dense]
    public let weightOut: [Dense]
    public let biasIn: [Dense]
    public let biasOut: [Dense]
    public let channels: Int
    public let hidden: Int
    public let filterFactors: [Int]

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive counts.
    public init(channels: Int, hidden: Int, filterFactors: [Int], rng: inout SeededGenerator) throws {
        guard channels > 0, hidden > 0, !filterFactors.isEmpty, filterFactors.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("NFTPointwiseMLP: need positive sizes, got C=\(channels), H=\(hidden), f=\(filterFactors)")
        }
        self.channels = channels
        self.hidden = hidden
        self.filterFactors = filterFactors
        var wi: [Dense] = [], wo: [Dense] = [], bi: [Dense] = [], bo: [Dense] = []
        for f in filterFactors {
            wi.append(Dense(channels * f, hidden * f, rng: &rng))
            wo.append(Dense(hidden * f, channels * f, rng: &rng))
            bi.append(Dense(channels, hidden, rng: &rng))
            bo.append(Dense(hidden, channels, rng: &rng))
        }
        weightIn = wi; weightOut = wo; biasIn = bi; biasOut = bo
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        forward(NFTFoldedFeatures(folding: input, layout: .channelsLast)).unfolded()
    }

    func forward(_ x: NFTFoldedFeatures) -> NFTFoldedFeatures {
        nftCheckStructure(x, channels: channels, filterFactors: filterFactors, layer: "NFTPointwiseMLP")
        return x.mapLayers(weight: { i, w in nftLinear(nftLinear(w, self.weightIn[i]).nftGELU(), self.weightOut[i]) },
                           bias: { i, b in nftLinear(nftLinear(b, self.biasIn[i]).nftGELU(), self.biasOut[i]) })
    }
}
