import LinearAlgebra

extension Tensor {
    /// The matrix product through BLAS sgemm.
    ///
    /// Shapes: `[m, k] × [k, n] → [m, n]`; batched `[..., m, k] × [..., k, n]` with equal leading
    /// dimensions; or `[..., m, k] × [k, n]`, which is folded into one large gemm.
    /// `transposeA`/`transposeB` use the transpose of the last two axes without copying.
    /// - Complexity: O(batch·m·n·k), in BLAS.
    public static func matmul(_ a: Tensor, transposeA: Bool = false,
                              _ b: Tensor, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2, got \(a.shape) and \(b.shape)")
        let ar = a.rank, br = b.rank
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        let lda = a.shape[ar - 1], ldb = b.shape[br - 1]
        let ta: Transpose = transposeA ? .transpose : .none
        let tb: Transpose = transposeB ? .transpose : .none
        let batchA = Array(a.shape.dropLast(2))
        if br == 2 {
            let batch = batchA.reduce(1, *)
            let out = Tensor(uninitializedShape: batchA + [m, n])
            if !transposeA {
                // Fold the batch into the rows: one large gemm.
                BLAS.gemm(ta, tb, m: batch * m, n: n, k: k, a: a.buffer.base, lda: lda,
                          b: b.buffer.base, ldb: ldb, c: out.buffer.base, ldc: n)
            } else {
                BLAS.gemmStridedBatched(ta, tb, m: m, n: n, k: k, a: a.buffer.base, lda: lda, strideA: m * k,
                                        b: b.buffer.base, ldb: ldb, strideB: 0,
                                        c: out.buffer.base, ldc: n, strideC: m * n, batch: batch)
            }
            return out
        }
        let batchB = Array(b.shape.dropLast(2))
        if ar == 2 {
            let batch = batchB.reduce(1, *)
            let out = Tensor(uninitializedShape: batchB + [m, n])
            BLAS.gemmStridedBatched(ta, tb, m: m, n: n, k: k, a: a.buffer.base, lda: lda, strideA: 0,
                                    b: b.buffer.base, ldb: ldb, strideB: k * n,
                                    c: out.buffer.base, ldc: n, strideC: m * n, batch: batch)
            return out
        }
        precondition(batchA == batchB, "matmul batch dimensions differ: \(a.shape) × \(b.shape)")
        let batch = batchA.reduce(1, *)
        let out = Tensor(uninitializedShape: batchA + [m, n])
        BLAS.gemmStridedBatched(ta, tb, m: m, n: n, k: k, a: a.buffer.base, lda: lda, strideA: m * k,
                                b: b.buffer.base, ldb: ldb, strideB: k * n,
                                c: out.buffer.base, ldc: n, strideC: m * n, batch: batch)
        return out
    }

    /// `self` × `other` (see ``matmul(_:transposeA:_:transposeB:)``).
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
}
