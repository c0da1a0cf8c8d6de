import LinearAlgebra
import Testing

@Suite struct BLASTests {
    /// Row-major op(X) as a plain array, for the naive reference product.
    func materialise<T>(_ x: [T], rows: Int, columns: Int, transposed: Bool) -> [T] {
        guard transposed else { return x }
        return (0..<(rows * columns)).map { x[($0 % rows) * columns + $0 / rows] }
    }

    func randomValues<T: BinaryFloatingPoint>(_ count: Int, _ rng: inout TestRNG) -> [T] {
        Matrix.randomNormal(rows: 1, columns: count, rng: &rng).scalars.map { T($0) }
    }

    @Test(arguments: [Transpose.none, .transpose], [Transpose.none, .transpose])
    func gemmMatchesNaiveProduct(transA: Transpose, transB: Transpose) {
        var rng = TestRNG(seed: 1)
        let (m, n, k) = (5, 4, 6)
        // Stored shapes: A is m×k (or k×m when transposed), B is k×n (or n×k).
        let (aRows, aCols) = transA == .none ? (m, k) : (k, m)
        let (bRows, bCols) = transB == .none ? (k, n) : (n, k)
        let alpha = 1.5, beta = -0.5

        let ad: [Double] = randomValues(m * k, &rng), bd: [Double] = randomValues(k * n, &rng)
        let cd0: [Double] = randomValues(m * n, &rng)
        var cd = cd0
        BLAS.gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: ad, lda: aCols, b: bd, ldb: bCols,
                  beta: beta, c: &cd, ldc: n)
        let pd = naiveProduct(materialise(ad, rows: aRows, columns: aCols, transposed: transA == .transpose),
                              materialise(bd, rows: bRows, columns: bCols, transposed: transB == .transpose),
                              m: m, k: k, n: n)
        for i in 0..<(m * n) { #expect(abs(cd[i] - (alpha * pd[i] + beta * cd0[i])) < 1e-12) }

        let af = ad.map(Float.init), bf = bd.map(Float.init), cf0 = cd0.map(Float.init)
        var cf = cf0
        BLAS.gemm(transA, transB, m: m, n: n, k: k, alpha: Float(alpha), a: af, lda: aCols, b: bf, ldb: bCols,
                  beta: Float(beta), c: &cf, ldc: n)
        let pf = naiveProduct(materialise(af, rows: aRows, columns: aCols, transposed: transA == .transpose),
                              materialise(bf, rows: bRows, columns: bCols, transposed: transB == .transpose),
                              m: m, k: k, n: n)
        for i in 0..<(m * n) { #expect(abs(cf[i] - (Float(alpha) * pf[i] + Float(beta) * cf0[i])) < 1e-4) }
    }

    @Test func gemmWithPaddedLeadingDimensionsAndEmptyInner() {
        // A 2×2 block inside a 2×3 storage (lda = 3); C written into a 2×3 storage (ldc = 3).
        let a: [Float] = [1, 2, 99, 3, 4, 99]
        let b: [Float] = [5, 6, 7, 8]
        var c: [Float] = [0, 0, -1, 0, 0, -1]
        BLAS.gemm(.none, .none, m: 2, n: 2, k: 2, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 3)
        #expect(c == [19, 22, -1, 43, 50, -1])
        // k = 0: C ← β·C.
        var scaled: [Double] = [1, 2, 3, 4]
        BLAS.gemm(.none, .none, m: 2, n: 2, k: 0, a: [0], lda: 1, b: [0], ldb: 2, beta: 3, c: &scaled, ldc: 2)
        #expect(scaled == [3, 6, 9, 12])
    }

    @Test(arguments: [(true, false), (false, true), (false, false)])
    func gemmStridedBatchedMatchesPerMatrixProducts(broadcastA: Bool, broadcastB: Bool) {
        var rng = TestRNG(seed: 2)
        let (batch, m, n, k) = (4, 3, 5, 2)
        let a: [Float] = randomValues((broadcastA ? 1 : batch) * m * k, &rng)
        let b: [Float] = randomValues((broadcastB ? 1 : batch) * k * n, &rng)
        var c = [Float](repeating: .nan, count: batch * m * n)
        BLAS.gemmStridedBatched(.none, .none, m: m, n: n, k: k,
                                a: a, lda: k, strideA: broadcastA ? 0 : m * k,
                                b: b, ldb: n, strideB: broadcastB ? 0 : k * n,
                                c: &c, ldc: n, strideC: m * n, batch: batch)
        for i in 0..<batch {
            let ai = broadcastA ? a : Array(a[(i * m * k)..<((i + 1) * m * k)])
            let bi = broadcastB ? b : Array(b[(i * k * n)..<((i + 1) * k * n)])
            let expected = naiveProduct(ai, bi, m: m, k: k, n: n)
            for j in 0..<(m * n) { #expect(abs(c[i * m * n + j] - expected[j]) < 1e-5) }
        }
    }

    @Test func gemmStridedBatchedWithTransposedBroadcastOperand() {
        // C_b = A_bᵀ · B with B shared (stride 0): the shape Tensor.matmul uses for [..., k, m]ᵀ × [k, n].
        var rng = TestRNG(seed: 3)
        let (batch, m, n, k) = (3, 2, 4, 5)
        let a: [Float] = randomValues(batch * k * m, &rng), b: [Float] = randomValues(k * n, &rng)
        var c = [Float](repeating: 0, count: batch * m * n)
        BLAS.gemmStridedBatched(.transpose, .none, m: m, n: n, k: k, a: a, lda: m, strideA: k * m,
                                b: b, ldb: n, strideB: 0, c: &c, ldc: n, strideC: m * n, batch: batch)
        for i in 0..<batch {
            let ai = materialise(Array(a[(i * k * m)..<((i + 1) * k * m)]), rows: k, columns: m, transposed: true)
            let expected = naiveProduct(ai, b, m: m, k: k, n: n)
            for j in 0..<(m * n) { #expect(abs(c[i * m * n + j] - expected[j]) < 1e-5) }
        }
    }

    /// The β = 1-into-zeros product has the bits of the β = 0 product (whatever C held before),
    /// and a view with a wider row stride leaves the columns between its rows alone.
    @Test func gemmIntoZerosEqualsBetaZeroAndKeepsNeighbouringColumns() {
        var rng = TestRNG(seed: 5)
        let (m, n, k, ldc) = (7, 3, 9, 8)
        let a: [Float] = randomValues(m * k, &rng), b: [Float] = randomValues(k * n, &rng)
        var reference = [Float](repeating: .nan, count: m * ldc)
        var viaZeros = [Float](repeating: 42, count: m * ldc)
        reference.withUnsafeMutableBufferPointer { c in
            BLAS.gemm(.none, .none, m: m, n: n, k: k, alpha: 0.5, a: a, lda: k, b: b, ldb: n, c: c.baseAddress!, ldc: ldc)
        }
        viaZeros.withUnsafeMutableBufferPointer { c in
            BLAS.gemmIntoZeros(.none, .none, m: m, n: n, k: k, alpha: 0.5, a: a, lda: k, b: b, ldb: n, c: c.baseAddress!, ldc: ldc)
        }
        for r in 0..<m {
            for j in 0..<ldc {
                if j < n {
                    #expect(viaZeros[r * ldc + j].bitPattern == reference[r * ldc + j].bitPattern)
                } else {
                    #expect(viaZeros[r * ldc + j] == 42, "column \(j) of row \(r) was written")
                }
            }
        }
    }
}
