import Foundation
import TensorIO
import Training
import TreeEnsembles

/// `nfn train` and `nfn evaluate` for the tree ensembles (`--model xgboost`, `--model random-forest`).
///
/// The run folder holds `config.yaml`, the booster in XGBoost's own UBJ format (`model.ubj`,
/// readable by any XGBoost binding's `load_model`), the fit record (`fit.json`: per-round
/// training RMSE and validation τ, the round kept) and the report. The split, the seed and the
/// report are those of the metanetworks, so the rows compare directly; the fit itself is
/// XGBoost's (no tape, no optimizer, no checkpoint per epoch).
public enum TreeEnsembleRunner {
    /// The booster's file name in a run folder.
    public static let modelFileName = "model.ubj"
    /// The fit record's file name in a run folder.
    public static let fitFileName = "fit.json"

    /// What a fit leaves besides the booster, for the evaluation report.
    struct FitRecord: Codable {
        var kind: String
        var rounds: [TreeEnsembleRound]
        var bestRound: Int
        var seconds: Double
        var summary: TreeEnsembleSummary
        var featureCount: Int
        var xgboostVersion: String
    }

    /// Fits the configured ensemble on the task's training split (rounds scored on the validation
    /// split, the best prefix kept), saves it, evaluates the saved model on the test split and
    /// writes the report. Rerunning into the same folder with the same configuration refits and
    /// gives the same model (the fit is seeded and single-configuration deterministic).
    ///
    /// - Throws: as ``ExperimentRunner/train(_:force:progress:log:)``; ``TreeEnsembleError`` from the fit.
    static func train<Task: TreeEnsembleTask>(_: Task.Type, _ config: ExperimentConfiguration,
                                              progress: ((MetanetworkEpoch) throws -> Void)?,
                                              log: ((String) -> Void)?) throws -> ExperimentReport {
        guard let kind = config.treeEnsembleKind else { throw ExperimentError.unknownModel(config.model) }
        let hyperparameters = try config.treeHyperparameters()
        let outDir = URL(fileURLWithPath: config.out ?? "")
        try ExperimentRunner.checkRunFolder(outDir)
        let data = try Task.load(zoo: URL(fileURLWithPath: config.zoo), configuration: config)
        guard Task.modelNames.contains(config.model) else {
            throw ExperimentError.unknownModel("\(config.model) does not fit \(config.zoo); models for its weight space: \(Task.modelNames.joined(separator: ", "))")
        }
        let split = try config.split(groups: Task.members(of: data))
        let seed = config.training.seed
        let trainFeatures = try Task.treeFeatures(of: data, items: split.train)
        log?("\(config.model): \(hyperparameters.rounds) round(s) × \(hyperparameters.parallelTrees) tree(s) on \(trainFeatures.shape[1]) statistics of \(split.train.count) checkpoints (XGBoost \(xgboostVersion))")

        let lock = try ExperimentRunner.lockRunFolder(outDir)
        defer { lock.release() }
        try prepareRunFolder(outDir, for: config)

        let start = Date()
        let validationItems = split.validation
        let fit = try TreeEnsembleRegressor.fit(
            kind, hyperparameters: hyperparameters, seed: seed, features: trainFeatures,
            labels: Task.treeTargets(of: data, items: split.train),
            validation: validationItems.isEmpty ? nil : (try Task.treeFeatures(of: data, items: validationItems),
                                                         { Task.treeValidationScore($0, data: data, items: validationItems) }),
            progress: { r in
                try progress?(MetanetworkEpoch(epoch: r.round, trainLoss: r.trainRMSE, validationMetric: r.validationScore, seconds: r.seconds))
            })
        let seconds = Date().timeIntervalSince(start)
        let modelURL = outDir.appendingPathComponent(modelFileName)
        try fit.booster.save(to: modelURL)
        // The test numbers come from the saved file, so nfn evaluate reproduces them exactly.
        let saved = try XGBoostBooster.load(from: modelURL)
        let summary = try TreeEnsembleSummary(saved)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let record = FitRecord(kind: kind.rawValue, rounds: fit.rounds, bestRound: fit.bestRound, seconds: seconds,
                               summary: summary, featureCount: trainFeatures.shape[1], xgboostVersion: xgboostVersion)
        try AtomicFile.write(try encoder.encode(record), to: outDir.appendingPathComponent(fitFileName))

        let e = try Task.evaluate(trees: saved, data: data, items: split.test, seed: seed)
        var entries = config.training.reportEntries(size: config.size, split: split)
        entries.merge(config.reportEntries) { _, new in new }
        entries.merge(treeEntries(of: record, hyperparameters: hyperparameters)) { _, new in new }
        let row = result(config, zoo: Task.zooName(of: data), record: record, evaluation: e, configuration: entries)
        let report = ExperimentReport(
            title: "\(config.model) on \(row.zoo) (\(config.task.rawValue))", results: [row],
            notes: ["\(Task.summary(of: data)); \(summary.trees) trees, \(summary.leaves) leaves on \(record.featureCount) statistics per checkpoint",
                    "configuration: \(ExperimentRunner.configurationFileName) in this folder; evaluate with nfn evaluate --run \(outDir.path)"])
        try report.write(to: outDir)
        return report
    }

