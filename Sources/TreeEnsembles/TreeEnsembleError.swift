/// What goes wrong when fitting, saving or loading a tree ensemble.
public enum TreeEnsembleError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An XGBoost C API call returned a non-zero status; `message` is `XGBGetLastError()`'s text.
    case xgboost(operation: String, message: String)
    /// A feature matrix, label vector or hyper-parameter that cannot be used (shape, NaN, empty, range).
    case invalidInput(String)
    /// A saved model that cannot be read (size, format, or XGBoost refused it).
    case invalidModel(String)

    public var description: String {
        switch self {
        case .xgboost(let operation, let message): return "XGBoost \(operation) failed: \(message)"
        case .invalidInput(let m): return "invalid tree-ensemble input: \(m)"
        case .invalidModel(let m): return "invalid tree-ensemble model: \(m)"
        }
    }
}
