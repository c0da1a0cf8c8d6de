import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The Transformer-NFN equivariant polynomial layer for one encoder block (Tran et al. 2025,
/// *Equivariant Neural Functional Networks for Transformers*, App. I.1–I.2; the reference code's
/// `TransformersLinear` in Fsoft-AIC/Transformer-NFN), mapping `C` input channels to `E` output
/// channels.
///
/// **Group.** Equivariant to the block's symmetry group (``AttentionGroupElement``): head
/// permutations τ × GL(D_k)ʰ × GL(D_v)ʰ × π_O (attention output / FFN input features) × π_A (FFN
/// hidden units): f(g·U) = g·f(U), with g acting identically on every channel.
///
/// **Formula** (per output channel e, summing over input channels d; every Φ is learned).
/// With the GL-invariant products S = Σ_h Q⁽ʰ⁾K⁽ʰ⁾ᵀ and T = Σ_h V⁽ʰ⁾O⁽ʰ⁾ (`[D, D]`; p, q index
/// the unpermuted block input, T's columns are permuted by π_O):
/// - Q̃⁽ʰ⁾ = Φ^Q Q⁽ʰ⁾, K̃⁽ʰ⁾ = Φ^K K⁽ʰ⁾, Ṽ⁽ʰ⁾ = Φ^V V⁽ʰ⁾ (left-multiplication by a learned D×D
///   matrix per channel pair); Õ⁽ʰ⁾_{jk} = Φ^{O1} Σ_{k'} O⁽ʰ⁾_{jk'} + Φ^{O2} O⁽ʰ⁾_{jk}.
///   These are linear, without bias, and carry no nonlinearity afterwards.
/// - W̃_A (j ∈ D permuted by π_O, k ∈ D_A permuted by π_A), the reference's 13 terms:
///   Σ Φ S_{pq} + Σ Φ_p Σ_q T_{pq} + Σ_p Φ_p T_{pj} + Φ A_{⋆⋆} + Φ A_{j⋆} + Φ A_{⋆k} + Φ A_{jk}
///   + Σ_q Φ_q B_{⋆q} + Σ_q Φ_q B_{kq} + Φ a_⋆ + Φ a_k + Σ_q Φ_q β_q + Φ_e.
/// - b̃_A (k ∈ D_A), 10 terms: S, T-row-sums, A_{⋆⋆}, A_{⋆k}, B_{⋆q}, B_{kq}, a_⋆, a_k, β, constant.
/// - W̃_B (j ∈ D_A, k ∈ D output, unpermuted), 10 terms, each weight free to depend on k:
///   Σ Φ_{k,p,q} S_{pq} + Σ Φ_{k,p} Σ_q T_{pq} + Φ_k A_{⋆⋆} + Φ_k A_{⋆j} + Σ_q Φ_{k,q} B_{⋆q}
///   + Σ_q Φ_{k,q} B_{jq} + Φ_k a_⋆ + Φ_k a_j + Σ_q Φ_{k,q} β_q + Φ_{e,k}.
/// - b̃_B (k ∈ D), 7 terms: S, T-row-sums, A_{⋆⋆}, B_{⋆q}, a_⋆, β, constant — weights depend on k.
///
/// Sums over h and over permuted indices are plain **sums**, as in the reference code (not
/// means): that keeps this layer numerically identical to the reference formulation; the
/// initialisation below accounts for the summed counts instead.
///
/// **Fused parameterisation.** The terms are grouped by the index they depend on, so each group
/// is one GEMM (parameter counts equal the reference's per-term tensors exactly):
/// - ``globalMap`` `[E·(2+2D), C·G]` + ``globalBias``: every term built from the invariant
///   vector (S, T-row-sums, A_{⋆⋆}, B_{⋆q}, a_⋆, β; G = D² + 3D + 2 per channel) — the scalar
///   parts of W̃_A and b̃_A and the k-vectors of W̃_B and b̃_B. The bias holds the constants.
///   This is where the `[E, C, D, D, D]` tensors of the reference (W_B←QK, b_B←QK) live: one
///   `[B, C·G] × [C·G, E·(2+2D)]` matmul instead of per-term einsums.
/// - ``featureMap`` `[E, C·(D+1)]`: the terms indexed by j ∈ D (π_O) in W̃_A: T_{pj}, A_{j⋆}.
/// - ``hiddenUnitMap`` `[E·(2+D), C·(D+2)]`: the terms indexed by a hidden unit k ∈ D_A (π_A) —
///   inputs A_{⋆k}, B_{k,:}, a_k; outputs the column term of W̃_A, b̃_A's k-term, and row k of W̃_B.
/// - ``pointwiseMap`` `[E, C]`: Φ A_{jk}.
/// - ``queryMap``, ``keyMap``, ``valueMap`` `[E·D, C·D]`; ``outputRowSumMap``,
///   ``outputPointwiseMap`` `[E, C]`.
///
/// **Shapes.** Input and output: ``TransformerBlockVariables`` with `[B, C, …]` and `[B, E, …]`;
/// any batch B ≥ 1, any h, D_k, D_v, D_A (the parameters depend only on C, E and D).
///
/// **Initialisation** (fan-in aware, degree-2 scaled as the reference's `scale_degree = 2`):
/// for each of the eight outputs Y, σ_Y = √(2 / (F_Y + E)), where F_Y counts every input scalar
/// one entry of Y sums over, across all of Y's terms (with C channels, h heads and the summed
/// permuted indices; e.g. for Q̃, F = C·D). Degree-1 weights ~ N(0, σ_Y²); degree-2 weights (those
/// reading S or T) ~ N(0, σ_Y⁴), i.e. the std raised to the power 2. Constants start at zero.
/// h and D_A only enter this count (they default to the Small Transformer Zoo's 2 and 2D).
/// The reference groups its terms for initialisation somewhat irregularly (it squares the std of
/// some degree-1 terms too); this layer uses the uniform rule above.
///
/// - Complexity: O(B·E·C·D³) for the global GEMM (with `C·G ≈ C·D²` inputs and `E·2D` outputs),
///   plus O(B·E·C·D²·(h·D_k + h·D_v + D_A)) for the rest; memory O(E·C·D³) parameters.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let layer = TransformerNFNLinear(inChannels: 1, outChannels: 4, modelDimension: 8, rng: &rng)
/// let block = TransformerBlockFeatures(
///     query: Tensor.normal([2, 1, 2, 8, 4], rng: &rng), key: Tensor.normal([2, 1, 2, 8, 4], rng: &rng),
///     value: Tensor.normal([2, 1, 2, 8, 4], rng: &rng), output: Tensor.normal([2, 1, 2, 4, 8], rng: &rng),
///     feedForwardInWeight: Tensor.normal([2, 1, 8, 16], rng: &rng), feedForwardInBias: Tensor.normal([2, 1, 16], rng: &rng),
///     feedForwardOutWeight: Tensor.normal([2, 1, 16, 8], rng: &rng), feedForwardOutBias: Tensor.normal([2, 1, 8], rng: &rng))
/// let y = layer(TransformerBlockVariables(block))      // [2, 4, …] per tensor
/// ```
public final class TransformerNFNLinear: Module {
    /// C.
    public let inChannels: Int
    /// E.
    public let outChannels: Int
    /// D.
    public let modelDimension: Int

    /// Φ^Q, `[E·D, C·D]`: row (e, j), column (d, p).
    public let queryMap: Parameter
    /// Φ^K, `[E·D, C·D]`.
    public let keyMap: Parameter
    /// Φ^V, `[E·D, C·D]`.
    public let valueMap: Parameter
    /// Φ^{O1}, `[E, C]`, on the row sums of W_O (broadcast over the columns).
    public let outputRowSumMap: Parameter
    /// Φ^{O2}, `[E, C]`, pointwise on W_O.
    public let outputPointwiseMap: Parameter
    /// `[E·(2+2D), C·G]`: row (e, slot) with slot 0 → W̃_A, 1 → b̃_A, 2+k → W̃_B[·, k],
    /// 2+D+k → b̃_B[k]; column (d, g) over the invariant vector (see the type's documentation).
    public let globalMap: Parameter
    /// `[E·(2+2D)]`: the constant terms, in ``globalMap``'s row order.
    public let globalBias: Parameter
    /// `[E, C·(D+1)]`: column (d, p) for T_{pj} (p < D), (d, D) for A_{j⋆}.
    public let featureMap: Parameter
    /// `[E·(2+D), C·(D+2)]`: row (e, slot) with slot 0 → W̃_A column term, 1 → b̃_A, 2+q → W̃_B[k, q];
    /// column (d, i) with i = 0 → A_{⋆k}, 1+q → W_B[k, q], D+1 → b_A[k].
    public let hiddenUnitMap: Parameter
    /// `[E, C]`: pointwise on W_A.
    public let pointwiseMap: Parameter

    /// Creates the layer.
    /// - Parameters:
    ///   - heads, feedForwardDimension: used only for the fan-in counts of the initialisation
    ///     (the layer accepts any h and D_A); default 2 and 2D (the Small Transformer Zoo).
    public init(inChannels: Int, outChannels: Int, modelDimension: Int, heads: Int = 2,
                feedForwardDimension: Int? = nil, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && modelDimension > 0 && heads > 0,
                     "TransformerNFNLinear needs positive sizes")
        let c = inChannels, e = outChannels, d = modelDimension, h = heads
        let da = feedForwardDimension ?? 2 * d
        self.inChannels = c
        self.outChannels = e
        self.modelDimension = d
        let g = TransformerNFNTerms.globalLength(modelDimension: d)
        let g2 = TransformerNFNTerms.globalDegreeTwoLength(modelDimension: d)

        // Fan-ins (input scalars per output entry, all terms of that output).
        let qk = c * h * d * d, vo = c * h * d * d
        let fanWA = qk + vo + c * h * d + c * d * da + c * da + c * d + c + c * da * d + c * d + c * da + c + c * d
        let fanBA = qk + vo + c * d * da + c * d + c * da * d + c * d + c * da + c + c * d
        let fanWB = fanBA
        let fanBB = qk + vo + c * d * da + c * da * d + c * da + c * d
        let sQ = TransformerNFNTerms.glorotStd(fanIn: c * d, fanOut: e)
        let sO = TransformerNFNTerms.glorotStd(fanIn: c * d + c, fanOut: e)
        let sWA = TransformerNFNTerms.glorotStd(fanIn: fanWA, fanOut: e)
        let sBA = TransformerNFNTerms.glorotStd(fanIn: fanBA, fanOut: e)
        let sWB = TransformerNFNTerms.glorotStd(fanIn: fanWB, fanOut: e)
        let sBB = TransformerNFNTerms.glorotStd(fanIn: fanBB, fanOut: e)

        queryMap = Parameter(TransformerNFNTerms.gaussian(rows: e * d, columns: c * d, rng: &rng) { _, _ in sQ })
        keyMap = Parameter(TransformerNFNTerms.gaussian(rows: e * d, columns: c * d, rng: &rng) { _, _ in sQ })
        valueMap = Parameter(TransformerNFNTerms.gaussian(rows: e * d, columns: c * d, rng: &rng) { _, _ in sQ })
        outputRowSumMap = Parameter(TransformerNFNTerms.gaussian(rows: e, columns: c, rng: &rng) { _, _ in sO })
        outputPointwiseMap = Parameter(TransformerNFNTerms.gaussian(rows: e, columns: c, rng: &rng) { _, _ in sO })
        let slots = 2 + 2 * d
        globalMap = Parameter(TransformerNFNTerms.gaussian(rows: e * slots, columns: c * g, rng: &rng) { r, k in
            let slot = r % slots
            let sigma = slot == 0 ? sWA : slot == 1 ? sBA : slot < 2 + d ? sWB : sBB
            return k % g < g2 ? sigma * sigma : sigma
        })
        globalBias = Parameter(Tensor(zeros: [e * slots]))
        featureMap = Parameter(TransformerNFNTerms.gaussian(rows: e, columns: c * (d + 1), rng: &rng) { _, k in
            k % (d + 1) < d ? sWA * sWA : sWA
        })
        hiddenUnitMap = Parameter(TransformerNFNTerms.gaussian(rows: e * (2 + d), columns: c * (d + 2), rng: &rng) { r, _ in
            let slot = r % (2 + d)
            return slot == 0 ? sWA : slot == 1 ? sBA : sWB
        })
        pointwiseMap = Parameter(TransformerNFNTerms.gaussian(rows: e, columns: c, rng: &rng) { _, _ in sWA })
        super.init()
    }

    /// Applies the layer: `[B, C, …]` block features → `[B, E, …]`.
    ///
    /// Shapes must be consistent (see ``TransformerBlockVariables``) with C = ``inChannels`` and
    /// D = ``modelDimension``; a mismatch is a programming error (validate user input first, e.g.
    /// with ``TransformerNFNPredictor/validate(_:)``).
    public func callAsFunction(_ x: TransformerBlockVariables) -> TransformerBlockVariables {
        let (h, d, dk, dv, da) = x.dimensions
        let b = x.batchSize, c = inChannels, e = outChannels
        precondition(x.channelCount == c && d == modelDimension,
                     "TransformerNFNLinear(C: \(c), D: \(modelDimension)) got C = \(x.channelCount), D = \(d)")
        let tape = x.tape
        func p(_ parameter: Parameter) -> Variable { parameter.variable(on: tape) }
        let prod = TransformerNFNTerms.products(x)

        // Q, K, V: left-multiplication by Φ [E·D, C·D] of [B, C·D, h·D_k] (rows (d, p), columns (h, k)).
        func leftMap(_ concat: Variable, _ phi: Parameter, width w: Int) -> Variable {
            TransformerNFNTerms.channelMap(p(phi), concat.reshaped([b, c * d, h * w]))   // [B, E·D, h·w]
                .reshaped([b, e, d, h, w]).permuted([0, 1, 3, 2, 4])
        }
        let query = leftMap(prod.queryConcat, queryMap, width: dk)
        let key = leftMap(prod.keyConcat, keyMap, width: dk)
        let value = leftMap(prod.valueConcat, valueMap, width: dv)

        // O: row sums (over the permuted D) broadcast back, plus pointwise channel mixing.
        let oRows = TransformerNFNTerms.channelMap(p(outputRowSumMap), TransformerNFNTerms.marginals(x.output).rows.reshaped([b, c, h * dv]))
            .reshaped([b, e, h, dv, 1])
        let oPoint = TransformerNFNTerms.channelMap(p(outputPointwiseMap), x.output.reshaped([b, c, h * dv * d]))
            .reshaped([b, e, h, dv, d])
        let output = oPoint + oRows

        // Global (invariant) terms: one GEMM [B, C·G] × [C·G, E·(2+2D)].
        let slots = 2 + 2 * d
        let global = (Variable.matmul(TransformerNFNTerms.globalFeatures(x, prod), p(globalMap), transposeB: true)
            + p(globalBias)).reshaped([b, e, slots])
        let gWA = global.slice(axis: 2, 0..<1).reshaped([b, e, 1, 1])
        let gBA = global.slice(axis: 2, 1..<2)                                   // [B, E, 1]
        let gWB = global.slice(axis: 2, 2..<(2 + d)).reshaped([b, e, 1, d])
        let gBB = global.slice(axis: 2, (2 + d)..<slots)                          // [B, E, D]

        // Terms indexed by j ∈ D (π_O): column j of T and row-sum j of W_A.
        let featureInput = Variable.concatenate(
            [prod.valueOutput, prod.inWeightRows.reshaped([b, c, 1, d])], alongAxis: 2)
            .reshaped([b, c * (d + 1), d])
        let rowWA = TransformerNFNTerms.channelMap(p(featureMap), featureInput).reshaped([b, e, d, 1])

        // Terms indexed by a hidden unit k ∈ D_A (π_A): A_{⋆k}, W_B[k, :], b_A[k].
        let unitInput = Variable.concatenate(
            [prod.inWeightColumns.reshaped([b, c, 1, da]),
             x.feedForwardOutWeight.transposed(),
             x.feedForwardInBias.reshaped([b, c, 1, da])], alongAxis: 2)
            .reshaped([b, c * (d + 2), da])
        let unit = TransformerNFNTerms.channelMap(p(hiddenUnitMap), unitInput).reshaped([b, e, 2 + d, da])
        let colWA = unit.slice(axis: 2, 0..<1)                                    // [B, E, 1, D_A]
        let unitBA = unit.slice(axis: 2, 1..<2).reshaped([b, e, da])
        let unitWB = unit.slice(axis: 2, 2..<(2 + d)).transposed()                // [B, E, D_A, D]

        let pointWA = TransformerNFNTerms.channelMap(p(pointwiseMap), x.feedForwardInWeight.reshaped([b, c, d * da]))
            .reshaped([b, e, d, da])

        return TransformerBlockVariables(
            query: query, key: key, value: value, output: output,
            feedForwardInWeight: TransformerNFNTerms.outerSum(pointWA, row: rowWA, column: colWA, scalar: gWA),
            feedForwardInBias: TransformerNFNTerms.outerSum(unitBA, row: gBA),
            feedForwardOutWeight: TransformerNFNTerms.outerSum(unitWB, column: gWB),
            feedForwardOutBias: gBB)
    }
}
