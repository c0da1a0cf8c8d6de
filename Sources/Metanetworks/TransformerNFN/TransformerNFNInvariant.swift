import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The Transformer-NFN invariant layer for one encoder block (Tran et al. 2025, *Equivariant
/// Neural Functional Networks for Transformers*, App. I.1 and I.3; the reference's
/// `TransformersInv` in Fsoft-AIC/Transformer-NFN, one block of it): `[B, C, …]` block features
/// → `[B, E]`.
///
/// **Formula**, per output channel e (sums over input channels d):
/// I(U) = Σ_{d,h,p,q} Φ_{e,d,p,q} QK⁽ʰ⁾_{pq} + Σ_{d,h,p,q} Φ_{e,d,p} VO⁽ʰ⁾_{pq} + Σ_d Φ_{e,d} A_{⋆⋆}
///      + Σ_{d,q} Φ_{e,d,q} B_{⋆q} + Σ_d Φ_{e,d} a_⋆ + Σ_{d,q} Φ_{e,d,q} β_q + Φ_e,
/// computed as one GEMM of the per-channel invariant vector `[S | Σ_q T | A_⋆⋆ | B_⋆q | a_⋆ | β]`
/// (length G = D² + 3D + 2; S = Σ_h QK⁽ʰ⁾, T = Σ_h VO⁽ʰ⁾) with ``weight`` `[E, C·G]`, then (by
/// default, as in the reference) a LayerNorm over the E outputs with a learned scale and offset.
///
/// **Group.** Invariant to the whole block group (``AttentionGroupElement``): head permutations,
/// GL(D_k)ʰ × GL(D_v)ʰ (S and T cancel M and N), π_O and π_A (every permuted index is summed).
///
/// **Initialisation.** Glorot normal over the total fan-in F = C·(2hD² + 2D·D_A + D_A + D) (every
/// input scalar one output sums), σ = √(2/(F + E)); the degree-2 weights (on S and T) use σ²
/// (the reference's `scale_degree = 2`); the bias starts at 0; the LayerNorm at scale 1, offset 0.
///
/// - Note: a LayerNorm over E ≤ 2 values is constant (±1 for E = 2), which would cut every
///   gradient to the layers below; use E ≥ 3 or `layerNorm: false`.
/// - Complexity: O(B·C·D²·h·(D_k + D_v)) for the products plus O(B·E·C·D²) for the GEMM.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let invariant = TransformerNFNInvariant(inChannels: 4, outChannels: 4, modelDimension: 8, rng: &rng)
/// // y = invariant(blockVariables)   // [B, 4]
/// ```
public final class TransformerNFNInvariant: Module {
    /// C.
    public let inChannels: Int
    /// E.
    public let outChannels: Int
    /// D.
    public let modelDimension: Int
    /// `[E, C·G]`, column (d, g) over the invariant vector.
    public let weight: Parameter
    /// `[E]`: Φ_e.
    public let bias: Parameter
    /// The per-block LayerNorm over the E outputs (nil when `layerNorm` is false).
    public let norm: LayerNorm?

    /// - Parameters:
    ///   - heads, feedForwardDimension: used only for the initialisation's fan-in (defaults 2, 2D).
    ///   - layerNorm: follow with an affine LayerNorm over the outputs (the reference does).
    public init(inChannels: Int, outChannels: Int, modelDimension: Int, heads: Int = 2,
                feedForwardDimension: Int? = nil, layerNorm: Bool = true, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && modelDimension > 0 && heads > 0,
                     "TransformerNFNInvariant needs positive sizes")
        let c = inChannels, e = outChannels, d = modelDimension, h = heads
        let da = feedForwardDimension ?? 2 * d
        self.inChannels = c
        self.outChannels = e
        self.modelDimension = d
        let g = TransformerNFNTerms.globalLength(modelDimension: d)
        let g2 = TransformerNFNTerms.globalDegreeTwoLength(modelDimension: d)
        let sigma = TransformerNFNTerms.glorotStd(fanIn: c * (2 * h * d * d + 2 * d * da + da + d), fanOut: e)
        weight = Parameter(TransformerNFNTerms.gaussian(rows: e, columns: c * g, rng: &rng) { _, k in
            k % g < g2 ? sigma * sigma : sigma
        })
        bias = Parameter(Tensor(zeros: [e]))
        norm = layerNorm ? LayerNorm(e) : nil
        super.init()
    }

    /// `[B, C, …]` block features → `[B, E]`.
    public func callAsFunction(_ x: TransformerBlockVariables) -> Variable {
        precondition(x.channelCount == inChannels && x.dimensions.model == modelDimension,
                     "TransformerNFNInvariant(C: \(inChannels), D: \(modelDimension)) got C = \(x.channelCount), D = \(x.dimensions.model)")
        let tape = x.tape
        let g = TransformerNFNTerms.globalFeatures(x, TransformerNFNTerms.products(x))
        let y = Variable.matmul(g, weight.variable(on: tape), transposeB: true) + bias.variable(on: tape)
        return norm.map { $0(y) } ?? y
    }
}
