import Foundation
import Tensors
import NeuralNetworks
import Training

/// The kind of network a zoo holds; it fixes the architecture, the training task and which
/// hyper-parameters are sampled.
public enum ZooFamily: String, Codable, Sendable, CaseIterable {
    /// The Small CNN Zoo network (Unterthiner et al., 2020): 3 × conv 3×3/2 + global average pool +
    /// dense, trained as an image classifier (code: google-research/google-research,
    /// `dnn_predict_accuracy`).
    case cnn
    /// The Small Transformer Zoo's vision transformer (Tran et al. 2025, *Equivariant Neural
    /// Functional Networks for Transformers*; `vision_task/model.py` in Fsoft-AIC/Transformer-NFN),
    /// trained as a classifier.
    case transformer
    /// A multilayer perceptron on flattened images, trained as a classifier.
    case mlp
    /// One SIREN implicit neural representation per image, fitting the pixel intensities on the
    /// coordinate grid (for INR classification and editing).
    case siren

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let raw = try c.decode(String.self)
        guard let family = ZooFamily(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "unknown family '\(raw)' (known: \(ZooFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = family
    }

    /// Whether members are image classifiers (all but ``siren``).
    public var isClassifier: Bool { self != .siren }
}

/// How a feed-forward member's weights are initialised. The `normal` kinds use the sampled
/// `init_std`; the others derive their scale from fan-in/fan-out.
public enum WeightInitializerKind: String, Codable, Sendable, CaseIterable {
    case glorotUniform = "glorot_uniform"
    case glorotNormal = "glorot_normal"
    case heUniform = "he_uniform"
    case heNormal = "he_normal"
    /// N(0, init_std²).
    case normal
    /// N(0, init_std²) truncated at ±2 init_std.
    case truncatedNormal = "truncated_normal"

    /// The layer initializer, with `std` for the normal kinds.
    public func initializer(std: Double) -> Initializer {
        switch self {
        case .glorotUniform: return .glorotUniform
        case .glorotNormal: return .glorotNormal
        case .heUniform: return .heUniform
        case .heNormal: return .heNormal
        case .normal: return .normal(std: Float(std))
        case .truncatedNormal: return .truncatedNormal(std: Float(std))
        }
    }

    /// Whether the kind uses `init_std`.
    public var usesStandardDeviation: Bool { self == .normal || self == .truncatedNormal }
}

/// How a CNN member's biases are initialised.
public enum BiasInitializerKind: String, Codable, Sendable, CaseIterable {
    /// All zeros.
    case zeros
    /// N(0, init_std²).
    case normal

    /// The layer initializer, with `std` for ``normal``.
    public func initializer(std: Double) -> Initializer {
        self == .zeros ? .zeros : .normal(std: Float(std))
    }
}

/// The hyper-parameters of one zoo member, as sampled and as recorded in `members.jsonl`.
///
/// Only the fields the family uses are set (the others stay `nil` and are left out of the JSON):
///
/// | family | fields |
/// | --- | --- |
/// | cnn | activation, optimizer, learning_rate, l2, initializer, init_std, bias_initializer, dropout, train_fraction |
/// | transformer | optimizer, learning_rate, l2, init_std, dropout, train_fraction |
/// | mlp | activation, optimizer, learning_rate, l2, initializer, init_std, train_fraction |
/// | siren | optimizer, learning_rate |
///
/// Real values are `Double` as sampled; training converts them to `Float`.
///
/// Generated members always have an ``optimizer`` and a ``learningRate``. An *imported* member
/// (see ``ZooManifest/source``) has the fields its source recorded and could be mapped, and
/// ``sourceConfig`` holds the source's values verbatim.
public struct MemberHyperparameters: Codable, Sendable, Equatable, Hashable {
    /// The hidden activation (cnn, mlp).
    public var activation: Activation?
    /// The optimizer (`nil` only for imported members whose source did not record a known one).
    public var optimizer: OptimizerKind?
    /// The base learning rate (`nil` only for imported members whose source did not record it).
    public var learningRate: Double?
    /// L2 regularisation (coupled weight decay, see ``OptimizerKind/make(learningRate:weightDecay:)``).
    public var l2: Double?
    /// The weight initializer (cnn, mlp).
    public var initializer: WeightInitializerKind?
    /// The initialisation standard deviation (normal initializers; the transformer's `initStandardDeviation`).
    public var initStd: Double?
    /// The bias initializer (cnn).
    public var biasInitializer: BiasInitializerKind?
    /// The dropout rate (cnn, transformer).
    public var dropout: Double?
    /// The fraction of the training pool this member trains on, in (0, 1].
    public var trainFraction: Double?
    /// Imported members: the source's hyper-parameter values verbatim, by the source's names
    /// (the Small CNN Zoo's `config.*` columns without the prefix, plus `modeldir`; a metrics
    /// file's columns). `nil` for generated members.
    public var sourceConfig: [String: String]?

