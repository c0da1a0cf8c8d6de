import Foundation
import Tensors
import TensorIO
import NeuralNetworks
import Training

/// Where an imported zoo came from: recorded in `zoo.json` as `source` (see ``ZooManifest/source``).
///
/// ```json
/// "source": {"format": "small-cnn-zoo", "path": "/data/small-cnn-zoo/mnist", "rows": 270000,
///            "skipped_non_finite": 1234, "skipped_other": 0}
/// ```
public struct ZooImportSource: Codable, Sendable, Equatable {
    /// The importer: `small-cnn-zoo`, `pytorch`, `safetensors` or `npz`.
    public var format: String
    /// The source folder or file, as given.
    public var path: String
    /// Source checkpoints considered (rows of `weights.npy`, files, rows of a stacked file) after
    /// the epoch filter and up to the member limit: those written plus those skipped.
    public var rows: Int
    /// Checkpoints left out because a weight was NaN or ±∞.
    public var skippedNonFinite: Int
    /// Checkpoints left out for other reasons (see ``ZooImportReport/skipReasons``).
    public var skippedOther: Int

    /// Creates a record.
    public init(format: String, path: String, rows: Int, skippedNonFinite: Int, skippedOther: Int) {
        self.format = format; self.path = path; self.rows = rows
        self.skippedNonFinite = skippedNonFinite; self.skippedOther = skippedOther
    }

    enum CodingKeys: String, CodingKey {
        case format, path, rows
        case skippedNonFinite = "skipped_non_finite"
        case skippedOther = "skipped_other"
    }
}

/// What an import wrote (`nfn zoo import … --json`).
public struct ZooImportReport: Codable, Sendable, Equatable {
    /// The zoo folder written.
    public var out: String
    /// The importer (`small-cnn-zoo`, `pytorch`, `safetensors`, `npz`).
    public var format: String
    /// The family of the zoo.
    public var family: ZooFamily
    /// Members written.
    public var members: Int
    /// Checkpoints written (lines of `members.jsonl`).
    public var checkpoints: Int
    /// The checkpoint epochs present.
    public var epochs: [Int]
    /// Source checkpoints considered after the epoch filter and up to the member limit:
    /// `checkpoints + skippedNonFinite + skippedOther`.
    public var rows: Int
    /// Checkpoints skipped because a weight was NaN or ±∞.
    public var skippedNonFinite: Int
    /// Checkpoints skipped for other reasons.
    public var skippedOther: Int
    /// The other reasons, with their counts (`"duplicate checkpoint"`, `"unknown activation 'elu'"`,
    /// a file's read error, …).
    public var skipReasons: [String: Int]
    /// The data set as recorded in the spec (`idx:/data/mnist`, `external:svhn_cropped`, …).
    public var dataset: String
    /// Whether the data was loaded at import, so that `zoo.json` has its fingerprint.
    public var dataFingerprinted: Bool

    enum CodingKeys: String, CodingKey {
        case out, format, family, members, checkpoints, epochs, rows
        case skippedNonFinite = "skipped_nonfinite"
        case skippedOther = "skipped_other"
        case skipReasons = "skip_reasons"
        case dataset
        case dataFingerprinted = "data_fingerprinted"
    }
}

/// How an importer finds the data set the imported members were trained on.
public struct ZooImportDataOptions: Sendable, Equatable {
    /// An explicit data spec (wins over everything else; it is loaded and fingerprinted).
    public var data: ZooDataSpec?
    /// The folder of the data set the source names (`--dataset-path`); see
    /// ``ZooDataSpec/imported(name:path:)``.
    public var datasetPath: String?
    /// The data set's name when the source does not record one.
    public var datasetName: String?

    /// Creates options (the data set named by the source, looked for in its default place).
    public init(data: ZooDataSpec? = nil, datasetPath: String? = nil, datasetName: String? = nil) {
        self.data = data; self.datasetPath = datasetPath; self.datasetName = datasetName
    }
}

