import Foundation
import Tensors
import NeuralNetworks

/// The fixed architecture of a zoo's members (everything that is not sampled).
///
/// Input channels, image size and class count come from the data set. Fields a family does not
/// use are `nil`.
public struct ZooArchitecture: Codable, Sendable, Equatable {
    /// cnn: filters per convolution (16 in the Small CNN Zoo).
    public var filters: Int?
    /// mlp: hidden widths between the flattened image and the classes; siren: hidden widths
    /// between the 2-D coordinate and the pixel channels.
    public var hiddenWidths: [Int]?
    /// siren: ω₀ of the sine layers (30 in the SIREN paper).
    public var sineFrequency: Double?
    /// transformer: the model configuration (its `dropout`, `inputChannels`, `imageSize` and
    /// `classes` are replaced per member / from the data).
    public var transformer: SmallTransformer.Configuration?

    /// Creates an architecture (unused fields `nil`).
    public init(filters: Int? = nil, hiddenWidths: [Int]? = nil, sineFrequency: Double? = nil,
                transformer: SmallTransformer.Configuration? = nil) {
        self.filters = filters; self.hiddenWidths = hiddenWidths
        self.sineFrequency = sineFrequency; self.transformer = transformer
    }

    enum CodingKeys: String, CodingKey {
        case filters
        case hiddenWidths = "hidden_widths"
        case sineFrequency = "sine_frequency"
        case transformer
    }

    /// The default architecture of `family`: 16 filters (cnn); the Small Transformer Zoo's
    /// D = 32, 2 heads, 2 blocks (transformer); hidden [32, 32] (mlp, siren); ω₀ = 30 (siren).
    public static func defaults(for family: ZooFamily) -> ZooArchitecture {
        switch family {
        case .cnn: return ZooArchitecture(filters: 16)
        case .transformer: return ZooArchitecture(transformer: SmallTransformer.Configuration())
        case .mlp: return ZooArchitecture(hiddenWidths: [32, 32])
        case .siren: return ZooArchitecture(hiddenWidths: [32, 32], sineFrequency: 30)
        }
    }
}

/// How each member is trained and when it is checkpointed.
///
/// For ``ZooFamily/siren`` one "epoch" is one full-batch optimisation step over the image's pixels.
public struct ZooTrainingSpec: Codable, Sendable, Equatable {
    /// Epochs the learning-rate schedule spans. Training stops after the last checkpoint epoch
    /// (which gives the same weights as training on, since later epochs cannot change earlier ones).
    public var epochs: Int
    /// Epochs after which weights and metrics are recorded; `0` records the initialisation.
    public var checkpointEpochs: [Int]
    /// Mini-batch size (classifiers).
    public var batchSize: Int
    /// Batch size of evaluation passes.
    public var evaluationBatchSize: Int
    /// Linear warm-up epochs before the schedule (transformer recipe: a tenth of the epochs).
    public var warmupEpochs: Int
    /// Cosine decay of the learning rate to 1% of its base (transformer recipe).
    public var cosineDecay: Bool
    /// Start every member from the same initial weights (drawn from the zoo seed) instead of its
    /// own. nil or false: each member's own initialisation (the Small CNN / Transformer Zoo
    /// recipes). With a shared start, a member's weights differ from the others' only by what
    /// training put there — for SIREN zoos, the image.
    public var sharedInitialization: Bool?
    /// SIREN: fits per image (nil: 1). Member `m` fits image `m / refits` from its own
    /// initialisation, so the re-fits of one image are consecutive members and share its
    /// `image_index` (which splits group by).
    public var refits: Int?

    /// SIREN: stop a member's fit once its PSNR (dB, on the pixel range's width) reaches this
    /// value (nil: never). Its remaining checkpoints keep the weights of that moment, so a long
    /// recipe (e.g. 1,000 steps) costs only what each image needs.
    public var psnrTarget: Double?

