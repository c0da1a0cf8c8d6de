import CNFNBLAS

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transpose

    @inlinable var cblas: CBLAS_TRANSPOSE {
        switch self {
        case .none: return CblasNoTrans
        case .transpose: return CblasTrans
        }
    }
}

/// Thin, typed wrappers over CBLAS (OpenBLAS). All matrices are row-major.
///
/// These are the hot paths of the framework: tensors call them directly on their storage, so
/// no copies are made here. Leading dimensions follow BLAS conventions (row stride, in elements).
public enum BLAS {
    /// C ← α·op(A)·op(B) + β·C for single precision, row-major.
    ///
    /// - Parameters:
    ///   - m: rows of op(A) and C. - n: columns of op(B) and C. - k: columns of op(A), rows of op(B).
    /// - Complexity: O(m·n·k) floating-point operations, multithreaded by OpenBLAS.
    @inlinable
    public static func gemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k == 0 only when β == 1; scale explicitly.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision C ← α·op(A)·op(B) + β·C, row-major.
    @inlinable
    public static func gemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_dgemm(CblasRowMajor, transA.cblas, transB.cblas,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Strided-batched single-precision gemm: for b in 0..<batch,
    /// C_b ← α·op(A_b)·op(B_b) + β·C_b with A_b = a + b·strideA (and likewise B, C).
    ///
    /// A stride of 0 broadcasts one operand over the batch. Small products are issued back to
    /// back with one BLAS thread each so tiny per-head matrices do not pay thread wake-ups.
    /// - Complexity: O(batch·m·n·k).
    public static func gemmStridedBatched(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int,
        batch: Int
    ) {
        guard batch > 0 else { return }
        for i in 0..<batch {
            gemm(transA, transB, m: m, n: n, k: k, alpha: alpha,
                 a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                 beta: beta, c: c + i * strideC, ldc: ldc)
        }
    }

    /// C ← α·op(A)·op(B) (β = 0) for row-major C of m rows with leading dimension `ldc`, computed
    /// as β = 1 into C filled with zeros: the same bits (OpenBLAS's β = 0 first writes +0 into C,
    /// then adds α·A·B to it block by block, exactly as it does from these zeros), but `memset`'s
    /// zeros instead of OpenBLAS's scaling pass over C, which costs as much as the product when
    /// the inner dimension is small (a tenth of a SIREN step, a twentieth of a CNN step).
    /// - Complexity: O(m·n·k), plus O(m·ldc) for the zeros.
    public static func gemmIntoZeros(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        zeroRows(c, rows: m, columns: n, ldc: ldc)
        gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: c, ldc: ldc)
    }

    /// ``gemmStridedBatched(_:_:m:n:k:alpha:a:lda:strideA:b:ldb:strideB:beta:c:ldc:strideC:batch:)``
    /// with β = 0, as ``gemmIntoZeros(_:_:m:n:k:alpha:a:lda:b:ldb:c:ldc:)`` does it: each C block
    /// zeroed, then β = 1.
    public static func gemmStridedBatchedIntoZeros(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int, batch: Int
    ) {
        guard batch > 0, m > 0, n > 0 else { return }
        for i in 0..<batch { zeroRows(c + i * strideC, rows: m, columns: n, ldc: ldc) }
        gemmStridedBatched(transA, transB, m: m, n: n, k: k, a: a, lda: lda, strideA: strideA,
                           b: b, ldb: ldb, strideB: strideB, beta: 1, c: c, ldc: ldc, strideC: strideC, batch: batch)
    }

    /// Zeroes the `rows` × `columns` block at `c` (row stride `ldc`), and nothing between its
    /// rows: C may be a view into interleaved storage (one head's columns of a wider matrix).
    private static func zeroRows(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int) {
        if ldc == columns { return c.update(repeating: 0, count: rows * columns) }
        for r in 0..<rows { (c + r * ldc).update(repeating: 0, count: columns) }
    }

    /// y ← α·op(A)·x + β·y, single precision, row-major A of size m×n.
    @inlinable
    public static func gemv(
        _ trans: Transpose, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, incx: Int = 1,
        beta: Float = 0, y: UnsafeMutablePointer<Float>, incy: Int = 1
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, trans.cblas, Int32(m), Int32(n), alpha, a, Int32(lda),
                    x, Int32(incx), beta, y, Int32(incy))
    }

    /// y ← α·x + y over `count` elements.
    @inlinable
    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int = 1,
                            y: UnsafeMutablePointer<Float>, incy: Int = 1) {
        guard count > 0 else { return }
        cblas_saxpy(Int32(count), alpha, x, Int32(incx), y, Int32(incy))
    }

    /// x ← α·x over `count` elements.
    @inlinable
    public static func scal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int = 1) {
        guard count > 0 else { return }
        cblas_sscal(Int32(count), alpha, x, Int32(incx))
    }

    /// Σ xᵢ·yᵢ over `count` elements.
    @inlinable
    public static func dot(count: Int, x: UnsafePointer<Float>, incx: Int = 1,
                           y: UnsafePointer<Float>, incy: Int = 1) -> Float {
        guard count > 0 else { return 0 }
        return cblas_sdot(Int32(count), x, Int32(incx), y, Int32(incy))
    }

    /// The number of threads OpenBLAS uses for one call.
    ///
    /// Zoo generation trains many small networks concurrently; set this to 1 there so cores are
    /// not oversubscribed. Benchmarks set it explicitly to compare like with like.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
