import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Zoo

/// INR classification (Zhou et al. 2023, *Neural Functional Transformers*, §5.1; also Tran et al.
/// 2024, *Monomial Matrix Group Equivariant NFNs*, §6, and Tran et al. 2026, *Quasi-Equivariant
/// Metanetworks*, §5.2): predict the class of the image a SIREN fitted from the SIREN's weights
/// alone, with an invariant metanetwork trained by softmax cross-entropy. Reports test accuracy and
/// the accuracy on test sets whose weights were moved by random symmetries of the SIRENs
/// (hidden-neuron permutations; sign flips, which a sine network also allows), which invariant
/// models keep.
///
/// The steps are separate so a saved model can be rebuilt and re-evaluated:
/// ``load(zoo:epoch:)`` → ``makeModel(name:data:size:seed:)`` → ``run(model:data:split:configuration:size:checkpoint:progress:)``
/// (which trains and evaluates), or ``evaluate(model:data:indices:batchSize:)`` on a model whose
/// weights were loaded.
///
/// ```swift
/// let data = try INRClassificationExperiment.load(zoo: URL(fileURLWithPath: "zoos/siren"))
/// let split = try DataSplit(count: data.count, seed: 0)
/// let result = try INRClassificationExperiment.run(model: "hnp", data: data, split: split,
///                                                  configuration: .init(epochs: 20, seed: 0))
/// print(result.metrics["accuracy"]!, result.robustness)
/// ```
public enum INRClassificationExperiment {
    /// The task name in ``ModelResult/task``.
    public static let task = "inr-classification"

    /// The SIREN members, their labels, and the scale normalisation the models see.
    public struct Data: Sendable {
        /// The zoo's members.
        public var zoo: SIRENZooData
        /// Per-layer scales s_i (weights then biases, 2L values): the models see W_i / s_i, with s_i
        /// the root mean square of that tensor over every loaded member. One scalar per tensor
        /// commutes with neuron permutations and sign flips, so invariance is unchanged; it puts
        /// the SIREN layers (first-layer weights ≈ 1, hidden ≈ 0.03) on one scale.
        public var layerScales: [Float]
        /// The normalised features the models are trained on.
        public var features: WeightSpaceFeatures

        /// The number of members.
        public var count: Int { zoo.count }
        /// The members' classes.
        public var labels: [Int] { zoo.labels }
        /// The number of classes.
        public var classCount: Int { zoo.classCount }
        /// Members left out (diverged or NaN/∞ weights).
        public var skipped: Int { zoo.skippedDiverged + zoo.skippedNonFinite }

        /// Wraps loaded SIREN members, computing the layer scales.
        public init(zoo: SIRENZooData) {
            self.zoo = zoo
            layerScales = INRClassificationExperiment.layerScales(zoo.features)
            features = INRClassificationExperiment.normalize(zoo.features, scales: layerScales)
        }
    }

    /// Loads a SIREN zoo's checkpoints of `epoch` (default: the last).
    ///
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for a non-SIREN zoo or fewer than 10
    ///   usable members; ``ZooError`` for a malformed zoo.
    public static func load(zoo directory: URL, epoch: Int? = nil) throws -> Data {
        Data(zoo: try SIRENZooData.load(zoo: directory, epoch: epoch))
    }

    /// Root mean square of every weight and bias tensor over the batch (weights then biases).
    public static func layerScales(_ f: WeightSpaceFeatures) -> [Float] {
        (f.weights + f.biases).map { t in
            let rms = (t * t).mean().squareRoot()
            return rms > 1e-12 && rms.isFinite ? rms : 1
        }
    }

    /// `f` with tensor k divided by `scales[k]` (weights then biases).
    public static func normalize(_ f: WeightSpaceFeatures, scales: [Float]) -> WeightSpaceFeatures {
        let L = f.layerCount
        precondition(scales.count == 2 * L, "normalize: \(scales.count) scales for \(L) layers")
        return WeightSpaceFeatures(unchecked: f.weights.enumerated().map { $0.element * (1 / scales[$0.offset]) },
                                   biases: f.biases.enumerated().map { $0.element * (1 / scales[L + $0.offset]) })
    }

    /// The models that fit a SIREN weight space: the permutation-invariant NFNs, NFT, the
    /// sign-flip monomial NFN (sine networks have sign, not positive-scaling, symmetries) and the
    /// STATNN and flat-MLP baselines.
    public static let modelNames = [MetanetworkKind.np, .hnp, .nft, .monomialSign, .statnn, .mlp].map(\.rawValue)

    /// The augmentations of the robustness protocol: hidden permutations and sign flips.
    public static let augmentations: [Robustness.Augmentation] = [.permutation, .sign]

    /// A freshly initialised classifier `name` (one of ``modelNames``) with one logit per class,
    /// initialised from `seed`.
    ///
    /// - Throws: ``ExperimentError/unknownModel(_:)`` for other names.
    public static func makeModel(name: String, data: Data, size: MetanetworkKind.Size = .standard,
                                 seed: UInt64) throws -> Module & WeightSpaceModel {
        guard modelNames.contains(name), let kind = MetanetworkKind(rawValue: name) else {
            throw ExperimentError.unknownModel("\(name) (for INR classification: \(modelNames.joined(separator: ", ")))")
        }
        var rng = SeededGenerator(seed: seed &+ 0x5EED)
        return try kind.makePredictor(architecture: try data.zoo.architecture, size: size, outputs: data.classCount, rng: &rng)
    }

