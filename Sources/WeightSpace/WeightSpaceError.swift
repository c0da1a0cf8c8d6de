/// Errors from weight-space construction, conversion and group actions.
public enum WeightSpaceError: Error, Equatable, CustomStringConvertible {
    /// Widths, layers or dimensions are inconsistent or non-positive.
    case invalidArchitecture(String)
    /// Tensors do not have the shapes, layer count or batch an operation expects.
    case shapeMismatch(String)
    /// Weights contain NaN or ±∞.
    case nonFinite(String)
    /// The operation does not apply to this family, group or input (e.g. a feed-forward group on a
    /// transformer).
    case unsupported(String)
    /// A group element is malformed (e.g. a σ that is not a permutation, a zero or non-finite scale).
    case invalidGroupElement(String)

    public var description: String {
        switch self {
        case .invalidArchitecture(let m): return "invalid architecture: \(m)"
        case .shapeMismatch(let m): return "weight-space shape mismatch: \(m)"
        case .nonFinite(let m): return "non-finite weights: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .invalidGroupElement(let m): return "invalid group element: \(m)"
        }
    }
}
