/// The hyper-parameters of a tree ensemble, with their XGBoost names and valid ranges.
///
/// Defaults (``xgboostDefaults``, ``randomForestDefaults``) follow the baselines of Tran et al.
/// 2025 (*Equivariant Neural Functional Networks for Transformers*, code Fsoft-AIC/Transformer-NFN)
/// and the tree setting stated for all three tree models in Tran et al. 2026 (*Quasi-Equivariant
/// Metanetworks*, App. B.4): maximum depth 10, minimum child weight 50, at most 256 leaves. The
/// random forest is XGBoost's recipe for one (a single round, `num_parallel_tree` trees, row and
/// per-split column subsampling, learning rate 1).
///
/// `min_child_weight` 50 is the minimum number of training rows per leaf for squared error: a zoo
/// with fewer than 100 training checkpoints gets trees without a split (constant predictions,
/// τ undefined); lower it for small zoos.
public struct TreeEnsembleHyperparameters: Codable, Sendable, Equatable {
    /// Boosting rounds (`num_boost_round`); 1 for a random forest. Range 1…10 000.
    public var rounds: Int
    /// Maximum tree depth (`max_depth`). Range 1…30.
    public var maxDepth: Int
    /// Maximum leaves per tree (`max_leaves`, 0: no limit).
    public var maxLeaves: Int
    /// Shrinkage (`eta`). Range (0, 1].
    public var learningRate: Double
    /// Fraction of rows each tree sees (`subsample`). Range (0, 1].
    public var subsample: Double
    /// Fraction of columns: per tree (`colsample_bytree`) for boosting, per split
    /// (`colsample_bynode`) for a random forest. Range (0, 1].
    public var columnSample: Double
    /// Trees grown per round (`num_parallel_tree`): 1 for boosting, the forest's size otherwise. Range 1…10 000.
    public var parallelTrees: Int
    /// Minimum hessian sum per child (`min_child_weight`; rows per leaf for squared error). Range ≥ 0.
    public var minChildWeight: Double
    /// L2 penalty on leaf weights (`lambda`). Range ≥ 0.
    public var lambda: Double
    /// L1 penalty on leaf weights (`alpha`). Range ≥ 0.
    public var alpha: Double
    /// XGBoost's threads (`nthread`). Hist-method training is deterministic for any thread count;
    /// 1 keeps runs from competing for cores. Range 1…256.
    public var threads: Int

    /// Gradient boosting as the Transformer-NFN baseline: 50 rounds (the reference's most),
    /// eta 0.1, depth 10, 256 leaves, min child weight 50, subsample 0.8, colsample_bytree 0.8,
    /// lambda 0.01, alpha 0.02.
    public static let xgboostDefaults = TreeEnsembleHyperparameters(
        rounds: 50, maxDepth: 10, maxLeaves: 256, learningRate: 0.1, subsample: 0.8, columnSample: 0.8,
        parallelTrees: 1, minChildWeight: 50, lambda: 0.01, alpha: 0.02, threads: 1)

    /// A random forest: one round of 100 trees (XGBoost's random-forest recipe), subsample 0.8,
    /// colsample_bynode 0.8, learning rate 1, depth 10, 256 leaves, min child weight 50, lambda
    /// 0.2 and alpha 0.1 (the L2/L1 of the reference's random forest).
    public static let randomForestDefaults = TreeEnsembleHyperparameters(
        rounds: 1, maxDepth: 10, maxLeaves: 256, learningRate: 1, subsample: 0.8, columnSample: 0.8,
        parallelTrees: 100, minChildWeight: 50, lambda: 0.2, alpha: 0.1, threads: 1)

    /// Hyper-parameters given field by field (see the properties for each).
    public init(rounds: Int, maxDepth: Int, maxLeaves: Int, learningRate: Double, subsample: Double, columnSample: Double,
                parallelTrees: Int, minChildWeight: Double, lambda: Double, alpha: Double, threads: Int) {
        self.rounds = rounds; self.maxDepth = maxDepth; self.maxLeaves = maxLeaves; self.learningRate = learningRate
        self.subsample = subsample; self.columnSample = columnSample; self.parallelTrees = parallelTrees
        self.minChildWeight = minChildWeight; self.lambda = lambda; self.alpha = alpha; self.threads = threads
    }

    /// Checks every range, naming the field.
    ///
    /// - Throws: ``TreeEnsembleError/invalidInput(_:)``.
    public func validate() throws {
        func bad(_ m: String) -> TreeEnsembleError { .invalidInput(m) }
        guard (1...10_000).contains(rounds) else { throw bad("rounds must be in 1…10000, got \(rounds)") }
        guard (1...30).contains(maxDepth) else { throw bad("max_depth must be in 1…30, got \(maxDepth)") }
        guard (0...1 << 20).contains(maxLeaves) else { throw bad("max_leaves must be in 0…\(1 << 20), got \(maxLeaves)") }
        guard learningRate > 0, learningRate <= 1 else { throw bad("learning_rate (eta) must be in (0, 1], got \(learningRate)") }
        guard subsample > 0, subsample <= 1 else { throw bad("subsample must be in (0, 1], got \(subsample)") }
        guard columnSample > 0, columnSample <= 1 else { throw bad("colsample must be in (0, 1], got \(columnSample)") }
        guard (1...10_000).contains(parallelTrees) else { throw bad("parallel_trees must be in 1…10000, got \(parallelTrees)") }
        guard minChildWeight >= 0, minChildWeight.isFinite else { throw bad("min_child_weight must be finite and ≥ 0, got \(minChildWeight)") }
        guard lambda >= 0, lambda.isFinite else { throw bad("lambda must be finite and ≥ 0, got \(lambda)") }
        guard alpha >= 0, alpha.isFinite else { throw bad("alpha must be finite and ≥ 0, got \(alpha)") }
        guard (1...256).contains(threads) else { throw bad("threads must be in 1…256, got \(threads)") }
    }

    /// The XGBoost parameters of a `kind` ensemble seeded with `seed`: squared-error regression,
    /// the `hist` tree method (deterministic), and the column sampling of `kind`.
    ///
    /// - Parameter baseScore: the prediction the trees start from (`base_score`); nil leaves
    ///   XGBoost's default (0.5 in the 1.7 series).
    public func xgboostParameters(kind: TreeEnsembleKind, seed: UInt64, baseScore: Float? = nil) -> [String: String] {
        var p: [String: String] = [
            "objective": "reg:squarederror", "tree_method": "hist", "verbosity": "0",
            "seed": "\(seed % (1 << 31))", "nthread": "\(threads)",
            "max_depth": "\(maxDepth)", "max_leaves": "\(maxLeaves)", "eta": "\(learningRate)",
            "subsample": "\(subsample)", "num_parallel_tree": "\(parallelTrees)",
            "min_child_weight": "\(minChildWeight)", "lambda": "\(lambda)", "alpha": "\(alpha)",
        ]
        if let baseScore { p["base_score"] = "\(baseScore)" }
        switch kind {
        case .xgboost: p["colsample_bytree"] = "\(columnSample)"
        case .randomForest: p["colsample_bynode"] = "\(columnSample)"
        }
        return p
    }
}
