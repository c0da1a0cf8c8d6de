/// Errors from training runs.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A configuration value is out of range; the message names it.
    case invalidConfiguration(String)
    /// The data or a checkpoint cannot be used (e.g. an empty training set); the message says why.
    case incompatibleData(String)
    /// A train / validation / test split cannot be made (fractions out of range, too few members).
    case invalidSplit(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid training configuration: \(m)"
        case .incompatibleData(let m): return "data does not fit the model: \(m)"
        case .invalidSplit(let m): return "invalid split: \(m)"
        }
    }
}
