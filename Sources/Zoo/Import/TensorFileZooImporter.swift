import Foundation
import Tensors
import TensorIO
import NeuralNetworks

/// Imports weights stored under SwiftNFN's own parameter paths (`conv1.weight`,
/// `blocks.0.attention.query`, `mlp.layers.0.weight`, …, canonical layouts) from safetensors or
/// NumPy `.npz` files, as an on-disk zoo of a given family.
///
/// Two shapes of source:
/// - **a folder**: every `.safetensors` (or `.npz`) file in it is one checkpoint whose tensors
///   have the parameters' own shapes. A metrics file is matched by file name (as for
///   ``PyTorchZooImporter``); without one, each file is its own member at epoch
///   ``Options/defaultEpoch``.
/// - **a file**: every tensor is stacked over a leading axis of N rows (what
///   `nfn zoo export` writes), row r one checkpoint. A metrics CSV is matched by its `row`
///   column, or by position; its `member` and `epoch` columns group rows into members (without
///   them each row is its own member). `nfn zoo export` → `import` therefore round-trips a zoo's
///   weights, metrics and hyper-parameters.
///
/// The architecture is inferred from the first checkpoint's shapes: cnn (filters, channels,
/// classes), mlp (widths), siren (widths; ω₀ = ``Options/sineFrequency``), transformer (D, heads,
/// D_k, D_v, D_A, blocks, classes; the image side comes from the data, else 28), and the family's
/// network must have exactly those tensors. Metrics columns are read as for
/// ``PyTorchZooImporter`` plus `diverged`, `image_index` and `label`; other columns are
/// hyper-parameters (mapped as in Docs/Zoos.md, "Importing"). cnn and mlp members need an activation:
/// from the metrics, else ``Options/activation``.
///
/// Checkpoints with NaN/∞ weights are skipped and counted; in folder mode an unreadable or
/// mis-shaped file is skipped and counted (``Options/strict`` makes it an error). Nothing is
/// written unless the import succeeds.
public enum TensorFileZooImporter {
    /// The file formats.
    public enum Format: String, Sendable, CaseIterable {
        case safetensors, npz

        var fileExtension: String { rawValue }
    }

    /// How to import.
    public struct Options: Sendable {
        /// The family of the networks.
        public var family: ZooFamily
        /// A metrics file (CSV, optionally gzipped, or JSON).
        public var metrics: URL?
        /// The activation of cnn/mlp members whose metrics do not record one.
        public var activation: Activation?
        /// SIREN ω₀ (default 30).
        public var sineFrequency: Double?
        /// Import only this epoch (`nil`: all).
        public var epoch: Int?
        /// The epoch of checkpoints whose metrics give none.
        public var defaultEpoch: Int
        /// Import at most this many members.
        public var limit: Int?
        /// Fail on the first unreadable or mis-shaped file (folder mode) instead of skipping it.
        public var strict: Bool
        /// Where the data is.
        public var data: ZooImportDataOptions

        /// Creates options.
        public init(family: ZooFamily, metrics: URL? = nil, activation: Activation? = nil, sineFrequency: Double? = nil,
                    epoch: Int? = nil, defaultEpoch: Int = 0, limit: Int? = nil, strict: Bool = false,
                    data: ZooImportDataOptions = ZooImportDataOptions()) {
            self.family = family; self.metrics = metrics; self.activation = activation; self.sineFrequency = sineFrequency
            self.epoch = epoch; self.defaultEpoch = defaultEpoch; self.limit = limit; self.strict = strict; self.data = data
        }
    }

    /// Imports `source` (a folder of files, or one stacked file) of `format` into the new zoo folder `output`.
    ///
    /// - Throws: ``ZooError/importFailed(file:detail:)`` for an unreadable source or metrics file,
    ///   tensors that are not the family's parameters, stacked tensors with different row counts,
    ///   a metrics row count that does not match, or nothing left to import;
    ///   ``ZooError/outputExists(file:)``; data loading errors when the data was given.
    public static func importZoo(from source: URL, format: Format, to output: URL, options: Options) throws -> ZooImportReport {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
            throw ZooError.importFailed(file: source.path, detail: "no such file or folder")
        }
        let table = try options.metrics.map { try ImportMetricsTable.read($0) }
        var entries: [ImportEntry] = []
        var tally = ImportTally()
        var datasetName: String?
        var memberConfigs: [String: [String: String]] = [:]

        func configure(_ entry: inout ImportEntry, row: [String: String]?) {
            var config = row.map(ImportMetricColumns.config) ?? [:]
            if config["activation"] == nil, let a = options.activation { config["activation"] = a.rawValue }
            if memberConfigs[entry.member] == nil {
                memberConfigs[entry.member] = config
                if datasetName == nil { datasetName = row?["dataset"] }
            }
            entry.config = memberConfigs[entry.member]!
            guard let r = row else { return }
            entry.testAccuracy = ImportMetricColumns.float(r, ImportMetricColumns.testAccuracy)
            entry.testLoss = ImportMetricColumns.float(r, ImportMetricColumns.testLoss)
            entry.trainAccuracy = ImportMetricColumns.float(r, ImportMetricColumns.trainAccuracy)
            entry.trainLoss = ImportMetricColumns.float(r, ImportMetricColumns.trainLoss)
            entry.imageIndex = r["image_index"].flatMap(parseInteger)
            entry.label = r["label"].flatMap(parseInteger)
            entry.diverged = ["true", "1", "yes"].contains((r["diverged"] ?? "").lowercased())
        }
        func epoch(of row: [String: String]?) -> Int? {
            guard let r = row, let text = ImportedHyperparameters.value(r, ImportMetricColumns.epoch) else { return options.defaultEpoch }
            return parseInteger(text)
        }

