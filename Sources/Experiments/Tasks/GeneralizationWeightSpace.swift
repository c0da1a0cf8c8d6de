import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Zoo

/// A weight space whose zoos carry test accuracies to predict: how its checkpoints are read,
/// which predictors fit it, how a predictor runs, and which symmetries the robustness protocol
/// applies. ``GeneralizationExperiment`` is generic over it, so a feed-forward and a transformer
/// zoo go through the same code with their own types.
public protocol GeneralizationWeightSpace {
    /// A batch of members' weights.
    associatedtype Features: Sendable
    /// What a predictor needs to know about the members' networks.
    associatedtype Architecture: Sendable
    /// A predictor: a module mapping features to `[B, 1]` logits.
    associatedtype Predictor

    /// The zoo families whose checkpoints are of this weight space.
    static var families: Set<ZooFamily> { get }
    /// The predictor names that fit.
    static var modelNames: [String] { get }
    /// The augmentations of the robustness protocol (symmetries of the members).
    static var augmentations: [Robustness.Augmentation] { get }

    /// The weights and architecture of `checkpoints` (diverged and NaN/∞ ones left out and counted).
    static func read(_ reader: ZooReader, checkpoints: [ZooCheckpoint]) throws
        -> (features: Features, architecture: Architecture, kept: [ZooCheckpoint], skipped: Int)
    /// The weight space an architecture spans, as text: two zoos with equal descriptions can be
    /// evaluated by one predictor (the activation, say, may differ).
    static func weightSpaceDescription(_ architecture: Architecture) -> String
    /// The rows `members` of a batch.
    static func gathering(_ features: Features, members: [Int]) -> Features
    /// Each member's hidden activation (nil for weight spaces without one, such as transformers).
    static func activations(of kept: [ZooCheckpoint], architecture: Architecture) -> [Activation]?
    /// Each member moved by its own random group element — of the augmentation's group where it is
    /// a symmetry of that member (see `activations`), of the hidden permutations otherwise — and
    /// the number of members the whole augmentation acted on.
    static func augment(_ features: Features, with augmentation: Robustness.Augmentation, activations: [Activation]?,
                        seed: UInt64) throws -> (features: Features, actedOn: Int)
    /// A freshly initialised predictor `name`.
    static func makePredictor(name: String, architecture: Architecture, size: MetanetworkKind.Size,
                              rng: inout SeededGenerator) throws -> Predictor
    /// The predictor's module.
    static func module(of predictor: Predictor) -> Module
    /// `[B, 1]` logits, recorded on `tape` (or tape-less).
    static func logits(of predictor: Predictor, on features: Features, tape: Tape?) throws -> Variable
    /// The STATNN statistics of every member, `[B, F]`: the features the tree ensembles fit.
    static func statistics(_ features: Features) -> Tensor
}

/// Feed-forward zoos (Small CNN Zoo CNNs, MLPs): ``WeightSpaceFeatures`` and the predictors of
/// ``MetanetworkKind``.
public enum FeedforwardZooWeights: GeneralizationWeightSpace {
    public static let families: Set<ZooFamily> = [.cnn, .mlp]
    public static let modelNames = MetanetworkKind.allCases.map(\.rawValue)
    public static let augmentations: [Robustness.Augmentation] = [.permutation, .scaling(low: 1, high: 10), .scaling(low: 1, high: 100)]

    public static func read(_ reader: ZooReader, checkpoints: [ZooCheckpoint]) throws
        -> (features: WeightSpaceFeatures, architecture: FeedforwardArchitecture, kept: [ZooCheckpoint], skipped: Int) {
        let b = try reader.features(checkpoints)
        return (b.features, b.architecture, b.checkpoints, b.skippedDiverged + b.skippedNonFinite)
    }

    public static func weightSpaceDescription(_ a: FeedforwardArchitecture) -> String {
        "feed-forward widths \(a.widths), kernels \(a.layers.map(\.kernel))"
    }

    public static func gathering(_ features: WeightSpaceFeatures, members: [Int]) -> WeightSpaceFeatures {
        features.gathering(members: members)
    }

    /// The activation each checkpoint's member was trained with; the architecture's (member 0's)
    /// where a record has none (imported zoos without the hyper-parameter).
    public static func activations(of kept: [ZooCheckpoint], architecture: FeedforwardArchitecture) -> [Activation]? {
        kept.map { $0.hyperparameters.activation ?? architecture.activation }
    }

