import TreeEnsembles

/// The tree-ensemble keys of a run configuration (`tree_rounds` … `tree_threads`), each nil unless
/// given: an unset key takes the default of the model (``TreeEnsembleKind/defaults``), so a saved
/// `config.yaml` lists only what the user chose.
public struct TreeEnsembleSettings: Codable, Sendable, Equatable {
    /// `tree_rounds` (see ``TreeEnsembleHyperparameters``).
    public var rounds: Int?
    /// `tree_max_depth` (see ``TreeEnsembleHyperparameters``).
    public var maxDepth: Int?
    /// `tree_max_leaves` (see ``TreeEnsembleHyperparameters``).
    public var maxLeaves: Int?
    /// `tree_learning_rate` (see ``TreeEnsembleHyperparameters``).
    public var learningRate: Double?
    /// `tree_subsample` (see ``TreeEnsembleHyperparameters``).
    public var subsample: Double?
    /// `tree_colsample` (see ``TreeEnsembleHyperparameters``).
    public var columnSample: Double?
    /// `tree_parallel_trees` (see ``TreeEnsembleHyperparameters``).
    public var parallelTrees: Int?
    /// `tree_min_child_weight` (see ``TreeEnsembleHyperparameters``).
    public var minChildWeight: Double?
    /// `tree_lambda` (see ``TreeEnsembleHyperparameters``).
    public var lambda: Double?
    /// `tree_alpha` (see ``TreeEnsembleHyperparameters``).
    public var alpha: Double?
    /// `tree_threads` (see ``TreeEnsembleHyperparameters``).
    public var threads: Int?

    /// No key set.
    public init() {}

    /// Whether any key is set.
    public var isEmpty: Bool { self == TreeEnsembleSettings() }

    /// The defaults of `kind` with every set key applied.
    public func hyperparameters(for kind: TreeEnsembleKind) -> TreeEnsembleHyperparameters {
        var h = kind.defaults
        if let v = rounds { h.rounds = v }
        if let v = maxDepth { h.maxDepth = v }
        if let v = maxLeaves { h.maxLeaves = v }
        if let v = learningRate { h.learningRate = v }
        if let v = subsample { h.subsample = v }
        if let v = columnSample { h.columnSample = v }
        if let v = parallelTrees { h.parallelTrees = v }
        if let v = minChildWeight { h.minChildWeight = v }
        if let v = lambda { h.lambda = v }
        if let v = alpha { h.alpha = v }
        if let v = threads { h.threads = v }
        return h
    }
}

extension TreeEnsembleHyperparameters {
    /// The resolved hyper-parameters by configuration key, for reports.
    var reportEntries: [String: String] {
        ["tree_rounds": "\(rounds)", "tree_max_depth": "\(maxDepth)", "tree_max_leaves": "\(maxLeaves)",
         "tree_learning_rate": "\(learningRate)", "tree_subsample": "\(subsample)", "tree_colsample": "\(columnSample)",
         "tree_parallel_trees": "\(parallelTrees)", "tree_min_child_weight": "\(minChildWeight)",
         "tree_lambda": "\(lambda)", "tree_alpha": "\(alpha)", "tree_threads": "\(threads)"]
    }
}

extension ExperimentConfiguration {
    /// The tree ensemble the configuration names, or nil for a metanetwork.
    public var treeEnsembleKind: TreeEnsembleKind? { TreeEnsembleKind(rawValue: model) }

    /// The resolved hyper-parameters of a tree-ensemble model.
    ///
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` when the model is not a tree ensemble
    ///   or a value is out of range (the message names the key).
    public func treeHyperparameters() throws -> TreeEnsembleHyperparameters {
        guard let kind = treeEnsembleKind else {
            throw ExperimentError.invalidConfiguration("model \(model) is not a tree ensemble (\(TreeEnsembleKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let h = trees.hyperparameters(for: kind)
        do {
            try h.validate()
        } catch TreeEnsembleError.invalidInput(let m) {
            throw ExperimentError.invalidConfiguration("tree_\(m)")
        }
        return h
    }

    /// The tree keys are checked here: refused for a metanetwork, range-checked for a tree model.
    func validateTreeKeys() throws {
        if treeEnsembleKind == nil {
            guard trees.isEmpty else {
                let set = Self.keys.filter { $0.name.hasPrefix("tree_") && $0.report(self) != nil }.map(\.name)
                throw ExperimentError.invalidConfiguration(
                    "\(set.joined(separator: ", ")): only the tree ensembles (\(TreeEnsembleKind.allCases.map(\.rawValue).joined(separator: ", "))) use tree keys, not \(model)")
            }
        } else {
            _ = try treeHyperparameters()
        }
    }
}
