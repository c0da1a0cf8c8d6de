import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// One neural-functional-transformer block (Zhou et al. 2023, *Neural Functional Transformers*,
/// Eqs. 10–11), pre-LayerNorm and residual:
/// Z = U + Drop(SA(LN₁(U))), BLOCK(U) = Z + Drop(MLP(LN₂(Z))),
/// with ``NFTSelfAttention`` SA, pointwise ``NFTLayerNorm`` LN and pointwise ``NFTPointwiseMLP``
/// (hidden width `mlpFactor`·C per tap). Dropout (rate 0 by default) acts on both residual
/// branches, as in the reference `Block`; it is active only in training mode.
///
/// **Group.** Every part is 𝒮_NP-equivariant, so the block is 𝒮_NP-equivariant (HNP included).
/// **Shapes.** Canonical in and out, C channels per tap.
/// **Parameters.** SA + 2 LN + MLP (see each).
/// - Complexity: SA's O(B L n³ C) neuron term plus the pointwise MLP's O(dim 𝒲 · C² f · mlpFactor).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let block = try NFTBlock(channels: 8, heads: 2, filterFactors: [1, 1, 1], rng: &rng)
/// let y = block(features)             // same shapes as features
/// ```
public final class NFTBlock: Module, WeightSpaceLayer {
    public let norm1: NFTLayerNorm
    public let attention: NFTSelfAttention
    public let norm2: NFTLayerNorm
    public let mlp: NFTPointwiseMLP
    public let dropout: Dropout
    public let channels: Int

    /// - Parameters:
    ///   - mlpFactor: hidden width of the pointwise MLP per tap, as a multiple of C (reference
    ///     `ff_factor`, default 2).
    ///   - sharing: projection sharing of the attention (see ``NFTProjectionSharing``).
    ///   - recipe: SwiftNFN's or the reference's layer norm and unprojection bias (``NFTRecipe``).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` from the parts.
    public init(channels: Int, heads: Int, filterFactors: [Int], mlpFactor: Int = 2, dropout rate: Float = 0,
                sharing: NFTProjectionSharing? = nil, recipe: NFTRecipe = .swiftNFN, rng: inout SeededGenerator) throws {
        guard rate >= 0, rate < 1, mlpFactor > 0 else {
            throw ModuleError.invalidConfiguration("NFTBlock: need 0 ≤ dropout < 1 and mlpFactor > 0, got \(rate), \(mlpFactor)")
        }
        self.channels = channels
        norm1 = try NFTLayerNorm(channels: channels, filterFactors: filterFactors, normalization: recipe.normalization)
        attention = try NFTSelfAttention(channels: channels, heads: heads, filterFactors: filterFactors,
                                         sharing: sharing, unprojectionBias: recipe.unprojectionBias, rng: &rng)
        norm2 = try NFTLayerNorm(channels: channels, filterFactors: filterFactors, normalization: recipe.normalization)
        mlp = try NFTPointwiseMLP(channels: channels, hidden: mlpFactor * channels, filterFactors: filterFactors, rng: &rng)
        dropout = Dropout(rate: rate, seed: rng.next())
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        forward(NFTFoldedFeatures(folding: input, layout: .channelsLast)).unfolded()
    }

    func forward(_ x: NFTFoldedFeatures) -> NFTFoldedFeatures {
        let drop = { (_: Int, v: Variable) in self.dropout(v) }
        let z = x + attention.forward(norm1.forward(x)).mapLayers(weight: drop, bias: drop)
        return z + mlp.forward(norm2.forward(z)).mapLayers(weight: drop, bias: drop)
    }
}
