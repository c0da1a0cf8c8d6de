import Foundation
import Training
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
/// The steps are those of every ``MetanetworkTask``, so a saved model can be rebuilt and
/// re-evaluated: ``load(zoo:epoch:)`` → ``makeModel(name:data:size:seed:)`` →
/// ``MetanetworkTask/run(model:data:split:configuration:size:checkpoint:progress:)`` (which trains
/// and evaluates), or ``evaluate(model:data:indices:batchSize:)`` on a model whose weights were
/// loaded.
///
/// ```swift
/// let data = try INRClassificationExperiment.load(zoo: URL(fileURLWithPath: "zoos/siren"))
/// let split = try DataSplit(count: data.count, seed: 0)
/// let result = try INRClassificationExperiment.run(model: "hnp", data: data, split: split,
///                                                  configuration: .init(epochs: 20, seed: 0))
/// print(result.metrics["accuracy"]!, result.robustness)
/// ```
public enum INRClassificationExperiment: MetanetworkTask {
    public static var task: ExperimentTask { .inrClassification }
    /// A classifier: one logit per class.
    public typealias Model = any Module & WeightSpaceModel

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

    /// The checkpoints of the configuration's `zoo_epoch`.
    public static func load(zoo: URL, configuration: ExperimentConfiguration) throws -> Data {
        try load(zoo: zoo, epoch: configuration.zooEpoch)
    }

    public static func zooName(of data: Data) -> String { data.zoo.name }
    /// SIREN zoos only.
    public static func accepts(_ family: ZooFamily) -> Bool { family == .siren }
    /// One SIREN per item, grouped by the image it fits: the re-fits of one image
    /// (``ZooTrainingSpec/refits``) land in one part of a split (without re-fits every group is
    /// one SIREN).
    public static func members(of data: Data) -> [Int] { data.zoo.imageIndices }

    public static func summary(of data: Data) -> String {
        "\(data.count) SIRENs of \(data.classCount) classes, \(data.skipped) left out (diverged or non-finite)"
    }

    public static func reportEntries(of data: Data, model: any Module & WeightSpaceModel) -> [String: String] {
        ["classes": "\(data.classCount)", "zoo_epoch": "\(data.zoo.epoch)", "skipped": "\(data.skipped)"]
    }

