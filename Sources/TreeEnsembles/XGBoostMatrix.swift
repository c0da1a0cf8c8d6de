import CXGBoost
import Tensors

/// XGBoost's data matrix (`DMatrix`) built from a dense Float32 feature matrix and, for training,
/// one label per row.
///
/// Every feature and label must be finite: XGBoost would read NaN as "missing" and learn around
/// it, which for weight statistics only ever means a diverged checkpoint, so it is refused with
/// the row and column named instead of being silently treated as missing.
///
/// ```swift
/// let x = Tensor(shape: [3, 2], scalars: [0, 1, 1, 0, 2, 2])
/// let matrix = try XGBoostMatrix(features: x, labels: [0.1, 0.5, 0.9])
/// ```
/// - Complexity: O(rows · columns) (XGBoost copies the data into its own compressed layout).
public final class XGBoostMatrix {
    /// The DMatrix handle, owned and freed by this object.
    let handle: DMatrixHandle
    /// Rows (samples).
    public let rows: Int
    /// Columns (features).
    public let columns: Int

    /// The largest matrix accepted (2^31 − 1 entries: XGBoost indexes rows and columns with 32-bit integers in places).
    public static let maximumEntries = Int(Int32.max)

    /// A matrix of `features` (`[rows, columns]`) with optional `labels` (one per row), copied into
    /// XGBoost by `threads` threads (explicit: XGBoost's default is every core, whose idle OpenMP
    /// threads spin and slow down whatever else runs, concurrent fits included).
    ///
    /// - Throws: ``TreeEnsembleError/invalidInput(_:)`` for a non-matrix shape, no rows or
    ///   columns, a label count other than the row count, or a non-finite feature or label;
    ///   ``TreeEnsembleError/xgboost(operation:message:)`` when XGBoost refuses the data.
    public init(features: Tensor, labels: [Float]? = nil, threads: Int = 1) throws {
        guard features.rank == 2 else {
            throw TreeEnsembleError.invalidInput("features must be a [rows, columns] matrix, got shape \(features.shape)")
        }
        let (n, d) = (features.shape[0], features.shape[1])
        guard n > 0 else { throw TreeEnsembleError.invalidInput("the feature matrix has no rows (an empty training set)") }
        guard d > 0 else { throw TreeEnsembleError.invalidInput("the feature matrix has no columns") }
        guard features.count <= Self.maximumEntries else {
            throw TreeEnsembleError.invalidInput("\(n) × \(d) features exceed XGBoost's limit of \(Self.maximumEntries) entries")
        }
        if let labels {
            guard labels.count == n else {
                throw TreeEnsembleError.invalidInput("\(labels.count) labels for \(n) feature rows")
            }
            if let i = labels.firstIndex(where: { !$0.isFinite }) {
                throw TreeEnsembleError.invalidInput("label \(i) is \(labels[i]); every label must be finite")
            }
        }
        let bad = features.withUnsafeBufferPointer { $0.firstIndex { !$0.isFinite } }
        if let bad {
            throw TreeEnsembleError.invalidInput("feature [\(bad / d), \(bad % d)] is not finite; every feature must be finite (a diverged network?)")
        }
        var out: DMatrixHandle?
        try features.withUnsafeBufferPointer { p in
            try xgboostCall("XGDMatrixCreateFromMat_omp",
                            XGDMatrixCreateFromMat_omp(p.baseAddress, bst_ulong(n), bst_ulong(d), .nan, &out, Int32(Swift.max(1, threads))))
        }
        guard let out else { throw TreeEnsembleError.xgboost(operation: "XGDMatrixCreateFromMat_omp", message: "no matrix returned") }
        handle = out
        rows = n
        columns = d
        if let labels {
            try labels.withUnsafeBufferPointer { p in
                try xgboostCall("XGDMatrixSetFloatInfo(label)", XGDMatrixSetFloatInfo(handle, "label", p.baseAddress, bst_ulong(n)))
            }
        }
    }

    deinit { XGDMatrixFree(handle) }
}
