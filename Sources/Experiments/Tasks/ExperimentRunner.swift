import Foundation
import Training
import NeuralNetworks

/// `nfn train` and `nfn evaluate` as library calls: a run is an output folder holding the resolved
/// ``ExperimentConfiguration`` (`config.yaml`), the trainer checkpoint (`checkpoint.safetensors`,
/// written after every epoch, resumed from after an interruption) and the report (`results.json`,
/// `results.md`, SVG plots).
///
/// Adding a task: give it a case in ``ExperimentTask``, list it in ``availableTasks``, and add a
/// branch to ``train(_:progress:)`` (train, write the report, return it) and to
/// ``evaluate(run:zoo:reportDirectory:)`` (rebuild the model from the configuration, load the best
/// weights with ``MetanetworkTrainer/loadBestWeights(from:into:configuration:memberCount:)``,
/// evaluate). Everything else — configuration files, overrides, the saved `config.yaml`, resume —
/// is shared.
public enum ExperimentRunner {
    /// The resolved configuration's file name in a run folder.
    public static let configurationFileName = "config.yaml"
    /// The trainer checkpoint's file name in a run folder.
    public static let checkpointFileName = "checkpoint.safetensors"

    /// The tasks `train` and `evaluate` can run in this build.
    public static let availableTasks: [ExperimentTask] = [.generalization]

    /// Throws ``ExperimentError/taskNotAvailable(_:)`` for a task without a runner.
    public static func ensureAvailable(_ task: ExperimentTask) throws {
        guard availableTasks.contains(task) else { throw notWired(task) }
    }

    static func notWired(_ task: ExperimentTask) -> ExperimentError {
        .taskNotAvailable("task \(task.rawValue) is not wired into nfn train / nfn evaluate yet; available: \(availableTasks.map(\.rawValue).joined(separator: ", "))")
    }

    /// `configuration` with `zoo` and `out` made absolute (relative paths are resolved against the
    /// current directory), so a saved configuration still works from another directory.
    public static func resolvingPaths(_ configuration: ExperimentConfiguration) -> ExperimentConfiguration {
        var c = configuration
        c.zoo = URL(fileURLWithPath: c.zoo).standardizedFileURL.path
        if let out = c.out { c.out = URL(fileURLWithPath: out).standardizedFileURL.path }
        return c
    }

    /// Trains the configured model, resuming from the run folder's checkpoint when there is one,
    /// and writes `config.yaml` and the report into `configuration.out`.
    ///
    /// Rerunning with the same configuration after an interruption (even `kill -9`) continues from
    /// the last finished epoch and ends with exactly the result of an uninterrupted run. Nothing is
    /// written before the zoo has loaded and the model name has been checked against it.
    ///
    /// - Parameters:
    ///   - progress: called after every epoch (the checkpoint is already written).
    ///   - log: receives one-line notes (e.g. "resuming from epoch 3").
    /// - Returns: the report (one ``ModelResult``) as written to the folder.
    /// - Throws: ``ExperimentError`` for an invalid configuration, an unavailable task, a zoo that does
    ///   not fit, or an output folder whose checkpoint belongs to a different configuration;
    ///   ``TrainingError`` from training; ``ZooError`` for a malformed zoo.
    @discardableResult
    public static func train(_ configuration: ExperimentConfiguration,
                             progress: ((MetanetworkEpoch) throws -> Void)? = nil,
                             log: ((String) -> Void)? = nil) throws -> ExperimentReport {
        try configuration.validate(requireOut: true)
        try ensureAvailable(configuration.task)
        let config = resolvingPaths(configuration)
        let outDir = URL(fileURLWithPath: config.out!)

        switch config.task {
        case .generalization:
            let data = try GeneralizationExperiment.load(zoo: URL(fileURLWithPath: config.zoo), epoch: config.zooEpoch)
            let names = GeneralizationExperiment.modelNames(for: data.weights)
            guard names.contains(config.model) else {
                throw ExperimentError.unknownModel("\(config.model) does not fit \(config.zoo); models for its weight space: \(names.joined(separator: ", "))")
            }
            let split = try config.split(count: data.targets.count)
            let checkpoint = try prepareRunFolder(outDir, for: config, log: log)
            var result = try GeneralizationExperiment.run(
                model: config.model, data: data, split: split, configuration: config.training, size: config.size,
                checkpoint: checkpoint, progress: progress)
            result.configuration.merge(config.reportEntries) { _, new in new }
            let report = ExperimentReport(
                title: "\(config.model) on \(data.name)", results: [result],
                notes: ["\(data.targets.count) checkpoints, \(data.skipped) left out (diverged or non-finite)",
                        "configuration: \(configurationFileName) in this folder; evaluate with nfn evaluate --run \(outDir.path)"])
            try report.write(to: outDir)
            return report
        case .inrClassification, .inrEditing:
            throw notWired(config.task)
        }
    }