// MARK: - Shared machinery

/// Why one source checkpoint was left out (not an error).
struct ImportSkip: Error {
    var reason: String
}

/// One checkpoint offered by a source, with everything but its weights.
struct ImportEntry {
    /// Where it is in the source (`weights.npy row 12`, `run_75_9812.pt`).
    var origin: String
    /// The member it belongs to (`modeldir`, a run id, a file stem).
    var member: String
    /// The checkpoint epoch.
    var epoch: Int
    /// Its metrics.
    var trainLoss: Float? = nil, trainAccuracy: Float? = nil, testLoss: Float? = nil, testAccuracy: Float? = nil
    var imageIndex: Int? = nil, label: Int? = nil
    var diverged = false
    /// The member's raw hyper-parameters (the first entry of a member decides).
    var config: [String: String]
    /// The weights by our parameter path, canonical layout. Throws ``ImportSkip`` to skip the entry.
    var load: () throws -> [String: Tensor]
}

/// The architecture an import writes, fixed by the first checkpoint it loads.
struct ImportTarget {
    var architecture: ZooArchitecture
    var imageShape: [Int]
    var classes: Int
    var data: ZooDataSpec
    var fingerprint: String
    /// Every parameter path with its shape.
    var shapes: [String: [Int]]
}

/// Counts of what was skipped.
struct ImportTally {
    var rows = 0
    var nonFinite = 0
    var reasons: [String: Int] = [:]
    var other: Int { reasons.values.reduce(0, +) }

    mutating func skip(_ reason: String, count: Int = 1) {
        guard count > 0 else { return }
        // Keep the report readable when every file fails differently.
        let key = reasons[reason] != nil || reasons.count < 50 ? reason : "other problems"
        reasons[key, default: 0] += count
    }
}

