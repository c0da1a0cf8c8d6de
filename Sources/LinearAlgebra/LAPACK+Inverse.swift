import CNFNBLAS
import Foundation

// Inverse, linear solve and log-determinant: everything built on the LU factorisation (getrf).

extension Matrix {
    /// The inverse A⁻¹ of a square matrix, from its LU factorisation (LAPACK getrf + getri).
    ///
    /// Only an *exactly* zero pivot is detected; a nearly singular matrix returns an inverse with
    /// huge, inaccurate entries. Use ``inverse(checkingConditionBelow:)`` when that matters.
    /// A 0×0 matrix is its own inverse.
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` if not square,
    ///   ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞ input,
    ///   ``LinearAlgebraError/singular(operation:detail:)`` for a zero pivot or an overflowing result.
    /// - Complexity: O(n³).
    public func inverse() throws -> Matrix {
        try requireSquare("inverse")
        try requireFinite("inverse")
        try requireLAPACKSize("inverse")
        if rows == 0 { return self }
        var a = self
        let pivots = try a.factorLU(operation: "inverse")
        let n = Int32(rows), ld = leadingDimension
        let info = a.scalars.withUnsafeMutableBufferPointer { p in
            pivots.withUnsafeBufferPointer { ipiv in
                LAPACKE_dgetri(LAPACK_ROW_MAJOR, n, p.baseAddress, ld, ipiv.baseAddress)
            }
        }
        checkInfo(info, routine: "dgetri")
        if info > 0 {
            throw LinearAlgebraError.singular(operation: "inverse", detail: "U[\(info - 1), \(info - 1)] is exactly zero")
        }
        if a.hasNonFinite {
            throw LinearAlgebraError.singular(operation: "inverse", detail: "the inverse overflowed; the matrix is numerically singular")
        }
        return a
    }

    /// The inverse A⁻¹, refusing matrices whose 2-norm condition number exceeds `limit`.
    ///
    /// The condition number κ₂ = σmax/σmin comes from an SVD (see ``conditionNumber()``), so this
    /// costs roughly three times a plain ``inverse()``. In double precision expect about
    /// 16 − log₁₀ κ₂ correct digits in A⁻¹; a `limit` of 1e6 keeps `Float` results meaningful.
    /// - Throws: ``LinearAlgebraError/illConditioned(conditionNumber:limit:)`` when κ₂ > `limit`
    ///   (κ₂ is +∞ for a singular matrix), ``LinearAlgebraError/invalidArgument(_:)`` if `limit` is NaN,
    ///   and everything ``inverse()`` throws.
    /// - Complexity: O(n³).
    public func inverse(checkingConditionBelow limit: Double) throws -> Matrix {
        guard !limit.isNaN else { throw LinearAlgebraError.invalidArgument("condition-number limit is NaN") }
        try requireSquare("inverse")
        try requireFinite("inverse")
        let kappa = try conditionNumber()
        if kappa > limit { throw LinearAlgebraError.illConditioned(conditionNumber: kappa, limit: limit) }
        return try inverse()
    }

    /// The solution X of A·X = B for square A (n×n) and B (n×k), by LU with partial pivoting
    /// (LAPACK gesv).
    ///
    /// Cheaper and more accurate than forming A⁻¹·B. As with ``inverse()``, only exact singularity
    /// is detected; the relative error of X grows like κ(A)·ε.
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` if A is not square or B has a different
    ///   number of rows, ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞ in A or B,
    ///   ``LinearAlgebraError/singular(operation:detail:)`` for a zero pivot or an overflowing X.
    /// - Complexity: O(n³ + n²·k).
    public func solve(_ b: Matrix) throws -> Matrix {
        try requireSquare("solve")
        guard b.rows == rows else {
            throw LinearAlgebraError.shapeMismatch("solve: A is \(rows)×\(columns) but B is \(b.rows)×\(b.columns)")
        }
        try requireFinite("solve")
        try b.requireFinite("solve")
        try requireLAPACKSize("solve")
        try b.requireLAPACKSize("solve")
        if rows == 0 || b.columns == 0 { return b }
        var a = self, x = b
        var pivots = [Int32](repeating: 0, count: rows)
        let n = Int32(rows), nrhs = Int32(b.columns), lda = leadingDimension, ldb = x.leadingDimension
        let info = a.scalars.withUnsafeMutableBufferPointer { pa in
            x.scalars.withUnsafeMutableBufferPointer { px in
                pivots.withUnsafeMutableBufferPointer { ipiv in
                    LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, nrhs, pa.baseAddress, lda, ipiv.baseAddress, px.baseAddress, ldb)
                }
            }
        }
        checkInfo(info, routine: "dgesv")
        if info > 0 {
            throw LinearAlgebraError.singular(operation: "solve", detail: "LU pivot U[\(info - 1), \(info - 1)] is exactly zero")
        }
        if x.hasNonFinite {
            throw LinearAlgebraError.singular(operation: "solve", detail: "the solution overflowed; the matrix is numerically singular")
        }
        return x
    }

    /// The sign and natural log of |det A|, from the LU factorisation (LAPACK getrf).
    ///
    /// det A = sign · exp(logAbsDet), computed without overflow even when det A itself would be
    /// outside `Double`'s range. The sign is ±1: it combines the signs of U's diagonal with the
    /// parity of the row interchanges. The 0×0 matrix has determinant 1.
    /// - Throws: ``LinearAlgebraError/singular(operation:detail:)`` when a pivot is exactly zero
    ///   (det A = 0; catch it if a zero determinant is an answer for you),
    ///   ``LinearAlgebraError/shapeMismatch(_:)`` if not square,
    ///   ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞ input.
    /// - Complexity: O(n³).
    public func slogdet() throws -> (sign: Double, logAbsDet: Double) {
        try requireSquare("slogdet")
        try requireFinite("slogdet")
        try requireLAPACKSize("slogdet")
        var lu = self
        let pivots = try lu.factorLU(operation: "slogdet")
        var negative = false
        var logAbsDet = 0.0
        for i in 0..<rows {
            let u = lu.scalars[i * columns + i]
            if u < 0 { negative.toggle() }
            logAbsDet += Foundation.log(Swift.abs(u))
            if pivots[i] != Int32(i + 1) { negative.toggle() }
        }
        return (negative ? -1 : 1, logAbsDet)
    }
}
