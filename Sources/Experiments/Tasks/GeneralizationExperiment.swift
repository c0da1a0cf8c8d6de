import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Zoo

/// A zoo's weights in the weight space its family lives in.
public enum ZooWeights: Sendable {
    case feedforward(WeightSpaceFeatures)
    case transformer(TransformerWeightSpaceFeatures)

    /// The number of checkpoints.
    public var count: Int {
        switch self {
        case .feedforward(let f): return f.batchSize
        case .transformer(let t): return t.batchSize
        }
    }
}

/// Generalization prediction on an on-disk zoo, end to end: load the checkpoints of one epoch,
/// split them, train a named metanetwork, report τ / R² / MSE and τ on group-augmented test sets.
public enum GeneralizationExperiment {
    /// The checkpoints of one epoch of a zoo, with their test accuracies.
    public struct Data: Sendable {
        /// The zoo folder's name.
        public var name: String
        /// The checkpoints' weights, in the zoo family's weight space.
        public var weights: ZooWeights
        /// Each checkpoint's test accuracy, aligned with `weights`.
        public var targets: [Float]
        /// The members' transformer configuration (transformer zoos).
        public var transformerConfiguration: SmallTransformer.Configuration?
        /// Checkpoints left out (diverged or NaN/∞ weights).
        public var skipped: Int
        /// The zoo member each checkpoint belongs to, aligned with `targets`: split with
        /// ``DataSplit/init(groups:trainFraction:validationFraction:seed:)`` so that checkpoints
        /// of one member never straddle train and test.
        public var members: [Int]
        /// The checkpoint epochs loaded.
        public var epochs: [Int]
    }