enum ZooImportPipeline {
    /// Writes the zoo of `entries` (in source order) into `output`.
    ///
    /// - Parameters:
    ///   - entriesAreIndependentFiles: a load error of one entry is a counted skip (files), not a
    ///     failure of the import (a shared file, such as `weights.npy`).
    ///   - limit: at most this many members (the first ones in source order).
    ///   - target: called once with the first loaded checkpoint and its config, before anything
    ///     is written; it fixes the architecture and resolves the data.
    static func run(format: String, sourcePath: String, family: ZooFamily, entries: [ImportEntry],
                    into output: URL, limit: Int?, entriesAreIndependentFiles: Bool, strict: Bool = false,
                    tally initial: ImportTally = ImportTally(),
                    target makeTarget: ([String: Tensor], [String: String]) throws -> ImportTarget) throws -> ZooImportReport {
        if let n = limit, n < 1 { throw ZooError.invalidSpec("limit must be ≥ 1, got \(n)") }
        var tally = initial
        var order: [String] = []
        var groups: [String: [Int]] = [:]
        for (i, e) in entries.enumerated() {
            if groups[e.member] == nil { order.append(e.member) }
            groups[e.member, default: []].append(i)
        }
        return try ZooImportWriter.write(to: output) { writer in
            var target: ImportTarget?
            var hyperparameters: [MemberHyperparameters] = []
            var epochsSeen = Set<Int>()
            for key in order {
                if let n = limit, hyperparameters.count >= n { break }
                let indices = groups[key]!
                tally.rows += indices.count
                let config = entries[indices[0]].config
                let hp = ImportedHyperparameters.make(from: config)
                if family == .cnn || family == .mlp, hp.activation == nil {
                    let raw = ImportedHyperparameters.value(config, ImportedHyperparameters.activationNames)
                    tally.skip(raw.map { "unknown activation '\($0)'" } ?? "no activation recorded", count: indices.count)
                    continue
                }
                var kept: [(ZooCheckpoint, [String: Tensor])] = []
                var epochs = Set<Int>()
                let id = hyperparameters.count
                for i in indices {
                    let e = entries[i]
                    guard !epochs.contains(e.epoch) else { tally.skip("duplicate checkpoint (same member and epoch)"); continue }
                    guard e.epoch >= 0 else { tally.skip("negative epoch"); continue }
                    let values: [String: Tensor]
                    do {
                        values = try e.load()
                    } catch let s as ImportSkip {
                        if strict { throw ZooError.importFailed(file: e.origin, detail: s.reason) }
                        tally.skip(s.reason)
                        continue
                    } catch {
                        guard entriesAreIndependentFiles, !strict else { throw error }
                        tally.skip("unreadable: \(error)")
                        continue
                    }
                    if values.values.contains(where: \.hasNonFinite) {
                        tally.nonFinite += 1
                        continue
                    }
                    if target == nil { target = try makeTarget(values, config) }
                    let t = target!
                    if let mismatch = shapeMismatch(values, t.shapes) {
                        if strict || !entriesAreIndependentFiles { throw ZooError.importFailed(file: e.origin, detail: mismatch) }
                        tally.skip("architecture differs from the first checkpoint's")
                        continue
                    }
                    epochs.insert(e.epoch)
                    var c = ZooCheckpoint(member: id, epoch: e.epoch, hyperparameters: hp, diverged: e.diverged,
                                          trainLoss: e.trainLoss, trainAccuracy: e.trainAccuracy,
                                          testLoss: e.testLoss, testAccuracy: e.testAccuracy,
                                          imageIndex: e.imageIndex, label: e.label)
                    c.origin = e.origin
                    kept.append((c, values))
                }
                guard !kept.isEmpty else { continue }
                try writer.addMember(id, kept)
                hyperparameters.append(hp)
                epochsSeen.formUnion(epochs)
            }
            guard let t = target, !hyperparameters.isEmpty else {
                let reasons = tally.reasons.sorted { $0.value > $1.value }.prefix(3).map { "\($0.value) × \($0.key)" }
                throw ZooError.importFailed(file: sourcePath, detail: "nothing to import: \(tally.rows) checkpoints, \(tally.nonFinite) with NaN/∞ weights"
                                            + (reasons.isEmpty ? "" : ", " + reasons.joined(separator: ", ")))
            }
            let epochs = epochsSeen.sorted()
            var spec = ZooSpec.defaults(for: family)
            spec.members = hyperparameters.count
            spec.seed = 0
            spec.data = t.data
            spec.architecture = t.architecture
            spec.training.epochs = epochs.last ?? 0
            spec.training.checkpointEpochs = epochs
            spec.space = HyperparameterSpace.observed(hyperparameters, family: family)
            let source = ZooImportSource(format: format, path: sourcePath, rows: tally.rows,
                                         skippedNonFinite: tally.nonFinite, skippedOther: tally.other)
            let manifest = ZooManifest(spec: spec, shard: nil, imageShape: t.imageShape, classes: t.classes,
                                       dataFingerprint: t.fingerprint, complete: true, source: source)
            do { try spec.validate() } catch {
                throw ZooError.importFailed(file: sourcePath, detail: "the imported spec is invalid: \(error)")
            }
            return (manifest, ZooImportReport(
                out: output.path, format: format, family: family, members: hyperparameters.count,
                checkpoints: writer.checkpoints.count, epochs: epochs, rows: tally.rows,
                skippedNonFinite: tally.nonFinite, skippedOther: tally.other, skipReasons: tally.reasons,
                dataset: t.data.displayName, dataFingerprinted: !t.fingerprint.isEmpty))
        }
    }

