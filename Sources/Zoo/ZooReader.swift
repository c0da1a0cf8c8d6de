import Foundation
import Tensors
import TensorIO
import NeuralNetworks
import WeightSpace

/// Which checkpoints a feature batch or an export leaves out.
public struct ZooCheckpointFilter: Sendable, Equatable {
    /// Leave out checkpoints of members whose training diverged (default: true — they have no
    /// metrics to learn from).
    public var skipDiverged: Bool
    /// Leave out checkpoints with a NaN or ±∞ weight (default: true; always true for feature
    /// batches, whose consumers cannot use them).
    public var skipNonFinite: Bool

    /// Creates a filter (both kinds skipped by default).
    public init(skipDiverged: Bool = true, skipNonFinite: Bool = true) {
        self.skipDiverged = skipDiverged
        self.skipNonFinite = skipNonFinite
    }
}

/// A batch of feed-forward members' weights with the checkpoints they came from.
public struct ZooFeatureBatch: Sendable {
    /// `[B, 1, …]` weights and biases in the canonical layout, row b = `checkpoints[b]`.
    public var features: WeightSpaceFeatures
    /// The members' weight space as their model declares it (``WeightSpaceConvertible``): widths,
    /// layer kinds with kernel, stride and padding, and the activation of the first checkpoint's
    /// member (zoos that sample the activation per member record it in each checkpoint's
    /// hyper-parameters).
    public var architecture: FeedforwardArchitecture
    /// The checkpoints kept, in batch order.
    public var checkpoints: [ZooCheckpoint]
    /// Requested checkpoints left out because the member diverged.
    public var skippedDiverged: Int
    /// Requested checkpoints left out because a weight was NaN or ±∞.
    public var skippedNonFinite: Int
}

/// A batch of transformer members' weights with the checkpoints they came from.
public struct ZooTransformerFeatureBatch: Sendable {
    /// Row b = `checkpoints[b]`.
    public var features: TransformerWeightSpaceFeatures
    /// The members' transformer configuration (patch size, widths, heads, blocks, classes).
    public var configuration: SmallTransformer.Configuration
    /// The checkpoints kept, in batch order.
    public var checkpoints: [ZooCheckpoint]
    /// Requested checkpoints left out because the member diverged.
    public var skippedDiverged: Int
    /// Requested checkpoints left out because a weight was NaN or ±∞.
    public var skippedNonFinite: Int
}

/// Read access to a zoo folder, for metanetwork training, verification and export.
///
/// Opening reads `zoo.json` and `members.jsonl` (not the weights) and exposes the *complete*
/// members only: a cut-off last line, unfinished members and unreferenced shards (what a killed
/// generation leaves) are ignored and counted; corruption a crash cannot cause throws.
///
/// ```swift
/// let zoo = try ZooReader(directory: URL(fileURLWithPath: "zoos/cnn"))
/// let final = zoo.checkpoints(epoch: zoo.epochs.last!)
/// let batch = try zoo.features(final)               // WeightSpaceFeatures [B, 1, …]
/// let targets = batch.checkpoints.map { $0.testAccuracy! }
/// ```
public struct ZooReader: Sendable {
    /// The zoo folder.
    public let directory: URL
    /// `zoo.json`.
    public let manifest: ZooManifest
    /// Every checkpoint of every complete member, by member then epoch.
    public let checkpoints: [ZooCheckpoint]
    /// Members with some but not all checkpoint lines (left by an interrupted run; ignored).
    public let incompleteMembers: [Int]
    /// Whether `members.jsonl` ends in a cut-off line (ignored).
    public let ignoredPartialLine: Bool

