import Tensors
import LinearAlgebra
import Autograd
import NeuralNetworks

/// Small differentiable building blocks shared by the NP/HNP layers. Each fused op records one
/// tape node whose pullback captures tensors only (never variables).
enum PermutationOps {
    /// A constant on `reference`'s tape (or a tape-less constant for inference).
    static func constant(_ t: Tensor, like reference: Variable) -> Variable {
        reference.tape?.constant(t) ?? Variable(t)
    }

    /// Mixes the channel axis of `x [B, I, …]` with a shared `weight [O, I]`: `[B, O, …]`.
    ///
    /// One strided-batched GEMM (`weight · x_b` for every member b) in channels-first layout, so no
    /// transpose of the (large) weight-space tensor is needed. The pullback accumulates
    /// `dW = Σ_b g_b · x_bᵀ` in place (β = 1 from the second member on) instead of materialising
    /// one `[O, I]` product per member and summing them, and writes `dx_b = Wᵀ · g_b` directly.
    /// - Complexity: O(B · O · I · N) for N entries per channel, forward and backward, all in BLAS.
    static func channelMix(_ weight: Variable, _ x: Variable) -> Variable {
        let s = x.shape
        precondition(s.count >= 2 && weight.rank == 2 && s[1] == weight.shape[1],
                     "channel mixing: weight \(weight.shape) cannot mix input \(s)")
        let (b, i, o) = (s[0], s[1], weight.shape[0])
        let n = s.dropFirst(2).reduce(1, *)
        let wv = weight.value, xv = x.value
        var y = Tensor(uninitializedShape: [b, o] + Array(s.dropFirst(2)))
        y.withUnsafeMutableBufferPointer { yp in
            mixForward(wv, xv, into: yp.baseAddress!, batch: b, outChannels: o, inChannels: i, entries: n, beta: 0)
        }
        let (needW, needX) = (weight.requiresGradient, x.requiresGradient)
        return Variable.record(y, inputs: [weight, x]) { g in
            let (dw, dx) = mixBackward(g, weight: wv, input: xv, needWeight: needW, needInput: needX,
                                       batch: b, outChannels: o, inChannels: i, entries: n)
            return [dw, dx]
        }
    }