    /// Creates a set of hyper-parameters (unused fields stay `nil`).
    public init(activation: Activation? = nil, optimizer: OptimizerKind?, learningRate: Double?, l2: Double? = nil,
                initializer: WeightInitializerKind? = nil, initStd: Double? = nil,
                biasInitializer: BiasInitializerKind? = nil, dropout: Double? = nil, trainFraction: Double? = nil,
                sourceConfig: [String: String]? = nil) {
        self.activation = activation; self.optimizer = optimizer; self.learningRate = learningRate; self.l2 = l2
        self.initializer = initializer; self.initStd = initStd; self.biasInitializer = biasInitializer
        self.dropout = dropout; self.trainFraction = trainFraction; self.sourceConfig = sourceConfig
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case activation, optimizer
        case learningRate = "learning_rate"
        case l2, initializer
        case initStd = "init_std"
        case biasInitializer = "bias_initializer"
        case dropout
        case trainFraction = "train_fraction"
        case sourceConfig = "source_config"
    }

    /// The typed hyper-parameter names in a fixed order (the CSV column order); ``sourceConfig``
    /// is not among them.
    public static let names: [String] = CodingKeys.allCases.filter { $0 != .sourceConfig }.map(\.rawValue)

    /// The value of each set hyper-parameter by name: `Double` for reals, `String` for kinds
    /// (``sourceConfig`` is not included).
    public var values: [String: ZooHyperparameterValue] {
        var d: [String: ZooHyperparameterValue] = [:]
        if let v = optimizer { d["optimizer"] = .text(v.rawValue) }
        if let v = learningRate { d["learning_rate"] = .number(v) }
        if let v = activation { d["activation"] = .text(v.rawValue) }
        if let v = l2 { d["l2"] = .number(v) }
        if let v = initializer { d["initializer"] = .text(v.rawValue) }
        if let v = initStd { d["init_std"] = .number(v) }
        if let v = biasInitializer { d["bias_initializer"] = .text(v.rawValue) }
        if let v = dropout { d["dropout"] = .number(v) }
        if let v = trainFraction { d["train_fraction"] = .number(v) }
        return d
    }
}

/// One hyper-parameter value, for summaries and CSV export.
public enum ZooHyperparameterValue: Sendable, Equatable, Hashable, CustomStringConvertible {
    case number(Double)
    case text(String)

    /// The value as text (reals in Swift's shortest round-tripping form).
    public var description: String {
        switch self {
        case .number(let v): return "\(v)"
        case .text(let s): return s
        }
    }
}

/// The distributions member hyper-parameters are drawn from.
///
/// **Sampling is explicit and order-free:** each hyper-parameter has its own sub-stream of the
/// member's generator (`split(stream:)` with a fixed number per name), so changing one
/// distribution never changes the values drawn for another. Fields a family does not use are
/// ignored (see ``MemberHyperparameters``).
public struct HyperparameterSpace: Codable, Sendable, Equatable {
    /// Hidden activations (cnn, mlp).
    public var activations: [Activation]
    /// Optimizers, chosen uniformly.
    public var optimizers: [OptimizerKind]
    /// Learning rate (for every optimizer, or for adam/adamw/rmsprop when ``sgdLearningRate`` is set).
    public var learningRate: RealDistribution
    /// Learning rate for sgd and momentum, when it differs (the Small Transformer Zoo's sweeps).
    public var sgdLearningRate: RealDistribution?
    /// L2 regularisation strength.
    public var l2: RealDistribution
    /// Weight initializers (cnn, mlp).
    public var initializers: [WeightInitializerKind]
    /// Initialisation standard deviation (used by the normal initializers, and by the transformer).
    public var initStd: RealDistribution
    /// Initialisation standard deviation for sgd and momentum members, when it differs.
    public var sgdInitStd: RealDistribution?
    /// Bias initializers (cnn).
    public var biasInitializers: [BiasInitializerKind]
    /// Dropout rate (cnn, transformer), in [0, 1).
    public var dropout: RealDistribution
    /// Fraction of the training pool used, in (0, 1].
    public var trainFraction: RealDistribution