    /// SIREN: fits per image, ``refits`` or 1.
    public var fitsPerImage: Int { refits ?? 1 }

    /// Creates a training spec.
    public init(epochs: Int, checkpointEpochs: [Int], batchSize: Int = 128, evaluationBatchSize: Int = 1000,
                warmupEpochs: Int = 0, cosineDecay: Bool = false) {
        self.epochs = epochs; self.checkpointEpochs = checkpointEpochs; self.batchSize = batchSize
        self.evaluationBatchSize = evaluationBatchSize; self.warmupEpochs = warmupEpochs; self.cosineDecay = cosineDecay
    }

    enum CodingKeys: String, CodingKey {
        case epochs
        case checkpointEpochs = "checkpoint_epochs"
        case batchSize = "batch_size"
        case evaluationBatchSize = "evaluation_batch_size"
        case warmupEpochs = "warmup_epochs"
        case cosineDecay = "cosine_decay"
        case sharedInitialization = "shared_initialization"
        case refits
        case psnrTarget = "psnr_target"
    }

    /// The checkpoint epochs sorted, without duplicates.
    public var sortedCheckpointEpochs: [Int] { Array(Set(checkpointEpochs)).sorted() }
}

/// Which training recipe a zoo follows, where SwiftNFN offers more than one (transformer zoos).
public enum ZooRecipe: String, Codable, Sendable, CaseIterable {
    /// SwiftNFN's first recipe (zoos written before recipes were recorded read as this): each
    /// member draws its own initial weights (unless `shared_initialization`); transformer
    /// `init_std` scales the patch embedding and classifier only (normal), blocks Glorot uniform.
    case swiftNFNv1 = "swiftnfn-v1"
    /// The reference sweep of the Small Transformer Zoo (Tran et al., 2025; Fsoft-AIC/Transformer-NFN):
    /// every member starts from the same initial draw (the networks differ by `init_std` and the
    /// other hyper-parameters), and `init_std` draws *every* weight from a truncated normal with
    /// zero biases.
    case reference
}

/// How a zoo's members are computed. Where two engines sum in different orders (CNN zoos), the
/// members differ in their last bits, so the engine is part of what determines a zoo.
public enum ZooEngine: String, Codable, Sendable, CaseIterable {
    /// One member after another through the generic tape (``Module/lossAndGradients(_:)``). CNN
    /// and transformer zoos written before engines were recorded read as this.
    case tape
    /// Members trained in lockstep by a hand-written forward and backward pass per family (see
    /// ``ZooMemberTrainer/train(members:spec:data:)``). SIREN and MLP members come out
    /// bit-identical to the tape; CNN members (channels-last) and transformer members agree with
    /// the tape to Float32 reassociation.
    case memberBatch = "member-batch"
}

/// Everything that determines a zoo: with the same spec (and the same data and build), every
/// member is the same, bit for bit, wherever and whenever it is generated.
///
/// Member `i`'s hyper-parameters, initialisation, training subset and batch order all derive from
/// `SeededGenerator(seed: seed).split(stream: i)` alone (see ``ZooMemberTrainer``), so members can
/// be generated in any order, in shards, in parallel, or again after a crash.
///
/// ```swift
/// var spec = ZooSpec.defaults(for: .cnn)
/// spec.members = 200
/// spec.seed = 7
/// spec.training.epochs = 4
/// spec.training.checkpointEpochs = [1, 4]
/// try spec.validate()
/// ```
public struct ZooSpec: Codable, Sendable, Equatable {
    /// The network family.
    public var family: ZooFamily
    /// The number of members (ids `0..<members`).
    public var members: Int
    /// The zoo seed.
    public var seed: UInt64
    /// The data members train on.
    public var data: ZooDataSpec
    /// The fixed architecture.
    public var architecture: ZooArchitecture
    /// How members are trained and checkpointed.
    public var training: ZooTrainingSpec
    /// The hyper-parameter distributions.
    public var space: HyperparameterSpace
    /// The recipe (nil: ``ZooRecipe/swiftNFNv1``, which zoos written before the field read as).
    public var recipe: ZooRecipe?

