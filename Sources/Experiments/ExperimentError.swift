/// Errors from experiment set-up and reporting.
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case unknownModel(String)
    case incompatibleZoo(String)
    /// A run configuration (file or options) is invalid; the message names the key or file.
    case invalidConfiguration(String)
    /// The task exists but `nfn train` / `nfn evaluate` cannot run it yet.
    /// A run folder cannot be evaluated (missing or mismatching checkpoint or configuration).
    case invalidRun(String)
    /// Another process is training into the same run folder.
    case runInProgress(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .unknownModel(let m): return "unknown model: \(m)"
        case .incompatibleZoo(let m): return "zoo does not fit the task: \(m)"
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        case .invalidRun(let m): return "cannot evaluate the run: \(m)"
        case .runInProgress(let m): return "run in progress: \(m)"
        }
    }
}