    /// Creates a space; see the properties for each field's meaning.
    public init(activations: [Activation], optimizers: [OptimizerKind], learningRate: RealDistribution,
                sgdLearningRate: RealDistribution? = nil, l2: RealDistribution, initializers: [WeightInitializerKind],
                initStd: RealDistribution, sgdInitStd: RealDistribution? = nil, biasInitializers: [BiasInitializerKind],
                dropout: RealDistribution, trainFraction: RealDistribution) {
        self.activations = activations; self.optimizers = optimizers; self.learningRate = learningRate
        self.sgdLearningRate = sgdLearningRate; self.l2 = l2; self.initializers = initializers
        self.initStd = initStd; self.sgdInitStd = sgdInitStd; self.biasInitializers = biasInitializers
        self.dropout = dropout; self.trainFraction = trainFraction
    }

    enum CodingKeys: String, CodingKey {
        case activations, optimizers
        case learningRate = "learning_rate"
        case sgdLearningRate = "sgd_learning_rate"
        case l2, initializers
        case initStd = "init_std"
        case sgdInitStd = "sgd_init_std"
        case biasInitializers = "bias_initializers"
        case dropout
        case trainFraction = "train_fraction"
    }

    /// The Small CNN Zoo recipe (Unterthiner et al. 2020, *Predicting Neural Network Accuracy from
    /// Weights*; code in google-research/google-research, `dnn_predict_accuracy`): activation
    /// {relu, tanh}; optimizer {sgd, momentum, adam, rmsprop}; learning rate log-uniform
    /// [5e-4, 5e-2]; L2 log-uniform [1e-8, 1e-2]; initializer {glorot_normal, he_normal, normal,
    /// truncated_normal} with init_std log-uniform [1e-3, 0.5]; bias {zeros, normal}; dropout
    /// uniform [0, 0.5]; train fraction {0.1, 0.25, 0.5, 1}.
    public static let smallCNNZoo = HyperparameterSpace(
        activations: [.relu, .tanh], optimizers: [.sgd, .momentum, .adam, .rmsprop],
        learningRate: .logUniform(low: 5e-4, high: 5e-2), l2: .logUniform(low: 1e-8, high: 1e-2),
        initializers: [.glorotNormal, .heNormal, .normal, .truncatedNormal],
        initStd: .logUniform(low: 1e-3, high: 0.5), biasInitializers: [.zeros, .normal],
        dropout: .uniform(low: 0, high: 0.5), trainFraction: .choice([0.1, 0.25, 0.5, 1.0]))

    /// The Small Transformer Zoo's "v2" sweeps joined (`sweep_config_v2_adam.yml` and
    /// `sweep_config_v2_sgd.yml` in Fsoft-AIC/Transformer-NFN): optimizer {adam, rmsprop, sgd,
    /// momentum}; learning rate from {3e-4 … 5e-2} (adam, rmsprop) or {1e-3 … 7e-2} (sgd,
    /// momentum); init std {0.1 … 0.5} or {0.1 … 0.3}; L2 {1e-8, 1e-7, 1e-6, 1e-4, 1e-2}; train
    /// fraction {1, 0.9, 0.8, 0.7}; dropout {0, 0.05, 0.1, 0.15, 0.2}. The grid's values are
    /// sampled uniformly instead of enumerated.
    public static let smallTransformerZoo = HyperparameterSpace(
        activations: [], optimizers: [.adam, .rmsprop, .sgd, .momentum],
        learningRate: .choice([3e-4, 5e-4, 1e-3, 3e-3, 5e-3, 1e-2, 3e-2, 5e-2]),
        sgdLearningRate: .choice([1e-3, 3e-3, 5e-3, 7e-3, 1e-2, 3e-2, 5e-2, 7e-2]),
        l2: .choice([1e-8, 1e-7, 1e-6, 1e-4, 1e-2]), initializers: [],
        initStd: .choice([0.1, 0.2, 0.3, 0.4, 0.5]), sgdInitStd: .choice([0.1, 0.15, 0.2, 0.25, 0.3]),
        biasInitializers: [], dropout: .choice([0, 0.05, 0.1, 0.15, 0.2]),
        trainFraction: .choice([1.0, 0.9, 0.8, 0.7]))

