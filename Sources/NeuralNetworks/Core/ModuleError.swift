/// Errors from loading or validating module parameters and inputs.
public enum ModuleError: Error, Equatable, CustomStringConvertible {
    /// Parameters the module has but the loaded values lack (strict loading), by path.
    case missingParameters([String])
    /// Keys in the loaded values that name no parameter of the module (strict loading).
    case unexpectedParameters([String])
    /// A loaded value's shape differs from the parameter's at `path`.
    case shapeMismatch(path: String, expected: [Int], found: [Int])
    /// A loaded value at `path` contains NaN or ±∞.
    case nonFinite(path: String)
    /// A model input was rejected; the message says what was wrong.
    case invalidInput(String)
    /// A model or layer configuration was rejected; the message says why.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .missingParameters(let p): return "missing parameters: \(p.joined(separator: ", "))"
        case .unexpectedParameters(let p): return "unexpected parameters: \(p.joined(separator: ", "))"
        case let .shapeMismatch(path, e, f): return "parameter \(path): expected shape \(e), found \(f)"
        case .nonFinite(let path): return "parameter \(path) contains NaN or infinity"
        case .invalidInput(let m): return "invalid input: \(m)"
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        }
    }
}
