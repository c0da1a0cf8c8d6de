import Foundation
import NeuralNetworks
import TensorIO
import Training
import Zoo

/// `nfn train` and `nfn evaluate` as library calls: a run is an output folder holding the resolved
/// ``ExperimentConfiguration`` (`config.yaml`), the trainer checkpoint (`checkpoint.safetensors`,
/// written after every epoch, resumed from after an interruption) and the report (`results.json`,
/// `results.md`, SVG plots).
///
/// Every task goes through ``MetanetworkTask`` alone: the configuration's task and the zoo's family
/// pick the task type, and the zoo walks through load → split → model → training → evaluation →
/// report in the generic functions below. Adding a task is one conforming type and its case in
/// ``ExperimentTask``; configuration files, overrides, the saved `config.yaml` and resume are shared.
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

    /// The task type that runs `configuration` on its zoo.
    ///
    /// - Throws: ``ZooError`` when the zoo's manifest cannot be read.
    public static func taskType(for configuration: ExperimentConfiguration) throws -> any MetanetworkTask.Type {
        let zoo = URL(fileURLWithPath: configuration.zoo)
        return configuration.task.implementation(for: try ZooManifest.read(from: zoo).spec.family)
    }

    /// Trains the configured model, resuming from the run folder's checkpoint when there is one,
    /// and writes `config.yaml` and the report into `configuration.out`.
    ///
    /// Rerunning with the same configuration after an interruption (even `kill -9`) continues from
    /// the last finished epoch and ends with exactly the result of an uninterrupted run. Nothing is
    /// written before the zoo has loaded and the model name has been checked against it.
    ///
    /// Before anything is written the model is built and its size logged (parameters and the
    /// checkpoint written per epoch); a model above `max_parameters` is refused unless `force`.
    ///
    /// - Parameters:
    ///   - force: train even a model above the configuration's `max_parameters`.
    ///   - threads: threads per optimizer step (``DataParallelGradients``); the result is the same
    ///     for every count, so it is not saved with the configuration.
    ///   - progress: called after every epoch (the checkpoint is already written).
    ///   - log: receives one-line notes (the model's size, "resuming from epoch 3").
    /// - Returns: the report (one ``ModelResult``) as written to the folder.
    /// - Throws: ``ExperimentError`` for an invalid configuration, a zoo that does not fit, a model
    ///   above `max_parameters`, an output folder whose checkpoint belongs to a different
    ///   configuration, or an output folder that is (or is inside) a zoo, a file, or a folder of
    ///   other files; ``TrainingError`` from training; ``ZooError`` for a malformed zoo.
    @discardableResult
    public static func train(_ configuration: ExperimentConfiguration, force: Bool = false, threads: Int = 1,
                             progress: ((MetanetworkEpoch) throws -> Void)? = nil,
                             log: ((String) -> Void)? = nil) throws -> ExperimentReport {
        try configuration.validate(requireOut: true)
        let config = resolvingPaths(configuration)
        let task = try taskType(for: config)
        // Tree ensembles are not metanetworks: they are fitted by XGBoost, on their own path.
        if config.treeEnsembleKind != nil, let trees = task as? any TreeEnsembleTask.Type {
            return try TreeEnsembleRunner.train(trees, config, progress: progress, log: log)
        }
        return try train(task, config, force: force, threads: threads, progress: progress, log: log)
    }

    static func train<Task: MetanetworkTask>(_: Task.Type, _ config: ExperimentConfiguration, force: Bool, threads: Int,
                                             progress: ((MetanetworkEpoch) throws -> Void)?,
                                             log: ((String) -> Void)?) throws -> ExperimentReport {
        let outDir = URL(fileURLWithPath: config.out ?? "")
        try checkRunFolder(outDir)   // before any work: a bad destination is refused at once
        if FileManager.default.fileExists(atPath: outDir.appendingPathComponent(TreeEnsembleRunner.modelFileName).path) {
            throw ExperimentError.invalidConfiguration("\(outDir.path) holds a tree-ensemble run; choose another output folder for \(config.model)")
        }
        let data = try Task.load(zoo: URL(fileURLWithPath: config.zoo), configuration: config)
        guard Task.modelNames.contains(config.model) else {
            throw ExperimentError.unknownModel("\(config.model) does not fit \(config.zoo); models for its weight space: \(Task.modelNames.joined(separator: ", "))")
        }
        let split = try config.split(groups: Task.members(of: data))
        let model = try Task.makeModel(name: config.model, data: data, trainingItems: split.train, size: config.size,
                                       seed: config.training.seed)
        try checkSize(of: Task.module(of: model), config, force: force, log: log)
        let lock = try lockRunFolder(outDir)
        defer { lock.release() }
        let checkpoint = try prepareRunFolder(outDir, for: config, log: log)
        var training = config.training
        training.threads = threads   // not part of the saved configuration: the result does not depend on it
        let trained = try Task.train(model, name: config.model, data: data, split: split, configuration: training,
                                     checkpoint: checkpoint, progress: progress)
        var row = try Task.result(of: trained, data: data, split: split, configuration: config.training, size: config.size)
        row.configuration.merge(config.reportEntries) { _, new in new }
        let artifacts = try Task.writeArtifacts(of: trained.model, data: data, split: split, into: outDir)
        let report = ExperimentReport(
            title: "\(config.model) on \(row.zoo) (\(config.task.rawValue))", results: [row],
            notes: [([Task.summary(of: data)] + artifacts).joined(separator: "; "),
                    "configuration: \(configurationFileName) in this folder; evaluate with nfn evaluate --run \(outDir.path)"])
        try report.write(to: outDir)
        return report
    }

    /// Logs a model's parameter count and checkpoint size, and refuses one above `max_parameters`
    /// unless `force`, saying why and what is smaller.
    static func checkSize(of module: Module, _ config: ExperimentConfiguration, force: Bool, log: ((String) -> Void)?) throws {
        let parameters = module.parameterCount
        let bytes = MetanetworkTrainer.checkpointBytes(parameterCount: parameters, optimizer: config.training.optimizer)
        let size = ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)
        log?("\(config.model): \(parameters) parameters; checkpoint ≈ \(size) (written after every epoch)")
        guard parameters <= config.maxParameters || force else {
            let smaller = config.size == .standard ? "--size small, " : ""
            throw ExperimentError.invalidConfiguration(
                "\(config.model) has \(parameters) parameters on this zoo (checkpoint ≈ \(size) per epoch), above max_parameters \(config.maxParameters); "
                + "some models grow with the square of the zoo's input width. Try \(smaller)another model (e.g. np or hnp), "
                + "or raise max_parameters, or pass --force")
        }
    }

    /// Throws unless `directory` may receive output files: it must not be an existing file, nor a
    /// zoo folder or a folder inside one (a zoo's files are its own; writing there could replace
    /// them and would make the folder something the zoo tools do not expect).
    ///
    /// - Parameter option: how the user named the folder (`out`, `--report`), for the message.
    static func checkOutputLocation(_ directory: URL, option: String) throws {
        let fm = FileManager.default
        let path = directory.standardizedFileURL.resolvingSymlinksInPath().path
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ExperimentError.invalidArgument("\(option) \(directory.path) is a file, not a folder; refusing to write over it")
        }
        var folder = path
        while true {
            if fm.fileExists(atPath: (folder as NSString).appendingPathComponent(ZooLayout.manifest)) {
                throw ExperimentError.invalidArgument(
                    "\(option) \(directory.path) is \(folder == path ? "a zoo folder" : "inside the zoo folder \(folder)"); nfn never writes into a zoo: choose a folder outside it")
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder || parent.isEmpty { break }
            folder = parent
        }
    }

    /// Refuses a training output folder that would overwrite something: a zoo (or a folder in one),
    /// a file, or an existing folder that holds files but no run (no `config.yaml`, checkpoint or
    /// run lock), whose `results.json` or `results.md` would be replaced.
    static func checkRunFolder(_ outDir: URL) throws {
        try checkOutputLocation(outDir, option: "out")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outDir.path)) ?? []
        let runFiles: Set<String> = [configurationFileName, checkpointFileName, lockFileName]
        if !names.isEmpty, !names.contains(where: runFiles.contains) {
            throw ExperimentError.invalidArgument(
                "out \(outDir.path) already holds files (\(names.sorted().prefix(3).joined(separator: ", "))\(names.count > 3 ? ", …" : "")) but no nfn train run; choose a new or empty folder")
        }
    }

    /// Refuses an evaluation report folder that would overwrite something: a zoo (or a folder in
    /// one), a file, a run folder (its own `results.json` is the training report), or (when the
    /// user named it) an existing folder of other files.
    static func checkReportFolder(_ dir: URL, explicit: Bool) throws {
        try checkOutputLocation(dir, option: "--report")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        if names.contains(configurationFileName) || names.contains(checkpointFileName) {
            throw ExperimentError.invalidArgument(
                "--report \(dir.path) is an nfn train run folder; its results would be overwritten: choose another folder")
        }
        if explicit, !names.isEmpty, !names.contains("results.json") {
            throw ExperimentError.invalidArgument(
                "--report \(dir.path) already holds files but no report; choose a new or empty folder")
        }
    }

    /// The lock file a training process holds in its run folder.
    public static let lockFileName = ".nfn-train.lock"

    /// Creates the run folder and takes its lock, so that two `nfn train` never write one folder.
    ///
    /// - Throws: ``ExperimentError/runInProgress(_:)`` when another process holds it.
    static func lockRunFolder(_ outDir: URL) throws -> FileLock {
        do {
            try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
            return try FileLock(outDir.appendingPathComponent(lockFileName))
        } catch FileLock.Failure.held {
            throw ExperimentError.runInProgress("another nfn train is writing into \(outDir.path); wait for it to finish or choose another output folder")
        } catch {
            throw ExperimentError.invalidArgument("cannot create or lock the output folder \(outDir.path): \(error)")
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
        where name.hasPrefix(AtomicFile.temporaryPrefix) && name.hasSuffix("-" + checkpointFileName) {
            try? fm.removeItem(at: outDir.appendingPathComponent(name))
        }
        if fm.fileExists(atPath: checkpoint.path) {
            if fm.fileExists(atPath: configURL.path) {
                let previous = try ExperimentConfiguration.load(from: configURL)
                if previous != config {
                    let (old, new) = (previous.reportEntries, config.reportEntries)
                    let differing = ExperimentConfiguration.keyNames.filter { old[$0] != new[$0] }
                    throw ExperimentError.invalidConfiguration(
                        "\(outDir.path) already holds a run with a different configuration (differs in: \(differing.joined(separator: ", "))); choose another output folder or delete it")
                }
            }
            if let h = try MetanetworkTrainer.checkpointHistory(at: checkpoint), let last = h.epochs.last {
                log?("resuming from epoch \(last.epoch) of \(config.training.epochs) (\(checkpoint.path))")
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
    ///   ``ExperimentError/invalidArgument(_:)`` for a report folder that is (or is inside) a zoo,
    ///   a run folder, a file, or a folder of other files;
    ///   ``ExperimentError/incompatibleZoo(_:)`` for a zoo of another weight space.
    @discardableResult
    public static func evaluate(run: URL, zoo: URL? = nil, reportDirectory: URL? = nil) throws -> ExperimentReport {
        let config = try configuration(ofRun: run)
        try config.validate()
        let checkpoint = run.appendingPathComponent(checkpointFileName)
        if let reportDirectory { try checkReportFolder(reportDirectory, explicit: true) }
        if config.treeEnsembleKind != nil, let trees = try taskType(for: config) as? any TreeEnsembleTask.Type {
            return try TreeEnsembleRunner.evaluate(trees, config, run: run, zoo: zoo, reportDirectory: reportDirectory)
        }
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw ExperimentError.invalidRun("\(run.path) has no \(checkpointFileName): the run has not finished an epoch yet")
        }
        return try evaluate(try taskType(for: config), config, run: run, checkpoint: checkpoint, zoo: zoo,
                            reportDirectory: reportDirectory)
    }

    static func evaluate<Task: MetanetworkTask>(_: Task.Type, _ config: ExperimentConfiguration, run: URL, checkpoint: URL,
                                                zoo: URL?, reportDirectory: URL?) throws -> ExperimentReport {
        // The run's own zoo gives the split, the training-set size the checkpoint must match and
        // whatever the model took from its training items (the generalization logit offset).
        let own = try Task.load(zoo: URL(fileURLWithPath: config.zoo), configuration: config)
        let data = try zoo.map { try Task.load(zoo: $0, configuration: config) } ?? own
        try Task.requireCompatible(data, trainedOn: own)
        let split = try config.split(groups: Task.members(of: own))
        let model = try Task.makeModel(name: config.model, data: own, trainingItems: split.train, size: config.size,
                                       seed: config.training.seed)
        let history: MetanetworkTrainingHistory
        do {
            history = try MetanetworkTrainer.loadBestWeights(from: checkpoint, into: Task.module(of: model),
                                                             configuration: config.training, memberCount: split.train.count)
        } catch {
            throw ExperimentError.invalidRun("\(error)")
        }
        let items = zoo == nil ? split.test : Array(Task.members(of: data).indices)
        let e = try Task.evaluate(model, data: data, items: items, seed: config.training.seed)

        let zooName = Task.zooName(of: data)
        var entries = config.reportEntries
        entries["run"] = run.standardizedFileURL.path
        entries["evaluated_on"] = zoo.map { "all \(items.count) members of \($0.standardizedFileURL.path)" } ?? "test split of \(config.zoo)"
        entries["train/val/test"] = "\(split.train.count)/\(split.validation.count)/\(split.test.count)"
        let result = ModelResult(
            model: config.model, zoo: zooName, task: config.task.rawValue, parameters: Task.module(of: model).parameterCount,
            trainingSeconds: history.epochs.reduce(0) { $0 + $1.seconds }, history: history,
            metrics: e.metrics, robustness: e.robustness, configuration: entries,
            predictions: e.predictions, actual: e.actual)
        var notes = ["evaluated \(items.count) members (\(entries["evaluated_on"] ?? "")) with the best weights of epoch \(history.bestEpoch)"]
        if !(history.stoppedEarly || history.epochs.count >= config.training.epochs) {
            notes.append("the run is unfinished: \(history.epochs.count) of \(config.training.epochs) epochs; rerun nfn train to finish it")
        }
        let report = ExperimentReport(title: "evaluation of \(config.model) (\(run.lastPathComponent)) on \(zooName)",
                                      results: [result], notes: notes)
        let dir = reportDirectory ?? run.appendingPathComponent(zoo == nil ? "evaluation" : "evaluation-\(zooName)")
        try checkReportFolder(dir, explicit: reportDirectory != nil)
        try report.write(to: dir)
        return report
    }
}