    /// MLP classifiers: activation {relu, tanh}; optimizer {sgd, momentum, adam, rmsprop}; learning
    /// rate log-uniform [5e-4, 5e-2]; L2 log-uniform [1e-8, 1e-2]; initializer {glorot_uniform,
    /// glorot_normal, he_normal, normal} with init_std log-uniform [1e-2, 0.3]; train fraction
    /// {0.1, 0.25, 0.5, 1}.
    public static let mlp = HyperparameterSpace(
        activations: [.relu, .tanh], optimizers: [.sgd, .momentum, .adam, .rmsprop],
        learningRate: .logUniform(low: 5e-4, high: 5e-2), l2: .logUniform(low: 1e-8, high: 1e-2),
        initializers: [.glorotUniform, .glorotNormal, .heNormal, .normal],
        initStd: .logUniform(low: 1e-2, high: 0.3), biasInitializers: [],
        dropout: .fixed(0), trainFraction: .choice([0.1, 0.25, 0.5, 1.0]))

    /// SIREN fits: Adam at learning rate 1e-3 (the SIREN paper's optimizer; the rate suits a few
    /// hundred full-batch steps on 28×28 images).
    public static let siren = HyperparameterSpace(
        activations: [], optimizers: [.adam], learningRate: .fixed(1e-3), l2: .fixed(0), initializers: [],
        initStd: .fixed(0), biasInitializers: [], dropout: .fixed(0), trainFraction: .fixed(1))

    /// The default space of `family`.
    public static func defaults(for family: ZooFamily) -> HyperparameterSpace {
        switch family {
        case .cnn: return .smallCNNZoo
        case .transformer: return .smallTransformerZoo
        case .mlp: return .mlp
        case .siren: return .siren
        }
    }

    /// The sub-stream of each hyper-parameter (fixed forever: changing one would change every zoo).
    enum Stream: UInt64 {
        case activation = 1, optimizer, learningRate, l2, initializer, initStd, biasInitializer, dropout, trainFraction
    }

    /// Draws one member's hyper-parameters from `rng` (each from its own sub-stream).
    public func sample(for family: ZooFamily, using rng: SeededGenerator) -> MemberHyperparameters {
        func draw<T>(_ values: [T], _ s: Stream) -> T? {
            var g = rng.split(stream: s.rawValue)
            return values.sampleElement(using: &g)
        }
        func draw(_ d: RealDistribution, _ s: Stream) -> Double {
            var g = rng.split(stream: s.rawValue)
            return d.sample(using: &g)
        }
        let optimizer = draw(optimizers, .optimizer) ?? .adam
        let isSGD = optimizer == .sgd || optimizer == .momentum
        var hp = MemberHyperparameters(
            optimizer: optimizer,
            learningRate: draw((isSGD ? sgdLearningRate : nil) ?? learningRate, .learningRate))
        guard family != .siren else { return hp }
        hp.l2 = draw(l2, .l2)
        hp.trainFraction = draw(trainFraction, .trainFraction)
        hp.initStd = draw((isSGD ? sgdInitStd : nil) ?? initStd, .initStd)
        switch family {
        case .cnn:
            hp.activation = draw(activations, .activation)
            hp.initializer = draw(initializers, .initializer)
            hp.biasInitializer = draw(biasInitializers, .biasInitializer)
            hp.dropout = draw(dropout, .dropout)
        case .mlp:
            hp.activation = draw(activations, .activation)
            hp.initializer = draw(initializers, .initializer)
        case .transformer:
            hp.dropout = draw(dropout, .dropout)
        case .siren:
            break
        }
        return hp
    }

    /// Throws ``ZooError/invalidSpec(_:)`` when a list the family needs is empty or a distribution
    /// is out of range.
    public func validate(for family: ZooFamily) throws {
        guard !optimizers.isEmpty else { throw ZooError.invalidSpec("space.optimizers is empty") }
        try learningRate.validate("space.learning_rate", allowed: Double.leastNonzeroMagnitude...1e6)
        try sgdLearningRate?.validate("space.sgd_learning_rate", allowed: Double.leastNonzeroMagnitude...1e6)
        guard family != .siren else { return }
        try l2.validate("space.l2", allowed: 0...1e6)
        try trainFraction.validate("space.train_fraction", allowed: Double.leastNonzeroMagnitude...1)
        try initStd.validate("space.init_std", allowed: 0...1e6)
        try sgdInitStd?.validate("space.sgd_init_std", allowed: 0...1e6)
        if family == .cnn || family == .mlp {
            guard !activations.isEmpty else { throw ZooError.invalidSpec("space.activations is empty") }
            guard !initializers.isEmpty else { throw ZooError.invalidSpec("space.initializers is empty") }
        }
        if family == .cnn {
            guard !biasInitializers.isEmpty else { throw ZooError.invalidSpec("space.bias_initializers is empty") }
        }
        if family == .cnn || family == .transformer {
            try dropout.validate("space.dropout", allowed: 0...0.95)
        }
    }
}
