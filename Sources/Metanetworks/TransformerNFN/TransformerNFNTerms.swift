import Tensors
import Autograd
import WeightSpace
import LinearAlgebra

/// Shared building blocks of the Transformer-NFN layers (Tran et al. 2025, *Equivariant Neural
/// Functional Networks for Transformers*, App. I; reference `TransformersLinear` and
/// `TransformersInv` in Fsoft-AIC/Transformer-NFN): the GL-invariant head products and the
/// invariant "global" vector, plus the initialisation rule.
///
/// Every Transformer-NFN term that reads QK⁽ʰ⁾ or VO⁽ʰ⁾ sums over the heads h with a
/// head-independent weight, so only Σ_h QK⁽ʰ⁾ and Σ_h VO⁽ʰ⁾ are needed — and those are one
/// matrix product each: Σ_h Q⁽ʰ⁾K⁽ʰ⁾ᵀ = [Q⁽¹⁾ … Q⁽ʰ⁾]·[K⁽¹⁾ … K⁽ʰ⁾]ᵀ (heads concatenated along
/// the columns) and Σ_h V⁽ʰ⁾O⁽ʰ⁾ = [V⁽¹⁾ … V⁽ʰ⁾]·[O⁽¹⁾; …; O⁽ʰ⁾].
enum TransformerNFNTerms {
    /// The per-block products every term reads.
    struct Products {
        /// Heads concatenated along the columns: `[B, C, D, h·D_k]`.
        var queryConcat: Variable
        var keyConcat: Variable
        /// `[B, C, D, h·D_v]`.
        var valueConcat: Variable
        /// S = Σ_h Q⁽ʰ⁾K⁽ʰ⁾ᵀ, `[B, C, D, D]` (both axes: the block input, unpermuted).
        var queryKey: Variable
        /// T = Σ_h V⁽ʰ⁾O⁽ʰ⁾, `[B, C, D, D]` (rows: block input; columns: permuted by π_O).
        var valueOutput: Variable
        /// t_p = Σ_q T_{pq}, `[B, C, D]`.
        var valueOutputRows: Variable
        /// W_A's row sums A_{j⋆} `[B, C, D]`, column sums A_{⋆k} `[B, C, D_A]`, total `[B, C, 1]`.
        var inWeightRows: Variable
        var inWeightColumns: Variable
        var inWeightTotal: Variable
        /// W_B's column sums B_{⋆q} = Σ_k W_B[k, q], `[B, C, D]`.
        var outWeightColumns: Variable
    }

    /// S and T for a block, as two batched GEMMs over B·C.
    /// - Complexity: O(B·C·D²·h·(D_k + D_v)).
    static func products(_ x: TransformerBlockVariables) -> Products {
        let (h, d, dk, dv, _) = x.dimensions
        let b = x.batchSize, c = x.channelCount
        let qc = x.query.permuted([0, 1, 3, 2, 4]).reshaped([b, c, d, h * dk])
        let kc = x.key.permuted([0, 1, 3, 2, 4]).reshaped([b, c, d, h * dk])
        let vc = x.value.permuted([0, 1, 3, 2, 4]).reshaped([b, c, d, h * dv])
        let s = Variable.matmul(qc, kc, transposeB: true)
        let t = Variable.matmul(vc, x.output.reshaped([b, c, h * dv, d]))
        let tm = marginals(t), am = marginals(x.feedForwardInWeight), bm = marginals(x.feedForwardOutWeight)
        return Products(queryConcat: qc, keyConcat: kc, valueConcat: vc, queryKey: s, valueOutput: t,
                        valueOutputRows: tm.rows, inWeightRows: am.rows, inWeightColumns: am.columns,
                        inWeightTotal: am.total, outWeightColumns: bm.columns)
    }

