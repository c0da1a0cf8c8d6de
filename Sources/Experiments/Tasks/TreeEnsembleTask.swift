import Foundation
import Tensors
import TreeEnsembles

/// A task whose items can also be fitted by a tree ensemble (``TreeEnsembleKind``): a fixed
/// feature row and a regression target per item, a validation score and a test evaluation from
/// the ensemble's predictions.
///
/// ``TreeEnsembleRunner`` trains and evaluates these models through XGBoost; there is no module,
/// no tape and no checkpoint, and the model is saved in XGBoost's own format.
public protocol TreeEnsembleTask: MetanetworkTask {
    /// One feature row per item, `[items.count, F]`.
    static func treeFeatures(of data: Data, items: [Int]) throws -> Tensor
    /// The regression target of every item.
    static func treeTargets(of data: Data, items: [Int]) -> [Float]
    /// The validation score of `predictions` for `items` (higher is better).
    static func treeValidationScore(_ predictions: [Float], data: Data, items: [Int]) -> Double
    /// Test metrics and robustness of `booster` on `items` (augmentations seeded by `seed`).
    static func evaluate(trees booster: XGBoostBooster, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation
}
