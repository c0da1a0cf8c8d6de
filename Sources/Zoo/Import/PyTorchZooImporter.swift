import Foundation
import Tensors
import TensorIO
import NeuralNetworks

/// Imports a folder of PyTorch `state_dict` checkpoints (`.pt`/`.pth`, one per checkpoint) of the
/// Small Transformer Zoo's vision transformer as an on-disk SwiftNFN zoo of family
/// ``ZooFamily/transformer``.
///
/// Each file is read by ``PyTorchCheckpoint`` (no Python, nothing executed; a pickled class outside
/// the allow-list is an error) and mapped by ``SmallTransformerStateDict`` with
/// ``Options/names``. The first checkpoint read fixes the architecture; every later one must
/// match it.
///
/// **Members and epochs.** The zoo's file names `<run>_<epoch>_<acc>.pt` (acc = ⌊test accuracy ·
/// 10⁴⌋) give the member (`run`), the epoch and the test accuracy; `<run>_best1_<acc>.pt` files
/// (no epoch) are skipped and counted. A metrics file (``Options/metrics``) overrides them per
/// file: rows are matched by the last path component of a `file`/`ckpt_file`/`filename`/`path`
/// column; `member`/`run_id`/`run` give the member, `epoch`/`ckpt_epoch` the epoch,
/// `test_accuracy`/`test_top1_accuracy` (and `test_loss`, `train_accuracy`, `train_loss`) the
/// metrics, and every other column is a hyper-parameter (the zoo's wandb config: `optimizer`,
/// `lr`, `w_init_std`, `l2_regularize`, `dropout`, `train_fraction`, `n_attention_heads`,
/// `dataset`, …; mapped as in Docs/Zoos.md, "Importing"). Other names make each file its own
/// member at epoch ``Options/defaultEpoch``.
///
/// **Skips.** A file that cannot be read or mapped (damaged archive, disallowed pickle global,
/// unexpected tensor, other architecture) is skipped and counted with its reason — or, with
/// ``Options/strict``, fails the import. NaN/∞ weights are skipped and counted.
///
/// Nothing is written unless the import succeeds (temporary folder, renamed at the end).
public enum PyTorchZooImporter {
    /// How to import.
    public struct Options: Sendable {
        /// A metrics file (CSV, optionally gzipped, or JSON; see ``PyTorchZooImporter``).
        public var metrics: URL?
        /// The state_dict names.
        public var names: SmallTransformerStateDictNames
        /// Attention heads h (default: the metrics' `n_attention_heads`, else 2).
        public var heads: Int?
        /// Import only this epoch (`nil`: all).
        public var epoch: Int?
        /// The epoch of files whose name and metrics give none.
        public var defaultEpoch: Int
        /// Import at most this many members.
        public var limit: Int?
        /// Fail on the first unreadable or unmappable file instead of skipping it.
        public var strict: Bool
        /// Where the data is (the metrics' `dataset` column names it).
        public var data: ZooImportDataOptions

        /// Creates options.
        public init(metrics: URL? = nil, names: SmallTransformerStateDictNames = .smallTransformerZoo, heads: Int? = nil,
                    epoch: Int? = nil, defaultEpoch: Int = 0, limit: Int? = nil, strict: Bool = false,
                    data: ZooImportDataOptions = ZooImportDataOptions()) {
            self.metrics = metrics; self.names = names; self.heads = heads; self.epoch = epoch
            self.defaultEpoch = defaultEpoch; self.limit = limit; self.strict = strict; self.data = data
        }
    }

    /// The parts of a released checkpoint name `<run>_<epoch>_<acc>` (without extension): the run,
    /// the epoch (`nil` for `best…`), whether it is a `best` checkpoint, and acc / 10⁴; `nil` for
    /// other names.
    public static func parseZooFileName(_ stem: String) -> (run: String, epoch: Int?, isBest: Bool, accuracy: Float)? {
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 3, let acc = Int(parts[parts.count - 1]), acc >= 0 else { return nil }
        let e = parts[parts.count - 2]
        let run = parts.dropLast(2).joined(separator: "_")
        guard !run.isEmpty else { return nil }
        if e.hasPrefix("best") { return (run, nil, true, Float(acc) / 10_000) }
        guard let epoch = Int(e), epoch >= 0 else { return nil }
        return (run, epoch, false, Float(acc) / 10_000)
    }

    /// Imports the checkpoints in `directory` into the new zoo folder `output`.
    ///
    /// - Throws: ``ZooError/importFailed(file:detail:)`` for a folder without checkpoints, an
    ///   unreadable metrics file, nothing left to import, or (``Options/strict``) the first bad
    ///   file; ``ZooError/outputExists(file:)``; data loading errors when the data was given.
    public static func importZoo(from directory: URL, to output: URL, options: Options = Options()) throws -> ZooImportReport {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ZooError.importFailed(file: directory.path, detail: "not a folder")
        }
        let files = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { let e = ($0 as NSString).pathExtension.lowercased(); return e == "pt" || e == "pth" }
            .sorted()
        guard !files.isEmpty else { throw ZooError.importFailed(file: directory.path, detail: "no .pt or .pth files") }
        let metrics = try options.metrics.map { url in try ImportMetricsTable.read(url).byFileName(source: url.path) } ?? [:]