    /// Opens the zoo in `directory`.
    ///
    /// - Throws: ``ZooError/notAZoo(directory:)``, ``ZooError/corruptManifest(file:detail:)``,
    ///   ``ZooError/corruptRecord(file:line:detail:)``, or ``ZooError/missingShard(file:referencedBy:)``
    ///   when a complete member's shard file is gone.
    public init(directory: URL) throws {
        self.directory = directory
        manifest = try ZooManifest.read(from: directory)
        let log = try ZooRecordLog.load(directory: directory, manifest: manifest)
        if let member = log.membersMissingShards.first {
            throw ZooError.missingShard(
                file: directory.appendingPathComponent(ZooCheckpoint.shardName(member: member)).path,
                referencedBy: directory.appendingPathComponent(ZooLayout.records).path)
        }
        try Self.requireCompleteRecords(log, manifest: manifest, directory: directory)
        checkpoints = log.checkpoints
        incompleteMembers = log.incompleteMembers
        ignoredPartialLine = log.hasPartialTail
    }

    /// Throws when `zoo.json` says the zoo is complete but `members.jsonl` is missing, empty,
    /// cut off or lacks a member of the folder's range.
    ///
    /// Why an error here and not an ignored leftover: every writer makes `members.jsonl` whole
    /// (canonical, all members) *before* it marks the manifest complete, so a crash cannot leave
    /// this state; the file was truncated, replaced or edited afterwards, and reading on would
    /// report success on a zoo that lost members.
    static func requireCompleteRecords(_ log: ZooRecordLog, manifest: ZooManifest, directory: URL) throws {
        guard manifest.complete else { return }
        let url = directory.appendingPathComponent(ZooLayout.records)
        let present = log.completeMemberIDs
        let absent = manifest.memberIDs.filter { !present.contains($0) }
        guard absent.isEmpty, !log.hasPartialTail, log.incompleteMembers.isEmpty else {
            let total = manifest.memberIDs.count
            if !FileManager.default.fileExists(atPath: url.path) {
                throw ZooError.io(file: url.path, detail: "no such file, but zoo.json says the zoo is complete with \(total) members")
            }
            let listed = absent.prefix(5).map(String.init).joined(separator: ", ") + (absent.count > 5 ? ", …" : "")
            var detail = "zoo.json says the zoo is complete, but "
            if log.lineCount == 0 && !log.hasPartialTail {
                detail += "the file has no records"
            } else if !absent.isEmpty {
                detail += "\(absent.count) of \(total) members have no complete record (members \(listed))"
            } else {
                detail += "the file ends in a cut-off line"
            }
            throw ZooError.corruptRecord(file: url.path, line: log.lineCount + (log.hasPartialTail ? 1 : 0),
                                         detail: detail + "; it was truncated or edited after the zoo was written")
        }
    }

    /// The spec.
    public var spec: ZooSpec { manifest.spec }
    /// The family.
    public var family: ZooFamily { manifest.spec.family }
    /// Complete members' ids, ascending.
    public var memberIDs: [Int] { Array(Set(checkpoints.map(\.member))).sorted() }
    /// The checkpoint epochs, ascending.
    public var epochs: [Int] { spec.training.sortedCheckpointEpochs }

    /// The checkpoints taken after `epoch`, by member.
    public func checkpoints(epoch: Int) -> [ZooCheckpoint] { checkpoints.filter { $0.epoch == epoch } }

    /// The checkpoints of `member`, by epoch.
    public func checkpoints(member: Int) -> [ZooCheckpoint] { checkpoints.filter { $0.member == member } }

    // MARK: Weights

    /// The shard file of a checkpoint.
    public func shardURL(for checkpoint: ZooCheckpoint) -> URL { directory.appendingPathComponent(checkpoint.shard) }

    /// The parameters of a checkpoint by path (`conv1.weight`, …).
    ///
    /// - Throws: ``ZooError/corruptShard(file:detail:)`` for an unreadable shard,
    ///   ``ZooError/missingTensor(file:tensor:)`` when the shard lacks the checkpoint's tensors.
    public func parameters(of checkpoint: ZooCheckpoint) throws -> [String: Tensor] {
        try parameters(of: [checkpoint])[0]
    }