    /// The recipe this zoo follows.
    public var effectiveRecipe: ZooRecipe { recipe ?? .swiftNFNv1 }
    /// The engine (nil: what this family's zoos used before the field was recorded, see
    /// ``effectiveEngine``).
    public var engine: ZooEngine?

    /// The engine this zoo's members are computed with: the recorded one, else the member batch
    /// for SIREN and MLP zoos (bit-identical to the tape, so older zoos read the same either way)
    /// and the tape for CNN and transformer zoos (what they were made with before the field).
    public var effectiveEngine: ZooEngine {
        if let engine { return engine }
        switch family {
        case .siren, .mlp: return .memberBatch
        case .cnn, .transformer: return .tape
        }
    }

    /// Creates a spec (see ``defaults(for:)`` for the recipes).
    public init(family: ZooFamily, members: Int, seed: UInt64, data: ZooDataSpec, architecture: ZooArchitecture,
                training: ZooTrainingSpec, space: HyperparameterSpace) {
        self.family = family; self.members = members; self.seed = seed; self.data = data
        self.architecture = architecture; self.training = training; self.space = space
    }

    /// The default spec of `family` (documented recipe; see ``HyperparameterSpace`` and
    /// ``ZooArchitecture`` for the per-family values).
    ///
    /// - cnn: Fashion-MNIST in [−1, 1], training pool = the first 15,000 training images, 2 epochs
    ///   with checkpoints at 1 and 2, batch 64, the ``ZooEngine/memberBatch`` engine.
    /// - transformer: Fashion-MNIST, 2 epochs, batch 128, warm-up 0 and cosine decay, the
    ///   ``ZooRecipe/reference`` recipe (one shared initial draw, `init_std` on every layer), the
    ///   ``ZooEngine/memberBatch`` engine.
    /// - mlp: Fashion-MNIST, 2 epochs, batch 64.
    /// - siren: Fashion-MNIST training images in [0, 1], 200 full-batch steps, checkpoint at 200.
    public static func defaults(for family: ZooFamily) -> ZooSpec {
        var data = ZooDataSpec()
        var training = ZooTrainingSpec(epochs: 2, checkpointEpochs: [1, 2], batchSize: 64)
        switch family {
        case .cnn:
            data.trainLimit = 15_000
        case .transformer:
            training.batchSize = 128
            training.cosineDecay = true
            training.sharedInitialization = true
        case .mlp:
            break
        case .siren:
            data.pixelRange = .unit
            training = ZooTrainingSpec(epochs: 200, checkpointEpochs: [200], batchSize: 1)
        }
        var spec = ZooSpec(family: family, members: 100, seed: 0, data: data,
                           architecture: .defaults(for: family), training: training, space: .defaults(for: family))
        if family == .transformer { spec.recipe = .reference }
        if family == .cnn || family == .transformer { spec.engine = .memberBatch }
        return spec
    }

