import Foundation
import Training
import Yams

/// The experiments `nfn train` and `nfn evaluate` can run.
///
/// Each task is one case here and one branch in ``ExperimentRunner/train(_:progress:log:)`` and
/// ``ExperimentRunner/evaluate(run:zoo:reportDirectory:)``.
public enum ExperimentTask: String, Codable, Sendable, CaseIterable {
    /// Predict a network's test accuracy from its weights (CNN, MLP and transformer zoos).
    case generalization
    /// Classify implicit neural representations (SIREN zoos) by the class of the image they encode.
    case inrClassification = "inr-classification"
    /// Learn a weight-space edit of SIRENs that applies an image transform (see ``ImageEdit``).
    case inrEditing = "inr-editing"

    /// Parses a task name; the error lists the valid names.
    public init(name: String) throws {
        guard let t = ExperimentTask(rawValue: name) else {
            throw ExperimentError.invalidConfiguration(
                "unknown task '\(name)'; valid tasks: \(ExperimentTask.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = t
    }
}

/// Everything one `nfn train` run needs, as read from a YAML (or JSON) file and/or command-line
/// options, and as saved next to the run's results (`config.yaml`) so it can be reproduced and
/// evaluated later.
///
/// Keys are snake_case:
///
/// ```yaml
/// task: generalization        # generalization | inr-classification | inr-editing
/// model: hnp                  # a metanetwork name (see `nfn train --help`)
/// zoo: zoos/cnn               # zoo folder (nfn zoo generate / import)
/// out: runs/hnp               # checkpoint, config.yaml and the report
/// zoo_epoch: 2                # zoo checkpoint epoch (default: the last)
/// zoo_epochs: [1, 2]          # generalization only, instead of zoo_epoch: several epochs' checkpoints,
///                             # split so that a member's checkpoints stay in one part
/// epochs: 30
/// batch_size: 32
/// optimizer: adam             # sgd | momentum | adam | adamw | rmsprop
/// learning_rate: 0.001
/// weight_decay: 0
/// patience: 10                # early-stopping patience in epochs (0: none)
/// seed: 0                     # seeds the split, the initialisation and the batch order
/// size: standard              # small | standard
/// train_fraction: 0.6
/// validation_fraction: 0.15   # the test split gets the rest
/// edit: dilate                # inr-editing only
/// ```
///
/// Only `model` and `zoo` are required (`out` too, for training); every other key has the default
/// shown. Unknown keys are an error, so that a typo is never silently ignored.
public struct ExperimentConfiguration: Codable, Sendable, Equatable {
    /// The task.
    public var task: ExperimentTask = .generalization
    /// The metanetwork name.
    public var model: String
    /// The zoo folder.
    public var zoo: String
    /// The run's output folder (checkpoint, `config.yaml`, report); nil when not yet chosen.
    public var out: String?
    /// The zoo checkpoint epoch to use (nil: the zoo's last checkpoint epoch).
    public var zooEpoch: Int?
    /// Several zoo checkpoint epochs to use together (generalization only; excludes `zooEpoch`):
    /// more samples from the same training runs, split by member.
    public var zooEpochs: [Int]?
    /// Maximum training epochs.
    public var epochs = 30
    /// Zoo members per optimizer step.
    public var batchSize = 32
    /// The optimizer.
    public var optimizer: OptimizerKind = .adam
    /// The step size.
    public var learningRate: Float = 1e-3
    /// L2 strength (decoupled for AdamW).
    public var weightDecay: Float = 0
    /// Early-stopping patience in epochs on the validation metric (0: never stop early).
    public var patience = 10
    /// Seeds the split, the model initialisation, the batch order and the robustness augmentations.
    public var seed: UInt64 = 0
    /// The model size.
    public var size: MetanetworkKind.Size = .standard
    /// Fraction of the zoo's members used for training.
    public var trainFraction = 0.6
    /// Fraction used for validation (early stopping); the test split gets the rest.
    public var validationFraction = 0.15
    /// The image edit to learn (`inr-editing` only; one of ``ImageEdit``).
    public var edit: String?

    /// A configuration with the documented defaults for everything but the model and the zoo.
    public init(task: ExperimentTask = .generalization, model: String, zoo: String, out: String? = nil) {
        self.task = task; self.model = model; self.zoo = zoo; self.out = out
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, model, zoo, out
        case zooEpoch = "zoo_epoch"
        case zooEpochs = "zoo_epochs"
        case epochs
        case batchSize = "batch_size"
        case optimizer
        case learningRate = "learning_rate"
        case weightDecay = "weight_decay"
        case patience, seed, size
        case trainFraction = "train_fraction"
        case validationFraction = "validation_fraction"
        case edit
    }

    /// Every key a configuration file may contain.
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Decodes a configuration; missing keys take their defaults, unknown keys and unknown
    /// task / optimizer / size names are errors that list the valid ones.
    public init(from decoder: Decoder) throws {
        let any = try decoder.container(keyedBy: AnyKey.self)
        let unknown = any.allKeys.map(\.stringValue).filter { CodingKeys(rawValue: $0) == nil }.sorted()
        if !unknown.isEmpty {
            throw ExperimentError.invalidConfiguration(
                "unknown key\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); valid keys: \(Self.keys.joined(separator: ", "))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `epochs:` with no value is a mistake, not a request for the default.
        for key in CodingKeys.allCases where c.contains(key) {
            if try c.decodeNil(forKey: key) {
                throw ExperimentError.invalidConfiguration("\(key.stringValue): no value given (leave the key out for the default)")
            }
        }
        func named<T: RawRepresentable & CaseIterable>(_ key: CodingKeys, _ what: String, default d: T) throws -> T where T.RawValue == String {
            guard let name = try c.decodeIfPresent(String.self, forKey: key) else { return d }
            guard let v = T(rawValue: name) else {
                throw ExperimentError.invalidConfiguration(
                    "\(key.stringValue): unknown \(what) '\(name)'; valid: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return v
        }
        if let t = try c.decodeIfPresent(String.self, forKey: .task) { task = try ExperimentTask(name: t) }
        guard let model = try c.decodeIfPresent(String.self, forKey: .model) else {
            throw ExperimentError.invalidConfiguration("missing key 'model'")
        }
        guard let zoo = try c.decodeIfPresent(String.self, forKey: .zoo) else {
            throw ExperimentError.invalidConfiguration("missing key 'zoo'")
        }
        self.model = model
        self.zoo = zoo
        out = try c.decodeIfPresent(String.self, forKey: .out)
        zooEpoch = try c.decodeIfPresent(Int.self, forKey: .zooEpoch)
        zooEpochs = try c.decodeIfPresent([Int].self, forKey: .zooEpochs)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        optimizer = try named(.optimizer, "optimizer", default: optimizer)
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? learningRate
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? weightDecay
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? patience
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        if let name = try c.decodeIfPresent(String.self, forKey: .size) {
            guard let v = MetanetworkKind.Size(rawValue: name) else {
                throw ExperimentError.invalidConfiguration("size: unknown size '\(name)'; valid: small, standard")
            }
            size = v
        }
        trainFraction = try c.decodeIfPresent(Double.self, forKey: .trainFraction) ?? trainFraction
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? validationFraction
        edit = try c.decodeIfPresent(String.self, forKey: .edit)
    }

    /// Encodes every key (nil optionals are left out).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(model, forKey: .model)
        try c.encode(zoo, forKey: .zoo)
        try c.encodeIfPresent(out, forKey: .out)
        try c.encodeIfPresent(zooEpoch, forKey: .zooEpoch)
        try c.encodeIfPresent(zooEpochs, forKey: .zooEpochs)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(patience, forKey: .patience)
        try c.encode(seed, forKey: .seed)
        try c.encode(size.rawValue, forKey: .size)
        try c.encode(trainFraction, forKey: .trainFraction)
        try c.encode(validationFraction, forKey: .validationFraction)
        try c.encodeIfPresent(edit, forKey: .edit)
    }

    // MARK: Validation

    /// The model names a task accepts (nil: the task does not restrict them here).
    public static func modelNames(for task: ExperimentTask) -> [String]? {
        switch task {
        case .generalization:
            return MetanetworkKind.allCases.map(\.rawValue) + TransformerMetanetworkKind.allCases.map(\.rawValue)
        case .inrClassification:
            return INRClassificationExperiment.modelNames
        case .inrEditing:
            return INREditingExperiment.modelNames
        }
    }

    /// Checks every value, with a message naming the key and, for names, listing the valid ones.
    ///
    /// - Parameter requireOut: whether `out` must be set (training needs it; evaluation does not).
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)``.
    public func validate(requireOut: Bool = false) throws {
        func bad(_ m: String) -> ExperimentError { .invalidConfiguration(m) }
        if let names = Self.modelNames(for: task), !names.contains(model) {
            throw bad("model: unknown model '\(model)' for task \(task.rawValue); valid models: \(names.joined(separator: ", "))")
        }
        guard !zoo.isEmpty else { throw bad("zoo: the zoo folder must not be empty") }
        if requireOut, (out ?? "").isEmpty { throw bad("out: an output folder is required (--out or 'out:' in the config file)") }
        if let e = zooEpoch, e < 0 { throw bad("zoo_epoch must be ≥ 0, got \(e)") }
        if let es = zooEpochs {
            guard zooEpoch == nil else { throw bad("zoo_epoch and zoo_epochs exclude each other; give one") }
            guard task == .generalization else { throw bad("zoo_epochs: only task generalization uses several epochs; use zoo_epoch") }
            guard !es.isEmpty, es.allSatisfy({ $0 >= 0 }), Set(es).count == es.count else {
                throw bad("zoo_epochs must be a non-empty list of distinct epochs ≥ 0, got \(es)")
            }
        }
        guard epochs >= 1 else { throw bad("epochs must be ≥ 1, got \(epochs)") }
        guard batchSize >= 1 else { throw bad("batch_size must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learning_rate must be a finite number > 0, got \(learningRate)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw bad("weight_decay must be ≥ 0, got \(weightDecay)") }
        guard patience >= 0 else { throw bad("patience must be ≥ 0, got \(patience)") }
        guard trainFraction > 0, trainFraction < 1 else { throw bad("train_fraction must be in (0, 1), got \(trainFraction)") }
        guard validationFraction > 0, validationFraction < 1 else {
            throw bad("validation_fraction must be in (0, 1), got \(validationFraction)")
        }
        guard trainFraction + validationFraction < 1 else {
            throw bad("train_fraction + validation_fraction must be < 1 (the test split gets the rest), got \(trainFraction + validationFraction)")
        }
        if task == .inrEditing {
            _ = try imageEdit()
        } else if let e = edit {
            throw bad("edit: '\(e)' is only used by task inr-editing, not \(task.rawValue)")
        }
    }

    /// The training recipe part of the configuration.
    public var training: MetanetworkTrainingConfiguration {
        MetanetworkTrainingConfiguration(epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: learningRate,
                                         weightDecay: weightDecay, patience: patience, seed: seed)
    }

    /// The seeded train / validation / test split of `count` zoo members.
    public func split(count: Int) throws -> DataSplit {
        try DataSplit(count: count, trainFraction: trainFraction, validationFraction: validationFraction, seed: seed)
    }

    /// The seeded split of checkpoints that belong to zoo members `groups` (one entry per
    /// checkpoint), keeping each member's checkpoints in one part.
    public func split(groups: [Int]) throws -> DataSplit {
        try DataSplit(groups: groups, trainFraction: trainFraction, validationFraction: validationFraction, seed: seed)
    }

    /// The configured image edit (inr-editing).
    ///
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` when `edit` is missing or unknown.
    public func imageEdit() throws -> ImageEdit {
        let edits = ImageEdit.allCases.map(\.rawValue).joined(separator: ", ")
        guard let e = edit else { throw ExperimentError.invalidConfiguration("edit: inr-editing needs an edit; valid edits: \(edits)") }
        guard let edit = ImageEdit(rawValue: e) else {
            throw ExperimentError.invalidConfiguration("edit: unknown edit '\(e)'; valid edits: \(edits)")
        }
        return edit
    }

    /// Every value as text, by key, for ``ModelResult/configuration`` (so each reported number
    /// carries the configuration that made it).
    public var reportEntries: [String: String] {
        var d: [String: String] = [
            "task": task.rawValue, "model": model, "zoo": zoo, "epochs": "\(epochs)", "batch_size": "\(batchSize)",
            "optimizer": optimizer.rawValue, "learning_rate": "\(learningRate)", "weight_decay": "\(weightDecay)",
            "patience": "\(patience)", "seed": "\(seed)", "size": size.rawValue,
            "train_fraction": "\(trainFraction)", "validation_fraction": "\(validationFraction)",
        ]
        if let zooEpoch { d["zoo_epoch"] = "\(zooEpoch)" }
        if let zooEpochs { d["zoo_epochs"] = zooEpochs.map(String.init).joined(separator: ",") }
        if let edit { d["edit"] = edit }
        if let out { d["out"] = out }
        return d
    }

    // MARK: YAML

    /// Parses a YAML (or JSON, a subset of YAML) configuration.
    ///
    /// - Parameter source: names the text in error messages (usually the file path).
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` naming `source` and the problem
    ///   (malformed YAML with its line, a wrong type with its key, an unknown key or name).
    public init(yaml text: String, source: String = "configuration") throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ExperimentError.invalidConfiguration("\(source): the file is empty")
        }
        do {
            self = try YAMLDecoder().decode(ExperimentConfiguration.self, from: text)
        } catch {
            throw ExperimentError.invalidConfiguration("\(source): \(Self.describe(error))")
        }
    }

    /// Reads a configuration file (YAML or JSON).
    ///
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` naming the file when it cannot be read
    ///   or parsed.
    public static func load(from url: URL) throws -> ExperimentConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ExperimentError.invalidConfiguration("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError.invalidConfiguration("\(url.path): the file is not UTF-8 text")
        }
        return try ExperimentConfiguration(yaml: text, source: url.path)
    }

    /// The configuration as YAML, one `key: value` line per set key, in a fixed order; numbers use
    /// the shortest text that reads back to the same value, so ``init(yaml:source:)`` restores it
    /// exactly.
    public var yaml: String {
        func q(_ s: String) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            let data = (try? encoder.encode(s)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        }
        var lines = ["# SwiftNFN run configuration (nfn train --config FILE)",
                     "task: \(task.rawValue)", "model: \(q(model))", "zoo: \(q(zoo))"]
        if let out { lines.append("out: \(q(out))") }
        if let zooEpoch { lines.append("zoo_epoch: \(zooEpoch)") }
        if let zooEpochs { lines.append("zoo_epochs: [\(zooEpochs.map(String.init).joined(separator: ", "))]") }
        lines += ["epochs: \(epochs)", "batch_size: \(batchSize)", "optimizer: \(optimizer.rawValue)",
                  "learning_rate: \(learningRate)", "weight_decay: \(weightDecay)", "patience: \(patience)",
                  "seed: \(seed)", "size: \(size.rawValue)", "train_fraction: \(trainFraction)",
                  "validation_fraction: \(validationFraction)"]
        if let edit { lines.append("edit: \(q(edit))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``yaml`` to `url` atomically (a temporary file in the same folder, then a rename), so
    /// an interrupted write never leaves a half-written configuration.
    public func write(to url: URL) throws {
        do {
            try Data(yaml.utf8).write(to: url, options: .atomic)
        } catch {
            throw ExperimentError.invalidArgument("could not write \(url.path): \(error.localizedDescription)")
        }
    }

    /// A one-line (YAML errors: with the offending line) account of a decoding failure.
    static func describe(_ error: Error) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map(\.stringValue).joined(separator: ".")
            return p.isEmpty ? "top level" : p
        }
        switch error {
        case ExperimentError.invalidConfiguration(let m):
            return m
        case let e as YamlError:
            return "malformed YAML: " + "\(e)".trimmingCharacters(in: .whitespacesAndNewlines)
        case DecodingError.typeMismatch(let type, let c):
            if c.codingPath.isEmpty { return "expected a mapping of keys to values at the top level" }
            return "\(path(c)): expected \(typeName(type))"
        case DecodingError.valueNotFound(let type, let c):
            return "\(path(c)): expected \(typeName(type)), found no value"
        case DecodingError.keyNotFound(let key, _):
            return "missing key '\(key.stringValue)'"
        case DecodingError.dataCorrupted(let c):
            if let underlying = c.underlyingError { return describe(underlying) }
            return "\(path(c)): \(c.debugDescription)"
        default:
            return "\(error)"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is Int.Type, is UInt64.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        default: return "\(t)"
        }
    }

}