    /// The parameters of several checkpoints, reading each shard once.
    public func parameters(of checkpoints: [ZooCheckpoint]) throws -> [[String: Tensor]] {
        try parameters(of: checkpoints, shapes: try parameterShapes())
    }

    /// The parameters of several checkpoints, each checked against `expected` (path → shape).
    private func parameters(of checkpoints: [ZooCheckpoint], shapes expected: [String: [Int]]) throws -> [[String: Tensor]] {
        var result = [[String: Tensor]](repeating: [:], count: checkpoints.count)
        let byShard = Dictionary(grouping: checkpoints.indices, by: { checkpoints[$0].shard })
        for shard in byShard.keys.sorted() {
            let url = directory.appendingPathComponent(shard)
            let file: SafetensorsFile
            do {
                file = try SafetensorsFile.read(from: url)
            } catch let error as TensorIOError {
                throw ZooError.corruptShard(file: url.path, detail: "\(error)".replacingOccurrences(of: url.path + ": ", with: ""))
            } catch {
                throw ZooError.corruptShard(file: url.path, detail: "\(error)")
            }
            for index in byShard[shard]! {
                let prefix = checkpoints[index].tensorPrefix
                var values: [String: Tensor] = [:]
                for (path, shape) in expected {
                    guard let t = file[prefix + path], t.shape == shape else {
                        throw ZooError.missingTensor(file: url.path, tensor: prefix + path)
                    }
                    values[path] = t
                }
                result[index] = values
            }
        }
        return result
    }

    /// Parameter paths and shapes of this zoo's architecture.
    public func parameterShapes() throws -> [String: [Int]] {
        Self.shapes(of: try templateModel())
    }

