import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra

/// A quasi-equivariant Transformer-NFN layer for one encoder block (Tran et al. 2026,
/// *Quasi-Equivariant Metanetworks*, §4.1 and §4.3): f(U) = φ(U) · E(U), with E a
/// ``TransformerNFNLinear`` and φ(U) a learned element of the attention GL group, one per network.
///
/// **φ.** From per-network statistics s (``TransformerWeightSpaceFeatures/quasiStatistics()``:
/// mean, variance, 5 quantiles of all eight tensors of every block, 56·L·C numbers) a small MLP
/// (Linear(S, 32) → ReLU → Linear(32, h·D_k² + h·D_v²)) gives, per head i,
/// M_i = I + γ·sin(MLP(s)_{M,i}) (D_k×D_k) and N_i = I + γ·sin(MLP(s)_{N,i}) (D_v×D_v),
/// γ a learned scalar (init 0.01). They act as the group does (``AttentionGroupElement``):
/// Q̃⁽ⁱ⁾ ← Q̃⁽ⁱ⁾M_i, K̃⁽ⁱ⁾ ← K̃⁽ⁱ⁾M_i⁻ᵀ, Ṽ⁽ⁱ⁾ ← Ṽ⁽ⁱ⁾N_i, Õ⁽ⁱ⁾ ← N_i⁻¹Õ⁽ⁱ⁾; the FFN tensors pass
/// unchanged. Inverses go through ``Autograd/Variable/batchedInverse(conditionLimit:)``.
///
/// **Why it is quasi-equivariant, and what φ's inputs must satisfy** (decision). For any map φ
/// into the group, f(gU) = φ(gU)·g·E(U) = [φ(gU)·g·φ(U)⁻¹]·f(U), and the bracket is a group
/// element g′ — so f is quasi-equivariant whatever φ reads. φ's inputs therefore need **not** be
/// invariant (these statistics are not GL-invariant), but three things are required and hold here:
/// 1. φ(U) depends on network U alone: statistics are per member, never pooled over the batch;
/// 2. it is **one** group element for all E channels — a per-channel M would not commute with the
///    channel mixing of the next equivariant layer, and invariance would be lost;
/// 3. it is invertible: ‖M − I‖₂ ≤ ‖γ·sin(·)‖_F ≤ |γ|·D_k, so |γ|·max(D_k, D_v) < 1 guarantees
///    it (κ ≤ (1 + |γ|n)/(1 − |γ|n)); γ is learned, so every forward pass checks κ ≤
///    ``conditionLimit`` with LAPACK and throws otherwise.
/// By continuity φ cannot choose permutations (Tran et al. 2026, Remark 4.1), so only the GL part
/// is learned. Invariant ∘ quasi-equivariant is invariant (Tran et al. 2026, Prop. 3.3).
///
/// **Caveat (measured in the tests).** Because f(U) differs from E(U) only by a group element,
/// anything invariant placed after it — directly or after further equivariant layers and the
/// masked ReLU, which commute with that element — cannot see φ: in an invariant predictor
/// (``QuasiTransformerNFNPredictor``) φ cancels exactly and its parameters get zero gradient.
/// φ changes the result only where the output itself is equivariant (e.g. weight editing).
///
/// - Complexity: that of E plus O(B·h·(D_k³ + D_v³)) for the inverses and condition checks and
///   O(B·E·D·h·(D_k² + D_v²)) for applying M and N.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let layer = QuasiTransformerNFN(inChannels: 1, outChannels: 4, modelDimension: 8, heads: 2,
///                                 keyDimension: 4, valueDimension: 4, statisticsCount: 56, rng: &rng)
/// // let y = try layer(blockVariables, statistics: Variable(block.quasiStatistics().reshaped([B, 56])))
/// ```
public final class QuasiTransformerNFN: Module {
    /// E, the equivariant part.
    public let linear: TransformerNFNLinear
    /// Linear(statistics, hidden), Linear(hidden, h·D_k² + h·D_v²).
    public let groupLayers: [Dense]
    /// γ, `[1]`.
    public let gamma: Parameter
    public let heads: Int
    public let keyDimension: Int
    public let valueDimension: Int
    /// The largest accepted 2-norm condition number of a learned M_i or N_i.
    public let conditionLimit: Float

