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
        public var name: String
        public var weights: ZooWeights
        public var targets: [Float]
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

    /// Trains `model` on `data` and evaluates it, including the robustness protocol.
    public static func run(model name: String, data: Data, split: DataSplit, configuration: MetanetworkTrainingConfiguration,
                           size: MetanetworkKind.Size = .standard, checkpoint: URL? = nil,
                           progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> ModelResult {
        var rng = SeededGenerator(seed: configuration.seed &+ 0x5EED)
        let module: Module
        let rawForward: (ZooWeights, [Int], Tape?) throws -> Variable
        switch data.weights {
        case .feedforward(let f):
            guard let kind = MetanetworkKind(rawValue: name) else {
                throw ExperimentError.unknownModel("\(name) (for feed-forward zoos: \(modelNames(for: data.weights).joined(separator: ", ")))")
            }
            let arch = try FeedforwardArchitecture(family: f.kernels.allSatisfy(\.isEmpty) ? .mlp : .cnn, widths: f.widths, layers: f.kernels.map {
                $0.isEmpty ? .dense : .conv2d(kernel: $0, stride: [1, 1], padding: [0, 0]) }, activation: .relu)
            let m = try kind.makePredictor(architecture: arch, size: size, rng: &rng)
            module = m
            rawForward = { w, idx, tape in
                guard case .feedforward(let ff) = w else { throw ExperimentError.incompatibleZoo("weight space changed") }
                return m(WeightSpaceVariables(ff.gathering(members: idx), tape: tape))
            }
        case .transformer:
            guard let kind = TransformerMetanetworkKind(rawValue: name) else {
                throw ExperimentError.unknownModel("\(name) (for transformer zoos: \(modelNames(for: data.weights).joined(separator: ", ")))")
            }
            let (m, forward) = try kind.make(configuration: data.transformerConfiguration ?? .init(), size: size, rng: &rng)
            module = m
            rawForward = { w, idx, tape in
                guard case .transformer(let t) = w else { throw ExperimentError.incompatibleZoo("weight space changed") }
                return try forward(t.gathering(members: idx), tape)
            }
        }
        let offset = GeneralizationPrediction.logitOffset(split.train.map { data.targets[$0] })
        let forwardOn: (ZooWeights, [Int], Tape?) throws -> Variable = { w, idx, tape in try rawForward(w, idx, tape) + offset }
        let start = Date()
        let (metrics, history, predictions) = try GeneralizationPrediction.train(
            model: module, targets: data.targets, split: split, configuration: configuration, checkpoint: checkpoint,
            thresholds: [0.5], progress: progress, forward: { idx, tape in try forwardOn(data.weights, idx, tape) })
        let seconds = Date().timeIntervalSince(start)

        // Robustness: the test members, each moved by its own random group element.
        var robustness: [String: Double] = [:]
        let actual = split.test.map { Double(data.targets[$0]) }
        for aug in augmentations(for: data.weights) {
            let moved: ZooWeights
            switch (data.weights, aug) {
            case (.feedforward(let f), _):
                moved = .feedforward(try Robustness.augment(f.gathering(members: split.test), with: aug, seed: configuration.seed &+ 77))
            case (.transformer(let t), .attention(let k)):
                moved = .transformer(try Robustness.augment(t.gathering(members: split.test), maxConditionNumber: k, seed: configuration.seed &+ 77))
            default:
                continue
            }
            let p = try GeneralizationPrediction.predict({ idx, tape in try forwardOn(moved, idx, tape) },
                                                         indices: Array(0..<split.test.count))
            robustness[aug.description] = Metrics.kendallTauB(p, actual)
        }
        var metricTable = ["tau": metrics.tau, "r2": metrics.r2, "mse": metrics.mse]
        if let t = metrics.tauAtThreshold["0.50"] { metricTable["tau_acc_ge_0.50"] = t }
        return ModelResult(
            model: name, zoo: data.name, task: "generalization", parameters: module.parameterCount,
            trainingSeconds: seconds, epochs: history.epochs.count, bestEpoch: history.bestEpoch,
            metrics: metricTable, robustness: robustness,
            configuration: ["epochs": "\(configuration.epochs)", "batch_size": "\(configuration.batchSize)",
                            "learning_rate": "\(configuration.learningRate)", "optimizer": configuration.optimizer.rawValue,
                            "patience": "\(configuration.patience)", "logit_offset": String(format: "%.4f", offset), "seed": "\(configuration.seed)", "size": size.rawValue,
                            "train/val/test": "\(split.train.count)/\(split.validation.count)/\(split.test.count)",
                            "zoo_epochs": data.epochs.map(String.init).joined(separator: ",")],
            learningCurve: history.epochs, predictions: predictions, actual: actual)
    }
}
