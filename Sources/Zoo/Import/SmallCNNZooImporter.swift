import Foundation
import Tensors
import TensorIO
import NeuralNetworks

/// Imports a folder of the released Small CNN Zoo (Unterthiner et al., 2020, *Predicting Neural
/// Network Accuracy from Weights*) — one data set's `weights.npy`, `metrics.csv.gz` and
/// `layout.csv` — as an on-disk SwiftNFN zoo of family ``ZooFamily/cnn``.
///
/// - `layout.csv` fixes the mapping from TensorFlow variables to our parameter paths
///   (``SmallCNNZooLayout``).
/// - `weights.npy` (N × width, a floating-point dtype) is opened lazily: rows are read one at a
///   time from the memory-mapped file, never all at once.
/// - `metrics.csv.gz` (gzip or plain CSV, N rows in the order of `weights.npy`) needs the columns
///   `modeldir`, `step`, `test_accuracy` and `config.activation`; `test_loss`, `train_accuracy`,
///   `train_loss` and the other `config.*` columns are used when present.
///
/// Rows with the same `modeldir` are one member (ids in order of first appearance), `step` is the
/// checkpoint epoch. The `config.*` values become the member's hyper-parameters (mapped as listed
/// in Docs/Zoos.md, "Importing"; all kept verbatim in ``MemberHyperparameters/sourceConfig``
/// with `modeldir`). Rows whose weights hold NaN or ±∞ are skipped and counted
/// (``ZooImportReport/skippedNonFinite``); rows with an unparsable step, a duplicate
/// (modeldir, step), or an activation other than relu/tanh/… are skipped and counted
/// (``ZooImportReport/skippedOther``, with reasons). A member none of whose rows is kept is left
/// out and takes no id.
///
/// The data set is `config.dataset` (`mnist`, `fashion_mnist`, `cifar10`, `svhn_cropped`),
/// resolved by ``ZooDataSpec/imported(name:path:)`` with ``Options/data``: when it can be loaded,
/// it is checked against the layout's channels and classes and fingerprinted, so that
/// `nfn zoo verify` re-evaluates members on it.
///
/// Nothing is written unless the import succeeds: the zoo is assembled in a temporary folder next
/// to the output and renamed into place at the end.
public enum SmallCNNZooImporter {
    /// How to import.
    public struct Options: Sendable {
        /// Import only checkpoints of this epoch (`step`), e.g. 86 (`nil`: all).
        public var step: Int?
        /// Import at most this many members (the first ones, in order of appearance).
        public var limit: Int?
        /// Where the data is.
        public var data: ZooImportDataOptions

        /// Creates options (every step, every member, the data set named by the metrics).
        public init(step: Int? = nil, limit: Int? = nil, data: ZooImportDataOptions = ZooImportDataOptions()) {
            self.step = step; self.limit = limit; self.data = data
        }
    }

    /// The columns `metrics.csv.gz` must have.
    public static let requiredColumns = ["modeldir", "step", "test_accuracy", "config.activation"]