    /// Creates the run folder, refuses one whose checkpoint was made by a different configuration,
    /// writes `config.yaml` atomically, and returns the checkpoint URL.
    public static func prepareRunFolder(_ outDir: URL, for config: ExperimentConfiguration,
                                        log: ((String) -> Void)? = nil) throws -> URL {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: outDir, withIntermediateDirectories: true)
        } catch {
            throw ExperimentError.invalidArgument("cannot create the output folder \(outDir.path): \(error.localizedDescription)")
        }
        let configURL = outDir.appendingPathComponent(configurationFileName)
        let checkpoint = outDir.appendingPathComponent(checkpointFileName)
        // A run killed while writing leaves its temporary file (the destination itself is always
        // whole); remove such leftovers of earlier processes.
        for name in (try? fm.contentsOfDirectory(atPath: outDir.path)) ?? []
        where name.hasPrefix(".nfn-tmp-") && name.hasSuffix("-" + checkpointFileName) {
            try? fm.removeItem(at: outDir.appendingPathComponent(name))
        }
        if fm.fileExists(atPath: checkpoint.path) {
            if fm.fileExists(atPath: configURL.path) {
                let previous = try ExperimentConfiguration.load(from: configURL)
                if previous != config {
                    let differing = ExperimentConfiguration.keys.filter { previous.reportEntries[$0] != config.reportEntries[$0] }
                    throw ExperimentError.invalidConfiguration(
                        "\(outDir.path) already holds a run with a different configuration (differs in: \(differing.joined(separator: ", "))); choose another output folder or delete it")
                }
            }
            if let h = try MetanetworkTrainer.checkpointHistory(at: checkpoint), let last = h.epochs.last {
                log?("resuming from epoch \(last.epoch) of \(config.epochs) (\(checkpoint.path))")
            }
        }
        try config.write(to: configURL)
        return checkpoint
    }

    /// The run folder's configuration.
    ///
    /// - Throws: ``ExperimentError/invalidRun(_:)`` when the folder has no `config.yaml`, or the
    ///   configuration's parse errors.
    public static func configuration(ofRun run: URL) throws -> ExperimentConfiguration {
        let url = run.appendingPathComponent(configurationFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ExperimentError.invalidRun("\(run.path) has no \(configurationFileName); is it an nfn train output folder?")
        }
        return try ExperimentConfiguration.load(from: url)
    }

    /// Rebuilds a run's model from its saved configuration, loads the best weights from its
    /// checkpoint, and evaluates them: on the configuration's test split of its zoo, or (with
    /// `zoo`) on every member of another zoo of the same weight space.
    ///
    /// For the run's own zoo the numbers are exactly the test numbers `train` reported.
    ///
    /// - Parameter reportDirectory: where to write the evaluation report (default:
    ///   `RUN/evaluation`, or `RUN/evaluation-ZOONAME` for another zoo).
    /// - Returns: the report (one ``ModelResult``; its `learningCurve` is the run's history).
    /// - Throws: ``ExperimentError/invalidRun(_:)`` for a folder without configuration or
    ///   checkpoint, or whose checkpoint does not fit the configured model;
    ///   ``ExperimentError/incompatibleZoo(_:)`` for a zoo of another weight space.
    @discardableResult
    public static func evaluate(run: URL, zoo: URL? = nil, reportDirectory: URL? = nil) throws -> ExperimentReport {
        let config = try configuration(ofRun: run)
        try config.validate()
        try ensureAvailable(config.task)
        let checkpoint = run.appendingPathComponent(checkpointFileName)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw ExperimentError.invalidRun("\(run.path) has no \(checkpointFileName): the run has not finished an epoch yet")
        }

        switch config.task {
        case .generalization:
            // The run's own zoo gives the split and the training-set size the checkpoint must match.
            let ownData: GeneralizationExperiment.Data?
            if zoo == nil {
                ownData = try GeneralizationExperiment.load(zoo: URL(fileURLWithPath: config.zoo), epoch: config.zooEpoch)
            } else {
                ownData = try? GeneralizationExperiment.load(zoo: URL(fileURLWithPath: config.zoo), epoch: config.zooEpoch)
            }
            let data = try zoo.map { try GeneralizationExperiment.load(zoo: $0) } ?? ownData!
            if let own = ownData, zoo != nil {
                let a = weightSpaceDescription(own.weights, own.transformerConfiguration)
                let b = weightSpaceDescription(data.weights, data.transformerConfiguration)
                guard a == b else {
                    throw ExperimentError.incompatibleZoo("\(zoo!.path) has weight space \(b), the run was trained on \(a)")
                }
            }
            let split = try ownData.map { try config.split(count: $0.targets.count) }
            let model = try GeneralizationExperiment.makeModel(name: config.model, for: data, size: config.size, seed: config.seed)
            let history: MetanetworkTrainingHistory
            do {
                history = try MetanetworkTrainer.loadBestWeights(from: checkpoint, into: model.module, configuration: config.training,
                                                                 memberCount: split?.train.count)
            } catch {
                throw ExperimentError.invalidRun("\(error)")
            }
            let members = zoo == nil ? split!.test : Array(0..<data.targets.count)
            let evaluation = try GeneralizationExperiment.evaluate(model, on: data, members: members, seed: config.seed)
            var entries = config.reportEntries
            entries["run"] = run.standardizedFileURL.path
            entries["evaluated_on"] = zoo == nil ? "test split of \(config.zoo)" : "all \(members.count) members of \(zoo!.standardizedFileURL.path)"
            if let split { entries["train/val/test"] = "\(split.train.count)/\(split.validation.count)/\(split.test.count)" }
            let result = ModelResult(
                model: config.model, zoo: data.name, task: config.task.rawValue, parameters: model.module.parameterCount,
                trainingSeconds: history.epochs.reduce(0) { $0 + $1.seconds }, epochs: history.epochs.count,
                bestEpoch: history.bestEpoch, metrics: evaluation.metrics, robustness: evaluation.robustness,
                configuration: entries, learningCurve: history.epochs,
                predictions: evaluation.predictions, actual: evaluation.actual)
            var notes = ["evaluated \(members.count) members (\(entries["evaluated_on"]!)) with the best weights of epoch \(history.bestEpoch)"]
            let finished = history.stoppedEarly || history.epochs.count >= config.epochs
            if !finished {
                notes.append("the run is unfinished: \(history.epochs.count) of \(config.epochs) epochs; rerun nfn train to finish it")
            }
            let report = ExperimentReport(title: "evaluation of \(config.model) (\(run.lastPathComponent)) on \(data.name)",
                                          results: [result], notes: notes)
            let dir = reportDirectory ?? run.appendingPathComponent(zoo == nil ? "evaluation" : "evaluation-\(data.name)")
            try report.write(to: dir)
            return report
        case .inrClassification, .inrEditing:
            throw notWired(config.task)
        }
    }

    static func weightSpaceDescription(_ w: ZooWeights, _ t: SmallTransformer.Configuration?) -> String {
        switch w {
        case .feedforward(let f):
            return "feed-forward widths \(f.widths), kernels \(f.kernels)"
        case .transformer(let x):
            return "transformer (\(x.blocks.count) blocks, \(t ?? .init()))"
        }
    }
}
