import Foundation
import Tensors
import Autograd
import NeuralNetworks
import Metanetworks
import Training
import TreeEnsembles
import Zoo

/// Generalization prediction on an on-disk zoo (the main benchmark of Unterthiner et al. 2020,
/// *Predicting Neural Network Accuracy from Weights*, and of the Transformer-NFN, Monomial-NFN and
/// Quasi-Equivariant papers): load the checkpoints of some epochs, split them by member, train a
/// named predictor with binary cross-entropy against the true test accuracy, report τ / R² / MSE
/// and τ on group-augmented test sets.
///
/// Generic over the zoo's weight space: ``FeedforwardGeneralization`` for CNN and MLP zoos,
/// ``TransformerGeneralization`` for transformer zoos.
///
/// ```swift
/// let data = try FeedforwardGeneralization.load(zoo: URL(fileURLWithPath: "zoos/cnn"))
/// let split = try FeedforwardGeneralization.split(data, seed: 0)
/// let result = try FeedforwardGeneralization.run(model: "hnp", data: data, split: split,
///                                                configuration: .init(epochs: 20, seed: 0))
/// print(result.metrics["tau"]!)
/// ```
public enum GeneralizationExperiment<Space: GeneralizationWeightSpace>: MetanetworkTask {
    /// The checkpoints of some epochs of a zoo, with their test accuracies.
    public struct Data: Sendable {
        /// The zoo folder's name.
        public var name: String
        /// The checkpoints' weights.
        public var features: Space.Features
        /// The members' networks, as their model declares them.
        public var architecture: Space.Architecture
        /// Each checkpoint's test accuracy, aligned with `features`.
        public var targets: [Float]
        /// Checkpoints left out (diverged or NaN/∞ weights).
        public var skipped: Int
        /// The zoo member each checkpoint belongs to, aligned with `targets`.
        public var members: [Int]
        /// The checkpoint epochs loaded.
        public var epochs: [Int]
        /// Each checkpoint's hidden activation, aligned with `targets` (nil for transformer zoos):
        /// the robustness protocol scales or flips only members for which that is a symmetry.
        public var activations: [Activation]?
    }

    /// A predictor and the logit offset it starts from.
    public struct Model {
        /// The predictor (its module's parameters are what checkpoints hold).
        public let predictor: Space.Predictor
        /// Added to the predictor's output logit: ``GeneralizationPrediction/logitOffset(_:)`` of the
        /// training targets, so an untrained model predicts the mean training accuracy. Part of the
        /// trained model: evaluation must use the offset training used.
        public let logitOffset: Float

        /// `[members.count, 1]` logits for rows `members` of `features`.
        public func logits(_ features: Space.Features, members: [Int], tape: Tape?) throws -> Variable {
            try Space.logits(of: predictor, on: Space.gathering(features, members: members), tape: tape) + logitOffset
        }
    }

    public static var task: ExperimentTask { .generalization }
    /// The weight space's predictors, then the tree ensembles (fitted on its statistics).
    public static var modelNames: [String] { Space.modelNames + TreeEnsembleKind.allCases.map(\.rawValue) }
    public static func accepts(_ family: ZooFamily) -> Bool { Space.families.contains(family) }