    private static func shapes(of model: Module) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter.value.shape) })
    }

    /// A network of this zoo's architecture (weights arbitrary) for member `hyperparameters`
    /// (activation, dropout), or member 0's when `nil`.
    func templateModel(_ hyperparameters: MemberHyperparameters? = nil) throws -> Module & Layer {
        var rng = SeededGenerator(seed: 0)
        let hp = hyperparameters ?? checkpoints.first?.hyperparameters
            ?? ZooMemberTrainer.hyperparameters(spec: spec, member: 0)
        return try ZooModels.make(spec: spec, hyperparameters: hp, imageShape: manifest.imageShape,
                                  classes: manifest.classes, rng: &rng)
    }

    /// The member network of `checkpoint` with its stored weights, in evaluation mode.
    ///
    /// - Throws: the errors of ``parameters(of:)``; ``ModuleError/nonFinite(path:)`` when a stored
    ///   weight is NaN or ±∞.
    public func model(for checkpoint: ZooCheckpoint) throws -> Module & Layer {
        let model = try templateModel(checkpoint.hyperparameters)
        try model.loadParameterValues(try parameters(of: checkpoint))
        model.eval()
        return model
    }

    // MARK: Metanetwork inputs

    /// Splits `checkpoints` into kept ones (with parameters, checked against `template`'s shapes)
    /// and skip counts.
    private func load(_ checkpoints: [ZooCheckpoint], filter: ZooCheckpointFilter, template: Module)
        throws -> (kept: [(ZooCheckpoint, [String: Tensor])], diverged: Int, nonFinite: Int) {
        var candidates = checkpoints
        var diverged = 0
        if filter.skipDiverged {
            diverged = candidates.filter(\.diverged).count
            candidates.removeAll(where: \.diverged)
        }
        let values = try parameters(of: candidates, shapes: Self.shapes(of: template))
        var kept: [(ZooCheckpoint, [String: Tensor])] = []
        var nonFinite = 0
        for (c, v) in zip(candidates, values) {
            if filter.skipNonFinite, v.values.contains(where: \.hasNonFinite) {
                nonFinite += 1
                continue
            }
            kept.append((c, v))
        }
        return (kept, diverged, nonFinite)
    }

    /// The weights of feed-forward members (cnn, mlp, siren) as one batch of
    /// ``WeightSpaceFeatures`` with one channel, with their ``FeedforwardArchitecture``; NaN/∞
    /// checkpoints are always left out (counted).
    ///
    /// One template network of the zoo's architecture is built per call; its
    /// ``WeightSpaceConvertible`` conformance names the (weight, bias) parameters of every layer
    /// and the architecture, so nothing is inferred from tensor shapes.
    ///
    /// - Throws: ``ZooError/invalidSpec(_:)`` for a transformer zoo (use
    ///   ``transformerFeatures(_:filter:)``) or when every checkpoint was left out; the errors of
    ///   ``parameters(of:)``.
    public func features(_ checkpoints: [ZooCheckpoint], filter: ZooCheckpointFilter = ZooCheckpointFilter()) throws -> ZooFeatureBatch {
        guard family != .transformer else {
            throw ZooError.invalidSpec("a transformer zoo's weights are TransformerWeightSpaceFeatures: use transformerFeatures")
        }
        guard let template = try templateModel(checkpoints.first?.hyperparameters) as? WeightSpaceConvertible else {
            throw ZooError.invalidSpec("the \(family.rawValue) model has no feed-forward weight space")
        }
        let (kept, diverged, nonFinite) = try loadFinite(checkpoints, filter: filter, template: template)
        let paths = Dictionary(uniqueKeysWithValues: template.namedParameters().map { (ObjectIdentifier($0.parameter), $0.path) })
        var layout: [(weight: String, bias: String)] = []
        for (weight, bias) in template.weightSpaceParameters {
            guard let w = paths[ObjectIdentifier(weight)], let b = paths[ObjectIdentifier(bias)] else {
                throw ZooError.invalidSpec("the \(family.rawValue) model lists a weight-space parameter it does not own")
            }
            layout.append((w, b))
        }
        // Every kept checkpoint holds every path (checked against the template's shapes on load).
        func stack(_ path: String) -> Tensor {
            Tensor.concatenate(kept.compactMap { $0.1[path]?.expandingShape(at: 0).expandingShape(at: 0) }, alongAxis: 0)
        }
        let features = try WeightSpaceFeatures(weights: layout.map { stack($0.weight) }, biases: layout.map { stack($0.bias) })
        return ZooFeatureBatch(features: features, architecture: template.weightSpaceArchitecture,
                               checkpoints: kept.map(\.0), skippedDiverged: diverged, skippedNonFinite: nonFinite)
    }

    /// ``load(_:filter:template:)`` with NaN/∞ checkpoints always left out, refusing an empty result.
    private func loadFinite(_ checkpoints: [ZooCheckpoint], filter: ZooCheckpointFilter, template: Module)
        throws -> (kept: [(ZooCheckpoint, [String: Tensor])], diverged: Int, nonFinite: Int) {
        var f = filter
        f.skipNonFinite = true
        let loaded = try load(checkpoints, filter: f, template: template)
        guard !loaded.kept.isEmpty else {
            throw ZooError.invalidSpec("no checkpoint left to batch (\(loaded.diverged) diverged, \(loaded.nonFinite) non-finite)")
        }
        return loaded
    }

    /// Feed-forward features of the checkpoints at `indices` into ``checkpoints``.
    public func features(indices: [Int], filter: ZooCheckpointFilter = ZooCheckpointFilter()) throws -> ZooFeatureBatch {
        try features(try select(indices), filter: filter)
    }

    /// The weights of transformer members as one ``TransformerWeightSpaceFeatures`` batch, with
    /// their configuration; NaN/∞ checkpoints are always left out (counted). One template
    /// transformer is built per call and each member's weights are read through it.
    public func transformerFeatures(_ checkpoints: [ZooCheckpoint],
                                    filter: ZooCheckpointFilter = ZooCheckpointFilter()) throws -> ZooTransformerFeatureBatch {
        guard family == .transformer else {
            throw ZooError.invalidSpec("a \(family.rawValue) zoo's weights are WeightSpaceFeatures: use features")
        }
        guard let template = try templateModel(checkpoints.first?.hyperparameters) as? SmallTransformer else {
            throw ZooError.invalidSpec("the transformer zoo did not build a SmallTransformer")
        }
        let (kept, diverged, nonFinite) = try loadFinite(checkpoints, filter: filter, template: template)
        var parts: [TransformerWeightSpaceFeatures] = []
        for (_, values) in kept {
            try template.loadParameterValues(values)
            parts.append(TransformerWeightSpaceFeatures(model: template))
        }
        return ZooTransformerFeatureBatch(features: try TransformerWeightSpaceFeatures.batched(parts),
                                          configuration: template.configuration,
                                          checkpoints: kept.map(\.0), skippedDiverged: diverged, skippedNonFinite: nonFinite)
    }

    /// Transformer features of the checkpoints at `indices` into ``checkpoints``.
    public func transformerFeatures(indices: [Int], filter: ZooCheckpointFilter = ZooCheckpointFilter()) throws -> ZooTransformerFeatureBatch {
        try transformerFeatures(try select(indices), filter: filter)
    }

    private func select(_ indices: [Int]) throws -> [ZooCheckpoint] {
        try indices.map { i in
            guard i >= 0, i < checkpoints.count else {
                throw ZooError.invalidSpec("checkpoint index \(i) is outside 0..<\(checkpoints.count)")
            }
            return checkpoints[i]
        }
    }

    // MARK: Export

    /// What an export wrote.
    public struct ExportReport: Codable, Sendable {
        /// Rows written (checkpoints exported).
        public var rows: Int
        /// Checkpoints left out because the member diverged.
        public var skippedDiverged: Int
        /// Checkpoints left out because a weight was NaN or ±∞.
        public var skippedNonFinite: Int
        /// The safetensors file written.
        public var safetensors: String
        /// The CSV file written.
        public var csv: String

        enum CodingKeys: String, CodingKey {
            case rows
            case skippedDiverged = "skipped_diverged"
            case skippedNonFinite = "skipped_non_finite"
            case safetensors, csv
        }
    }

    /// Writes the selected checkpoints as one safetensors file plus a CSV of their metadata.
    ///
    /// The safetensors file holds one tensor per parameter path, stacked over rows:
    /// `conv1.weight` is `[rows, 16, 1, 3, 3]`, and row r is CSV row r (column `row`). The CSV
    /// (header line, comma-separated, RFC 4180 quoting, empty cells for missing values) has the
    /// columns `row, member, epoch, diverged, train_loss, train_accuracy, test_loss, test_accuracy,
    /// image_index, label`, then every hyper-parameter name of ``MemberHyperparameters/names``
    /// that some row sets. It reads with `pandas.read_csv`; the tensors with
    /// `safetensors.numpy.load_file`.
    ///
    /// Both files are written to temporary names and renamed into place only when both are
    /// complete; on error neither exists.
    ///
    /// Missing output folders are created. Nothing is written inside the zoo folder, the two
    /// outputs must be different files, and an existing file is replaced only with `overwrite`.
    ///
    /// - Parameters:
    ///   - epoch: export only this checkpoint epoch (`nil`: all).
    ///   - overwrite: replace existing output files (`nfn zoo export --force`).
    /// - Throws: ``ZooError/io(file:detail:)`` for an output inside the zoo, two outputs naming one
    ///   file, or an existing output without `overwrite`; ``ZooError/invalidSpec(_:)`` for an epoch
    ///   the zoo did not checkpoint.
    public func export(safetensors: URL, csv: URL, epoch: Int? = nil,
                       filter: ZooCheckpointFilter = ZooCheckpointFilter(), overwrite: Bool = false) throws -> ExportReport {
        if let e = epoch, !epochs.contains(e) {
            throw ZooError.invalidSpec("epoch \(e) is not a checkpoint epoch of this zoo \(epochs)")
        }
        try checkExportDestinations([safetensors, csv], overwrite: overwrite)
        let selected = epoch.map { checkpoints(epoch: $0) } ?? checkpoints
        let (kept, diverged, nonFinite) = try load(selected, filter: filter, template: try templateModel())
        guard let first = kept.first else {
            throw ZooError.invalidSpec("no checkpoint left to export (\(diverged) diverged, \(nonFinite) non-finite)")
        }
        var tensors: [String: Tensor] = [:]
        for path in first.1.keys {
            tensors[path] = Tensor.stack(kept.map { $0.1[path]! }, alongAxis: 0)
        }
        let metadata = ["format": ZooManifest.formatName + "-export", "family": family.rawValue,
                        "rows": "\(kept.count)", "data": spec.data.displayName]
        let table = ZooCSV.table(kept.map(\.0))
        let fm = FileManager.default
        let tmpTensors = safetensors.deletingLastPathComponent()
            .appendingPathComponent("\(ZooFileSystem.temporaryPrefix)\(UUID().uuidString)-\(safetensors.lastPathComponent)")
        do {
            try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: tmpTensors)
            try ZooFileSystem.atomicWrite(Data(table.utf8), to: csv)
        } catch {
            try? fm.removeItem(at: tmpTensors)
            throw error
        }
        do {
            try ZooFileSystem.rename(tmpTensors, to: safetensors)
        } catch {
            try? fm.removeItem(at: tmpTensors)
            try? fm.removeItem(at: csv)
            throw error
        }
        return ExportReport(rows: kept.count, skippedDiverged: diverged, skippedNonFinite: nonFinite,
                            safetensors: safetensors.path, csv: csv.path)
    }
}

