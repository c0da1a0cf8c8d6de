import ArgumentParser
import Foundation
import SwiftNFN

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a metanetwork on a zoo (from options or a YAML config), with checkpoint/resume, and write a report.",
        discussion: """
        Tasks: \(ExperimentTask.allCases.map(\.rawValue).joined(separator: ", ")).
        generalization — models for CNN/MLP zoos: \(MetanetworkKind.allCases.map(\.rawValue).joined(separator: ", ")); \
        for transformer zoos: \(TransformerMetanetworkKind.allCases.map(\.rawValue).joined(separator: ", ")); \
        tree ensembles on the STATNN statistics (any generalization zoo): \(TreeEnsembleKind.allCases.map(\.rawValue).joined(separator: ", ")) \
        (fitted by XGBoost; --tree-* options; the model is saved as OUT/\(TreeEnsembleRunner.modelFileName)).
        inr-classification (SIREN zoos): \(INRClassificationExperiment.modelNames.joined(separator: ", ")).
        inr-editing (SIREN zoos, --edit \(ImageEdit.allCases.map(\.rawValue).joined(separator: "|"))): \
        \(INREditingExperiment.modelNames.joined(separator: ", ")); the edited test images go to OUT/\(INREditingExperiment.galleryFileName).

        --config FILE reads a YAML (or JSON) file with the keys \(ExperimentConfiguration.keyNames.joined(separator: ", ")); \
        an option given on the command line overrides the file. The resolved configuration is saved \
        as OUT/config.yaml (nfn evaluate --run OUT reads it).

        Rerunning the same command after an interruption (even kill -9) resumes from the last \
        finished epoch (OUT/checkpoint.safetensors) and ends with the same result as an \
        uninterrupted run. One progress line per epoch goes to standard error.
        """)

    @Option(help: ArgumentHelp("A YAML or JSON run configuration; options given here override it.", valueName: "file"))
    var config: String?

    @Option(help: "Task (default generalization).") var task: String?
    @Option(help: "Metanetwork name.") var model: String?
    @Option(help: "Zoo folder (from nfn zoo generate or import).") var zoo: String?
    @Option(help: "Output folder for config.yaml, the checkpoint and the report.") var out: String?
    @Option(name: [.customLong("zoo-epoch"), .customLong("epoch")], help: "Zoo checkpoint epoch to use (default: the last).")
    var zooEpoch: Int?
    @Option(help: ArgumentHelp("Several zoo checkpoint epochs together, e.g. 1,2 (generalization; split by member).", valueName: "list"))
    var zooEpochs: String?
    @Option(help: "Maximum epochs (default 30).") var epochs: Int?
    @Option(help: "Batch size in zoo members (default 32).") var batchSize: Int?
    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default adam).")
    var optimizer: String?
    @Option(help: "Learning rate (default 0.001).") var learningRate: Float?
    @Option(help: "Weight decay (default 0).") var weightDecay: Float?
    @Option(help: "Early-stopping patience in epochs, 0 for none (default 10).") var patience: Int?
    @Option(help: "Seed for the split, the model, the batch order and the augmentations (default 0).") var seed: UInt64?
    @Option(help: "inr2array models: autoencoder epochs before the --epochs of classification (default 20).")
    var reconstructionEpochs: Int?
    @Option(help: "Model size: small or standard (default standard).") var size: String?
    @Flag(help: "Same as --size small.") var small = false
    @Option(help: "Fraction of members for training (default 0.6).") var trainFraction: Double?
    @Option(help: "Fraction of members for validation (default 0.15); the test split gets the rest.")
    var validationFraction: Double?
    @Option(help: "Image edit for inr-editing: \(ImageEdit.allCases.map(\.rawValue).joined(separator: ", ")).")
    var edit: String?

    @Option(help: "Refuse a model with more parameters than this unless --force (default 50000000).")
    var maxParameters: Int?
    @Flag(help: "Train even a model above max_parameters.") var force = false
    @Option(help: ArgumentHelp("Threads per optimizer step (default: every core); the result does not depend on it.",
                               valueName: "n"))
    var threads: Int?

    @Option(help: "Tree ensembles: boosting rounds (xgboost 50, random-forest 1).") var treeRounds: Int?
    @Option(help: "Tree ensembles: maximum depth (10).") var treeMaxDepth: Int?
    @Option(help: "Tree ensembles: maximum leaves per tree, 0 for no limit (256).") var treeMaxLeaves: Int?
    @Option(help: "Tree ensembles: XGBoost's eta (xgboost 0.1, random-forest 1).") var treeLearningRate: Double?
    @Option(help: "Tree ensembles: fraction of rows per tree (0.8).") var treeSubsample: Double?
    @Option(help: "Tree ensembles: fraction of columns per tree (xgboost) or per split (random-forest) (0.8).")
    var treeColsample: Double?
    @Option(help: "Tree ensembles: trees per round (xgboost 1, random-forest 100).") var treeParallelTrees: Int?
    @Option(help: "Tree ensembles: minimum rows per leaf (50).") var treeMinChildWeight: Double?
    @Option(help: "Tree ensembles: L2 penalty on leaf values (xgboost 0.01, random-forest 0.2).") var treeLambda: Double?
    @Option(help: "Tree ensembles: L1 penalty on leaf values (xgboost 0.02, random-forest 0.1).") var treeAlpha: Double?
    @Option(help: "Tree ensembles: XGBoost threads (1).") var treeThreads: Int?

    @OptionGroup var output: OutputOptions

    /// The file's configuration (if any) with every explicitly given option applied on top.
    func resolvedConfiguration() throws -> ExperimentConfiguration {
        var c: ExperimentConfiguration
        if let config {
            c = try ExperimentConfiguration.load(from: URL(fileURLWithPath: config))
        } else {
            guard let model else { throw ValidationError("--model is required (or give --config FILE)") }
            guard let zoo else { throw ValidationError("--zoo is required (or give --config FILE)") }
            c = ExperimentConfiguration(model: model, zoo: zoo)
        }
        if small, let size, size != "small" { throw ValidationError("--small contradicts --size \(size)") }
        // Each given option overrides its configuration key; the key table parses the text.
        let given: [(key: String, text: String?)] = [
            ("task", task), ("model", model), ("zoo", zoo), ("out", out), ("zoo_epoch", zooEpoch.map(String.init)),
            ("zoo_epochs", zooEpochs), ("epochs", epochs.map(String.init)), ("batch_size", batchSize.map(String.init)),
            ("optimizer", optimizer), ("learning_rate", learningRate.map { "\($0)" }),
            ("weight_decay", weightDecay.map { "\($0)" }), ("patience", patience.map(String.init)),
            ("seed", seed.map(String.init)), ("reconstruction_epochs", reconstructionEpochs.map(String.init)),
            ("size", small ? "small" : size),
            ("train_fraction", trainFraction.map { "\($0)" }), ("validation_fraction", validationFraction.map { "\($0)" }),
            ("edit", edit), ("max_parameters", maxParameters.map(String.init)),
            ("tree_rounds", treeRounds.map(String.init)), ("tree_max_depth", treeMaxDepth.map(String.init)),
            ("tree_max_leaves", treeMaxLeaves.map(String.init)), ("tree_learning_rate", treeLearningRate.map { "\($0)" }),
            ("tree_subsample", treeSubsample.map { "\($0)" }), ("tree_colsample", treeColsample.map { "\($0)" }),
            ("tree_parallel_trees", treeParallelTrees.map(String.init)),
            ("tree_min_child_weight", treeMinChildWeight.map { "\($0)" }), ("tree_lambda", treeLambda.map { "\($0)" }),
            ("tree_alpha", treeAlpha.map { "\($0)" }), ("tree_threads", treeThreads.map(String.init)),
        ]
        for (key, text) in given {
            if let text { try c.set(key, text) }
        }
        try c.validate(requireOut: true)
        return c
    }

    func run() throws {
        do {
            let config = try resolvedConfiguration()
            let total = config.training.epochs
            let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
            guard (1...MetanetworkTrainingConfiguration.maximumThreads).contains(threadCount) else {
                throw ValidationError("--threads must be in 1...\(MetanetworkTrainingConfiguration.maximumThreads), got \(threadCount)")
            }
            let firstStage = config.training.reconstructionEpochs ?? INRClassificationExperiment.defaultReconstructionEpochs
            let report = try ExperimentRunner.train(config, force: force, threads: threadCount, progress: { e in
                // A tree ensemble reports boosting rounds (training RMSE) through the same callback.
                let line = config.treeEnsembleKind == nil
                    ? (e.stage.map { "\($0) " } ?? "") + String(format: "epoch %d/%d: train loss %.4f, validation %.4f (%.1fs)\n",
                                                                e.epoch, e.stage == nil ? total : firstStage, e.trainLoss,
                                                                e.validationMetric, e.seconds)
                    : String(format: "round %d: train RMSE %.4f, validation τ %.4f (%.2fs)\n",
                             e.epoch, e.trainLoss, e.validationMetric, e.seconds)
                FileHandle.standardError.write(Data(line.utf8))
            }, log: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
            if output.json, let result = report.results.first {
                try printJSON(result)
            } else {
                print(report.markdown)
                if let result = report.results.first { print(metricsSummary(result)) }
            }
        } catch {
            fail(error)
        }
    }
}
