import Foundation
import Autograd
import NeuralNetworks
import Metanetworks
import Training
import Zoo

/// What evaluating a trained metanetwork on some zoo members gives.
public struct TaskEvaluation: Sendable, Equatable {
    /// The task's test metrics by name (e.g. `tau`, `accuracy`, `mse`).
    public var metrics: [String: Double]
    /// The main metric on group-augmented copies of the members, by augmentation name.
    public var robustness: [String: Double]
    /// Per-member predictions (regression tasks), aligned with `actual`.
    public var predictions: [Double]?
    /// Per-member true values (regression tasks).
    public var actual: [Double]?
    /// Per augmentation, the test members it acted on in full (the others' activation lacks that
    /// symmetry, so they were only permuted).
    public var augmentedMembers: [String: Int]

    /// An evaluation.
    public init(metrics: [String: Double], robustness: [String: Double], predictions: [Double]? = nil, actual: [Double]? = nil,
                augmentedMembers: [String: Int] = [:]) {
        self.metrics = metrics; self.robustness = robustness; self.predictions = predictions; self.actual = actual
        self.augmentedMembers = augmentedMembers
    }
}

/// A metanetwork trained by a ``MetanetworkTask``: the model with its best-validation weights,
/// its learning curve and the wall-clock training time.
public struct TrainedMetanetwork<Model> {
    /// The model name it was built from.
    public var name: String
    /// The model (best-validation weights loaded).
    public var model: Model
    /// The learning curve.
    public var history: MetanetworkTrainingHistory
    /// Training wall-clock seconds.
    public var seconds: Double
}

/// One experiment that trains a metanetwork on the members of a zoo: how its data is loaded, which
/// models fit it, the training loss, the validation metric, the test evaluation and the report.
///
/// ``ExperimentRunner`` (and `nfn train` / `nfn evaluate`) run every task through this protocol
/// alone: the zoo walks straight through load → split → model → loss → evaluation → report. A new
/// task is one new conforming type plus its case in ``ExperimentTask``.
///
/// Items are the task's training examples (zoo checkpoints or SIRENs), indexed `0..<members(of:).count`.
public protocol MetanetworkTask {
    /// The loaded zoo in the form the task consumes.
    associatedtype Data
    /// A model the task trains (it owns a ``Module``: see ``module(of:)``).
    associatedtype Model

    /// The task's name.
    static var task: ExperimentTask { get }
    /// The model names this task can build.
    static var modelNames: [String] { get }
    /// Whether zoos of `family` hold this task's data.
    static func accepts(_ family: ZooFamily) -> Bool

    /// Loads the zoo at `zoo` as `configuration` asks (checkpoint epochs, image edit).
    ///
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for a zoo the task cannot use;
    ///   ``ExperimentError/invalidConfiguration(_:)``; the zoo's own errors.
    static func load(zoo: URL, configuration: ExperimentConfiguration) throws -> Data
    /// The zoo's name, for reports.
    static func zooName(of data: Data) -> String
    /// The zoo member every item belongs to: a split keeps one member's items in one part.
    static func members(of data: Data) -> [Int]
    /// A one-line account of the data for the report.
    static func summary(of data: Data) -> String
    /// Task keys added to a trained model's result configuration (e.g. `zoo_epoch`, `edit`).
    static func reportEntries(of data: Data, model: Model) -> [String: String]
    /// Throws ``ExperimentError/incompatibleZoo(_:)`` unless a model trained on `own` can be
    /// evaluated on `data` (same weight space, same outputs).
    static func requireCompatible(_ data: Data, trainedOn own: Data) throws

    /// A freshly initialised model `name` for `data`, from `seed`.
    ///
    /// - Parameter trainingItems: the training split (e.g. for a prediction offset).
    /// - Throws: ``ExperimentError/unknownModel(_:)`` listing the models that fit.
    static func makeModel(name: String, data: Data, trainingItems: [Int], size: MetanetworkKind.Size,
                          seed: UInt64) throws -> Model
    /// The trainable module of a model.
    static func module(of model: Model) -> Module
    /// The training loss on `items`, recorded on `tape`.
    static func loss(of model: Model, data: Data, items: [Int], tape: Tape) throws -> Variable
    /// The validation metric on `items` (higher is better), without a tape.
    static func validationMetric(of model: Model, data: Data, items: [Int]) throws -> Double
    /// Test metrics and robustness on `items` (augmentations seeded by `seed`).
    static func evaluate(_ model: Model, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation
    /// Trains a model built by ``makeModel(name:data:trainingItems:size:seed:)`` on `split.train`
    /// (validation on `split.validation`), resuming from `checkpoint`; the model ends with its best
    /// weights. The default is one ``MetanetworkTrainer`` run of ``loss(of:data:items:tape:)``
    /// (``trainOneStage(_:name:data:split:configuration:checkpoint:progress:)``); a task whose
    /// models train in stages (INR2ARRAY) replaces it.
    static func train(_ model: Model, name: String, data: Data, split: DataSplit,
                      configuration: MetanetworkTrainingConfiguration, checkpoint: URL?,
                      progress: ((MetanetworkEpoch) throws -> Void)?) throws -> TrainedMetanetwork<Model>
    /// Writes task-specific files of a finished run (e.g. an image gallery) into `folder` and
    /// returns one report note per file; the default writes nothing.
    static func writeArtifacts(of model: Model, data: Data, split: DataSplit, into folder: URL) throws -> [String]
}

extension MetanetworkTask {
    public static func reportEntries(of data: Data, model: Model) -> [String: String] { [:] }