    /// Imports the Small CNN Zoo folder `directory` into the new zoo folder `output`.
    ///
    /// - Throws: ``ZooError/importFailed(file:detail:)`` naming the file for a missing file or
    ///   column, a truncated or non-float `weights.npy`, a layout that does not fit its width or
    ///   the Small CNN, a row count that differs between `weights.npy` and the metrics, or nothing
    ///   left to import; ``ZooError/outputExists(file:)``; data loading errors when the data was
    ///   given explicitly. On error nothing is left at `output`.
    public static func importZoo(from directory: URL, to output: URL, options: Options = Options()) throws -> ZooImportReport {
        let layoutURL = directory.appendingPathComponent("layout.csv")
        let weightsURL = directory.appendingPathComponent("weights.npy")
        var metricsURL = directory.appendingPathComponent("metrics.csv.gz")
        if !FileManager.default.fileExists(atPath: metricsURL.path) {
            let plain = directory.appendingPathComponent("metrics.csv")
            if FileManager.default.fileExists(atPath: plain.path) { metricsURL = plain }
        }
        for url in [layoutURL, weightsURL, metricsURL] where !FileManager.default.fileExists(atPath: url.path) {
            throw ZooError.importFailed(file: url.path, detail: "no such file (a Small CNN Zoo folder has weights.npy, metrics.csv.gz and layout.csv)")
        }
        let layout = try SmallCNNZooLayout(csv: try ZooFileSystem.read(layoutURL), source: layoutURL.path)

        let weights: NumpyArray
        do {
            weights = try NumpyArray(contentsOf: weightsURL)
        } catch {
            throw ZooError.importFailed(file: weightsURL.path, detail: "\(error)".replacingOccurrences(of: weightsURL.path + ": ", with: ""))
        }
        guard weights.dtype.kind == .float else {
            throw ZooError.importFailed(file: weightsURL.path, detail: "dtype \(weights.dtype) is not a floating-point type")
        }
        guard weights.shape.count == 2, weights.shape[1] == layout.width else {
            throw ZooError.importFailed(file: weightsURL.path, detail: "shape \(weights.shape) does not match the layout: expected [N, \(layout.width)]")
        }

        let table = try ImportCSV.read(metricsURL)
        for name in requiredColumns where table.column(name) == nil {
            throw ZooError.importFailed(file: metricsURL.path, detail: "missing column '\(name)'")
        }
        guard table.rows.count == weights.rowCount else {
            throw ZooError.importFailed(file: metricsURL.path, detail: "\(table.rows.count) rows, but \(weightsURL.lastPathComponent) has \(weights.rowCount)")
        }
        let col = { (name: String) in table.column(name) }
        let modeldir = col("modeldir")!, step = col("step")!
        let configColumns = table.header.enumerated().filter { $0.element.hasPrefix("config.") }
        func number(_ row: [String], _ name: String) -> Float? {
            col(name).flatMap { parseNumber(row[$0]) }.map { Float($0) }
        }

        var entries: [ImportEntry] = []
        var tally = ImportTally()
        var configs: [String: [String: String]] = [:]
        var datasetName: String?
        for (index, row) in table.rows.enumerated() {
            guard let epoch = parseInteger(row[step]) else {
                tally.rows += 1
                tally.skip("unparsable step")
                continue
            }
            if let s = options.step, s != epoch { continue }
            let member = row[modeldir]
            if configs[member] == nil {
                var config: [String: String] = ["modeldir": member]
                for (i, name) in configColumns where !row[i].isEmpty { config[String(name.dropFirst("config.".count))] = row[i] }
                configs[member] = config
                if datasetName == nil { datasetName = config["dataset"] }
            }
            entries.append(ImportEntry(
                origin: "weights.npy row \(index)", member: member, epoch: epoch,
                trainLoss: number(row, "train_loss"), trainAccuracy: number(row, "train_accuracy"),
                testLoss: number(row, "test_loss"), testAccuracy: number(row, "test_accuracy"),
                config: configs[member]!,
                load: {
                    let values = try weights.row(index)
                    return values.withUnsafeBufferPointer { layout.parameters(fromRow: $0) }
                }))
        }
        if let s = options.step, entries.isEmpty {
            throw ZooError.importFailed(file: metricsURL.path, detail: "no row has step \(s)")
        }

        let shapes = [Float](repeating: 0, count: layout.width)
            .withUnsafeBufferPointer { layout.parameters(fromRow: $0) }.mapValues(\.shape)
        return try ZooImportPipeline.run(
            format: "small-cnn-zoo", sourcePath: directory.path, family: .cnn, entries: entries, into: output,
            limit: options.limit, entriesAreIndependentFiles: false, tally: tally) { _, _ in
            let (spec, data) = try ZooImportPipeline.resolveData(options.data, sourceName: datasetName, channels: layout.inputChannels,
                                                                 classes: layout.classes, file: metricsURL.path)
            let side = ["cifar10", "svhncropped", "svhn"].contains(ImportedHyperparameters.key(datasetName ?? "")) ? 32 : 28
            return ImportTarget(architecture: ZooArchitecture(filters: layout.filters),
                                imageShape: data?.imageShape ?? [layout.inputChannels, side, side],
                                classes: layout.classes, data: spec, fingerprint: data?.fingerprint ?? "", shapes: shapes)
        }
    }
}
