import Foundation
import Tensors
import Autograd

/// Multi-head scaled dot-product self-attention with explicit per-head weights.
///
/// For `h` heads and model width `D`: head i computes
/// softmax(X W_Q⁽ⁱ⁾ (X W_K⁽ⁱ⁾)ᵀ / √D_k) X W_V⁽ⁱ⁾ W_O⁽ⁱ⁾, and the heads are summed.
/// Weights are stored per head exactly as the weight-space literature writes them
/// (W_Q⁽ⁱ⁾, W_K⁽ⁱ⁾ ∈ ℝ^{D×D_k}, W_V⁽ⁱ⁾ ∈ ℝ^{D×D_v}, W_O⁽ⁱ⁾ ∈ ℝ^{D_v×D}), so group actions
/// (head permutations, GL(D_k) × GL(D_v) per head) apply to them directly.
/// Shapes: `[B, T, D] → [B, T, D]`. Biases are optional (the Small Transformer Zoo has none).
/// Initialisation: Glorot uniform over the stacked projection (fan-in D, fan-out h·D_k).
public final class MultiHeadAttention: Module, Layer {
    /// `[h, D, D_k]`.
    public let query: Parameter
    /// `[h, D, D_k]`.
    public let key: Parameter
    /// `[h, D, D_v]`.
    public let value: Parameter
    /// `[h, D_v, D]`.
    public let output: Parameter
    /// Optional biases: `[h, D_k]`, `[h, D_k]`, `[h, D_v]`, `[D]`.
    public let queryBias: Parameter?, keyBias: Parameter?, valueBias: Parameter?, outputBias: Parameter?

    /// h, D, D_k and D_v.
    public let heads: Int, modelDimension: Int, keyDimension: Int, valueDimension: Int

    /// Creates attention with `h` heads over width `d`, with per-head key width `dk` and value width `dv`
    /// (these need not equal `d / h`).
    ///
    /// - Parameters:
    ///   - bias: whether to add learned biases (zero-initialised); `false` by default.
    ///   - initializer: for the four projections; Q and K use fan-in D and fan-out h·D_k, V fan-in D
    ///     and fan-out h·D_v, the output fan-in h·D_v and fan-out D.
    public init(modelDimension d: Int, heads h: Int, keyDimension dk: Int, valueDimension dv: Int,
                bias: Bool = false, initializer: Initializer = .glorotUniform, rng: inout SeededGenerator) {
        heads = h; modelDimension = d; keyDimension = dk; valueDimension = dv
        query = Parameter(initializer.sample([h, d, dk], fanIn: d, fanOut: h * dk, rng: &rng))
        key = Parameter(initializer.sample([h, d, dk], fanIn: d, fanOut: h * dk, rng: &rng))
        value = Parameter(initializer.sample([h, d, dv], fanIn: d, fanOut: h * dv, rng: &rng))
        output = Parameter(initializer.sample([h, dv, d], fanIn: h * dv, fanOut: d, rng: &rng))
        queryBias = bias ? Parameter(Tensor(zeros: [h, dk])) : nil
        keyBias = bias ? Parameter(Tensor(zeros: [h, dk])) : nil
        valueBias = bias ? Parameter(Tensor(zeros: [h, dv])) : nil
        outputBias = bias ? Parameter(Tensor(zeros: [d])) : nil
        super.init()
    }

    /// Projects `[B·T, D]` rows with per-head weights `[h, D, e]` into `[B, h, T, e]`.
    private func project(_ x2: Variable, _ w: Parameter, _ b: Parameter?, batch: Int, tokens: Int, tape: Tape?) -> Variable {
        let e = w.shape[2]
        // [h, D, e] → [D, h·e] so all heads are one gemm.
        let stacked = w.variable(on: tape).permuted([1, 0, 2]).reshaped([modelDimension, heads * e])
        var y = Variable.matmul(x2, stacked)                                  // [B·T, h·e]
        if let b { y = y + b.variable(on: tape).reshaped([heads * e]) }
        return y.reshaped([batch, tokens, heads, e]).permuted([0, 2, 1, 3])   // [B, h, T, e]
    }