    /// `nil` when `values` has exactly the paths and shapes of `shapes`, else what differs.
    static func shapeMismatch(_ values: [String: Tensor], _ shapes: [String: [Int]]) -> String? {
        if let missing = shapes.keys.sorted().first(where: { values[$0] == nil }) { return "missing tensor '\(missing)'" }
        if let extra = values.keys.sorted().first(where: { shapes[$0] == nil }) { return "unexpected tensor '\(extra)'" }
        for (path, shape) in shapes.sorted(by: { $0.key < $1.key }) where values[path]!.shape != shape {
            return "tensor '\(path)' has shape \(values[path]!.shape), expected \(shape)"
        }
        return nil
    }

    /// The data spec and, when it can be loaded, its fingerprint, checked against the
    /// architecture's image channels and classes.
    static func resolveData(_ options: ZooImportDataOptions, sourceName: String?, channels: Int, classes: Int?,
                            file: String) throws -> (spec: ZooDataSpec, data: ZooData?) {
        var spec: ZooDataSpec
        let explicit: Bool
        if let d = options.data {
            spec = d
            explicit = true
        } else {
            let name = sourceName ?? options.datasetName ?? "unknown"
            spec = ZooDataSpec.imported(name: name, path: options.datasetPath)
            explicit = options.datasetPath != nil
        }
        guard spec.kind != .external else { return (spec, nil) }
        let data: ZooData
        do {
            data = try spec.load()
        } catch {
            // A data set looked for only in its default place (Debian's Fashion-MNIST) is optional.
            guard explicit else { return (ZooDataSpec(kind: .external, name: spec.name ?? spec.kind.rawValue), nil) }
            throw error
        }
        guard data.imageShape.first == channels else {
            throw ZooError.importFailed(file: file, detail: "the data set \(spec.displayName) has images \(data.imageShape), but the checkpoints take \(channels) channel(s)")
        }
        if let k = classes, data.classCount > k {
            throw ZooError.importFailed(file: file, detail: "the data set \(spec.displayName) has \(data.classCount) classes, but the checkpoints' classifier has \(k) outputs")
        }
        return (spec, data)
    }
}

/// Assembles an imported zoo in a temporary folder next to the output and renames it into place.
final class ZooImportWriter {
    let staging: URL
    private(set) var checkpoints: [ZooCheckpoint] = []

    private init(staging: URL) { self.staging = staging }

    /// Runs `body` with a writer on a fresh staging folder; on success writes `members.jsonl` and
    /// `zoo.json` and renames the folder to `output`, on error removes it.
    ///
    /// - Throws: ``ZooError/outputExists(file:)`` when `output` is a file or a non-empty folder.
    static func write<R>(to output: URL, _ body: (ZooImportWriter) throws -> (ZooManifest, R)) throws -> R {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: output.path, isDirectory: &isDirectory) {
            let names = isDirectory.boolValue ? ((try? fm.contentsOfDirectory(atPath: output.path)) ?? []) : ["file"]
            guard names.isEmpty else { throw ZooError.outputExists(file: output.path) }
        }
        let parent = output.deletingLastPathComponent()
        let staging = parent.appendingPathComponent("\(ZooFileSystem.temporaryPrefix)\(UUID().uuidString)-\(output.lastPathComponent)")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw ZooError.io(file: staging.path, detail: "cannot create the staging folder: \(error.localizedDescription)")
        }
        let writer = ZooImportWriter(staging: staging)
        do {
            let (manifest, result) = try body(writer)
            try ZooFileSystem.atomicWrite(try ZooRecordLog.canonicalData(writer.checkpoints),
                                          to: staging.appendingPathComponent(ZooLayout.records))
            try ZooFileSystem.atomicWrite(try manifest.encoded(), to: staging.appendingPathComponent(ZooLayout.manifest))
            if fm.fileExists(atPath: output.path) { try fm.removeItem(at: output) }
            try ZooFileSystem.rename(staging, to: output)
            return result
        } catch {
            try? fm.removeItem(at: staging)
            if error is ZooError || error is TensorIOError { throw error }
            if let e = error as? CocoaError { throw ZooError.io(file: output.path, detail: e.localizedDescription) }
            throw error
        }
    }

    /// Writes member `id`'s shard (its checkpoints' tensors) and keeps its lines.
    func addMember(_ id: Int, _ kept: [(ZooCheckpoint, [String: Tensor])]) throws {
        var tensors: [String: Tensor] = [:]
        for (c, values) in kept {
            for (path, t) in values { tensors[c.tensorPrefix + path] = t }
        }
        let file = SafetensorsFile(tensors: tensors, metadata: ["format": ZooManifest.formatName, "member": "\(id)"])
        let bytes = try file.serialized()
        try ZooFileSystem.atomicWrite(bytes, to: staging.appendingPathComponent(ZooCheckpoint.shardName(member: id)))
        let crc = ZooChecksum.crc32(of: bytes)
        checkpoints += kept.map { c, _ in
            var line = c
            line.shardCRC32 = crc
            return line
        }
    }
}

