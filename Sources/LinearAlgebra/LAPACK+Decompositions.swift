import CNFNBLAS

// Orthogonal decompositions: SVD (gesdd), condition number, QR (geqrf + orgqr).

/// A thin singular value decomposition A = U·diag(σ)·Vᵀ of an m×n matrix, k = min(m, n).
public struct SingularValueDecomposition: Sendable {
    /// The left singular vectors, m×k with orthonormal columns.
    public var u: Matrix
    /// The singular values σ₁ ≥ σ₂ ≥ … ≥ σₖ ≥ 0.
    public var singularValues: [Double]
    /// The right singular vectors transposed, k×n with orthonormal rows.
    public var vt: Matrix
}

/// A thin QR decomposition A = Q·R of an m×n matrix, k = min(m, n).
public struct QRDecomposition: Sendable {
    /// m×k with orthonormal columns (square orthogonal when m ≤ n).
    public var q: Matrix
    /// k×n upper triangular (upper trapezoidal when k < n). Its diagonal may be negative.
    public var r: Matrix
}

extension Matrix {
    /// The thin singular value decomposition (LAPACK gesdd, divide and conquer).
    ///
    /// Singular values are accurate to about ε·σ₁ in absolute terms, so tiny ones carry little
    /// relative accuracy. Singular vectors for (nearly) repeated singular values are not unique.
    /// - Throws: ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞ input,
    ///   ``LinearAlgebraError/noConvergence(operation:)`` if the iteration failed.
    /// - Complexity: O(m·n·min(m, n)).
    public func svd() throws -> SingularValueDecomposition {
        try requireFinite("svd")
        try requireLAPACKSize("svd")
        let k = Swift.min(rows, columns)
        var a = self
        var s = [Double](repeating: 0, count: k)
        var u = Matrix(rows: rows, columns: k)
        var vt = Matrix(rows: k, columns: columns)
        if k == 0 { return SingularValueDecomposition(u: u, singularValues: s, vt: vt) }
        let lda = leadingDimension, ldu = u.leadingDimension, ldvt = vt.leadingDimension
        let info = a.scalars.withUnsafeMutableBufferPointer { pa in
            s.withUnsafeMutableBufferPointer { ps in
                u.scalars.withUnsafeMutableBufferPointer { pu in
                    vt.scalars.withUnsafeMutableBufferPointer { pvt in
                        LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(rows), Int32(columns),
                                       pa.baseAddress, lda, ps.baseAddress, pu.baseAddress, ldu,
                                       pvt.baseAddress, ldvt)
                    }
                }
            }
        }
        checkInfo(info, routine: "dgesdd")
        if info > 0 { throw LinearAlgebraError.noConvergence(operation: "svd") }
        return SingularValueDecomposition(u: u, singularValues: s, vt: vt)
    }

    /// The singular values only, largest first (LAPACK gesdd without vectors; cheaper than ``svd()``).
    /// - Throws: as ``svd()``.
    /// - Complexity: O(m·n·min(m, n)), with a smaller constant than ``svd()``.
    public func singularValues() throws -> [Double] {
        try singularValues(operation: "singularValues")
    }

    /// Singular values by gesdd with jobz = "N"; errors name `operation`.
    func singularValues(operation: String) throws -> [Double] {
        try requireFinite(operation)
        try requireLAPACKSize(operation)
        let k = Swift.min(rows, columns)
        if k == 0 { return [] }
        var a = self
        var s = [Double](repeating: 0, count: k)
        // U and Vᵀ are not referenced with jobz = "N", but LAPACKE's row-major check still wants
        // ldvt ≥ n, so pass the matrix's own leading dimension.
        var unused = [0.0]
        let lda = leadingDimension
        let info = a.scalars.withUnsafeMutableBufferPointer { pa in
            s.withUnsafeMutableBufferPointer { ps in
                unused.withUnsafeMutableBufferPointer { pw in
                    LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(rows), Int32(columns),
                                   pa.baseAddress, lda, ps.baseAddress, pw.baseAddress, 1, pw.baseAddress, lda)
                }
            }
        }
        checkInfo(info, routine: "dgesdd")
        if info > 0 { throw LinearAlgebraError.noConvergence(operation: operation) }
        return s
    }

    /// The 2-norm condition number κ₂ = σmax / σmin, from the singular values.
    ///
    /// κ₂ ≥ 1 for every non-empty matrix; it is +∞ when σmin is 0 (a singular or rank-deficient
    /// matrix). For a non-square matrix σmin is the smallest of the min(m, n) singular values.
    /// Because σmin is known only to about ε·σmax, values beyond ~1e15 mean "numerically singular"
    /// rather than a precise number. An empty matrix has κ₂ = 1 by convention.
    /// - Throws: as ``svd()``.
    /// - Complexity: O(m·n·min(m, n)).
    public func conditionNumber() throws -> Double {
        let s = try singularValues(operation: "conditionNumber")
        guard let largest = s.first, let smallest = s.last else { return 1 }
        if smallest == 0 { return .infinity }
        return largest / smallest
    }

    /// The thin QR decomposition A = Q·R by Householder reflections (LAPACK geqrf + orgqr).
    ///
    /// Q has orthonormal columns to working precision regardless of A's conditioning. R's diagonal
    /// signs are whatever LAPACK produces (not normalised to be positive).
    /// - Throws: ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞ input.
    /// - Complexity: O(m·n·min(m, n)).
    public func qr() throws -> QRDecomposition {
        try requireFinite("qr")
        try requireLAPACKSize("qr")
        return householderQR()
    }

    /// QR of a finite matrix. geqrf and orgqr report only illegal arguments (info < 0), so this
    /// cannot fail on finite data.
    func householderQR() -> QRDecomposition {
        let m = rows, n = columns, k = Swift.min(m, n)
        var a = self
        var tau = [Double](repeating: 0, count: Swift.max(1, k))
        if k > 0 {
            let info = a.scalars.withUnsafeMutableBufferPointer { pa in
                tau.withUnsafeMutableBufferPointer { pt in
                    LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), pa.baseAddress, leadingDimension, pt.baseAddress)
                }
            }
            checkInfo(info, routine: "dgeqrf")
        }
        // R: the upper triangle of the first k rows.
        var r = Matrix(rows: k, columns: n)
        for i in 0..<k { for j in i..<n { r.scalars[i * n + j] = a.scalars[i * n + j] } }
        // Q: the first k columns of the reflector block, expanded by orgqr.
        var q = Matrix(rows: m, columns: k)
        for i in 0..<m { for j in 0..<k { q.scalars[i * k + j] = a.scalars[i * n + j] } }
        if k > 0 {
            let ldq = q.leadingDimension
            let info = q.scalars.withUnsafeMutableBufferPointer { pq in
                tau.withUnsafeBufferPointer { pt in
                    LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), pq.baseAddress, ldq, pt.baseAddress)
                }
            }
            checkInfo(info, routine: "dorgqr")
        }
        return QRDecomposition(q: q, r: r)
    }
}