    public static func requireCompatible(_ data: Data, trainedOn own: Data) throws {
        guard data.classCount == own.classCount, data.zoo.features.widths == own.zoo.features.widths else {
            throw ExperimentError.incompatibleZoo("\(data.zoo.name) has other SIRENs or classes than \(own.zoo.name), which the run was trained on")
        }
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
    /// sign-flip monomial NFN (sine networks have sign, not positive-scaling, symmetries), the
    /// STATNN, flat-MLP and graph-network baselines, and the two-stage INR2ARRAY models (``INR2ArrayKind``,
    /// trained as in ``train(_:name:data:split:configuration:checkpoint:progress:)``).
    public static let modelNames = [MetanetworkKind.np, .hnp, .nft, .monomialSign, .statnn, .mlp, .graphNN].map(\.rawValue)
        + INR2ArrayKind.allCases.map(\.rawValue)

    /// The augmentations of the robustness protocol: hidden permutations and sign flips.
    public static let augmentations: [Robustness.Augmentation] = [.permutation, .sign]

    /// A freshly initialised classifier `name` (one of ``modelNames``) with one logit per class,
    /// initialised from `seed`.
    ///
    /// - Throws: ``ExperimentError/unknownModel(_:)`` for other names.
    public static func makeModel(name: String, data: Data, size: MetanetworkKind.Size = .standard,
                                 seed: UInt64) throws -> any Module & WeightSpaceModel {
        var rng = SeededGenerator(seed: seed &+ 0x5EED)
        if let kind = INR2ArrayKind(rawValue: name) {
            let shape = data.zoo.imageShape
            guard shape.count == 3, shape[0] == 1 else {
                throw ExperimentError.incompatibleZoo("\(name) reconstructs one-channel images, the zoo's images are \(shape)")
            }
            do {
                return try kind.make(architecture: data.zoo.architecture, imageHeight: shape[1], imageWidth: shape[2],
                                     classes: data.classCount, size: size, rng: &rng)
            } catch ModuleError.invalidConfiguration(let m) {
                throw ExperimentError.incompatibleZoo("\(name) does not fit \(data.zoo.name): \(m)")
            }
        }
        guard modelNames.contains(name), let kind = MetanetworkKind(rawValue: name) else {
            throw ExperimentError.unknownModel("\(name) (for INR classification: \(modelNames.joined(separator: ", ")))")
        }
        return try kind.makePredictor(architecture: data.zoo.architecture, size: size, outputs: data.classCount, rng: &rng)
    }

    /// Logits `[indices.count, classes]` of `model` on the (normalised) members at `indices`.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` when `features` are not of the weight space the
    ///   model was built for (it would trap inside the model).
    public static func logits(model: Module & WeightSpaceModel, features: WeightSpaceFeatures, indices: [Int],
                              batchSize: Int = 64) throws -> Tensor {
        try model.validateInput(features)
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
    /// - Throws: ``ModuleError/invalidInput(_:)`` for features of another weight space.
    public static func evaluate(model: Module & WeightSpaceModel, data: Data, indices: [Int],
                                batchSize: Int = 64) throws -> [String: Double] {
        try score(model: model, features: data.features, indices: indices, labels: indices.map { data.labels[$0] },
              batchSize: batchSize)
    }

    /// Accuracy and mean cross-entropy on `features`' members `indices` with true `labels`.
    static func score(model: Module & WeightSpaceModel, features: WeightSpaceFeatures, indices: [Int], labels: [Int],
                      batchSize: Int = 64) throws -> [String: Double] {
        guard !indices.isEmpty else { return ["accuracy": .nan, "loss": .nan] }
        let z = try logits(model: model, features: features, indices: indices, batchSize: batchSize)
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
        var metrics = try evaluate(model: model, data: data, indices: indices)
        let labels = indices.map { data.labels[$0] }
        let mostFrequent = Dictionary(grouping: labels, by: { $0 }).values.map(\.count).max() ?? 0
        metrics["chance"] = Double(mostFrequent) / Double(Swift.max(labels.count, 1))
        if let inr2array = model as? INR2Array {
            metrics["reconstruction_mse"] = try reconstructionMSE(inr2array, data: data, targets: try renderedImages(data),
                                                                  items: indices)
        }
        var robustness: [String: Double] = [:]
        let features = data.features.gathering(members: indices)
        let sine = [Activation](repeating: .sine, count: indices.count)   // every SIREN member
        for aug in augmentations {
            let moved = try Robustness.augment(features, with: aug, activations: sine, seed: seed &+ 77).features
            robustness[aug.description] = try score(model: model, features: moved, indices: Array(0..<indices.count),
                                                labels: labels)["accuracy"]
        }
        return (metrics, robustness)
    }

    public static func makeModel(name: String, data: Data, trainingItems: [Int], size: MetanetworkKind.Size,
                                 seed: UInt64) throws -> any Module & WeightSpaceModel {
        try makeModel(name: name, data: data, size: size, seed: seed)
    }

    public static func module(of model: any Module & WeightSpaceModel) -> Module { model }

    /// Softmax cross-entropy of the class logits.
    public static func loss(of model: any Module & WeightSpaceModel, data: Data, items: [Int], tape: Tape) throws -> Variable {
        try model.validateInput(data.features)
        let logits = model(WeightSpaceVariables(data.features.gathering(members: items), tape: tape))
        return Variable.softmaxCrossEntropy(logits: logits, labels: items.map { data.labels[$0] })
    }

    /// Accuracy on `items`.
    public static func validationMetric(of model: any Module & WeightSpaceModel, data: Data, items: [Int]) throws -> Double {
        try evaluate(model: model, data: data, indices: items)["accuracy"] ?? 0
    }

    /// ``evaluateWithRobustness(model:data:indices:seed:)``: `accuracy`, `loss`, `chance`, and the
    /// accuracy on augmented copies.
    public static func evaluate(_ model: any Module & WeightSpaceModel, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation {
        let (metrics, robustness) = try evaluateWithRobustness(model: model, data: data, indices: items, seed: seed)
        // Every member is a SIREN (sine: odd), so permutations and sign flips act on all of them.
        return TaskEvaluation(metrics: metrics, robustness: robustness,
                              augmentedMembers: robustness.mapValues { _ in items.count })
    }
}
