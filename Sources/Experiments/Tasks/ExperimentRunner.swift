import Foundation
import Training
import NeuralNetworks
import Metanetworks

/// `nfn train` and `nfn evaluate` as library calls: a run is an output folder holding the resolved
/// ``ExperimentConfiguration`` (`config.yaml`), the trainer checkpoint (`checkpoint.safetensors`,
/// written after every epoch, resumed from after an interruption) and the report (`results.json`,
/// `results.md`, SVG plots).
///
/// Adding a task: give it a case in ``ExperimentTask``, its model names in
/// ``ExperimentConfiguration/modelNames(for:)``, and a branch in ``train(_:progress:log:)`` (load,
/// split, train) and in ``evaluate(run:zoo:reportDirectory:)`` (rebuild the model from the
/// configuration, load the best weights, evaluate on the test split). Everything else — configuration files, overrides, the saved `config.yaml`, resume —
/// is shared.
public enum ExperimentRunner {
    /// The resolved configuration's file name in a run folder.
    public static let configurationFileName = "config.yaml"
    /// The trainer checkpoint's file name in a run folder.
    public static let checkpointFileName = "checkpoint.safetensors"

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
        let config = resolvingPaths(configuration)
        let outDir = URL(fileURLWithPath: config.out!)

        let zooURL = URL(fileURLWithPath: config.zoo)
        let result: ModelResult, dataNote: String
        switch config.task {
        case .generalization:
            let data = try loadGeneralization(zoo: zooURL, configuration: config)
            try requireModel(config.model, among: GeneralizationExperiment.modelNames(for: data.weights), zoo: config.zoo)
            let split = try config.split(groups: data.members)
            let checkpoint = try prepareRunFolder(outDir, for: config, log: log)
            result = try GeneralizationExperiment.run(
                model: config.model, data: data, split: split, configuration: config.training, size: config.size,
                checkpoint: checkpoint, progress: progress)
            dataNote = "\(data.targets.count) checkpoints, \(data.skipped) left out (diverged or non-finite)"
        case .inrClassification:
            let data = try INRClassificationExperiment.load(zoo: zooURL, epoch: config.zooEpoch)
            try requireModel(config.model, among: INRClassificationExperiment.modelNames, zoo: config.zoo)
            let split = try config.split(count: data.count)
            let checkpoint = try prepareRunFolder(outDir, for: config, log: log)
            result = try INRClassificationExperiment.run(
                model: config.model, data: data, split: split, configuration: config.training, size: config.size,
                checkpoint: checkpoint, progress: progress)
            dataNote = "\(data.count) SIRENs of \(data.classCount) classes, \(data.skipped) left out (diverged or non-finite)"
        case .inrEditing:
            let edit = try config.imageEdit()
            let data = try INREditingExperiment.load(zoo: zooURL, edit: edit, epoch: config.zooEpoch)
            try requireModel(config.model, among: INREditingExperiment.modelNames, zoo: config.zoo)
            let split = try config.split(count: data.count)
            let checkpoint = try prepareRunFolder(outDir, for: config, log: log)
            var trained: (Module & WeightSpaceLayer)?
            result = try INREditingExperiment.run(
                model: config.model, data: data, split: split, configuration: config.training, size: config.size,
                checkpoint: checkpoint, progress: progress, trainedModel: { trained = $0 })
            if let trained {
                try INREditingExperiment.writeGallery(model: trained, data: data, indices: Array(split.test.prefix(8)),
                                                      to: outDir.appendingPathComponent(editGalleryFileName))
            }
            dataNote = "\(data.count) SIRENs, edit \(edit.rawValue), \(data.skipped) left out (diverged or non-finite); edited test images: \(editGalleryFileName)"
        }
        var row = result
        row.configuration.merge(config.reportEntries) { _, new in new }
        let report = ExperimentReport(
            title: "\(config.model) on \(row.zoo) (\(config.task.rawValue))", results: [row],
            notes: [dataNote, "configuration: \(configurationFileName) in this folder; evaluate with nfn evaluate --run \(outDir.path)"])
        try report.write(to: outDir)
        return report
    }

    /// The checkpoints a configuration names: `zoo_epochs`, or `zoo_epoch` (default: the last).
    ///
    /// Used for evaluation on another zoo too, which therefore needs the same checkpoint epochs.
    static func loadGeneralization(zoo: URL, configuration c: ExperimentConfiguration) throws -> GeneralizationExperiment.Data {
        if let epochs = c.zooEpochs { return try GeneralizationExperiment.load(zoo: zoo, epochs: epochs) }
        return try GeneralizationExperiment.load(zoo: zoo, epoch: c.zooEpoch)
    }

    /// The file an inr-editing run draws its first test members' edits into.
    public static let editGalleryFileName = "edits.svg"

    static func requireModel(_ name: String, among names: [String], zoo: String) throws {
        guard names.contains(name) else {
            throw ExperimentError.unknownModel("\(name) does not fit \(zoo); models for its weight space: \(names.joined(separator: ", "))")
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
        let checkpoint = run.appendingPathComponent(checkpointFileName)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw ExperimentError.invalidRun("\(run.path) has no \(checkpointFileName): the run has not finished an epoch yet")
        }

        // Each task rebuilds its model, loads the best weights (checked against the run's
        // configuration and training-set size) and evaluates; the report is assembled below.
        struct Outcome {
            var zooName: String, parameters: Int, history: MetanetworkTrainingHistory
            var metrics: [String: Double], robustness: [String: Double]
            var predictions: [Double]? = nil, actual: [Double]? = nil
            var evaluated: Int, split: DataSplit
        }
        func best(_ module: Module, trainCount: Int) throws -> MetanetworkTrainingHistory {
            do {
                return try MetanetworkTrainer.loadBestWeights(from: checkpoint, into: module, configuration: config.training,
                                                              memberCount: trainCount)
            } catch {
                throw ExperimentError.invalidRun("\(error)")
            }
        }
        /// SIREN tasks: the split of the run's own zoo (`trainedOn` members), its best weights, and
        /// `evaluate` on its test split or on all `count` members of another zoo.
        func sirenOutcome(_ model: Module, zooName: String, trainedOn: Int, count: Int,
                          evaluate: ([Int]) throws -> (metrics: [String: Double], robustness: [String: Double])) throws -> Outcome {
            let split = try config.split(count: trainedOn)
            let history = try best(model, trainCount: split.train.count)
            let members = zoo == nil ? split.test : Array(0..<count)
            let e = try evaluate(members)
            return Outcome(zooName: zooName, parameters: model.parameterCount, history: history, metrics: e.metrics,
                           robustness: e.robustness, evaluated: members.count, split: split)
        }
        let ownZoo = URL(fileURLWithPath: config.zoo)
        let outcome: Outcome
        switch config.task {
        case .generalization:
            // The run's own zoo gives the split, the training-set size the checkpoint must match and
            // the training targets behind the model's logit offset.
            let own = try loadGeneralization(zoo: ownZoo, configuration: config)
            let data = try zoo.map { try loadGeneralization(zoo: $0, configuration: config) } ?? own
            let a = weightSpaceDescription(own.weights, own.transformerConfiguration)
            let b = weightSpaceDescription(data.weights, data.transformerConfiguration)
            guard a == b else {
                throw ExperimentError.incompatibleZoo("\(data.name) has weight space \(b), the run was trained on \(a)")
            }
            let split = try config.split(groups: own.members)
            let model = try GeneralizationExperiment.makeModel(name: config.model, for: data, size: config.size, seed: config.seed,
                                                               trainingTargets: split.train.map { own.targets[$0] })
            let history = try best(model.module, trainCount: split.train.count)
            let members = zoo == nil ? split.test : Array(0..<data.targets.count)
            let e = try GeneralizationExperiment.evaluate(model, on: data, members: members, seed: config.seed)
            outcome = Outcome(zooName: data.name, parameters: model.module.parameterCount, history: history, metrics: e.metrics,
                              robustness: e.robustness, predictions: e.predictions, actual: e.actual,
                              evaluated: members.count, split: split)
        case .inrClassification:
            let own = try INRClassificationExperiment.load(zoo: ownZoo, epoch: config.zooEpoch)
            let data = try zoo.map { try INRClassificationExperiment.load(zoo: $0) } ?? own
            guard data.classCount == own.classCount, data.zoo.features.widths == own.zoo.features.widths else {
                throw ExperimentError.incompatibleZoo("\(data.zoo.name) has other SIRENs or classes than \(own.zoo.name), which the run was trained on")
            }
            let model = try INRClassificationExperiment.makeModel(name: config.model, data: data, size: config.size, seed: config.seed)
            outcome = try sirenOutcome(model, zooName: data.zoo.name, trainedOn: own.count, count: data.count) {
                try INRClassificationExperiment.evaluateWithRobustness(model: model, data: data, indices: $0, seed: config.seed)
            }
        case .inrEditing:
            let edit = try config.imageEdit()
            let own = try INREditingExperiment.load(zoo: ownZoo, edit: edit, epoch: config.zooEpoch)
            let data = try zoo.map { try INREditingExperiment.load(zoo: $0, edit: edit) } ?? own
            guard data.zoo.features.widths == own.zoo.features.widths, data.height == own.height, data.width == own.width else {
                throw ExperimentError.incompatibleZoo("\(data.zoo.name) has other SIRENs or image sizes than \(own.zoo.name), which the run was trained on")
            }
            let model = try INREditingExperiment.makeModel(name: config.model, data: data, size: config.size, seed: config.seed)
            outcome = try sirenOutcome(model, zooName: data.zoo.name, trainedOn: own.count, count: data.count) {
                try INREditingExperiment.evaluateWithRobustness(model: model, data: data, indices: $0, seed: config.seed)
            }
        }

        var entries = config.reportEntries
        entries["run"] = run.standardizedFileURL.path
        entries["evaluated_on"] = zoo == nil ? "test split of \(config.zoo)" : "all \(outcome.evaluated) members of \(zoo!.standardizedFileURL.path)"
        entries["train/val/test"] = "\(outcome.split.train.count)/\(outcome.split.validation.count)/\(outcome.split.test.count)"
        let history = outcome.history
        let result = ModelResult(
            model: config.model, zoo: outcome.zooName, task: config.task.rawValue, parameters: outcome.parameters,
            trainingSeconds: history.epochs.reduce(0) { $0 + $1.seconds }, history: history,
            metrics: outcome.metrics, robustness: outcome.robustness, configuration: entries,
            predictions: outcome.predictions, actual: outcome.actual)
        var notes = ["evaluated \(outcome.evaluated) members (\(entries["evaluated_on"]!)) with the best weights of epoch \(history.bestEpoch)"]
        if !(history.stoppedEarly || history.epochs.count >= config.epochs) {
            notes.append("the run is unfinished: \(history.epochs.count) of \(config.epochs) epochs; rerun nfn train to finish it")
        }
        let report = ExperimentReport(title: "evaluation of \(config.model) (\(run.lastPathComponent)) on \(outcome.zooName)",
                                      results: [result], notes: notes)
        let dir = reportDirectory ?? run.appendingPathComponent(zoo == nil ? "evaluation" : "evaluation-\(outcome.zooName)")
        try report.write(to: dir)
        return report
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