        var entries: [ImportEntry] = []
        var tally = ImportTally()
        var datasetName: String?
        var memberConfigs: [String: [String: String]] = [:]
        final class Box: @unchecked Sendable {
            var configuration: SmallTransformer.Configuration?
            /// Whether the image side came from a positional encoding (else it is a default).
            var imageSizeKnown = false
        }
        let fixed = Box()
        for file in files {
            let stem = (file as NSString).deletingPathExtension
            let row = metrics[file] ?? metrics[stem]
            let parsed = parseZooFileName(stem)
            var epoch: Int?
            if let r = row, let text = ImportedHyperparameters.value(r, ImportMetricColumns.epoch) {
                if text.lowercased().hasPrefix("best") { tally.rows += 1; tally.skip("best checkpoint (no epoch)"); continue }
                guard let e = parseInteger(text) else { tally.rows += 1; tally.skip("unparsable epoch '\(text)'"); continue }
                epoch = e
            } else if let p = parsed {
                if p.isBest { tally.rows += 1; tally.skip("best checkpoint (no epoch)"); continue }
                epoch = p.epoch
            }
            let e = epoch ?? options.defaultEpoch
            if let wanted = options.epoch, wanted != e { continue }
            let member = row.flatMap { ImportedHyperparameters.value($0, ["member", "run_id", "run"]) } ?? parsed?.run ?? stem
            if memberConfigs[member] == nil {
                memberConfigs[member] = row.map(ImportMetricColumns.config) ?? [:]
                if datasetName == nil { datasetName = row?["dataset"] }
            }
            let config = memberConfigs[member]!
            let heads = options.heads ?? ImportedHyperparameters.value(config, ["n_attention_heads", "heads"]).flatMap(parseInteger) ?? 2
            let url = directory.appendingPathComponent(file)
            var entry = ImportEntry(origin: file, member: member, epoch: e, config: config) {
                let checkpoint: PyTorchCheckpoint
                do { checkpoint = try PyTorchCheckpoint(contentsOf: url) } catch let error as TensorIOError {
                    throw ImportSkip(reason: "unreadable checkpoint: \("\(error)".replacingOccurrences(of: url.path + ": ", with: ""))")
                }
                let mapped: (configuration: SmallTransformer.Configuration, parameters: [String: Tensor])
                do {
                    mapped = try SmallTransformerStateDict.parameters(from: checkpoint.tensors, names: options.names,
                                                                      heads: heads, source: url.path)
                } catch ZooError.importFailed(_, let detail) {
                    throw ImportSkip(reason: detail)
                }
                if let first = fixed.configuration {
                    guard first == mapped.configuration else { throw ImportSkip(reason: "architecture differs from the first checkpoint's") }
                } else if !mapped.parameters.values.contains(where: \.hasNonFinite) {
                    fixed.configuration = mapped.configuration
                    fixed.imageSizeKnown = options.names.positionalEncoding.map { pe in
                        checkpoint.tensors.keys.contains { $0.hasSuffix(pe) }
                    } ?? false
                }
                return mapped.parameters
            }
            if let r = row {
                entry.testAccuracy = ImportMetricColumns.float(r, ImportMetricColumns.testAccuracy)
                entry.testLoss = ImportMetricColumns.float(r, ImportMetricColumns.testLoss)
                entry.trainAccuracy = ImportMetricColumns.float(r, ImportMetricColumns.trainAccuracy)
                entry.trainLoss = ImportMetricColumns.float(r, ImportMetricColumns.trainLoss)
            }
            if entry.testAccuracy == nil, let p = parsed { entry.testAccuracy = p.accuracy }
            entries.append(entry)
        }
        if let wanted = options.epoch, entries.isEmpty {
            throw ZooError.importFailed(file: directory.path, detail: "no checkpoint has epoch \(wanted)")
        }
        return try ZooImportPipeline.run(
            format: "pytorch", sourcePath: directory.path, family: .transformer, entries: entries, into: output,
            limit: options.limit, entriesAreIndependentFiles: true, strict: options.strict, tally: tally) { values, _ in
            try ZooImportArchitecture.target(family: .transformer, parameters: values,
                                             hints: .init(heads: fixed.configuration?.heads,
                                                          imageSize: fixed.imageSizeKnown ? fixed.configuration?.imageSize : nil),
                                             data: options.data, datasetName: datasetName, file: directory.path)
        }
    }
}