// MARK: - Hyper-parameters

/// Maps a source's hyper-parameter names and values to ``MemberHyperparameters``.
///
/// | field | source names (first found wins) | values |
/// | --- | --- | --- |
/// | activation | `activation` | `relu`, `tanh`, `sine`/`sin`, `identity`/`linear` |
/// | optimizer | `optimizer` | `sgd`, `momentum`/`sgd_momentum`/`sgdm`, `adam`, `adamw`, `rmsprop` |
/// | learning_rate | `learning_rate`, `lr` | > 0 |
/// | l2 | `l2`, `l2reg`, `l2_regularize`, `weight_decay` | ≥ 0 |
/// | initializer | `initializer`, `w_init` | `glorot_normal`, `glorot_uniform`, `he_normal`, `he_uniform`, `normal`/`RandomNormal`, `truncated_normal`/`TruncatedNormal` |
/// | init_std | `init_std`, `w_init_std` | ≥ 0 |
/// | bias_initializer | `bias_initializer`, `b_init` | `zeros`, `normal`/`RandomNormal` |
/// | dropout | `dropout` | [0, 1) |
/// | train_fraction | `train_fraction` | (0, 1] |
///
/// Names compare without case; kind values also ignore `_`, `-` and spaces. A value that is
/// missing, unknown or out of range leaves the field `nil`; every value is kept verbatim in
/// ``MemberHyperparameters/sourceConfig``.
enum ImportedHyperparameters {
    static let activationNames = ["activation"]

    static func value(_ config: [String: String], _ names: [String]) -> String? {
        for n in names {
            if let v = config[n] ?? config.first(where: { $0.key.lowercased() == n })?.value {
                let t = v.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty { return t }
            }
        }
        return nil
    }