    /// Row sums `[..., R]`, column sums `[..., C]` and totals `[..., 1]` of `x` `[..., R, C]`, from
    /// one fused pass (the tape records one node; its pullback writes
    /// dx[r, c] = g_row[r] + g_col[c] + g_total in one pass, instead of one broadcast gradient per
    /// reduction).
    /// - Complexity: O(count).
    static func marginals(_ x: Variable) -> (rows: Variable, columns: Variable, total: Variable) {
        let shape = x.shape
        let r = shape[shape.count - 2], c = shape[shape.count - 1]
        let n = x.value.count / Swift.max(r * c, 1)
        let w = r + c + 1
        var out = Tensor(zeros: [n, w])
        x.value.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                for m in 0..<n {
                    let dst = po.baseAddress! + m * w
                    var total: Float = 0
                    for j in 0..<r {
                        let src = px.baseAddress! + (m * r + j) * c
                        var acc: Float = 0
                        for k in 0..<c { acc += src[k]; dst[r + k] += src[k] }
                        dst[j] = acc
                        total += acc
                    }
                    dst[r + c] = total
                }
            }
        }
        let joined = Variable.record(out, inputs: [x]) { g in
            var dx = Tensor(uninitializedShape: shape)
            g.withUnsafeBufferPointer { pg in
                dx.withUnsafeMutableBufferPointer { pd in
                    for m in 0..<n {
                        let gm = pg.baseAddress! + m * w
                        let t = gm[r + c]
                        for j in 0..<r {
                            let dst = pd.baseAddress! + (m * r + j) * c
                            let v = gm[j] + t
                            for k in 0..<c { dst[k] = v + gm[r + k] }
                        }
                    }
                }
            }
            return [dx]
        }
        let lead = Array(shape.dropLast(2))
        return (joined.slice(axis: 1, 0..<r).reshaped(lead + [r]),
                joined.slice(axis: 1, r..<(r + c)).reshaped(lead + [c]),
                joined.slice(axis: 1, (r + c)..<w).reshaped(lead + [1]))
    }

    /// G = D² + 3D + 2: the length of the per-channel invariant vector.
    static func globalLength(modelDimension d: Int) -> Int { d * d + 3 * d + 2 }

    /// The number of leading entries of the per-channel invariant vector that are degree 2
    /// (S and the row sums of T): D² + D.
    static func globalDegreeTwoLength(modelDimension d: Int) -> Int { d * d + d }

    /// The invariant vector per channel, `[B, C·G]`, channel-major, each channel's G entries
    /// laid out as
    /// `[S_{pq} (D², row-major) | t_p = Σ_q T_{pq} (D) | A_⋆⋆ (1) | B_⋆q = Σ_k W_B[k, q] (D) | a_⋆ = Σ_k b_A[k] (1) | β_q = b_B[q] (D)]`.
    /// Every entry is invariant under the whole group (heads, GL, π_O, π_A): S and T are
    /// GL-invariant, and every index permuted by π_O or π_A is summed.
    static func globalFeatures(_ x: TransformerBlockVariables, _ p: Products) -> Variable {
        let (_, d, _, _, _) = x.dimensions
        let b = x.batchSize, c = x.channelCount
        let parts: [Variable] = [
            p.queryKey.reshaped([b, c, d * d]),
            p.valueOutputRows,                                                   // [B, C, D]
            p.inWeightTotal,                                                     // [B, C, 1]
            p.outWeightColumns,                                                  // [B, C, D]
            x.feedForwardInBias.sum(alongAxes: [2]).reshaped([b, c, 1]),
            x.feedForwardOutBias,                                                // [B, C, D]
        ]
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, c * globalLength(modelDimension: d)])
    }

    /// Channel mixing of a batch: `W [M, K] × X [B, K, N] → [B, M, N]` (one weight for every member).
    ///
    /// Forward: strided-batched GEMM. Pullback: dX_b = Wᵀ G_b (strided-batched), and
    /// dW = Σ_b G_b X_bᵀ accumulated in place by B GEMMs with β = 1 — `Variable.matmul` would
    /// materialise every member's `[M, K]` product and then sum them, an extra O(B·M·K) pass.
    /// - Complexity: O(B·M·K·N) forward and backward, in BLAS.
    static func channelMap(_ w: Variable, _ x: Variable) -> Variable {
        precondition(w.rank == 2 && x.rank == 3 && w.shape[1] == x.shape[1],
                     "channelMap needs W [M, K] and X [B, K, N], got \(w.shape) and \(x.shape)")
        let (wv, xv) = (w.value, x.value)
        let (needW, needX) = (w.requiresGradient, x.requiresGradient)
        let out = Tensor.matmul(wv, xv)
        return Variable.record(out, inputs: [w, x]) { g in
            let b = xv.shape[0], k = xv.shape[1], n = xv.shape[2], m = wv.shape[0]
            var dw: Tensor? = nil
            if needW {
                var acc = Tensor(uninitializedShape: [m, k])
                g.withUnsafeBufferPointer { pg in
                    xv.withUnsafeBufferPointer { px in
                        acc.withUnsafeMutableBufferPointer { pc in
                            for i in 0..<b {
                                BLAS.gemm(.none, .transpose, m: m, n: k, k: n,
                                          a: pg.baseAddress! + i * m * n, lda: n,
                                          b: px.baseAddress! + i * k * n, ldb: n,
                                          beta: i == 0 ? 0 : 1, c: pc.baseAddress!, ldc: k)
                            }
                        }
                    }
                }
                dw = acc
            }
            return [dw, needX ? Tensor.matmul(wv, transposeA: true, g) : nil]
        }
    }

    /// y[n, r, c] = point[n, r, c] + row[n, r] + column[n, c] + scalar[n], as one fused pass —
    /// how the terms of W̃_A (pointwise + per-feature + per-hidden-unit + global) and W̃_B are
    /// assembled. `point` has shape `[..., R, C]` (n runs over the leading axes); `row`, `column`
    /// and `scalar` hold N·R, N·C and N elements in any shape (e.g. `[B, E, R, 1]`).
    ///
    /// Pullback: `g` for `point` (no copy), its sums over c, over r, and over both for the others —
    /// two passes, instead of a broadcast add and a `sumToShape` per term.
    /// - Complexity: O(N·R·C).
    static func outerSum(_ point: Variable, row: Variable? = nil, column: Variable? = nil,
                         scalar: Variable? = nil) -> Variable {
        let shape = point.shape
        let r = shape[shape.count - 2], c = shape[shape.count - 1]
        let n = point.value.count / Swift.max(r * c, 1)
        precondition(row.map { $0.value.count == n * r } ?? true && column.map { $0.value.count == n * c } ?? true
                     && scalar.map { $0.value.count == n } ?? true, "outerSum: operand sizes do not match \(shape)")
        var out = point.value
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            if let row {
                row.value.withUnsafeBufferPointer { p in
                    for i in 0..<(n * r) {
                        let v = p[i], dst = base + i * c
                        for k in 0..<c { dst[k] += v }
                    }
                }
            }
            if let column {
                column.value.withUnsafeBufferPointer { p in
                    for m in 0..<n {
                        let src = p.baseAddress! + m * c
                        for j in 0..<r {
                            let dst = base + (m * r + j) * c
                            for k in 0..<c { dst[k] += src[k] }
                        }
                    }
                }
            }
            if let scalar {
                scalar.value.withUnsafeBufferPointer { p in
                    for m in 0..<n {
                        let v = p[m], dst = base + m * r * c
                        for k in 0..<(r * c) { dst[k] += v }
                    }
                }
            }
        }
        let parts = [row, column, scalar]
        let shapes = parts.map { $0?.shape ?? [] }
        let needs = [point.requiresGradient] + parts.map { $0?.requiresGradient ?? false }
        let inputs = [point] + parts.compactMap { $0 }
        let present = parts.map { $0 != nil }
        return Variable.record(out, inputs: inputs) { g in
            var dRow = needs[1] ? Tensor(zeros: shapes[0]) : nil
            var dCol = needs[2] ? Tensor(zeros: shapes[1]) : nil
            var dScalar = needs[3] ? Tensor(zeros: shapes[2]) : nil
            g.withUnsafeBufferPointer { pg in
                let gb = pg.baseAddress!
                if dRow != nil || dScalar != nil {
                    var rows = [Float](repeating: 0, count: n * r)
                    for i in 0..<(n * r) {
                        var acc: Float = 0
                        let src = gb + i * c
                        for k in 0..<c { acc += src[k] }
                        rows[i] = acc
                    }
                    dRow?.withUnsafeMutableBufferPointer { d in for i in 0..<(n * r) { d[i] = rows[i] } }
                    dScalar?.withUnsafeMutableBufferPointer { d in
                        for m in 0..<n { var acc: Float = 0; for j in 0..<r { acc += rows[m * r + j] }; d[m] = acc }
                    }
                }
                dCol?.withUnsafeMutableBufferPointer { d in
                    let db = d.baseAddress!
                    for m in 0..<n {
                        let dst = db + m * c
                        for j in 0..<r {
                            let src = gb + (m * r + j) * c
                            for k in 0..<c { dst[k] += src[k] }
                        }
                    }
                }
            }
            var grads: [Tensor?] = [needs[0] ? g : nil]
            for (i, grad) in [dRow, dCol, dScalar].enumerated() where present[i] { grads.append(grad) }
            return grads
        }
    }

    /// A `[rows, columns]` Gaussian tensor whose entry (r, k) has standard deviation `std(r, k)`.
    static func gaussian(rows: Int, columns: Int, rng: inout SeededGenerator,
                         std: (_ row: Int, _ column: Int) -> Float) -> Tensor {
        var t = Tensor(uninitializedShape: [rows, columns])
        t.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                for k in 0..<columns { p[r * columns + k] = std(r, k) * rng.nextNormal() }
            }
        }
        return t
    }

    /// Glorot-normal standard deviation for an output whose entries sum `fanIn` input scalars
    /// (all terms together, counting every summed head and permuted index) into `fanOut`
    /// channels: √(2 / (fanIn + fanOut)).
    static func glorotStd(fanIn: Int, fanOut: Int) -> Float {
        (2 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
    }
}