    /// `[B, T, D] → [B, T, D]`, unmasked attention over all T tokens; traps on any other input shape.
    /// - Complexity: O(B·T·D·h·(D_k + D_v)) for the projections plus O(B·h·T²·(D_k + D_v)) for the
    ///   scores and mixing; the `[B·h, T, T]` score matrix is materialised.
    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.rank == 3 && x.shape[2] == modelDimension,
                     "MultiHeadAttention expects [B, T, \(modelDimension)], got \(x.shape)")
        let (b, t) = (x.shape[0], x.shape[1])
        let tape = x.tape
        let x2 = x.reshaped([b * t, modelDimension])
        let q = project(x2, query, queryBias, batch: b, tokens: t, tape: tape).reshaped([b * heads, t, keyDimension])
        let k = project(x2, key, keyBias, batch: b, tokens: t, tape: tape).reshaped([b * heads, t, keyDimension])
        let v = project(x2, value, valueBias, batch: b, tokens: t, tape: tape).reshaped([b * heads, t, valueDimension])
        let scores = Variable.matmul(q, k, transposeB: true) * (1 / Float(keyDimension).squareRoot())
        let attended = Variable.matmul(scores.softmax(alongAxis: -1), v)      // [B·h, T, D_v]
        let merged = attended.reshaped([b, heads, t, valueDimension]).permuted([0, 2, 1, 3])
            .reshaped([b * t, heads * valueDimension])
        var y = Variable.matmul(merged, output.variable(on: tape).reshaped([heads * valueDimension, modelDimension]))
        if let ob = outputBias { y = y + ob.variable(on: tape) }
        return y.reshaped([b, t, modelDimension])
    }
}

/// A pre-LayerNorm transformer encoder block:
/// x ← x + Drop(MHA(LN₁(x))); x ← x + Drop(W_B·ReLU(W_A·LN₂(x) + a) + β).
///
/// With `residual: false` the skips are dropped (x ← Drop(MHA(LN₁(x))), …), as in the Small
/// Transformer Zoo, whose LayerNorms are also non-affine (`affineNorm: false`).
public final class TransformerBlock: Module, Layer {
    /// LN₁, before attention.
    public let norm1: LayerNorm
    /// The multi-head self-attention sublayer.
    public let attention: MultiHeadAttention
    /// LN₂, before the feed-forward sublayer.
    public let norm2: LayerNorm
    /// W_A: D → D_A (with bias a).
    public let feedForwardIn: Dense
    /// W_B: D_A → D (with bias β).
    public let feedForwardOut: Dense
    /// Applied to both sublayer outputs before the residual additions.
    public let dropout: Dropout
    /// Whether the sublayer outputs are added to their inputs (skip connections).
    public let residual: Bool

    /// Creates a block whose attention has no biases and whose feed-forward layers use the ``Dense``
    /// defaults (Glorot-uniform weights, zero biases).
    ///
    /// - Parameters:
    ///   - d: `modelDimension`, D, the token width.
    ///   - heads: h.
    ///   - dk: `keyDimension`, D_k per head.
    ///   - dv: `valueDimension`, D_v per head.
    ///   - da: `feedForwardDimension`, D_A, the hidden width of the feed-forward sublayer.
    ///   - residual: whether to keep the skip connections; `true` by default.
    ///   - affineNorm: whether the two LayerNorms learn γ, β; `true` by default.
    ///   - rate: `dropout`, in [0, 1) for both sublayers; 0 (off) by default. Its mask generator is
    ///     seeded from `rng`.
    ///   - initializer: the weights of the four attention projections and both feed-forward layers
    ///     (biases stay zero); Glorot uniform by default.
    public init(modelDimension d: Int, heads: Int, keyDimension dk: Int, valueDimension dv: Int,
                feedForwardDimension da: Int, residual: Bool = true, affineNorm: Bool = true,
                dropout rate: Float = 0, initializer: Initializer = .glorotUniform, rng: inout SeededGenerator) {
        norm1 = LayerNorm(d, affine: affineNorm)
        attention = MultiHeadAttention(modelDimension: d, heads: heads, keyDimension: dk, valueDimension: dv,
                                       initializer: initializer, rng: &rng)
        norm2 = LayerNorm(d, affine: affineNorm)
        feedForwardIn = Dense(d, da, initializer: initializer, rng: &rng)
        feedForwardOut = Dense(da, d, initializer: initializer, rng: &rng)
        dropout = Dropout(rate: rate, seed: rng.next())
        self.residual = residual
        super.init()
    }

    /// `[B, T, D] → [B, T, D]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        let a = dropout(attention(norm1(x)))
        let h = residual ? x + a : a
        let f = dropout(feedForwardOut(feedForwardIn(norm2(h)).relu()))
        return residual ? h + f : f
    }
}
