import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra

/// The relaxed quasi-equivariant Transformer-NFN layer (Tran et al. 2026, *Quasi-Equivariant
/// Metanetworks*, §4.3): f(U) = φ̃(U)·E(U) where φ̃(U) is the strict layer's group element
/// (``QuasiTransformerNFN``: per head M_i ∈ GL(D_k), N_i ∈ GL(D_v)) plus learned structured noise
/// that **leaves the group**: off-diagonal blocks between heads on the query and value side.
///
/// With the heads' columns concatenated, M̃ = blockdiag(M_1 … M_h) + β·(1 − blockdiag(1))⊙sin(Dense(hidden))
/// ((h·D_k)×(h·D_k)) and Ñ alike ((h·D_v)×(h·D_v)), and
/// Q ← Q M̃, K ← K M⁻ᵀ, V ← V Ñ, O ← N⁻¹ O, with M = blockdiag(M_i), N = blockdiag(N_i) the strict
/// part. With β = 0 this is the strict layer. With β ≠ 0 the pair no longer cancels:
/// Q̃K̃ᵀ = Q M̃ M⁻¹ Kᵀ ≠ Q Kᵀ (and ṼÕ ≠ VO), so φ̃(U) is not a symmetry and an invariant head after
/// it is **not** exactly invariant any more; φ̃'s parameters get a gradient — the point of the
/// relaxation (tested both ways). (Tying the key side to M̃⁻ᵀ instead would not do: the
/// Transformer-NFN readout only sees head-summed products such as Σ_i Q_i K_iᵀ, which a full
/// GL(h·D_k) pair leaves unchanged — measured: deviation 8e-7.)
///
/// β is learned (initial value `noiseScale`, 0.01); the hidden layer of φ's MLP is shared with the
/// strict part. M and N are inverted per head with a condition check (κ₂ ≤ `conditionLimit`).
///
/// - Complexity: that of ``QuasiTransformerNFN`` plus O(B·E·D·(h·D_k)² + B·E·D·(h·D_v)²) for
///   the full query and value products.
public final class RelaxedQuasiTransformerNFN: Module {
    /// The strict layer: E, φ's MLP and γ.
    public let strict: QuasiTransformerNFN
    /// hidden → (h·D_k)² + (h·D_v)²: the raw noise (only its off-diagonal blocks are used).
    public let noiseLayer: Dense
    /// β, `[1]`: the scale of the off-diagonal noise.
    public let noiseScale: Parameter
    let queryKeyMask: Tensor
    let valueOutputMask: Tensor

    /// - Parameters: as ``QuasiTransformerNFN``, plus β's initial value.
    public init(inChannels: Int, outChannels: Int, modelDimension: Int, heads: Int, keyDimension: Int,
                valueDimension: Int, feedForwardDimension: Int? = nil, statisticsCount: Int, groupHidden: Int = 32,
                gamma: Float = 0.01, noiseScale: Float = 0.01, conditionLimit: Float = 1e4, rng: inout SeededGenerator) {
        strict = QuasiTransformerNFN(inChannels: inChannels, outChannels: outChannels, modelDimension: modelDimension,
                                     heads: heads, keyDimension: keyDimension, valueDimension: valueDimension,
                                     feedForwardDimension: feedForwardDimension, statisticsCount: statisticsCount,
                                     groupHidden: groupHidden, gamma: gamma, conditionLimit: conditionLimit, rng: &rng)
        let hk = heads * keyDimension, hv = heads * valueDimension
        noiseLayer = Dense(groupHidden, hk * hk + hv * hv, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng)
        self.noiseScale = Parameter(Tensor([noiseScale]))
        queryKeyMask = Self.offDiagonalMask(heads: heads, block: keyDimension)
        valueOutputMask = Self.offDiagonalMask(heads: heads, block: valueDimension)
        super.init()
    }

    /// `[h·n, h·n]`: 1 outside the h diagonal n×n blocks, 0 inside.
    static func offDiagonalMask(heads h: Int, block n: Int) -> Tensor {
        var m = Tensor(zeros: [h * n, h * n])
        m.withUnsafeMutableBufferPointer { p in
            for r in 0..<(h * n) { for c in 0..<(h * n) where r / n != c / n { p[r * h * n + c] = 1 } }
        }
        return m
    }

    /// `[B, h, n, n]` blocks → `[B, h·n, h·n]` block-diagonal.
    static func blockDiagonal(_ blocks: Variable) -> Variable {
        let b = blocks.shape[0], h = blocks.shape[1], n = blocks.shape[2]
        var delta = Tensor(zeros: [1, h, 1, h, 1])
        delta.withUnsafeMutableBufferPointer { p in for i in 0..<h { p[i * h + i] = 1 } }
        let d = blocks.tape?.constant(delta) ?? Variable(delta)
        return (blocks.reshaped([b, h, n, 1, n]) * d).reshaped([b, h * n, h * n])
    }

