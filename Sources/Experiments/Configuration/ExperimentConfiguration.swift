import Foundation
import TensorIO
import Training
import Metanetworks
import Yams

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
/// reconstruction_epochs: 20   # inr2array models only: autoencoder epochs before the `epochs` of classification
/// seed: 0                     # seeds the split, the initialisation and the batch order
/// size: standard              # small | standard
/// train_fraction: 0.6
/// validation_fraction: 0.15   # the test split gets the rest
/// edit: dilate                # inr-editing only
/// max_parameters: 50000000    # refuse a larger model unless forced (nfn train --force)
/// tree_rounds: 50             # xgboost / random-forest only (tree_max_depth … tree_threads too);
///                             # unset keys take the model's defaults (TreeEnsembleHyperparameters)
/// ```
///
/// Only `model` and `zoo` are required (`out` too, for training); every other key has the default
/// shown. Unknown keys are an error, so that a typo is never silently ignored.
///
/// Every key is declared once, in ``keys``; decoding, encoding, the saved YAML, the report entries
/// and `nfn train`'s option overrides all walk that table. The training recipe's keys (`epochs`
/// … `seed`) live in the embedded ``training`` configuration, which the trainer uses as is.
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
    /// The training recipe: epochs, batch size, optimizer, learning rate, weight decay, patience, seed.
    public var training = MetanetworkTrainingConfiguration()
    /// The model size.
    public var size: MetanetworkKind.Size = .standard
    /// Fraction of the zoo's members used for training.
    public var trainFraction = 0.6
    /// Fraction used for validation (early stopping); the test split gets the rest.
    public var validationFraction = 0.15
    /// The image edit to learn (`inr-editing` only; one of ``ImageEdit``).
    public var edit: String?
    /// The largest model ``ExperimentRunner/train(_:force:progress:log:)`` builds without being
    /// forced: some models grow quadratically with the zoo's input width (Monomial-NFN on a
    /// 784-input MLP zoo has ≈ 218M parameters and writes a 3.5 GB checkpoint per epoch).
    public var maxParameters = 50_000_000
    /// The tree-ensemble hyper-parameters set for `xgboost` / `random-forest` (unset: the model's defaults).
    public var trees = TreeEnsembleSettings()

    /// A configuration with the documented defaults for everything but the model and the zoo.
    public init(task: ExperimentTask = .generalization, model: String, zoo: String, out: String? = nil) {
        self.task = task; self.model = model; self.zoo = zoo; self.out = out
    }

    /// Every key, in the order files and reports list them.
    public static let keys: [ConfigurationKey] = [
        ConfigurationKey("task", \.task, help: "generalization | inr-classification | inr-editing"),
        ConfigurationKey("model", \.model, required: true, help: "the metanetwork name"),
        ConfigurationKey("zoo", \.zoo, required: true, help: "the zoo folder"),
        ConfigurationKey("out", \.out, help: "the run folder (checkpoint, config.yaml, report)"),
        ConfigurationKey("zoo_epoch", \.zooEpoch, help: "the zoo checkpoint epoch (default: the last)"),
        ConfigurationKey("zoo_epochs", \.zooEpochs, help: "several zoo checkpoint epochs (generalization), split by member"),
        ConfigurationKey("epochs", \.training.epochs, recipe: true, help: "maximum training epochs"),
        ConfigurationKey("batch_size", \.training.batchSize, recipe: true, help: "zoo members per optimizer step"),
        ConfigurationKey("optimizer", \.training.optimizer, recipe: true, help: "sgd | momentum | adam | adamw | rmsprop"),
        ConfigurationKey("learning_rate", \.training.learningRate, recipe: true, help: "the step size"),
        ConfigurationKey("weight_decay", \.training.weightDecay, recipe: true, help: "L2 strength (decoupled for AdamW)"),
        ConfigurationKey("patience", \.training.patience, recipe: true, help: "early-stopping patience in epochs (0: none)"),
        ConfigurationKey("seed", \.training.seed, recipe: true, help: "seeds the split, the initialisation, the batch order and the augmentations"),
        ConfigurationKey("reconstruction_epochs", \.training.reconstructionEpochs,
                         help: "inr2array models: autoencoder (reconstruction) epochs before the classification epochs"),
        ConfigurationKey("size", \.size, recipe: true, help: "small | standard"),
        ConfigurationKey("train_fraction", \.trainFraction, help: "fraction of members for training"),
        ConfigurationKey("validation_fraction", \.validationFraction, help: "fraction for validation; the test split gets the rest"),
        ConfigurationKey("edit", \.edit, help: "the image edit (inr-editing): dilate | erode | gradient | contrast"),
        ConfigurationKey("max_parameters", \.maxParameters, help: "refuse a larger model unless forced"),
        ConfigurationKey("tree_rounds", \.trees.rounds, help: "boosting rounds (xgboost 50, random-forest 1)"),
        ConfigurationKey("tree_max_depth", \.trees.maxDepth, help: "maximum tree depth (10)"),
        ConfigurationKey("tree_max_leaves", \.trees.maxLeaves, help: "maximum leaves per tree, 0 for no limit (256)"),
        ConfigurationKey("tree_learning_rate", \.trees.learningRate, help: "XGBoost's eta (xgboost 0.1, random-forest 1)"),
        ConfigurationKey("tree_subsample", \.trees.subsample, help: "fraction of rows per tree (0.8)"),
        ConfigurationKey("tree_colsample", \.trees.columnSample, help: "fraction of columns per tree (xgboost) or per split (random-forest) (0.8)"),
        ConfigurationKey("tree_parallel_trees", \.trees.parallelTrees, help: "trees per round: num_parallel_tree (xgboost 1, random-forest 100)"),
        ConfigurationKey("tree_min_child_weight", \.trees.minChildWeight, help: "minimum rows per leaf for squared error (50)"),
        ConfigurationKey("tree_lambda", \.trees.lambda, help: "L2 penalty on leaf values (xgboost 0.01, random-forest 0.2)"),
        ConfigurationKey("tree_alpha", \.trees.alpha, help: "L1 penalty on leaf values (xgboost 0.02, random-forest 0.1)"),
        ConfigurationKey("tree_threads", \.trees.threads, help: "XGBoost threads (1)"),
    ]

    /// Every key name a configuration file may contain.
    public static var keyNames: [String] { keys.map(\.name) }

    /// Decodes a configuration; missing keys take their defaults, unknown keys and unknown
    /// task / optimizer / size names are errors that list the valid ones.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let known = Set(Self.keyNames)
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw ExperimentError.invalidConfiguration(
                "unknown key\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); valid keys: \(Self.keyNames.joined(separator: ", "))")
        }
        for key in Self.keys {
            let codingKey = AnyCodingKey(key.name)
            if !container.contains(codingKey) {
                if key.isRequired { throw ExperimentError.invalidConfiguration("missing key '\(key.name)'") }
            } else if try container.decodeNil(forKey: codingKey) {
                // `epochs:` with no value is a mistake, not a request for the default.
                throw ExperimentError.invalidConfiguration("\(key.name): no value given (leave the key out for the default)")
            }
        }
        self.init(model: "", zoo: "")
        for key in Self.keys { try key.decode(&self, container) }
    }

    /// Encodes every key (nil optionals are left out).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for key in Self.keys { try key.encode(self, &container) }
    }

    /// Sets `key` from command-line text (`nfn train --epochs 30` is `set("epochs", "30")`).
    ///
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` for an unknown key or a value of the
    ///   wrong form (the message says what was expected).
    public mutating func set(_ key: String, _ text: String) throws {
        guard let k = Self.keys.first(where: { $0.name == key }) else {
            throw ExperimentError.invalidConfiguration("unknown key '\(key)'; valid keys: \(Self.keyNames.joined(separator: ", "))")
        }
        try k.parse(&self, text)
    }

    // MARK: Validation

    /// Checks every value, with a message naming the key and, for names, listing the valid ones.
    /// The training recipe's keys are checked by ``MetanetworkTrainingConfiguration/validate()``
    /// (the same check the trainer makes), every other key here.
    ///
    /// - Parameter requireOut: whether `out` must be set (training needs it; evaluation does not).
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)``.
    public func validate(requireOut: Bool = false) throws {
        func bad(_ m: String) -> ExperimentError { .invalidConfiguration(m) }
        let names = task.modelNames
        guard names.contains(model) else {
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
        do {
            try training.validate()
        } catch TrainingError.invalidConfiguration(let m) {
            throw bad(m)
        }
        guard trainFraction > 0, trainFraction < 1 else { throw bad("train_fraction must be in (0, 1), got \(trainFraction)") }
        guard validationFraction > 0, validationFraction < 1 else {
            throw bad("validation_fraction must be in (0, 1), got \(validationFraction)")
        }
        guard trainFraction + validationFraction < 1 else {
            throw bad("train_fraction + validation_fraction must be < 1 (the test split gets the rest), got \(trainFraction + validationFraction)")
        }
        if let r = training.reconstructionEpochs, INR2ArrayKind(rawValue: model) == nil {
            throw bad("reconstruction_epochs: \(r) is only used by the two-stage models (\(INR2ArrayKind.allCases.map(\.rawValue).joined(separator: ", "))), not \(model)")
        }
        guard maxParameters >= 1 else { throw bad("max_parameters must be ≥ 1, got \(maxParameters)") }
        try validateTreeKeys()
        if task == .inrEditing {
            _ = try imageEdit()
        } else if let e = edit {
            throw bad("edit: '\(e)' is only used by task inr-editing, not \(task.rawValue)")
        }
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

    /// The seeded split of a task's items by member (``MetanetworkTask/members(of:)``).
    public func split(groups: [Int]) throws -> DataSplit {
        try DataSplit(groups: groups, trainFraction: trainFraction, validationFraction: validationFraction, seed: training.seed)
    }

    /// Every set value as text, by key, for ``ModelResult/configuration`` (so each reported number
    /// carries the configuration that made it).
    public var reportEntries: [String: String] {
        var entries: [String: String] = [:]
        for key in Self.keys {
            if let text = key.report(self) { entries[key.name] = text }
        }
        return entries
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
        // Yams parses recursively and overflows the stack on a few thousand nesting levels; a run
        // configuration is a flat mapping, so anything large or deep is refused before parsing.
        guard text.utf8.count <= Self.maximumFileSize else {
            throw ExperimentError.invalidConfiguration("\(source): \(text.utf8.count) bytes, more than the limit of \(Self.maximumFileSize) for a configuration")
        }
        if let problem = StructureScan.yamlProblem(text, maximumDepth: Self.maximumDepth) {
            throw ExperimentError.invalidConfiguration("\(source): \(problem)")
        }
        do {
            self = try YAMLDecoder().decode(ExperimentConfiguration.self, from: text)
        } catch {
            throw ExperimentError.invalidConfiguration("\(source): \(Self.describe(error))")
        }
    }

    /// The largest configuration file read (1 MiB; a real one is a few hundred bytes).
    public static let maximumFileSize = 1 << 20
    /// The deepest nesting accepted (block levels plus flow brackets; a real file has 2).
    public static let maximumDepth = 32

    /// Reads a configuration file (YAML or JSON): a regular file (a FIFO is refused, not waited
    /// on) of at most ``maximumFileSize`` bytes, nested at most ``maximumDepth`` levels.
    ///
    /// - Throws: ``ExperimentError/invalidConfiguration(_:)`` naming the file when it cannot be read
    ///   or parsed.
    public static func load(from url: URL) throws -> ExperimentConfiguration {
        let data: Data
        do { data = try RegularFile.read(url, limit: maximumFileSize) } catch TensorIOError.io(_, let detail) {
            throw ExperimentError.invalidConfiguration("\(url.path): cannot read the file (\(detail))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError.invalidConfiguration("\(url.path): the file is not UTF-8 text")
        }
        return try ExperimentConfiguration(yaml: text, source: url.path)
    }

    /// The configuration as YAML, one `key: value` line per set key, in ``keys`` order; numbers
    /// use the shortest text that reads back to the same value, so ``init(yaml:source:)`` restores
    /// it exactly.
    public var yaml: String {
        let lines = ["# SwiftNFN run configuration (nfn train --config FILE)"]
            + Self.keys.compactMap { key in key.text(self).map { "\(key.name): \($0)" } }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``yaml`` to `url` atomically (a temporary file in the same folder, then a rename), so
    /// an interrupted write never leaves a half-written configuration.
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(Data(yaml.utf8), to: url)
        } catch {
            throw ExperimentError.invalidArgument("could not write \(url.path): \(error)")
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