    /// Throws ``ZooError/invalidSpec(_:)`` naming the first problem.
    public func validate() throws {
        guard members >= 1 else { throw ZooError.invalidSpec("members must be ≥ 1, got \(members)") }
        guard training.epochs >= 0 else { throw ZooError.invalidSpec("training.epochs must be ≥ 0") }
        guard !training.checkpointEpochs.isEmpty else {
            throw ZooError.invalidSpec("training.checkpoint_epochs is empty")
        }
        if let bad = training.checkpointEpochs.first(where: { $0 < 0 || $0 > training.epochs }) {
            throw ZooError.invalidSpec("checkpoint epoch \(bad) is outside 0...\(training.epochs) (the epochs)")
        }
        guard training.batchSize >= 1, training.evaluationBatchSize >= 1 else {
            throw ZooError.invalidSpec("batch sizes must be ≥ 1")
        }
        guard training.warmupEpochs >= 0 else { throw ZooError.invalidSpec("training.warmup_epochs must be ≥ 0") }
        if let r = training.refits {
            guard family == .siren else { throw ZooError.invalidSpec("training.refits applies to SIREN zoos only") }
            guard (1...1000).contains(r) else { throw ZooError.invalidSpec("training.refits must be in 1...1000, got \(r)") }
        }
        if let t = training.psnrTarget {
            guard family == .siren else { throw ZooError.invalidSpec("training.psnr_target applies to SIREN zoos only") }
            guard t.isFinite, t > 0, t <= 200 else { throw ZooError.invalidSpec("training.psnr_target must be in (0, 200] dB, got \(t)") }
        }
        try ZooLimits.check(self)   // upper bounds: these sizes come from files and flags
        if recipe == .reference && family != .transformer {
            throw ZooError.invalidSpec("recipe 'reference' is defined for transformer zoos only (got \(family.rawValue))")
        }
        try data.validate()
        try space.validate(for: family)
        switch family {
        case .cnn:
            guard let f = architecture.filters, f >= 1 else { throw ZooError.invalidSpec("architecture.filters must be ≥ 1") }
        case .mlp, .siren:
            guard let w = architecture.hiddenWidths, !w.isEmpty, w.allSatisfy({ $0 >= 1 }) else {
                throw ZooError.invalidSpec("architecture.hidden_widths must be a non-empty list of positive widths")
            }
            if family == .siren {
                guard let f = architecture.sineFrequency, f > 0, f.isFinite else {
                    throw ZooError.invalidSpec("architecture.sine_frequency must be > 0")
                }
            }
        case .transformer:
            guard let c = architecture.transformer else { throw ZooError.invalidSpec("architecture.transformer is missing") }
            guard c.patchSize >= 1, c.modelDimension >= 1, c.heads >= 1, c.keyDimension >= 1, c.valueDimension >= 1,
                  c.feedForwardDimension >= 1, c.blockCount >= 1 else {
                throw ZooError.invalidSpec("architecture.transformer sizes must be ≥ 1")
            }
        }
    }

    /// Reads a spec from a JSON file (the format `nfn zoo generate --print-spec` writes).
    ///
    /// - Throws: ``ZooError/corruptSpec(file:detail:)`` naming the file and the JSON path of the
    ///   problem (bad JSON, an unknown family, a missing field) or the first validation failure.
    public static func load(from url: URL) throws -> ZooSpec {
        let data = try ZooFileSystem.read(url, limit: ZooFileSystem.maximumJSONFileSize)
        try ZooFileSystem.checkJSONStructure(data) { ZooError.corruptSpec(file: url.path, detail: $0) }
        let spec: ZooSpec
        do {
            spec = try JSONDecoder().decode(ZooSpec.self, from: data)
        } catch {
            throw ZooError.corruptSpec(file: url.path, detail: describe(error))
        }
        do { try spec.validate() } catch {
            throw ZooError.corruptSpec(file: url.path, detail: "\(error)")
        }
        return spec
    }

    /// The names of the top-level fields in which `self` and `other` differ, ignoring the data
    /// ``ZooDataSpec/path`` (where the data lives is not what it is).
    public func differences(from other: ZooSpec) -> [String] {
        var a = self, b = other
        a.data.path = nil
        b.data.path = nil
        var d: [String] = []
        if a.family != b.family { d.append("family") }
        if a.members != b.members { d.append("members") }
        if a.seed != b.seed { d.append("seed") }
        if a.data != b.data { d.append("data") }
        if a.architecture != b.architecture { d.append("architecture") }
        if a.training != b.training { d.append("training") }
        if a.space != b.space { d.append("space") }
        if a.effectiveRecipe != b.effectiveRecipe { d.append("recipe") }
        if a.effectiveEngine != b.effectiveEngine { d.append("engine") }
        return d
    }
}