    public static func augment(_ features: WeightSpaceFeatures, with augmentation: Robustness.Augmentation,
                               activations: [Activation]?, seed: UInt64) throws -> (features: WeightSpaceFeatures, actedOn: Int) {
        guard let activations else { throw ExperimentError.invalidArgument("feed-forward augmentation needs each member's activation") }
        let moved = try Robustness.augment(features, with: augmentation, activations: activations, seed: seed)
        return (moved.features, moved.actedOn)
    }

    public static func makePredictor(name: String, architecture: FeedforwardArchitecture, size: MetanetworkKind.Size,
                                     rng: inout SeededGenerator) throws -> any Module & WeightSpaceModel {
        guard let kind = MetanetworkKind(rawValue: name) else {
            throw ExperimentError.unknownModel("\(name) (for feed-forward zoos: \(modelNames.joined(separator: ", ")))")
        }
        return try kind.makePredictor(architecture: architecture, size: size, rng: &rng)
    }

    public static func module(of predictor: any Module & WeightSpaceModel) -> Module { predictor }

    public static func logits(of predictor: any Module & WeightSpaceModel, on features: WeightSpaceFeatures,
                              tape: Tape?) throws -> Variable {
        // Features of another weight space would trap inside the model; refuse them here.
        try predictor.validateInput(features)
        return predictor(WeightSpaceVariables(features, tape: tape))
    }

    /// Per channel and layer, seven statistics of the weights and seven of the biases (``WeightSpaceFeatures/layerStatistics()``).
    public static func statistics(_ features: WeightSpaceFeatures) -> Tensor {
        features.layerStatistics().reshaped([features.batchSize, -1])
    }
}

/// Small-Transformer-Zoo zoos: ``TransformerWeightSpaceFeatures`` and the predictors of
/// ``TransformerMetanetworkKind``.
public enum TransformerZooWeights: GeneralizationWeightSpace {
    public static let families: Set<ZooFamily> = [.transformer]
    public static let modelNames = TransformerMetanetworkKind.allCases.map(\.rawValue)
    public static let augmentations: [Robustness.Augmentation] = [.attention(maxConditionNumber: 100)]

    public static func read(_ reader: ZooReader, checkpoints: [ZooCheckpoint]) throws
        -> (features: TransformerWeightSpaceFeatures, architecture: SmallTransformer.Configuration, kept: [ZooCheckpoint], skipped: Int) {
        let b = try reader.transformerFeatures(checkpoints)
        return (b.features, b.configuration, b.checkpoints, b.skippedDiverged + b.skippedNonFinite)
    }

    public static func weightSpaceDescription(_ c: SmallTransformer.Configuration) -> String {
        var shape = c
        shape.dropout = 0   // a training choice, not part of the weight space
        return "transformer (\(c.blockCount) blocks, \(shape))"
    }

    public static func gathering(_ features: TransformerWeightSpaceFeatures, members: [Int]) -> TransformerWeightSpaceFeatures {
        features.gathering(members: members)
    }

    /// None: the attention group does not depend on the feed-forward activation.
    public static func activations(of kept: [ZooCheckpoint], architecture: SmallTransformer.Configuration) -> [Activation]? { nil }

    public static func augment(_ features: TransformerWeightSpaceFeatures, with augmentation: Robustness.Augmentation,
                               activations: [Activation]?, seed: UInt64) throws -> (features: TransformerWeightSpaceFeatures, actedOn: Int) {
        guard case .attention(let k) = augmentation else {
            throw ExperimentError.invalidArgument("\(augmentation) is not a symmetry of transformer weights")
        }
        return (try Robustness.augment(features, maxConditionNumber: k, seed: seed), features.batchSize)
    }

    public static func makePredictor(name: String, architecture: SmallTransformer.Configuration, size: MetanetworkKind.Size,
                                     rng: inout SeededGenerator) throws -> any Module & TransformerWeightSpaceModel {
        guard let kind = TransformerMetanetworkKind(rawValue: name) else {
            throw ExperimentError.unknownModel("\(name) (for transformer zoos: \(modelNames.joined(separator: ", ")))")
        }
        return try kind.make(configuration: architecture, size: size, rng: &rng)
    }

    public static func module(of predictor: any Module & TransformerWeightSpaceModel) -> Module { predictor }

    public static func logits(of predictor: any Module & TransformerWeightSpaceModel, on features: TransformerWeightSpaceFeatures,
                              tape: Tape?) throws -> Variable {
        try predictor(TransformerWeightSpaceVariables(features, tape: tape))
    }

    /// Seven statistics of every tensor (``TransformerStatisticsPredictor/statistics(_:)``).
    public static func statistics(_ features: TransformerWeightSpaceFeatures) -> Tensor {
        TransformerStatisticsPredictor.statistics(features)
    }
}