    static func key(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " } }

    static func number(_ config: [String: String], _ names: [String], _ valid: (Double) -> Bool) -> Double? {
        guard let s = value(config, names), let v = parseNumber(s), v.isFinite, valid(v) else { return nil }
        return v
    }

    static func make(from config: [String: String]) -> MemberHyperparameters {
        let activation: Activation? = value(config, activationNames).flatMap {
            switch key($0) {
            case "relu": return .relu
            case "tanh": return .tanh
            case "sine", "sin": return .sine
            case "identity", "linear", "none": return .identity
            default: return nil
            }
        }
        let optimizer: OptimizerKind? = value(config, ["optimizer"]).flatMap {
            switch key($0) {
            case "sgd": return .sgd
            case "momentum", "sgdmomentum", "sgdm": return .momentum
            case "adam": return .adam
            case "adamw": return .adamw
            case "rmsprop": return .rmsprop
            default: return nil
            }
        }
        let initializer: WeightInitializerKind? = value(config, ["initializer", "w_init"]).flatMap {
            switch key($0) {
            case "glorotnormal", "xaviernormal": return .glorotNormal
            case "glorotuniform", "xavieruniform": return .glorotUniform
            case "henormal", "kaimingnormal": return .heNormal
            case "heuniform", "kaiminguniform": return .heUniform
            case "normal", "randomnormal": return .normal
            case "truncatednormal": return .truncatedNormal
            default: return nil
            }
        }
        let bias: BiasInitializerKind? = value(config, ["bias_initializer", "b_init"]).flatMap {
            switch key($0) {
            case "zeros", "zero": return .zeros
            case "normal", "randomnormal": return .normal
            default: return nil
            }
        }
        return MemberHyperparameters(
            activation: activation, optimizer: optimizer,
            learningRate: number(config, ["learning_rate", "lr"]) { $0 > 0 },
            l2: number(config, ["l2", "l2reg", "l2_regularize", "weight_decay"]) { $0 >= 0 },
            initializer: initializer,
            initStd: number(config, ["init_std", "w_init_std"]) { $0 >= 0 },
            biasInitializer: bias,
            dropout: number(config, ["dropout"]) { $0 >= 0 && $0 < 1 },
            trainFraction: number(config, ["train_fraction"]) { $0 > 0 && $0 <= 1 },
            sourceConfig: config.isEmpty ? nil : config)
    }
}

/// Parses a decimal number the way pandas writes them (`0.5`, `1e-08`, `nan`, `inf`, `-inf`, `86.0`).
func parseNumber(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces)
    guard !t.isEmpty else { return nil }
    switch t.lowercased() {
    case "nan", "+nan", "-nan": return .nan
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "true": return 1
    case "false": return 0
    default: return Double(t)
    }
}

/// An integer that may be written as a float (`86`, `86.0`).
func parseInteger(_ text: String) -> Int? {
    if let i = Int(text.trimmingCharacters(in: .whitespaces)) { return i }
    guard let d = parseNumber(text), d.isFinite, d == d.rounded(), Swift.abs(d) < 1e15 else { return nil }
    return Int(d)
}

extension HyperparameterSpace {
    /// The space an imported zoo records: for each hyper-parameter, the values its members have —
    /// a choice over the distinct values (up to 64 of them; a uniform range over more) — and the
    /// family's default where no member recorded one.
    static func observed(_ members: [MemberHyperparameters], family: ZooFamily) -> HyperparameterSpace {
        let defaults = HyperparameterSpace.defaults(for: family)
        func kinds<T: Hashable>(_ values: [T?], order: [T], fallback: [T]) -> [T] {
            let seen = Set(values.compactMap { $0 })
            let list = order.filter { seen.contains($0) }
            return list.isEmpty ? fallback : list
        }
        func real(_ values: [Double?], fallback: RealDistribution) -> RealDistribution {
            let distinct = Array(Set(values.compactMap { $0 })).sorted()
            guard let lo = distinct.first, let hi = distinct.last else { return fallback }
            return distinct.count <= 64 ? .choice(distinct) : .uniform(low: lo, high: hi)
        }
        let space = HyperparameterSpace(
            activations: kinds(members.map(\.activation), order: Activation.allCases, fallback: defaults.activations),
            optimizers: kinds(members.map(\.optimizer), order: OptimizerKind.allCases, fallback: defaults.optimizers),
            learningRate: real(members.map(\.learningRate), fallback: defaults.learningRate),
            l2: real(members.map(\.l2), fallback: defaults.l2),
            initializers: kinds(members.map(\.initializer), order: WeightInitializerKind.allCases, fallback: defaults.initializers),
            initStd: real(members.map(\.initStd), fallback: defaults.initStd),
            biasInitializers: kinds(members.map(\.biasInitializer), order: BiasInitializerKind.allCases, fallback: defaults.biasInitializers),
            dropout: real(members.map { $0.dropout.flatMap { $0 <= 0.95 ? $0 : nil } }, fallback: defaults.dropout),
            trainFraction: real(members.map(\.trainFraction), fallback: defaults.trainFraction))
        return (try? space.validate(for: family)) != nil ? space : defaults
    }
}