extension ZooReader {
    /// Refuses export destinations inside this zoo, repeated or (without `overwrite`) existing,
    /// and creates their missing folders.
    func checkExportDestinations(_ urls: [URL], overwrite: Bool) throws {
        let zoo = directory.standardizedFileURL.resolvingSymlinksInPath().path
        var seen: Set<String> = []
        for url in urls {
            let folder = url.deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath().path
            let path = folder + "/" + url.lastPathComponent
            if folder == zoo || folder.hasPrefix(zoo + "/") {
                throw ZooError.io(file: url.path, detail: "is inside the zoo folder \(directory.path) being exported; write elsewhere")
            }
            guard seen.insert(path).inserted else {
                throw ZooError.io(file: url.path, detail: "is given as both the safetensors and the CSV output")
            }
            if FileManager.default.fileExists(atPath: path), !overwrite {
                throw ZooError.io(file: url.path, detail: "already exists; pass --force (overwrite: true) to replace it")
            }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw ZooError.io(file: url.path, detail: "cannot create its folder: \(error.localizedDescription)")
            }
        }
    }
}

/// CSV rendering of checkpoint records.
enum ZooCSV {
    static func escape(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func table(_ rows: [ZooCheckpoint]) -> String {
        let hpNames = MemberHyperparameters.names.filter { name in rows.contains { $0.hyperparameters.values[name] != nil } }
        let header = ["row", "member", "epoch", "diverged", "train_loss", "train_accuracy", "test_loss",
                      "test_accuracy", "image_index", "label"] + hpNames
        var out = header.joined(separator: ",") + "\n"
        func f(_ v: Float?) -> String { v.map { "\($0)" } ?? "" }
        for (r, c) in rows.enumerated() {
            let values = c.hyperparameters.values
            var cells = ["\(r)", "\(c.member)", "\(c.epoch)", c.diverged ? "true" : "false", f(c.trainLoss),
                         f(c.trainAccuracy), f(c.testLoss), f(c.testAccuracy),
                         c.imageIndex.map { "\($0)" } ?? "", c.label.map { "\($0)" } ?? ""]
            cells += hpNames.map { values[$0].map { "\($0)" } ?? "" }
            out += cells.map(escape).joined(separator: ",") + "\n"
        }
        return out
    }
}
