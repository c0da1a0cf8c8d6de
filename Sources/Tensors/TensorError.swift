/// Errors raised by tensor APIs that validate user-supplied data.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// A shape did not match what an operation requires.
    case shapeMismatch(String)
    /// A value was NaN or infinite where finite numbers are required.
    case nonFinite(String)
    /// A linear-algebra operation failed (singular matrix, no convergence).
    case linearAlgebra(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .nonFinite(let m): return "non-finite value: \(m)"
        case .linearAlgebra(let m): return "linear algebra: \(m)"
        }
    }
}
