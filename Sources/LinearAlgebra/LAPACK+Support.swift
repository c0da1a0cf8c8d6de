import CNFNBLAS

// Shared plumbing for the LAPACKE wrappers: argument validation, `info` checking, LU.

extension Matrix {
    /// Throws ``LinearAlgebraError/nonFinite(operation:)`` if any element is NaN or ±∞.
    func requireFinite(_ operation: String) throws {
        if hasNonFinite { throw LinearAlgebraError.nonFinite(operation: operation) }
    }

    /// Throws ``LinearAlgebraError/shapeMismatch(_:)`` unless the matrix is square.
    func requireSquare(_ operation: String) throws {
        guard isSquare else {
            throw LinearAlgebraError.shapeMismatch("\(operation) needs a square matrix, got \(rows)×\(columns)")
        }
    }

    /// The leading dimension LAPACKE expects for this row-major matrix (at least 1).
    var leadingDimension: Int32 { Int32(Swift.max(1, columns)) }

    /// Throws unless every dimension fits LAPACK's 32-bit integers.
    func requireLAPACKSize(_ operation: String) throws {
        guard rows <= Int(Int32.max), columns <= Int(Int32.max), rows * columns <= Int(Int32.max) else {
            throw LinearAlgebraError.shapeMismatch("\(operation): \(rows)×\(columns) is too large for 32-bit LAPACK")
        }
    }

    /// The LU factorisation P·A = L·U of a square, finite matrix (LAPACK getrf), in place.
    ///
    /// Returns the 1-based pivot indices. Throws ``LinearAlgebraError/singular(operation:detail:)``
    /// when a pivot is exactly zero.
    mutating func factorLU(operation: String) throws -> [Int32] {
        let n = rows
        var pivots = [Int32](repeating: 0, count: n)
        let ld = leadingDimension
        let info = scalars.withUnsafeMutableBufferPointer { a in
            pivots.withUnsafeMutableBufferPointer { p in
                LAPACKE_dgetrf(LAPACK_ROW_MAJOR, Int32(n), Int32(n), a.baseAddress, ld, p.baseAddress)
            }
        }
        checkInfo(info, routine: "dgetrf")
        if info > 0 {
            throw LinearAlgebraError.singular(
                operation: operation, detail: "LU pivot U[\(info - 1), \(info - 1)] is exactly zero")
        }
        return pivots
    }
}

/// Traps on `info < 0`: an illegal argument is a bug in these wrappers, and LAPACKE's
/// -1010/-1011 (out of memory) is no more recoverable than a failed allocation elsewhere.
/// Positive `info` is left to the caller, whose meaning it is.
@inline(__always)
func checkInfo(_ info: Int32, routine: String) {
    precondition(info >= 0, "LAPACKE_\(routine) returned info = \(info): illegal argument or out of memory")
}
