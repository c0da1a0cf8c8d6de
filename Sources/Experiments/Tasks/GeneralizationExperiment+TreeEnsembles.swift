import Foundation
import Tensors
import Training
import TreeEnsembles

/// Generalization prediction with XGBoost and random forests on the STATNN statistics of each
/// checkpoint (Unterthiner et al. 2020), as the tree baselines of Tran et al. 2025 and 2026.
///
/// The target is the accuracy itself (squared error), not a logit: trees predict values within
/// the range of their training targets, so no squashing is needed.
extension GeneralizationExperiment: TreeEnsembleTask {
    public static func treeFeatures(of data: Data, items: [Int]) throws -> Tensor {
        Space.statistics(Space.gathering(data.features, members: items))
    }

    public static func treeTargets(of data: Data, items: [Int]) -> [Float] { items.map { data.targets[$0] } }

    /// Kendall τ-b (−1 when undefined, e.g. constant predictions), as for the metanetworks.
    public static func treeValidationScore(_ predictions: [Float], data: Data, items: [Int]) -> Double {
        let tau = Metrics.kendallTauB(predictions.map(Double.init), items.map { Double(data.targets[$0]) })
        return tau.isNaN ? -1 : tau
    }

    /// τ / R² / MSE / τ on accuracy ≥ 0.5, and τ on the augmented test sets: the statistics of the
    /// moved weights, predicted by the same trees.
    public static func evaluate(trees booster: XGBoostBooster, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation {
        func predict(_ features: Space.Features) throws -> [Double] {
            try booster.predict(try XGBoostMatrix(features: Space.statistics(features))).map(Double.init)
        }
        let predictions = try predict(Space.gathering(data.features, members: items))
        return try evaluation(predictions, data: data, items: items, seed: seed, predict: predict)
    }
}