    /// `x [B, D] · weightᵀ + bias`: `[B, O]` for `weight [O, D]`, `bias [O]`.
    static func linear(_ x: Variable, _ weight: Variable, _ bias: Variable?) -> Variable {
        let y = Variable.matmul(x, weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }

    /// `out[b, o, j, k] = pointwise[b, o, j, k] + global[b, o] + columnTerm[b, o, k] + rowTerm[b, o, j]`
    /// in one pass; every term but one may be nil.
    ///
    /// The NP/HNP weight outputs are exactly such sums: a pointwise term, a term broadcast over the
    /// whole matrix, one that varies only with the column k (broadcast over rows) and one that
    /// varies only with the row j (broadcast over columns).
    /// Pullback: `g`, `Σ_{j,k} g`, `Σ_j g`, `Σ_k g`.
    /// - Complexity: O(B·O·n·m) forward and backward, no intermediate full-size tensors.
    static func broadcastCombine(pointwise: Variable?, global: Variable?, columnTerm: Variable?, rowTerm: Variable?,
                                 batch b: Int, channels o: Int, rows n: Int, columns m: Int) -> Variable {
        if let p = pointwise { precondition(p.shape == [b, o, n, m], "pointwise term \(p.shape) ≠ \([b, o, n, m])") }
        checkBroadcastTerms(global: global, columnTerm: columnTerm, rowTerm: rowTerm, batch: b, channels: o, rows: n, columns: m)
        var out = Tensor(uninitializedShape: [b, o, n, m])
        out.withUnsafeMutableBufferPointer { op in
            withOptionalPointer(pointwise?.value) { pp in
                writeBroadcastSum(into: op.baseAddress!, adding: pp, global: global?.value, columnTerm: columnTerm?.value,
                                  rowTerm: rowTerm?.value, blocks: b * o, rows: n, columns: m)
            }
        }
        let terms = [global, columnTerm, rowTerm]
        let needs = terms.map { $0?.requiresGradient ?? false }
        let present = [pointwise != nil] + terms.map { $0 != nil }
        let needPointwise = pointwise?.requiresGradient ?? false
        let inputs = ([pointwise] + terms).compactMap { $0 }
        return Variable.record(out, inputs: inputs) { grad in
            let (dGlobal, dColumn, dRow) = broadcastSums(of: grad, needs: needs, blocks: b * o, rows: n, columns: m)
            let all: [Tensor?] = [needPointwise ? grad : nil,
                                  dGlobal?.reshaped([b, o]), dColumn?.reshaped([b, o, m]), dRow?.reshaped([b, o, n])]
            return zip(all, present).compactMap { $1 ? .some($0) : nil }
        }
    }

    /// `out[b] = weight · x[b] + global + columnTerm + rowTerm` (broadcast as in
    /// ``broadcastCombine(pointwise:global:columnTerm:rowTerm:batch:channels:rows:columns:)``) for
    /// `x [B, I, n, m]` and `weight [O, I]`: the NP/HNP hidden-layer weight output in one node.
    ///
    /// The broadcast terms are written first and the strided-batched gemm accumulates onto them
    /// (β = 1), so neither the channel-mixed term nor a copy of it is ever materialised, and BLAS
    /// does no separate β = 0 pass. Pullback: the sums of ``broadcastCombine`` for the broadcast
    /// terms, `dW = Σ_b g_b · x_bᵀ` (accumulated in place) and `dx_b = Wᵀ · g_b`.
    /// - Complexity: O(B·O·I·n·m) in BLAS plus O(B·O·n·m) forward and backward.
    static func mixCombine(_ weight: Variable, _ x: Variable, global: Variable?, columnTerm: Variable?,
                           rowTerm: Variable?) -> Variable {
        precondition(x.rank == 4 && weight.rank == 2 && weight.shape[1] == x.shape[1],
                     "mixCombine: weight \(weight.shape) cannot mix input \(x.shape)")
        let (b, i, n, m) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = weight.shape[0]
        checkBroadcastTerms(global: global, columnTerm: columnTerm, rowTerm: rowTerm, batch: b, channels: o, rows: n, columns: m)
        var out = Tensor(uninitializedShape: [b, o, n, m])
        let wv = weight.value, xv = x.value
        out.withUnsafeMutableBufferPointer { op in
            writeBroadcastSum(into: op.baseAddress!, adding: nil, global: global?.value, columnTerm: columnTerm?.value,
                              rowTerm: rowTerm?.value, blocks: b * o, rows: n, columns: m)
            mixForward(wv, xv, into: op.baseAddress!, batch: b, outChannels: o, inChannels: i, entries: n * m, beta: 1)
        }
        let terms = [global, columnTerm, rowTerm]
        let needs = terms.map { $0?.requiresGradient ?? false }
        let present = terms.map { $0 != nil }
        let (needW, needX) = (weight.requiresGradient, x.requiresGradient)
        return Variable.record(out, inputs: [weight, x] + terms.compactMap { $0 }) { grad in
            let (dw, dx) = mixBackward(grad, weight: wv, input: xv, needWeight: needW, needInput: needX,
                                       batch: b, outChannels: o, inChannels: i, entries: n * m)
            let (dGlobal, dColumn, dRow) = broadcastSums(of: grad, needs: needs, blocks: b * o, rows: n, columns: m)
            let all: [Tensor?] = [dGlobal?.reshaped([b, o]), dColumn?.reshaped([b, o, m]), dRow?.reshaped([b, o, n])]
            return [dw, dx] + zip(all, present).compactMap { $1 ? .some($0) : nil }
        }
    }

    private static func checkBroadcastTerms(global: Variable?, columnTerm: Variable?, rowTerm: Variable?,
                                            batch b: Int, channels o: Int, rows n: Int, columns m: Int) {
        if let g = global { precondition(g.shape == [b, o], "global term \(g.shape) ≠ \([b, o])") }
        if let c = columnTerm { precondition(c.shape == [b, o, m], "column term \(c.shape) ≠ \([b, o, m])") }
        if let r = rowTerm { precondition(r.shape == [b, o, n], "row term \(r.shape) ≠ \([b, o, n])") }
    }

    /// `out[bo, j, k] = (pointwise[bo, j, k] or 0) + global[bo] + rowTerm[bo, j] + columnTerm[bo, k]`
    /// over `blocks` row-major n×m blocks; absent terms count as 0.
    private static func writeBroadcastSum(into out: UnsafeMutablePointer<Float>, adding pointwise: UnsafePointer<Float>?,
                                          global: Tensor?, columnTerm: Tensor?, rowTerm: Tensor?,
                                          blocks: Int, rows n: Int, columns m: Int) {
        withOptionalPointer(global) { gp in
            withOptionalPointer(columnTerm) { cp in
                withOptionalPointer(rowTerm) { rp in
                    for bo in 0..<blocks {
                        let g0: Float = gp?[bo] ?? 0
                        for j in 0..<n {
                            let shift = g0 + (rp?[bo * n + j] ?? 0)
                            let offset = (bo * n + j) * m
                            let row = out + offset
                            switch (pointwise, cp) {
                            case let (p?, c?):
                                let pr = p + offset, col = c + bo * m
                                for k in 0..<m { row[k] = pr[k] + shift + col[k] }
                            case let (p?, nil):
                                let pr = p + offset
                                for k in 0..<m { row[k] = pr[k] + shift }
                            case let (nil, c?):
                                let col = c + bo * m
                                for k in 0..<m { row[k] = shift + col[k] }
                            case (nil, nil):
                                for k in 0..<m { row[k] = shift }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The gradients of the broadcast terms from `grad [blocks, n, m]`: `Σ_{j,k}`, `Σ_j` (per
    /// column, `[blocks, m]`) and `Σ_k` (per row, `[blocks, n]`), each only where `needs` says so
    /// (global, column, row order).
    private static func broadcastSums(of grad: Tensor, needs: [Bool], blocks: Int, rows n: Int, columns m: Int)
        -> (global: Tensor?, column: Tensor?, row: Tensor?) {
        var dGlobal: Tensor? = needs[0] ? Tensor(zeros: [blocks]) : nil
        var dColumn: Tensor? = needs[1] ? Tensor(zeros: [blocks, m]) : nil
        var dRow: Tensor? = needs[2] ? Tensor(zeros: [blocks, n]) : nil
        guard needs.contains(true) else { return (nil, nil, nil) }
        grad.withUnsafeBufferPointer { gp in
            // Row sums (Σ_k) of every block row: one gemv, [blocks·n, m] · 1.
            if needs[0] || needs[2] {
                var rowSums = dRow ?? Tensor(uninitializedShape: [blocks, n])
                let ones = [Float](repeating: 1, count: m)
                rowSums.withUnsafeMutableBufferPointer { rp in
                    ones.withUnsafeBufferPointer { op in
                        BLAS.gemv(.none, m: blocks * n, n: m, a: gp.baseAddress!, lda: m, x: op.baseAddress!, y: rp.baseAddress!)
                    }
                    withOptionalMutablePointer(&dGlobal) { dg in
                        guard let dg else { return }
                        for bo in 0..<blocks {
                            var total: Float = 0
                            for j in 0..<n { total += rp[bo * n + j] }
                            dg[bo] = total
                        }
                    }
                }
                if needs[2] { dRow = rowSums }
            }
            // Column sums (Σ_j): rows added elementwise (vectorised).
            withOptionalMutablePointer(&dColumn) { dc in
                guard let dc else { return }
                for bo in 0..<blocks {
                    let col = dc + bo * m
                    for j in 0..<n {
                        let row = gp.baseAddress! + (bo * n + j) * m
                        for k in 0..<m { col[k] += row[k] }
                    }
                }
            }
        }
        return (dGlobal, dColumn, dRow)
    }

    /// Below this many entries per member and channel, the channel mixings gather the batch into
    /// one gemm (`[O, I] · [I, B·N]`) instead of B small ones: with N this small, B products of
    /// inner size N spend more time re-reading and re-packing their operands than multiplying
    /// (measured on the Small CNN Zoo's per-row and per-column HNP terms, N = 16).
    static let gatheredMixMaxEntries = 32

    /// `dst[j, a, :] = src[a, j, :]` for `src [outer, inner, block]`: swaps the two leading axes,
    /// moving contiguous blocks.
    private static func swapLeadingAxes(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                                        outer: Int, inner: Int, block n: Int) {
        for a in 0..<outer {
            for j in 0..<inner {
                let s = src + (a * inner + j) * n, d = dst + (j * outer + a) * n
                for k in 0..<n { d[k] = s[k] }
            }
        }
    }

    /// `out_b = W · x_b` (β = 0) or `out_b += W · x_b` (β = 1) for every member b: one
    /// strided-batched gemm with the shared `W [O, I]` and `x [B, I, N]` — or, for β = 0 and
    /// N ≤ ``gatheredMixMaxEntries``, one gemm over the gathered batch.
    private static func mixForward(_ w: Tensor, _ x: Tensor, into out: UnsafeMutablePointer<Float>, batch b: Int,
                                   outChannels o: Int, inChannels i: Int, entries n: Int, beta: Float) {
        w.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                if beta == 0 && b > 1 && n <= gatheredMixMaxEntries {
                    // [B, I, N] → [I, B·N]; one gemm; [O, B, N] → [B, O, N].
                    var xT = Tensor(uninitializedShape: [i, b * n]), yT = Tensor(uninitializedShape: [o, b * n])
                    xT.withUnsafeMutableBufferPointer { xtp in
                        swapLeadingAxes(xp.baseAddress!, into: xtp.baseAddress!, outer: b, inner: i, block: n)
                        yT.withUnsafeMutableBufferPointer { ytp in
                            BLAS.gemm(.none, .none, m: o, n: b * n, k: i, a: wp.baseAddress!, lda: i,
                                      b: xtp.baseAddress!, ldb: b * n, c: ytp.baseAddress!, ldc: b * n)
                            swapLeadingAxes(ytp.baseAddress!, into: out, outer: o, inner: b, block: n)
                        }
                    }
                    return
                }
                BLAS.gemmStridedBatched(.none, .none, m: o, n: n, k: i, a: wp.baseAddress!, lda: i, strideA: 0,
                                        b: xp.baseAddress!, ldb: n, strideB: i * n,
                                        beta: beta, c: out, ldc: n, strideC: o * n, batch: b)
            }
        }
    }

    /// The pullback of ``mixForward``: `dW = Σ_b g_b · x_bᵀ` accumulated in place (β = 1 from the
    /// second member on) and `dx_b = Wᵀ · g_b`, each only when needed; for N ≤
    /// ``gatheredMixMaxEntries`` both are single gemms over the gathered batch.
    private static func mixBackward(_ g: Tensor, weight w: Tensor, input x: Tensor, needWeight: Bool, needInput: Bool,
                                    batch b: Int, outChannels o: Int, inChannels i: Int, entries n: Int) -> (Tensor?, Tensor?) {
        var dw: Tensor? = nil, dx: Tensor? = nil
        if b > 1 && n <= gatheredMixMaxEntries {
            var gT = Tensor(uninitializedShape: [o, b * n])
            g.withUnsafeBufferPointer { gp in
                gT.withUnsafeMutableBufferPointer { swapLeadingAxes(gp.baseAddress!, into: $0.baseAddress!, outer: b, inner: o, block: n) }
            }
            gT.withUnsafeBufferPointer { gtp in
                if needWeight {
                    var xT = Tensor(uninitializedShape: [i, b * n]), d = Tensor(uninitializedShape: [o, i])
                    x.withUnsafeBufferPointer { xp in
                        xT.withUnsafeMutableBufferPointer { swapLeadingAxes(xp.baseAddress!, into: $0.baseAddress!, outer: b, inner: i, block: n) }
                    }
                    xT.withUnsafeBufferPointer { xtp in
                        d.withUnsafeMutableBufferPointer { dp in
                            BLAS.gemm(.none, .transpose, m: o, n: i, k: b * n, a: gtp.baseAddress!, lda: b * n,
                                      b: xtp.baseAddress!, ldb: b * n, c: dp.baseAddress!, ldc: i)
                        }
                    }
                    dw = d
                }
                if needInput {
                    var dT = Tensor(uninitializedShape: [i, b * n]), d = Tensor(uninitializedShape: x.shape)
                    w.withUnsafeBufferPointer { wp in
                        dT.withUnsafeMutableBufferPointer { dtp in
                            BLAS.gemm(.transpose, .none, m: i, n: b * n, k: o, a: wp.baseAddress!, lda: i,
                                      b: gtp.baseAddress!, ldb: b * n, c: dtp.baseAddress!, ldc: b * n)
                            d.withUnsafeMutableBufferPointer { swapLeadingAxes(dtp.baseAddress!, into: $0.baseAddress!, outer: i, inner: b, block: n) }
                        }
                    }
                    dx = d
                }
            }
            return (dw, dx)
        }
        g.withUnsafeBufferPointer { gp in
            if needWeight {
                var d = Tensor(zeros: [o, i])
                d.withUnsafeMutableBufferPointer { dp in
                    x.withUnsafeBufferPointer { xp in
                        for member in 0..<b {
                            BLAS.gemm(.none, .transpose, m: o, n: i, k: n, a: gp.baseAddress! + member * o * n, lda: n,
                                      b: xp.baseAddress! + member * i * n, ldb: n, beta: member == 0 ? 0 : 1,
                                      c: dp.baseAddress!, ldc: i)
                        }
                    }
                }
                dw = d
            }
            if needInput {
                var d = Tensor(uninitializedShape: x.shape)
                d.withUnsafeMutableBufferPointer { dp in
                    w.withUnsafeBufferPointer { wp in
                        BLAS.gemmStridedBatched(.transpose, .none, m: i, n: n, k: o, a: wp.baseAddress!, lda: i, strideA: 0,
                                                b: gp.baseAddress!, ldb: n, strideB: o * n,
                                                c: dp.baseAddress!, ldc: n, strideC: i * n, batch: b)
                    }
                }
                dx = d
            }
        }
        return (dw, dx)
    }

    /// Normalises `x [B, F, N]` over its channel axis F at every entry:
    /// `x̂ = (x − μ) / √(σ² + ε)` with μ, σ² the mean and population variance over F.
    /// Pullback: `dx = r · (g − mean_F g − x̂ · mean_F(g ⊙ x̂))`, r = 1/√(σ² + ε).
    /// - Complexity: O(B·F·N), entry-contiguous inner loops.
    static func channelNormalize(_ x: Variable, epsilon: Float) -> Variable {
        precondition(x.rank == 3, "channelNormalize expects [B, F, N], got \(x.shape)")
        let (b, f, n) = (x.shape[0], x.shape[1], x.shape[2])
        var y = Tensor(uninitializedShape: x.shape)
        var inv = Tensor(zeros: [b, n])
        let scale = 1 / Float(Swift.max(f, 1))
        x.value.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                inv.withUnsafeMutableBufferPointer { ip in
                    var mean = [Float](repeating: 0, count: n)
                    for bi in 0..<b {
                        let xb = xp.baseAddress! + bi * f * n, yb = yp.baseAddress! + bi * f * n
                        let ib = ip.baseAddress! + bi * n
                        for k in 0..<n { mean[k] = 0; ib[k] = 0 }
                        for c in 0..<f { let row = xb + c * n; for k in 0..<n { mean[k] += row[k] } }
                        for k in 0..<n { mean[k] *= scale }
                        for c in 0..<f {
                            let row = xb + c * n
                            for k in 0..<n { let d = row[k] - mean[k]; ib[k] += d * d }
                        }
                        for k in 0..<n { ib[k] = 1 / (ib[k] * scale + epsilon).squareRoot() }
                        for c in 0..<f {
                            let row = xb + c * n, out = yb + c * n
                            for k in 0..<n { out[k] = (row[k] - mean[k]) * ib[k] }
                        }
                    }
                }
            }
        }
        let normalized = y, inverse = inv
        return Variable.record(y, inputs: [x]) { g in
            var dx = Tensor(uninitializedShape: [b, f, n])
            g.withUnsafeBufferPointer { gp in
                normalized.withUnsafeBufferPointer { yp in
                    inverse.withUnsafeBufferPointer { ip in
                        dx.withUnsafeMutableBufferPointer { dp in
                            var meanG = [Float](repeating: 0, count: n), meanGY = [Float](repeating: 0, count: n)
                            for bi in 0..<b {
                                let off = bi * f * n
                                for k in 0..<n { meanG[k] = 0; meanGY[k] = 0 }
                                for c in 0..<f {
                                    let gr = gp.baseAddress! + off + c * n, yr = yp.baseAddress! + off + c * n
                                    for k in 0..<n { meanG[k] += gr[k]; meanGY[k] += gr[k] * yr[k] }
                                }
                                for k in 0..<n { meanG[k] *= scale; meanGY[k] *= scale }
                                let ib = ip.baseAddress! + bi * n
                                for c in 0..<f {
                                    let gr = gp.baseAddress! + off + c * n, yr = yp.baseAddress! + off + c * n
                                    let dr = dp.baseAddress! + off + c * n
                                    for k in 0..<n { dr[k] = ib[k] * (gr[k] - meanG[k] - yr[k] * meanGY[k]) }
                                }
                            }
                        }
                    }
                }
            }
            return [dx]
        }
    }

    /// ReLU, `max(x, 0)` (0 for NaN), with pullback `g · [x > 0]`: both passes are plain loops the
    /// compiler vectorises (the generic elementwise map calls a closure per element). The pullback
    /// reads the output's sign, so it keeps no extra tensor alive.
    static func relu(_ x: Variable) -> Variable {
        let xv = x.value
        var y = Tensor(uninitializedShape: xv.shape)
        xv.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                for i in 0..<xp.count { let v = xp[i]; yp[i] = v > 0 ? v : 0 }
            }
        }
        let output = y
        return Variable.record(y, inputs: [x]) { g in
            var d = Tensor(uninitializedShape: g.shape)
            g.withUnsafeBufferPointer { gp in
                output.withUnsafeBufferPointer { yp in
                    d.withUnsafeMutableBufferPointer { dp in
                        for i in 0..<gp.count { dp[i] = yp[i] > 0 ? gp[i] : 0 }
                    }
                }
            }
            return [d]
        }
    }

    /// A parameter drawn from U(−bound, bound).
    static func uniform(_ shape: [Int], bound: Float, rng: inout SeededGenerator) -> Parameter {
        Parameter(Tensor.uniform(shape, low: -bound, high: bound, rng: &rng))
    }
}

@inline(__always)
private func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withUnsafeBufferPointer { body($0.baseAddress) }
}

@inline(__always)
private func withOptionalMutablePointer<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard t != nil else { return body(nil) }
    return t!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

extension PermutationOps {
    /// For every batch item, the transpose of a row-major `rows × cols` matrix: `[batch, rows, cols]`
    /// → `[batch, cols, rows]`, in 8×8 tiles so reads and writes both stay cache-friendly.
    /// - Complexity: O(batch·rows·cols).
    static func batchedTranspose(_ x: Tensor, batch: Int, rows: Int, columns: Int) -> Tensor {
        precondition(x.count == batch * rows * columns, "batchedTranspose: \(x.shape) is not \(batch)×\(rows)×\(columns)")
        var out = Tensor(uninitializedShape: [batch, columns, rows])
        let tile = 8
        x.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { dp in
                let s0 = sp.baseAddress!, d0 = dp.baseAddress!
                for bi in 0..<batch {
                    let s = s0 + bi * rows * columns, d = d0 + bi * rows * columns
                    if rows * columns <= 8192 {
                        // The matrix fits in L1: run the inner loop along the longer side (few
                        // passes, one of the two accesses contiguous).
                        if rows >= columns {
                            for c in 0..<columns { let dc = d + c * rows; for r in 0..<rows { dc[r] = s[r * columns + c] } }
                        } else {
                            for r in 0..<rows { let sr = s + r * columns; for c in 0..<columns { d[c * rows + r] = sr[c] } }
                        }
                        continue
                    }
                    var r0 = 0
                    while r0 < rows {
                        let r1 = Swift.min(r0 + tile, rows)
                        var c0 = 0
                        while c0 < columns {
                            let c1 = Swift.min(c0 + tile, columns)
                            for r in r0..<r1 { for c in c0..<c1 { d[c * rows + r] = s[r * columns + c] } }
                            c0 = c1
                        }
                        r0 = r1
                    }
                }
            }
        }
        return out
    }

    /// Differentiable ``batchedTranspose(_:batch:rows:columns:)`` of `x` (any shape with
    /// `batch·rows·columns` elements), reshaped to `shape`. Pullback: the transpose back.
    static func transposeBlocks(_ x: Variable, batch: Int, rows: Int, columns: Int, shape: [Int]) -> Variable {
        let inShape = x.shape
        let y = batchedTranspose(x.value, batch: batch, rows: rows, columns: columns).reshaped(shape)
        return Variable.record(y, inputs: [x]) { g in
            [batchedTranspose(g, batch: batch, rows: columns, columns: rows).reshaped(inShape)]
        }
    }

    /// The row and column means of `w [B, F, n, m]` in one pass: `overRows [B, F, m]`
    /// (W_{⋆,k}, the mean over the n rows) and `overColumns [B, F, n]` (W_{j,⋆}).
    /// Pullback, in one pass too: `dW_jk = dR_k / n + dC_j / m`.
    /// - Complexity: O(B·F·n·m).
    static func rowColumnMeans(_ w: Variable) -> (overRows: Variable, overColumns: Variable) {
        precondition(w.rank == 4, "rowColumnMeans expects [B, F, n, m], got \(w.shape)")
        let (b, f, n, m) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        var rows = Tensor(zeros: [b, f, m]), cols = Tensor(uninitializedShape: [b, f, n])
        let invN = 1 / Float(n), invM = 1 / Float(m)
        w.value.withUnsafeBufferPointer { wp in
            rows.withUnsafeMutableBufferPointer { rp in
                cols.withUnsafeMutableBufferPointer { cp in
                    // Means over the columns of every row: one gemv, [B·F·n, m] · (1/m)·1.
                    let ones = [Float](repeating: 1, count: m)
                    ones.withUnsafeBufferPointer { op in
                        BLAS.gemv(.none, m: b * f * n, n: m, alpha: invM, a: wp.baseAddress!, lda: m,
                                  x: op.baseAddress!, y: cp.baseAddress!)
                    }
                    // Means over the rows: rows added elementwise (a loop without a carried
                    // reduction, so it vectorises).
                    for bf in 0..<(b * f) {
                        let block = wp.baseAddress! + bf * n * m, r = rp.baseAddress! + bf * m
                        for j in 0..<n {
                            let row = block + j * m
                            for k in 0..<m { r[k] += row[k] }
                        }
                        for k in 0..<m { r[k] *= invN }
                    }
                }
            }
        }
        // Both outputs share one pullback through a joint node: record the concatenation, then
        // slice it, so the input gradient is written in a single pass.
        let joint = Tensor.concatenate([rows, cols], alongAxis: 2)          // [B, F, m + n]
        let inShape = w.shape
        let both = Variable.record(joint, inputs: [w]) { g in
            var d = Tensor(uninitializedShape: inShape)
            g.withUnsafeBufferPointer { gp in
                d.withUnsafeMutableBufferPointer { dp in
                    for bf in 0..<(b * f) {
                        let gr = gp.baseAddress! + bf * (m + n), gc = gr + m
                        let block = dp.baseAddress! + bf * n * m
                        for j in 0..<n {
                            let row = block + j * m, cj = gc[j] * invM
                            for k in 0..<m { row[k] = gr[k] * invN + cj }
                        }
                    }
                }
            }
            return [d]
        }
        return (both.slice(axis: 2, 0..<m), both.slice(axis: 2, m..<(m + n)))
    }
}