extension TransformerBlockVariables {
    /// Throws ``WeightSpaceError/shapeMismatch(_:)`` unless the eight tensors have consistent
    /// Transformer-NFN shapes with `channels` channels and model width `modelDimension`.
    func checkShapes(channels: Int, modelDimension: Int) throws {
        try TransformerBlockVariables.checkShapes(variables.map(\.shape), channels: channels, modelDimension: modelDimension)
    }

    static func checkShapes(_ s: [[Int]], channels: Int, modelDimension d: Int) throws {
        guard s.count == 8, s[0].count == 5 else {
            throw WeightSpaceError.shapeMismatch("a transformer block needs 8 tensors with W_Q of rank 5")
        }
        let b = s[0][0], h = s[0][2], dk = s[0][4]
        guard s[2].count == 5, s[4].count == 4 else {
            throw WeightSpaceError.shapeMismatch("W_V must have rank 5 and W_A rank 4, got \(s[2]) and \(s[4])")
        }
        let dv = s[2][4], da = s[4][3]
        let expected: [[Int]] = [[b, channels, h, d, dk], [b, channels, h, d, dk], [b, channels, h, d, dv],
                                 [b, channels, h, dv, d], [b, channels, d, da], [b, channels, da],
                                 [b, channels, da, d], [b, channels, d]]
        let names = ["W_Q", "W_K", "W_V", "W_O", "W_A", "b_A", "W_B", "b_B"]
        for i in 0..<8 where s[i] != expected[i] {
            throw WeightSpaceError.shapeMismatch("\(names[i]) has shape \(s[i]), expected \(expected[i]) (C = \(channels), D = \(d))")
        }
    }
}