    /// Logits `[indices.count, classes]` of `model` on the (normalised) members at `indices`.
    public static func logits(model: Module & WeightSpaceModel, features: WeightSpaceFeatures, indices: [Int],
                              batchSize: Int = 64) -> Tensor {
        var parts: [Tensor] = []
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let chunk = Array(indices[start..<Swift.min(start + batchSize, indices.count)])
            parts.append(model(WeightSpaceVariables(features.gathering(members: chunk))).value)
        }
        return Tensor.concatenate(parts, alongAxis: 0)
    }

    /// Accuracy and mean cross-entropy of `model` (in evaluation mode) on the members at `indices`.
    ///
    /// - Returns: `["accuracy": …, "loss": …]`.
    public static func evaluate(model: Module & WeightSpaceModel, data: Data, indices: [Int],
                                batchSize: Int = 64) -> [String: Double] {
        score(model: model, features: data.features, indices: indices, labels: indices.map { data.labels[$0] },
              batchSize: batchSize)
    }

    /// Accuracy and mean cross-entropy on `features`' members `indices` with true `labels`.
    static func score(model: Module & WeightSpaceModel, features: WeightSpaceFeatures, indices: [Int], labels: [Int],
                      batchSize: Int = 64) -> [String: Double] {
        guard !indices.isEmpty else { return ["accuracy": .nan, "loss": .nan] }
        let z = logits(model: model, features: features, indices: indices, batchSize: batchSize)
        let loss = Variable.softmaxCrossEntropy(logits: Variable(z), labels: labels).value.sum()
        let c = z.shape[1]
        var correct = 0
        z.withUnsafeBufferPointer { p in
            for (r, label) in labels.enumerated() {
                var best = 0
                for k in 1..<c where p[r * c + k] > p[r * c + best] { best = k }
                if best == label { correct += 1 }
            }
        }
        return ["accuracy": Double(correct) / Double(labels.count), "loss": Double(loss)]
    }

    /// The test report of a trained classifier on the members at `indices`: `accuracy`, `loss`
    /// and `chance` (the most frequent class's share among them), and the accuracy on copies of
    /// those members each moved by its own random element of every group in ``augmentations``
    /// (seeded by `seed`). Invariant models keep their accuracy there.
    public static func evaluateWithRobustness(model: Module & WeightSpaceModel, data: Data, indices: [Int],
                                              seed: UInt64) throws -> (metrics: [String: Double], robustness: [String: Double]) {
        model.eval()
        var metrics = evaluate(model: model, data: data, indices: indices)
        let labels = indices.map { data.labels[$0] }
        let mostFrequent = Dictionary(grouping: labels, by: { $0 }).values.map(\.count).max() ?? 0
        metrics["chance"] = Double(mostFrequent) / Double(Swift.max(labels.count, 1))
        var robustness: [String: Double] = [:]
        let features = data.features.gathering(members: indices)
        for aug in augmentations {
            let moved = try Robustness.augment(features, with: aug, seed: seed &+ 77)
            robustness[aug.description] = score(model: model, features: moved, indices: Array(0..<indices.count),
                                                labels: labels)["accuracy"]
        }
        return (metrics, robustness)
    }

    /// Trains classifier `name` on `split.train` (validation accuracy for early stopping; the
    /// best-validation weights are kept), then evaluates it on `split.test` and on the
    /// augmented test sets of the robustness protocol.
    ///
    /// - Parameters:
    ///   - checkpoint: a file for the resumable trainer (nil: none).
    ///   - trainedModel: receives the trained model (with its best weights), e.g. to save it.
    /// - Returns: a ``ModelResult`` with task `inr-classification`, metrics `accuracy`, `loss`,
    ///   `chance` (the most frequent test class's share), and robustness accuracies by augmentation.
    public static func run(model name: String, data: Data, split: DataSplit,
                           configuration: MetanetworkTrainingConfiguration, size: MetanetworkKind.Size = .standard,
                           checkpoint: URL? = nil, progress: ((MetanetworkEpoch) throws -> Void)? = nil,
                           trainedModel: ((Module & WeightSpaceModel) -> Void)? = nil) throws -> ModelResult {
        let model = try makeModel(name: name, data: data, size: size, seed: configuration.seed)
        let start = Date()
        let history = try MetanetworkTrainer.train(
            model: model, memberCount: split.train.count, configuration: configuration, checkpoint: checkpoint,
            loss: { batch, tape in
                let members = batch.map { split.train[$0] }
                let logits = model(WeightSpaceVariables(data.features.gathering(members: members), tape: tape))
                return Variable.softmaxCrossEntropy(logits: logits, labels: members.map { data.labels[$0] })
            },
            validate: { evaluate(model: model, data: data, indices: split.validation)["accuracy"] ?? 0 },
            progress: progress)
        let seconds = Date().timeIntervalSince(start)
        trainedModel?(model)
        let (metrics, robustness) = try evaluateWithRobustness(model: model, data: data, indices: split.test,
                                                               seed: configuration.seed)
        return ModelResult(
            model: name, zoo: data.zoo.name, task: task, parameters: model.parameterCount,
            trainingSeconds: seconds, history: history, metrics: metrics, robustness: robustness,
            configuration: configuration.reportEntries(size: size, split: split).merging([
                "classes": "\(data.classCount)", "zoo_epoch": "\(data.zoo.epoch)", "skipped": "\(data.skipped)",
            ]) { _, task in task })
    }
}
