import Foundation

/// The size of a fitted ensemble — the trees' analogue of a parameter count.
public struct TreeEnsembleSummary: Codable, Sendable, Equatable {
    /// Trees in the model (rounds × parallel trees).
    public var trees: Int
    /// Leaves over all trees (each holds one fitted value).
    public var leaves: Int
    /// Split nodes over all trees (each holds a feature index and a threshold).
    public var splits: Int

    /// Counts the trees, leaves and splits of `booster` from XGBoost's JSON dump.
    ///
    /// - Throws: ``TreeEnsembleError/invalidModel(_:)`` when a dump is not the JSON XGBoost documents.
    public init(_ booster: XGBoostBooster) throws {
        let dumps = try booster.treeDumps()
        var leaves = 0, splits = 0
        for (i, dump) in dumps.enumerated() {
            guard let root = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any] else {
                throw TreeEnsembleError.invalidModel("tree \(i)'s dump is not a JSON object")
            }
            var stack = [root]
            while let node = stack.popLast() {
                if node["leaf"] != nil {
                    leaves += 1
                } else {
                    splits += 1
                    stack += (node["children"] as? [[String: Any]]) ?? []
                }
            }
        }
        self.trees = dumps.count; self.leaves = leaves; self.splits = splits
    }
}