    /// Loads the checkpoints of `epoch` (default: the last checkpoint epoch) of the zoo at `directory`.
    ///
    /// - Throws: ``ZooError`` for a malformed zoo; ``ExperimentError/incompatibleZoo(_:)`` for a zoo
    ///   without test accuracies (SIREN zoos) or with fewer than 10 usable checkpoints.
    public static func load(zoo directory: URL, epoch: Int? = nil) throws -> Data {
        let reader = try ZooReader(directory: directory)
        guard let e = epoch ?? reader.epochs.last else { throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints") }
        return try load(reader, directory: directory, epochs: [e])
    }

    /// Loads the checkpoints of several epochs of the zoo at `directory` (all of its checkpoint
    /// epochs when `epochs` is empty) — more samples and a wider accuracy range from the same
    /// training runs. Split the result by ``Data/members``.
    ///
    /// - Throws: as ``load(zoo:epoch:)``, and ``ExperimentError/incompatibleZoo(_:)`` for an
    ///   epoch the zoo did not checkpoint.
    public static func load(zoo directory: URL, epochs: [Int]) throws -> Data {
        let reader = try ZooReader(directory: directory)
        let chosen = epochs.isEmpty ? reader.epochs : epochs
        for e in chosen where !reader.epochs.contains(e) {
            throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints at epoch \(e) (it has \(reader.epochs.map(String.init).joined(separator: ", ")))")
        }
        return try load(reader, directory: directory, epochs: chosen)
    }

    static func load(_ reader: ZooReader, directory: URL, epochs: [Int]) throws -> Data {
        guard reader.family != .siren else {
            throw ExperimentError.incompatibleZoo("\(directory.path) is a SIREN zoo: it has no test accuracies to predict")
        }
        let checkpoints = epochs.flatMap { reader.checkpoints(epoch: $0) }
        guard !checkpoints.isEmpty else { throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoints") }
        let weights: ZooWeights, kept: [ZooCheckpoint], skipped: Int
        var transformerConfiguration: SmallTransformer.Configuration? = nil
        if reader.family == .transformer {
            let b = try reader.transformerFeatures(checkpoints)
            weights = .transformer(b.features); kept = b.checkpoints; skipped = b.skippedDiverged + b.skippedNonFinite
            transformerConfiguration = reader.spec.architecture.transformer ?? SmallTransformer.Configuration()
        } else {
            let b = try reader.features(checkpoints)
            weights = .feedforward(b.features); kept = b.checkpoints; skipped = b.skippedDiverged + b.skippedNonFinite
        }
        let targets = kept.map { $0.testAccuracy ?? 0 }
        guard targets.count >= 10 else {
            throw ExperimentError.incompatibleZoo("\(directory.path) has only \(targets.count) usable checkpoints at epoch(s) \(epochs.map(String.init).joined(separator: ", "))")
        }
        return Data(name: directory.lastPathComponent, weights: weights, targets: targets,
                    transformerConfiguration: transformerConfiguration, skipped: skipped,
                    members: kept.map(\.member), epochs: epochs)
    }

    /// The model names that fit a zoo's weight space.
    public static func modelNames(for weights: ZooWeights) -> [String] {
        switch weights {
        case .feedforward: return MetanetworkKind.allCases.map(\.rawValue)
        case .transformer: return TransformerMetanetworkKind.allCases.map(\.rawValue)
        }
    }

    /// The augmentations of the robustness protocol for a weight space.
    public static func augmentations(for weights: ZooWeights) -> [Robustness.Augmentation] {
        switch weights {
        case .feedforward: return [.permutation, .scaling(low: 1, high: 10), .scaling(low: 1, high: 100)]
        case .transformer: return [.attention(maxConditionNumber: 100)]
        }
    }

    /// A freshly initialised metanetwork for a zoo's weight space, with its forward pass.
    public struct Model {
        /// The trainable module (its parameters are what checkpoints hold).
        public let module: Module
        /// The model's name (a ``MetanetworkKind`` or ``TransformerMetanetworkKind`` raw value).
        public let name: String
        /// `forward(weights, members, tape)`: the `[members.count, 1]` logits for those members of
        /// `weights` (which must be of the weight space the model was made for).
        public let forward: (ZooWeights, [Int], Tape?) throws -> Variable
        /// Added to the module's output logit: ``GeneralizationPrediction/logitOffset(_:)`` of the
        /// training targets, so an untrained model predicts the mean training accuracy. Part of
        /// the trained model: evaluation must use the offset training used.
        public let logitOffset: Float

        /// The forward pass on fixed weights, as ``GeneralizationPrediction`` expects it.
        public func forward(on weights: ZooWeights) -> GeneralizationPrediction.Forward {
            { idx, tape in try forward(weights, idx, tape) }
        }
    }

    /// What evaluating a trained predictor on some zoo members gives.
    public struct Evaluation: Codable, Sendable, Equatable {
        /// `tau`, `r2`, `mse` and `tau_acc_ge_0.50` (τ on members with true accuracy ≥ 0.5).
        public var metrics: [String: Double]
        /// τ on the group-augmented copies of the members, by augmentation name.
        public var robustness: [String: Double]
        /// Predicted accuracies, aligned with `actual`.
        public var predictions: [Double]
        /// True test accuracies of the evaluated members.
        public var actual: [Double]
    }

    /// Builds the metanetwork `name` for the weight space of `weights`, initialised from
    /// `seed` (the same seed gives the same initial weights).
    ///
    /// - Parameter trainingTargets: the training members' accuracies; their mean sets the
    ///   model's ``Model/logitOffset`` (empty: no offset).
    /// - Throws: ``ExperimentError/unknownModel(_:)`` listing the models that fit the weight space.
    public static func makeModel(name: String, for data: Data, size: MetanetworkKind.Size = .standard,
                                 seed: UInt64, trainingTargets: [Float]) throws -> Model {
        var rng = SeededGenerator(seed: seed &+ 0x5EED)
        let offset = GeneralizationPrediction.logitOffset(trainingTargets)
        switch data.weights {
        case .feedforward(let f):
            guard let kind = MetanetworkKind(rawValue: name) else {
                throw ExperimentError.unknownModel("\(name) (for feed-forward zoos: \(modelNames(for: data.weights).joined(separator: ", ")))")
            }
            let arch = try FeedforwardArchitecture(family: f.kernels.allSatisfy(\.isEmpty) ? .mlp : .cnn, widths: f.widths, layers: f.kernels.map {
                $0.isEmpty ? .dense : .conv2d(kernel: $0, stride: [1, 1], padding: [0, 0]) }, activation: .relu)
            let m = try kind.makePredictor(architecture: arch, size: size, rng: &rng)
            return Model(module: m, name: name, forward: { w, idx, tape in
                guard case .feedforward(let ff) = w else { throw ExperimentError.incompatibleZoo("weight space changed") }
                return m(WeightSpaceVariables(ff.gathering(members: idx), tape: tape)) + offset
            }, logitOffset: offset)
        case .transformer:
            guard let kind = TransformerMetanetworkKind(rawValue: name) else {
                throw ExperimentError.unknownModel("\(name) (for transformer zoos: \(modelNames(for: data.weights).joined(separator: ", ")))")
            }
            let (m, forward) = try kind.make(configuration: data.transformerConfiguration ?? .init(), size: size, rng: &rng)
            return Model(module: m, name: name, forward: { w, idx, tape in
                guard case .transformer(let t) = w else { throw ExperimentError.incompatibleZoo("weight space changed") }
                return try forward(t.gathering(members: idx), tape) + offset
            }, logitOffset: offset)
        }
    }

    /// Evaluates a (trained) model on the `members` of `data`: τ / R² / MSE / τ on accuracy ≥ 0.5,
    /// and τ on copies of those members each moved by its own random group element (the
    /// augmentations of ``augmentations(for:)``, seeded by `seed`).
    public static func evaluate(_ model: Model, on data: Data, members: [Int], seed: UInt64) throws -> Evaluation {
        model.module.eval()
        let predictions = try GeneralizationPrediction.predict(model.forward(on: data.weights), indices: members)
        let actual = members.map { Double(data.targets[$0]) }
        let metrics = GeneralizationMetrics(predicted: predictions, actual: actual, thresholds: [0.5])
        var robustness: [String: Double] = [:]
        for aug in augmentations(for: data.weights) {
            let moved: ZooWeights
            switch (data.weights, aug) {
            case (.feedforward(let f), _):
                moved = .feedforward(try Robustness.augment(f.gathering(members: members), with: aug, seed: seed &+ 77))
            case (.transformer(let t), .attention(let k)):
                moved = .transformer(try Robustness.augment(t.gathering(members: members), maxConditionNumber: k, seed: seed &+ 77))
            default:
                continue
            }
            let p = try GeneralizationPrediction.predict(model.forward(on: moved), indices: Array(0..<members.count))
            robustness[aug.description] = Metrics.kendallTauB(p, actual)
        }
        var metricTable = ["tau": metrics.tau, "r2": metrics.r2, "mse": metrics.mse]
        if let t = metrics.tauAtThreshold["0.50"] { metricTable["tau_acc_ge_0.50"] = t }
        return Evaluation(metrics: metricTable, robustness: robustness, predictions: predictions, actual: actual)
    }

    /// Trains `model` on `data` (resuming from `checkpoint` when it exists) and evaluates it on the
    /// test split, including the robustness protocol.
    public static func run(model name: String, data: Data, split: DataSplit, configuration: MetanetworkTrainingConfiguration,
                           size: MetanetworkKind.Size = .standard, checkpoint: URL? = nil,
                           progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> ModelResult {
        let model = try makeModel(name: name, for: data, size: size, seed: configuration.seed,
                                  trainingTargets: split.train.map { data.targets[$0] })
        let start = Date()
        let (_, history, _) = try GeneralizationPrediction.train(
            model: model.module, targets: data.targets, split: split, configuration: configuration, checkpoint: checkpoint,
            thresholds: [0.5], progress: progress, forward: model.forward(on: data.weights))
        let seconds = Date().timeIntervalSince(start)
        let evaluation = try evaluate(model, on: data, members: split.test, seed: configuration.seed)
        return ModelResult(
            model: name, zoo: data.name, task: "generalization", parameters: model.module.parameterCount,
            trainingSeconds: seconds, history: history, metrics: evaluation.metrics, robustness: evaluation.robustness,
            configuration: configuration.reportEntries(size: size, split: split).merging([
                "logit_offset": String(format: "%.4f", model.logitOffset),
                "zoo_epochs": data.epochs.map(String.init).joined(separator: ","),
            ]) { _, task in task },
            predictions: evaluation.predictions, actual: evaluation.actual)
    }
}