    /// Loads the checkpoints of `epoch` (default: the last checkpoint epoch) of the zoo at `directory`.
    ///
    /// - Throws: ``ZooError`` for a malformed zoo; ``ExperimentError/incompatibleZoo(_:)`` for a zoo
    ///   of another weight space or with fewer than 10 usable checkpoints.
    public static func load(zoo directory: URL, epoch: Int? = nil) throws -> Data {
        let reader = try ZooReader(directory: directory)
        guard let e = epoch ?? reader.epochs.last else { throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints") }
        return try load(reader, directory: directory, epochs: [e])
    }

    /// Loads the checkpoints of several epochs (all checkpoint epochs when `epochs` is empty) —
    /// more samples and a wider accuracy range from the same training runs. Split by member
    /// (``split(_:trainFraction:validationFraction:seed:)`` does).
    ///
    /// - Throws: as ``load(zoo:epoch:)``, and ``ExperimentError/incompatibleZoo(_:)`` for an epoch
    ///   the zoo did not checkpoint.
    public static func load(zoo directory: URL, epochs: [Int]) throws -> Data {
        let reader = try ZooReader(directory: directory)
        let chosen = epochs.isEmpty ? reader.epochs : epochs
        for e in chosen where !reader.epochs.contains(e) {
            throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints at epoch \(e) (it has \(reader.epochs.map(String.init).joined(separator: ", ")))")
        }
        return try load(reader, directory: directory, epochs: chosen)
    }

    /// The checkpoints a configuration names: `zoo_epochs`, or `zoo_epoch` (default: the last).
    public static func load(zoo: URL, configuration c: ExperimentConfiguration) throws -> Data {
        if let epochs = c.zooEpochs { return try load(zoo: zoo, epochs: epochs) }
        return try load(zoo: zoo, epoch: c.zooEpoch)
    }

    static func load(_ reader: ZooReader, directory: URL, epochs: [Int]) throws -> Data {
        guard Space.families.contains(reader.family) else {
            let what = reader.family == .siren ? "it has no test accuracies to predict" : "use the models for its weight space"
            throw ExperimentError.incompatibleZoo("\(directory.path) is a \(reader.family.rawValue) zoo: \(what)")
        }
        let checkpoints = epochs.flatMap { reader.checkpoints(epoch: $0) }
        guard !checkpoints.isEmpty else { throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints") }
        let (features, architecture, kept, skipped) = try Space.read(reader, checkpoints: checkpoints)
        let targets = kept.map { $0.testAccuracy ?? 0 }
        guard targets.count >= 10 else {
            throw ExperimentError.incompatibleZoo("\(directory.path) has only \(targets.count) usable checkpoints at epoch(s) \(epochs.map(String.init).joined(separator: ", "))")
        }
        return Data(name: directory.lastPathComponent, features: features, architecture: architecture, targets: targets,
                    skipped: skipped, members: kept.map(\.member), epochs: epochs,
                    activations: Space.activations(of: kept, architecture: architecture))
    }

    public static func zooName(of data: Data) -> String { data.name }
    public static func members(of data: Data) -> [Int] { data.members }

    public static func summary(of data: Data) -> String {
        "\(data.targets.count) checkpoints, \(data.skipped) left out (diverged or non-finite)"
    }

    public static func reportEntries(of data: Data, model: Model) -> [String: String] {
        ["logit_offset": String(format: "%.4f", model.logitOffset), "zoo_epochs": data.epochs.map(String.init).joined(separator: ",")]
    }

    public static func requireCompatible(_ data: Data, trainedOn own: Data) throws {
        let a = Space.weightSpaceDescription(own.architecture), b = Space.weightSpaceDescription(data.architecture)
        guard a == b else { throw ExperimentError.incompatibleZoo("\(data.name) has weight space \(b), the run was trained on \(a)") }
    }

    /// Builds predictor `name` for the data's weight space, initialised from `seed`; its logit
    /// offset comes from the accuracies of `trainingItems` (empty: no offset).
    public static func makeModel(name: String, data: Data, trainingItems: [Int], size: MetanetworkKind.Size = .standard,
                                 seed: UInt64) throws -> Model {
        var rng = SeededGenerator(seed: seed &+ 0x5EED)
        let predictor = try Space.makePredictor(name: name, architecture: data.architecture, size: size, rng: &rng)
        return Model(predictor: predictor, logitOffset: GeneralizationPrediction.logitOffset(trainingItems.map { data.targets[$0] }))
    }

    public static func module(of model: Model) -> Module { Space.module(of: model.predictor) }

    /// Binary cross-entropy of the logits against the true accuracies.
    public static func loss(of model: Model, data: Data, items: [Int], tape: Tape) throws -> Variable {
        let logits = try model.logits(data.features, members: items, tape: tape)
        return Variable.binaryCrossEntropyWithLogits(logits: logits, targets: Tensor(shape: logits.shape, scalars: items.map { data.targets[$0] }))
    }

    /// Kendall τ-b of the predictions on `items` (−1 when undefined).
    public static func validationMetric(of model: Model, data: Data, items: [Int]) throws -> Double {
        let tau = Metrics.kendallTauB(try predict(model, features: data.features, members: items), items.map { Double(data.targets[$0]) })
        return tau.isNaN ? -1 : tau
    }

    /// Predicted accuracies (sigmoid of the logits) for rows `members` of `features`, without a tape.
    public static func predict(_ model: Model, features: Space.Features, members: [Int]) throws -> [Double] {
        try GeneralizationPrediction.predict({ idx, tape in try model.logits(features, members: idx, tape: tape) }, indices: members)
    }

    /// τ / R² / MSE / τ on accuracy ≥ 0.5 on `items`, and τ on copies of them each moved by its own
    /// random element of every group in the weight space's ``GeneralizationWeightSpace/augmentations``.
    public static func evaluate(_ model: Model, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation {
        module(of: model).eval()
        let predictions = try predict(model, features: data.features, members: items)
        return try evaluation(predictions, data: data, items: items, seed: seed) { moved in
            try predict(model, features: moved, members: Array(0..<items.count))
        }
    }

    /// The metrics of `predictions` for `items`, and τ of `predict` on the augmented test sets
    /// (shared by the metanetworks and the tree ensembles, so both report the same numbers).
    static func evaluation(_ predictions: [Double], data: Data, items: [Int], seed: UInt64,
                           predict: (Space.Features) throws -> [Double]) throws -> TaskEvaluation {
        let actual = items.map { Double(data.targets[$0]) }
        let metrics = GeneralizationMetrics(predicted: predictions, actual: actual, thresholds: [0.5])
        var robustness: [String: Double] = [:], actedOn: [String: Int] = [:]
        let test = Space.gathering(data.features, members: items)
        let activations = data.activations.map { a in items.map { a[$0] } }
        for augmentation in Space.augmentations {
            let moved = try Space.augment(test, with: augmentation, activations: activations, seed: seed &+ 77)
            robustness[augmentation.description] = Metrics.kendallTauB(try predict(moved.features), actual)
            actedOn[augmentation.description] = moved.actedOn
        }
        var table = ["tau": metrics.tau, "r2": metrics.r2, "mse": metrics.mse]
        if let t = metrics.tauAtThreshold["0.50"] { table["tau_acc_ge_0.50"] = t }
        return TaskEvaluation(metrics: table, robustness: robustness, predictions: predictions, actual: actual,
                              augmentedMembers: actedOn)
    }
}

/// Generalization prediction on CNN and MLP zoos.
public typealias FeedforwardGeneralization = GeneralizationExperiment<FeedforwardZooWeights>
/// Generalization prediction on transformer zoos.
public typealias TransformerGeneralization = GeneralizationExperiment<TransformerZooWeights>
