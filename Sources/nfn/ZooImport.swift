import ArgumentParser
import Foundation
import SwiftNFN

/// `nfn zoo import …`: turn released or foreign zoos into SwiftNFN zoo folders.
struct ZooImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a zoo from another format (Small CNN Zoo, PyTorch checkpoints, safetensors, npz) as a zoo folder.",
        discussion: """
        The output folder must not exist (or be empty); it is written in a temporary folder and \
        renamed into place only when the import succeeded. Checkpoints with NaN/∞ weights are \
        skipped and counted. See Docs/Zoos.md, "Importing".
        """,
        subcommands: [ImportSmallCNNZoo.self, ImportPyTorch.self, ImportSafetensors.self, ImportNpz.self])
}


/// Where the imported members' data set is (for `nfn zoo verify`).
struct ImportDataArguments: ParsableArguments {
    @Option(help: "Folder of the data set the source names (mnist: IDX files; cifar10: binary batches; fashion_mnist: IDX files, default Debian's).")
    var datasetPath: String?

    @Option(help: "The data set's name when the source records none (mnist, fashion_mnist, cifar10, …).")
    var datasetName: String?

    @Option(help: "Record this data set kind instead of the one the source names: \(ZooDataSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: ZooDataSpec.Kind?

    @Option(help: "With --dataset: the folder of its files.")
    var data: String?

    var options: ZooImportDataOptions {
        ZooImportDataOptions(data: dataset.map { ZooDataSpec(kind: $0, path: data) }, datasetPath: datasetPath, datasetName: datasetName)
    }
}

/// Prints an import report as JSON or one line.
private func printImportReport(_ r: ZooImportReport, json: Bool) throws {
    if json {
        try printJSON(r)
        return
    }
    print("\(r.out): \(r.members) \(r.family.rawValue) members, \(r.checkpoints) checkpoints at epochs "
          + r.epochs.map(String.init).joined(separator: ",") + " from \(r.rows) source checkpoints; skipped \(r.skippedNonFinite) with NaN/∞ weights, \(r.skippedOther) others")
    for (reason, n) in r.skipReasons.sorted(by: { $0.value > $1.value }) { print("  skipped \(n): \(reason)") }
    print("data: \(r.dataset)" + (r.dataFingerprinted ? " (fingerprinted)" : " (not loaded: verify needs --data DIR)"))
}

struct ImportSmallCNNZoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "small-cnn-zoo",
        abstract: "Import a released Small CNN Zoo folder (weights.npy, metrics.csv.gz, layout.csv) as a cnn zoo.")

    @Argument(help: "The Small CNN Zoo folder of one data set (e.g. mnist/).")
    var directory: String

    @Option(help: "The zoo folder to write.")
    var out: String

    @Option(help: "Import only checkpoints of this epoch (e.g. 86; default: all).")
    var step: Int?

    @Option(help: "Import at most N members (runs).")
    var limit: Int?

    @OptionGroup var dataArguments: ImportDataArguments
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        do {
            let r = try SmallCNNZooImporter.importZoo(
                from: URL(fileURLWithPath: directory), to: URL(fileURLWithPath: out),
                options: .init(step: step, limit: limit, data: dataArguments.options))
            try printImportReport(r, json: output.json)
        } catch {
            fail(error)
        }
    }
}

struct ImportPyTorch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pytorch",
        abstract: "Import a folder of Small Transformer Zoo state_dict checkpoints (.pt/.pth) as a transformer zoo.")

    @Argument(help: "The folder of .pt/.pth files (names <run>_<epoch>_<acc>.pt, or anything with --metrics).")
    var directory: String

    @Option(help: "The zoo folder to write.")
    var out: String

    @Option(help: "Metrics CSV (optionally .gz) or JSON: file, test accuracy, epoch, hyper-parameters per checkpoint.")
    var metrics: String?

    @Option(help: "Attention heads (default: the metrics' n_attention_heads, else 2).")
    var heads: Int?

    @Option(help: "A prefix before every state_dict name (default: detect '', 'module.', 'model.').")
    var prefix: String?

    @Option(help: "Import only checkpoints of this epoch.")
    var epoch: Int?

    @Option(help: "Import at most N members (runs).")
    var limit: Int?

    @Flag(help: "Fail on the first unreadable or unmappable checkpoint instead of skipping it.")
    var strict = false

    @OptionGroup var dataArguments: ImportDataArguments
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let n = limit, n < 1 { throw ValidationError("--limit must be at least 1") }
        if let h = heads, h < 1 { throw ValidationError("--heads must be at least 1") }
    }

    func run() throws {
        do {
            let r = try PyTorchZooImporter.importZoo(
                from: URL(fileURLWithPath: directory), to: URL(fileURLWithPath: out),
                options: .init(metrics: metrics.map { URL(fileURLWithPath: $0) }, names: SmallTransformerStateDictNames(prefix: prefix),
                               heads: heads, epoch: epoch, limit: limit, strict: strict, data: dataArguments.options))
            try printImportReport(r, json: output.json)
        } catch {
            fail(error)
        }
    }
}

/// The arguments of the safetensors and npz importers.
struct TensorFileImportArguments: ParsableArguments {
    @Argument(help: "A folder of files (one checkpoint each) or one file of tensors stacked over rows (as `nfn zoo export` writes).")
    var source: String

    @Option(help: "The zoo folder to write.")
    var out: String

    @Option(help: "Network family: \(ZooFamily.allCases.map(\.rawValue).joined(separator: ", ")).")
    var family: ZooFamily

    @Option(help: "Metrics CSV (optionally .gz) or JSON (`nfn zoo export --csv` output works).")
    var metrics: String?

    @Option(help: "Activation of cnn/mlp members whose metrics record none.")
    var activation: Activation?

    @Option(help: "SIREN ω₀ (default 30).")
    var sineFrequency: Double?

    @Option(help: "Import only checkpoints of this epoch.")
    var epoch: Int?

    @Option(help: "Import at most N members.")
    var limit: Int?

    @Flag(help: "Fail on the first unreadable or mis-shaped file instead of skipping it.")
    var strict = false

    func run(format: TensorFileZooImporter.Format, data: ImportDataArguments, json: Bool) {
        do {
            let r = try TensorFileZooImporter.importZoo(
                from: URL(fileURLWithPath: source), format: format, to: URL(fileURLWithPath: out),
                options: .init(family: family, metrics: metrics.map { URL(fileURLWithPath: $0) }, activation: activation,
                               sineFrequency: sineFrequency, epoch: epoch, limit: limit, strict: strict, data: data.options))
            try printImportReport(r, json: json)
        } catch {
            fail(error)
        }
    }
}

struct ImportSafetensors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safetensors",
        abstract: "Import safetensors files whose tensors are named by SwiftNFN parameter paths.")

    @OptionGroup var arguments: TensorFileImportArguments
    @OptionGroup var dataArguments: ImportDataArguments
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let n = arguments.limit, n < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws { arguments.run(format: .safetensors, data: dataArguments, json: output.json) }
}

struct ImportNpz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "npz",
        abstract: "Import NumPy .npz files whose arrays are named by SwiftNFN parameter paths.")

    @OptionGroup var arguments: TensorFileImportArguments
    @OptionGroup var dataArguments: ImportDataArguments
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let n = arguments.limit, n < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws { arguments.run(format: .npz, data: dataArguments, json: output.json) }
}
