/// The tree ensembles SwiftNFN fits through XGBoost, by the names `nfn train --model` takes.
public enum TreeEnsembleKind: String, Codable, Sendable, CaseIterable {
    /// Gradient-boosted trees (Chen & Guestrin 2016): `rounds` trees, each fitted to the residuals
    /// of the ones before, shrunk by `learning_rate`.
    case xgboost
    /// A random forest (Breiman 2001) as XGBoost grows one: a single round of `parallel_trees`
    /// trees, each on a row subsample with a column subsample per split, averaged (learning rate 1).
    case randomForest = "random-forest"

    /// The defaults of this kind (see ``TreeEnsembleHyperparameters``).
    public var defaults: TreeEnsembleHyperparameters {
        switch self {
        case .xgboost: return .xgboostDefaults
        case .randomForest: return .randomForestDefaults
        }
    }
}