    /// - Parameters:
    ///   - statisticsCount: the length S of the statistics vector given to ``callAsFunction(_:statistics:)``.
    ///   - groupHidden: the hidden width of φ's MLP (32 in Tran et al. 2026, App. B.1).
    ///   - gamma: γ's initial value (0.01 in Tran et al. 2026, App. B.1).
    ///   - conditionLimit: refuse M_i, N_i with κ₂ above this.
    public init(inChannels: Int, outChannels: Int, modelDimension: Int, heads: Int, keyDimension: Int,
                valueDimension: Int, feedForwardDimension: Int? = nil, statisticsCount: Int, groupHidden: Int = 32,
                gamma: Float = 0.01, conditionLimit: Float = 1e4, rng: inout SeededGenerator) {
        linear = TransformerNFNLinear(inChannels: inChannels, outChannels: outChannels, modelDimension: modelDimension,
                                      heads: heads, feedForwardDimension: feedForwardDimension, rng: &rng)
        let outputs = heads * (keyDimension * keyDimension + valueDimension * valueDimension)
        groupLayers = [
            Dense(statisticsCount, groupHidden, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng),
            Dense(groupHidden, outputs, initializer: .lecunUniform, biasInitializer: .lecunUniform, rng: &rng),
        ]
        self.gamma = Parameter(Tensor([gamma]))
        self.heads = heads
        self.keyDimension = keyDimension
        self.valueDimension = valueDimension
        self.conditionLimit = conditionLimit
        super.init()
    }

    /// φ(U) from the statistics `[B, S]`: M `[B, h, D_k, D_k]` and N `[B, h, D_v, D_v]`.
    public func groupElement(_ statistics: Variable) -> (queryKey: Variable, valueOutput: Variable) {
        let b = statistics.shape[0], h = heads, dk = keyDimension, dv = valueDimension
        let raw = groupLayers[1](groupLayers[0](statistics).relu()).sin()       // [B, h·(D_k² + D_v²)]
        let g = gamma.variable(on: statistics.tape)
        let mRaw = raw.slice(axis: 1, 0..<(h * dk * dk)).reshaped([b, h, dk, dk])
        let nRaw = raw.slice(axis: 1, (h * dk * dk)..<(h * (dk * dk + dv * dv))).reshaped([b, h, dv, dv])
        let m = mRaw * g + Variable(Tensor.identity(dk))
        let n = nRaw * g + Variable(Tensor.identity(dv))
        return (m, n)
    }

    /// f(U) = φ(U)·E(U): `[B, C, …]` → `[B, E, …]`.
    ///
    /// - Parameter statistics: `[B, S]`, per network (e.g. `quasiStatistics()` of the input
    ///   weight space, as a constant).
    /// - Throws: `LinearAlgebraError` if a learned M_i or N_i is singular or has κ₂ >
    ///   ``conditionLimit`` (then γ has grown too large; see the type's documentation).
    public func callAsFunction(_ x: TransformerBlockVariables, statistics: Variable) throws -> TransformerBlockVariables {
        let (h, _, dk, dv, _) = x.dimensions
        precondition(h == heads && dk == keyDimension && dv == valueDimension,
                     "QuasiTransformerNFN(h: \(heads), D_k: \(keyDimension), D_v: \(valueDimension)) got h = \(h), D_k = \(dk), D_v = \(dv)")
        precondition(statistics.rank == 2 && statistics.shape[0] == x.batchSize, "statistics must be [B, S], got \(statistics.shape)")
        // Put tape-less statistics on the features' tape so that φ's parameters are watched.
        let stats = statistics.tape == nil ? (x.tape?.constant(statistics.value) ?? statistics) : statistics
        let y = linear(x)
        let (m, n) = groupElement(stats)
        let mInv = try m.batchedInverse(conditionLimit: conditionLimit)
        let nInv = try n.batchedInverse(conditionLimit: conditionLimit)
        return QuasiTransformerNFN.act(on: y, queryKey: m, queryKeyInverse: mInv, valueOutput: n, valueOutputInverse: nInv)
    }

    /// The GL part of the group action with per-network matrices (batched over B, shared by all
    /// channels): Q·M, K·M⁻ᵀ, V·N, N⁻¹·O.
    static func act(on y: TransformerBlockVariables, queryKey m: Variable, queryKeyInverse mInv: Variable,
                    valueOutput n: Variable, valueOutputInverse nInv: Variable) -> TransformerBlockVariables {
        let b = y.batchSize, e = y.channelCount
        let (h, d, dk, dv, _) = y.dimensions
        // [B, E, h, D, w] → [B, h, E·D, w] → × [B, h, w, w] → back.
        func right(_ x: Variable, _ a: Variable, width w: Int, transpose: Bool) -> Variable {
            Variable.matmul(x.permuted([0, 2, 1, 3, 4]).reshaped([b, h, e * d, w]), a, transposeB: transpose)
                .reshaped([b, h, e, d, w]).permuted([0, 2, 1, 3, 4])
        }
        var out = y
        out.query = right(y.query, m, width: dk, transpose: false)
        out.key = right(y.key, mInv, width: dk, transpose: true)
        out.value = right(y.value, n, width: dv, transpose: false)
        // O [B, E, h, D_v, D] → [B, h, D_v, E·D]; N⁻¹ × that; back.
        out.output = Variable.matmul(nInv, y.output.permuted([0, 2, 3, 1, 4]).reshaped([b, h, dv, e * d]))
            .reshaped([b, h, dv, e, d]).permuted([0, 3, 1, 2, 4])
        return out
    }
}