    /// Reloads a tree run's booster and evaluates it, as ``ExperimentRunner/evaluate(run:zoo:reportDirectory:)``.
    static func evaluate<Task: TreeEnsembleTask>(_: Task.Type, _ config: ExperimentConfiguration, run: URL, zoo: URL?,
                                                 reportDirectory: URL?) throws -> ExperimentReport {
        let modelURL = run.appendingPathComponent(modelFileName)
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw ExperimentError.invalidRun("\(run.path) has no \(modelFileName): the fit has not finished")
        }
        let record: FitRecord
        do {
            record = try JSONDecoder().decode(FitRecord.self, from: RegularFile.read(run.appendingPathComponent(fitFileName), limit: 16 << 20))
        } catch {
            throw ExperimentError.invalidRun("\(run.path)/\(fitFileName): \(error)")
        }
        let booster: XGBoostBooster
        do { booster = try XGBoostBooster.load(from: modelURL) } catch { throw ExperimentError.invalidRun("\(error)") }
        let own = try Task.load(zoo: URL(fileURLWithPath: config.zoo), configuration: config)
        let data = try zoo.map { try Task.load(zoo: $0, configuration: config) } ?? own
        try Task.requireCompatible(data, trainedOn: own)
        let split = try config.split(groups: Task.members(of: own))
        let items = zoo == nil ? split.test : Array(Task.members(of: data).indices)
        let e = try Task.evaluate(trees: booster, data: data, items: items, seed: config.training.seed)

        var entries = config.reportEntries
        entries.merge(treeEntries(of: record, hyperparameters: try config.treeHyperparameters())) { _, new in new }
        entries["run"] = run.standardizedFileURL.path
        entries["evaluated_on"] = zoo.map { "all \(items.count) members of \($0.standardizedFileURL.path)" } ?? "test split of \(config.zoo)"
        entries["train/val/test"] = "\(split.train.count)/\(split.validation.count)/\(split.test.count)"
        let zooName = Task.zooName(of: data)
        let row = result(config, zoo: zooName, record: record, evaluation: e, configuration: entries)
        let report = ExperimentReport(title: "evaluation of \(config.model) (\(run.lastPathComponent)) on \(zooName)", results: [row],
                                      notes: ["evaluated \(items.count) members (\(entries["evaluated_on"] ?? "")) with the saved \(modelFileName) (\(record.summary.trees) trees)"])
        let dir = reportDirectory ?? run.appendingPathComponent(zoo == nil ? "evaluation" : "evaluation-\(zooName)")
        try ExperimentRunner.checkReportFolder(dir, explicit: reportDirectory != nil)
        try report.write(to: dir)
        return report
    }

    /// The result row: the leaves stand in for the parameter count (each holds one fitted value),
    /// rounds for epochs.
    static func result(_ config: ExperimentConfiguration, zoo: String, record: FitRecord, evaluation e: TaskEvaluation,
                       configuration: [String: String]) -> ModelResult {
        ModelResult(model: config.model, zoo: zoo, task: config.task.rawValue, parameters: record.summary.leaves,
                    trainingSeconds: record.seconds, epochs: record.rounds.count, bestEpoch: record.bestRound,
                    metrics: e.metrics, robustness: e.robustness, configuration: configuration,
                    learningCurve: record.rounds.map {
                        MetanetworkEpoch(epoch: $0.round, trainLoss: $0.trainRMSE, validationMetric: $0.validationScore, seconds: $0.seconds)
                    },
                    predictions: e.predictions, actual: e.actual)
    }

    static func treeEntries(of record: FitRecord, hyperparameters: TreeEnsembleHyperparameters) -> [String: String] {
        hyperparameters.reportEntries.merging([
            "trees": "\(record.summary.trees)", "leaves": "\(record.summary.leaves)", "best_round": "\(record.bestRound)",
            "features": "STATNN statistics (\(record.featureCount) per checkpoint)", "xgboost": record.xgboostVersion,
        ]) { _, new in new }
    }

    /// Creates the run folder, refuses one holding a tree run of a different configuration, and
    /// writes `config.yaml` atomically.
    static func prepareRunFolder(_ outDir: URL, for config: ExperimentConfiguration) throws {
        let fm = FileManager.default
        let configURL = outDir.appendingPathComponent(ExperimentRunner.configurationFileName)
        if fm.fileExists(atPath: outDir.appendingPathComponent(modelFileName).path), fm.fileExists(atPath: configURL.path) {
            let previous = try ExperimentConfiguration.load(from: configURL)
            if previous != config {
                let (old, new) = (previous.reportEntries, config.reportEntries)
                let differing = ExperimentConfiguration.keyNames.filter { old[$0] != new[$0] }
                throw ExperimentError.invalidConfiguration(
                    "\(outDir.path) already holds a run with a different configuration (differs in: \(differing.joined(separator: ", "))); choose another output folder or delete it")
            }
        }
        if fm.fileExists(atPath: outDir.appendingPathComponent(ExperimentRunner.checkpointFileName).path) {
            throw ExperimentError.invalidConfiguration("\(outDir.path) holds a metanetwork run (a checkpoint); choose another output folder for \(config.model)")
        }
        try config.write(to: configURL)
    }
}