    /// φ̃(U) from the statistics `[B, S]`: M̃ `[B, h·D_k, h·D_k]` and Ñ `[B, h·D_v, h·D_v]`.
    public func groupElement(_ statistics: Variable) -> (queryKey: Variable, valueOutput: Variable) {
        let p = parts(statistics)
        return (p.noisyQuery, p.noisyValue)
    }

    /// The strict per-head M `[B, h, D_k, D_k]`, N `[B, h, D_v, D_v]` and the noisy M̃, Ñ.
    func parts(_ statistics: Variable) -> (m: Variable, n: Variable, noisyQuery: Variable, noisyValue: Variable) {
        let b = statistics.shape[0], hk = strict.heads * strict.keyDimension, hv = strict.heads * strict.valueDimension
        let (m, n) = strict.groupElement(statistics)
        let hidden = strict.groupLayers[0](statistics).relu()
        let raw = noiseLayer(hidden).sin()
        let beta = noiseScale.variable(on: statistics.tape)
        func constant(_ t: Tensor) -> Variable { statistics.tape?.constant(t) ?? Variable(t) }
        let mNoise = raw.slice(axis: 1, 0..<(hk * hk)).reshaped([b, hk, hk]) * constant(queryKeyMask) * beta
        let nNoise = raw.slice(axis: 1, (hk * hk)..<(hk * hk + hv * hv)).reshaped([b, hv, hv]) * constant(valueOutputMask) * beta
        return (m, n, Self.blockDiagonal(m) + mNoise, Self.blockDiagonal(n) + nNoise)
    }

    /// f(U) = φ̃(U)·E(U): `[B, C, …]` → `[B, E, …]`.
    ///
    /// - Throws: `LinearAlgebraError` if a strict M_i or N_i is singular or has κ₂ above the strict layer's
    ///   ``QuasiTransformerNFN/conditionLimit``.
    public func callAsFunction(_ x: TransformerBlockVariables, statistics: Variable) throws -> TransformerBlockVariables {
        let (h, _, dk, dv, _) = x.dimensions
        precondition(h == strict.heads && dk == strict.keyDimension && dv == strict.valueDimension,
                     "RelaxedQuasiTransformerNFN(h: \(strict.heads), D_k: \(strict.keyDimension), D_v: \(strict.valueDimension)) got h = \(h), D_k = \(dk), D_v = \(dv)")
        precondition(statistics.rank == 2 && statistics.shape[0] == x.batchSize, "statistics must be [B, S], got \(statistics.shape)")
        let stats = statistics.tape == nil ? (x.tape?.constant(statistics.value) ?? statistics) : statistics
        let y = strict.linear(x)
        let (m, n, mNoisy, nNoisy) = parts(stats)
        // The strict part's inverses, per head (block-diagonal), checked for conditioning.
        let mInv = Self.blockDiagonal(try m.batchedInverse(conditionLimit: strict.conditionLimit))
        let nInv = Self.blockDiagonal(try n.batchedInverse(conditionLimit: strict.conditionLimit))
        return Self.act(on: y, queryKey: mNoisy, keyInverse: mInv, valueOutput: nNoisy, outputInverse: nInv)
    }

    /// Q·M̃, K·M⁻ᵀ, V·Ñ, N⁻¹·O with the heads concatenated (batched over B, shared by channels).
    static func act(on y: TransformerBlockVariables, queryKey m: Variable, keyInverse mInv: Variable,
                    valueOutput n: Variable, outputInverse nInv: Variable) -> TransformerBlockVariables {
        let b = y.batchSize, e = y.channelCount
        let (h, d, dk, dv, _) = y.dimensions
        // [B, E, h, D, w] → [B, E·D, h·w] → × [B, h·w, h·w] → back.
        func right(_ x: Variable, _ a: Variable, width w: Int, transpose: Bool) -> Variable {
            Variable.matmul(x.permuted([0, 1, 3, 2, 4]).reshaped([b, e * d, h * w]), a, transposeB: transpose)
                .reshaped([b, e, d, h, w]).permuted([0, 1, 3, 2, 4])
        }
        var out = y
        out.query = right(y.query, m, width: dk, transpose: false)
        out.key = right(y.key, mInv, width: dk, transpose: true)
        out.value = right(y.value, n, width: dv, transpose: false)
        // O [B, E, h, D_v, D] → [B, h·D_v, E·D]; N⁻¹ × that; back.
        out.output = Variable.matmul(nInv, y.output.permuted([0, 2, 3, 1, 4]).reshaped([b, h * dv, e * d]))
            .reshaped([b, h, dv, e, d]).permuted([0, 3, 1, 2, 4])
        return out
    }
}