        if isDirectory.boolValue {
            let files = ((try? fm.contentsOfDirectory(atPath: source.path)) ?? [])
                .filter { ($0 as NSString).pathExtension.lowercased() == format.fileExtension }.sorted()
            guard !files.isEmpty else { throw ZooError.importFailed(file: source.path, detail: "no .\(format.fileExtension) files") }
            let byName = try table.map { try $0.byFileName(source: options.metrics!.path) } ?? [:]
            for file in files {
                let stem = (file as NSString).deletingPathExtension
                let row = byName[file] ?? byName[stem]
                guard let e = epoch(of: row) else { tally.rows += 1; tally.skip("unparsable epoch"); continue }
                if let wanted = options.epoch, wanted != e { continue }
                let member = row.flatMap { ImportedHyperparameters.value($0, ImportMetricColumns.member) } ?? stem
                let url = source.appendingPathComponent(file)
                var entry = ImportEntry(origin: file, member: member, epoch: e, config: [:]) {
                    do {
                        return try readTensors(url, format: format)
                    } catch let error as TensorIOError {
                        throw ImportSkip(reason: "unreadable file: \("\(error)".replacingOccurrences(of: url.path + ": ", with: ""))")
                    }
                }
                configure(&entry, row: row)
                entries.append(entry)
            }
        } else {
            let stacked = try openStacked(source, format: format)
            let rows = stacked.rows
            var rowOf: [Int: [String: String]] = [:]
            if let t = table {
                if t.rows.contains(where: { $0["row"] != nil }) {
                    for (i, r) in t.rows.enumerated() {
                        guard let k = r["row"].flatMap(parseInteger) else {
                            throw ZooError.importFailed(file: options.metrics!.path, detail: "row \(i + 1): unparsable 'row' value")
                        }
                        rowOf[k] = r
                    }
                } else {
                    guard t.rows.count == rows else {
                        throw ZooError.importFailed(file: options.metrics!.path, detail: "\(t.rows.count) rows, but \(source.lastPathComponent) has \(rows)")
                    }
                    for (i, r) in t.rows.enumerated() { rowOf[i] = r }
                }
            }
            for r in 0..<rows {
                let row = rowOf[r]
                guard let e = epoch(of: row) else { tally.rows += 1; tally.skip("unparsable epoch"); continue }
                if let wanted = options.epoch, wanted != e { continue }
                let member = row.flatMap { ImportedHyperparameters.value($0, ImportMetricColumns.member) } ?? "row \(r)"
                var entry = ImportEntry(origin: "\(source.lastPathComponent) row \(r)", member: member, epoch: e, config: [:]) {
                    try stacked.row(r)
                }
                configure(&entry, row: row)
                entries.append(entry)
            }
        }
        if let wanted = options.epoch, entries.isEmpty {
            throw ZooError.importFailed(file: source.path, detail: "no checkpoint has epoch \(wanted)")
        }
        return try ZooImportPipeline.run(
            format: format.rawValue, sourcePath: source.path, family: options.family, entries: entries, into: output,
            limit: options.limit, entriesAreIndependentFiles: isDirectory.boolValue, strict: options.strict, tally: tally) { values, _ in
            try ZooImportArchitecture.target(family: options.family, parameters: values,
                                             hints: .init(sineFrequency: options.sineFrequency),
                                             data: options.data, datasetName: datasetName, file: source.path)
        }
    }

    /// Every tensor of one file.
    static func readTensors(_ url: URL, format: Format) throws -> [String: Tensor] {
        switch format {
        case .safetensors: return try SafetensorsFile.read(from: url).tensors
        case .npz: return try NumpyArchive.load(from: url)
        }
    }

    /// A file of tensors stacked over rows.
    struct Stacked {
        var rows: Int
        var row: (Int) throws -> [String: Tensor]
    }

    static func openStacked(_ url: URL, format: Format) throws -> Stacked {
        func fail(_ d: String) -> ZooError { ZooError.importFailed(file: url.path, detail: d) }
        do {
            switch format {
            case .safetensors:
                let file = try SafetensorsFile.read(from: url)
                let tensors = file.tensors
                guard let n = tensors.values.first?.shape.first, !tensors.isEmpty else { throw fail("no tensors") }
                if let bad = tensors.first(where: { $0.value.rank < 1 || $0.value.shape[0] != n }) {
                    throw fail("tensor '\(bad.key)' has shape \(bad.value.shape); every tensor must have the same leading row count \(n)")
                }
                return Stacked(rows: n) { r in tensors.mapValues { $0.slice(row: r) } }
            case .npz:
                let archive = try NumpyArchive(contentsOf: url)
                guard let n = archive.arrays.values.first?.shape.first, !archive.arrays.isEmpty else { throw fail("no arrays") }
                if let bad = archive.arrays.first(where: { $0.value.shape.first != n }) {
                    throw fail("array '\(bad.key)' has shape \(bad.value.shape); every array must have the same leading row count \(n)")
                }
                return Stacked(rows: n) { r in try archive.arrays.mapValues { try $0.row(r) } }
            }
        } catch let error as TensorIOError {
            throw fail("\(error)".replacingOccurrences(of: url.path + ": ", with: ""))
        }
    }
}

extension Tensor {
    /// Row `r` of the leading axis, with that axis removed.
    func slice(row r: Int) -> Tensor {
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        return withUnsafeBufferPointer { p in Tensor(shape: inner) { p[r * n + $0] } }
    }
}