    public static func writeArtifacts(of model: Model, data: Data, split: DataSplit, into folder: URL) throws -> [String] { [] }

    /// The seeded split of the data's items, keeping each member's items in one part.
    public static func split(_ data: Data, trainFraction: Double = 0.6, validationFraction: Double = 0.15,
                             seed: UInt64) throws -> DataSplit {
        try DataSplit(groups: members(of: data), trainFraction: trainFraction, validationFraction: validationFraction, seed: seed)
    }

    /// Builds model `name` and trains it on `split.train` with ``MetanetworkTrainer`` (validation
    /// metric on `split.validation` for early stopping; the best weights are kept), resuming from
    /// `checkpoint` when it exists.
    public static func train(model name: String, data: Data, split: DataSplit, configuration: MetanetworkTrainingConfiguration,
                             size: MetanetworkKind.Size = .standard, checkpoint: URL? = nil,
                             progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> TrainedMetanetwork<Model> {
        let model = try makeModel(name: name, data: data, trainingItems: split.train, size: size, seed: configuration.seed)
        return try train(model, name: name, data: data, split: split, configuration: configuration, checkpoint: checkpoint,
                         progress: progress)
    }

    /// Trains a model already built by ``makeModel(name:data:trainingItems:size:seed:)`` (e.g. after
    /// checking its size): ``trainOneStage(_:name:data:split:configuration:checkpoint:progress:)``.
    public static func train(_ model: Model, name: String, data: Data, split: DataSplit,
                             configuration: MetanetworkTrainingConfiguration, checkpoint: URL? = nil,
                             progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> TrainedMetanetwork<Model> {
        try trainOneStage(model, name: name, data: data, split: split, configuration: configuration, checkpoint: checkpoint,
                          progress: progress)
    }

    /// One ``MetanetworkTrainer`` run of ``loss(of:data:items:tape:)`` with
    /// ``validationMetric(of:data:items:)`` for early stopping.
    public static func trainOneStage(_ model: Model, name: String, data: Data, split: DataSplit,
                                     configuration: MetanetworkTrainingConfiguration, checkpoint: URL? = nil,
                                     progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> TrainedMetanetwork<Model> {
        let start = Date()
        let history = try MetanetworkTrainer.train(
            model: module(of: model), memberCount: split.train.count, configuration: configuration, checkpoint: checkpoint,
            loss: { batch, tape in try loss(of: model, data: data, items: batch.map { split.train[$0] }, tape: tape) },
            validate: { try validationMetric(of: model, data: data, items: split.validation) },
            progress: progress)
        // A resumed run reports the time of all its epochs, not just of this session's.
        let seconds = history.resumedFromEpoch == nil ? Date().timeIntervalSince(start) : history.epochSeconds
        return TrainedMetanetwork(name: name, model: model, history: history, seconds: seconds)
    }

    /// The test report of a trained model: ``evaluate(_:data:items:seed:)`` on `split.test`, with
    /// the configuration that made it.
    public static func result(of trained: TrainedMetanetwork<Model>, data: Data, split: DataSplit,
                              configuration: MetanetworkTrainingConfiguration, size: MetanetworkKind.Size = .standard) throws -> ModelResult {
        let e = try evaluate(trained.model, data: data, items: split.test, seed: configuration.seed)
        var result = ModelResult(
            model: trained.name, zoo: zooName(of: data), task: task.rawValue,
            parameters: module(of: trained.model).parameterCount, trainingSeconds: trained.seconds,
            history: trained.history, metrics: e.metrics, robustness: e.robustness,
            configuration: configuration.reportEntries(size: size, split: split).merging(reportEntries(of: data, model: trained.model)) { _, task in task },
            predictions: e.predictions, actual: e.actual)
        result.augmentedMembers = e.augmentedMembers.isEmpty ? nil : e.augmentedMembers
        return result
    }

    /// Trains model `name` (``train(model:data:split:configuration:size:checkpoint:progress:)``) and
    /// reports it on the test split (``result(of:data:split:configuration:size:)``).
    public static func run(model name: String, data: Data, split: DataSplit, configuration: MetanetworkTrainingConfiguration,
                           size: MetanetworkKind.Size = .standard, checkpoint: URL? = nil,
                           progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> ModelResult {
        let trained = try train(model: name, data: data, split: split, configuration: configuration, size: size,
                                checkpoint: checkpoint, progress: progress)
        return try result(of: trained, data: data, split: split, configuration: configuration, size: size)
    }

    /// Throws ``ExperimentError/unknownModel(_:)`` unless `name` is one of ``modelNames``.
    static func requireModelName(_ name: String) throws {
        guard modelNames.contains(name) else {
            throw ExperimentError.unknownModel("\(name) (for \(task.rawValue) on this zoo: \(modelNames.joined(separator: ", ")))")
        }
    }
}
