/// Errors thrown by the LAPACK wrappers on ``Matrix`` (and by the `Tensor` bridge built on them).
///
/// Every failure that depends on the *data* is one of these, never a trap: a singular or
/// numerically unusable matrix, NaN/∞ input, a shape that does not fit the operation.
/// (A LAPACK "illegal argument" report is a bug in SwiftNFN itself and traps instead.)
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// The matrix is singular to working precision: an exact zero pivot in its LU factorisation,
    /// or an inverse/solution that overflowed. `detail` says where.
    case singular(operation: String, detail: String)
    /// An input contained NaN or ±∞; LAPACK was not called.
    case nonFinite(operation: String)
    /// An iterative algorithm (the SVD) did not converge.
    case noConvergence(operation: String)
    /// The 2-norm condition number exceeded the limit the caller asked for.
    case illConditioned(conditionNumber: Double, limit: Double)
    /// A shape did not fit the operation (non-square where square is needed, mismatched sizes).
    case shapeMismatch(String)
    /// A finite result does not fit the requested element type (a `Float` overflow).
    case overflow(operation: String)
    /// A parameter was outside its valid range (for example a condition-number bound below 1).
    case invalidArgument(String)

    /// A one-line message saying what failed and why.
    public var description: String {
        switch self {
        case .singular(let op, let detail): return "\(op): matrix is singular (\(detail))"
        case .nonFinite(let op): return "\(op): input contains NaN or infinity"
        case .noConvergence(let op): return "\(op): LAPACK iteration did not converge"
        case .illConditioned(let c, let limit): return "matrix is ill-conditioned: condition number \(c) exceeds limit \(limit)"
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .overflow(let op): return "\(op): result overflows the element type"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        }
    }
}
