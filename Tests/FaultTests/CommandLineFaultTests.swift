import Foundation
import Testing
import _TestSupport
import TensorIO
import Zoo
import Experiments

/// `nfn` given hostile values, files and destinations, each run with a deadline: every case ends in
/// a clean non-zero exit with a message naming the flag, field or file (no crash signal, no hang),
/// and a refused command leaves every file it could have overwritten as it was.
@Suite(.enabled(if: nfnBinary != nil, "needs the nfn executable"))
struct CommandLineFaultTests {
    static let deadline: TimeInterval = 120

    static func run(_ arguments: [String]) throws -> NFNRun { try runNFN(arguments, timeout: deadline) }

    static func expectCleanFailure(_ r: NFNRun, _ fragments: [String], _ label: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.timedOut, "\(label): hung (killed after \(deadline) s)", sourceLocation: sourceLocation)
        #expect(!r.signaled, "\(label): crashed with signal \(r.status)\n\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.isCleanFailure(mentioning: fragments), "\(label): status \(r.status), stderr: \(r.stderr.prefix(600))",
                sourceLocation: sourceLocation)
    }

    /// A copy of the reference zoo with `zoo.json` field `key` (under `spec` when `inSpec`) set to `value`.
    static func zoo(setting path: [String], to value: Any) throws -> URL {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(ZooFaultTests.edit(&object, path, value), "\(path) is not a field of zoo.json")
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return dir
    }

    // MARK: Values from flags

    static let out = makeTemporaryDirectory("cli-faults").appendingPathComponent("never-written").path
    static let flagCases: [([String], [String])] = [
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members", "9223372036854775807", "--out", out], ["--members"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members", "0", "--out", out], ["--members"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members=-1", "--out", out], ["--members"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members", "99999999999999999999", "--out", out], ["members"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--batch-size", "9223372036854775807", "--out", out], ["--batch-size"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--epochs", "9223372036854775807", "--out", out], ["--epochs"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--epochs", "1000000", "--out", out], ["--epochs"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--workers", "9223372036854775807", "--out", out], ["--workers"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--checkpoint-epochs", "9223372036854775807", "--out", out], ["epochs"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--train-limit", "0", "--out", out], ["--train-limit"]),
        (["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--shard", "9223372036854775807/9223372036854775807", "--out", out], ["shard"]),
        (["zoo", "generate", "--family", "mlp", "--dataset", "synthetic", "--limit=-1", "--out", out], ["--limit"]),
        (["zoo", "verify", "REFERENCE", "--tolerance", "nan"], ["--tolerance"]),
        (["zoo", "verify", "REFERENCE", "--tolerance", "inf"], ["--tolerance"]),
        (["zoo", "verify", "REFERENCE", "--tolerance=-1"], ["--tolerance"]),
        (["zoo", "verify", "REFERENCE", "--workers", "0"], ["--workers"]),
        (["zoo", "verify", "REFERENCE", "--workers", "9223372036854775807"], ["--workers"]),
        (["zoo", "verify", "REFERENCE", "--sample", "0"], ["--sample"]),
        (["zoo", "export", "REFERENCE", "--out", out + ".safetensors", "--csv", out + ".csv", "--epoch", "9223372036854775807"], ["epoch"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--epochs", "9223372036854775807"], ["epochs"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--epochs", "1000000000"], ["epochs"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--batch-size", "9223372036854775807"], ["batch_size"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--patience", "9223372036854775807"], ["patience"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--learning-rate", "nan"], ["learning_rate"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--train-fraction", "nan"], ["train_fraction"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--max-parameters", "0"], ["max_parameters"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--zoo-epoch=-1"], ["zoo_epoch"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--threads", "0"], ["--threads"]),
        (["train", "--model", "hnp", "--zoo", "REFERENCE", "--out", out, "--threads", "9223372036854775807"], ["--threads"]),
    ]

    @Test(arguments: 0..<flagCases.count)
    func flagValue(_ index: Int) throws {
        let (arguments, fragments) = Self.flagCases[index]
        let r = try Self.run(arguments.map { $0 == "REFERENCE" ? referenceZoo.path : $0 })
        Self.expectCleanFailure(r, fragments, arguments.joined(separator: " "))
        #expect(!FileManager.default.fileExists(atPath: Self.out), "\(arguments): wrote its output")
    }

    // MARK: Sizes from files

    nonisolated(unsafe) static let manifestCases: [([String], Any, String)] = [
        (["spec", "members"], Int.max, "members"),
        (["classes"], 1_000_000_000, "classes"),
        (["spec", "architecture", "filters"], Int.max, "filters"),
        (["image_shape"], [1, Int.max, Int.max], "image_shape"),
        (["spec", "training", "evaluation_batch_size"], Int.max, "evaluation_batch_size"),
    ]

    /// `zoo info`, `zoo verify` and `train` on a zoo whose manifest holds an absurd size.
    @Test(arguments: 0..<manifestCases.count, ["info", "verify", "train"])
    func absurdManifest(_ index: Int, _ command: String) throws {
        let (path, value, fragment) = Self.manifestCases[index]
        let dir = try Self.zoo(setting: path, to: value)
        let arguments: [String]
        switch command {
        case "info": arguments = ["zoo", "info", dir.path]
        case "verify": arguments = ["zoo", "verify", dir.path]
        default: arguments = ["train", "--model", "hnp", "--zoo", dir.path, "--out", Self.out]
        }
        Self.expectCleanFailure(try Self.run(arguments), ["zoo.json", fragment], "\(command) with \(path) = \(value)")
    }

    // MARK: FIFOs and hostile files

    @Test func fifoConfigurationAndSpec() throws {
        let dir = makeTemporaryDirectory("cli-fifo")
        let config = dir.appendingPathComponent("run.yaml"), spec = dir.appendingPathComponent("spec.json")
        try makeFIFO(config)
        try makeFIFO(spec)
        Self.expectCleanFailure(try Self.run(["train", "--config", config.path]), [config.path, "FIFO"], "train --config FIFO")
        Self.expectCleanFailure(try Self.run(["zoo", "generate", "--spec", spec.path, "--out", Self.out]), [spec.path, "FIFO"],
                                "generate --spec FIFO")
    }

    @Test func deepConfigurationAndSpec() throws {
        let config = try scratchFile("run.yaml", Data((String(repeating: "- ", count: 50_000) + "x\n").utf8))
        Self.expectCleanFailure(try Self.run(["train", "--config", config.path]), [config.path, "nested"], "deep YAML")
        let spec = try scratchFile("spec.json", Data((String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)).utf8))
        Self.expectCleanFailure(try Self.run(["zoo", "generate", "--spec", spec.path, "--out", Self.out]), [spec.path, "nested"], "deep spec")
    }

    @Test func fifoInImportFolders() throws {
        // A .pt FIFO among good checkpoints: skipped with its reason, or (--strict) refused.
        let pt = makeTemporaryDirectory("cli-fifo-pt")
        for f in [ImportFixtures.run1Epoch75, ImportFixtures.run2Epoch75] { try f.bytes.write(to: pt.appendingPathComponent(f.file)) }
        try makeFIFO(pt.appendingPathComponent("run3_75_1111.pt"))
        let out = makeTemporaryDirectory("cli-fifo-out")
        let lenient = try Self.run(["zoo", "import", "pytorch", pt.path, "--out", out.appendingPathComponent("a").path, "--json"])
        #expect(!lenient.timedOut && !lenient.signaled && lenient.status == 0, "\(lenient.stderr)")
        #expect((try? jsonObject(lenient.stdout))?["skipped_other"] as? Int == 1, "\(lenient.stdout)")
        let strict = try Self.run(["zoo", "import", "pytorch", pt.path, "--out", out.appendingPathComponent("b").path, "--strict"])
        Self.expectCleanFailure(strict, ["run3_75_1111.pt", "FIFO"], "import pytorch --strict with a FIFO")

        // weights.npy as a FIFO in a Small CNN Zoo folder.
        let source = try FakeSmallCNNZoo.standard().write()
        try FileManager.default.removeItem(at: source.appendingPathComponent("weights.npy"))
        try makeFIFO(source.appendingPathComponent("weights.npy"))
        Self.expectCleanFailure(try Self.run(["zoo", "import", "small-cnn-zoo", source.path, "--out", out.appendingPathComponent("c").path,
                                              "--dataset", "synthetic"]), ["weights.npy", "FIFO"], "weights.npy FIFO")

        // An IDX data set whose training images are a FIFO.
        let idx = makeTemporaryDirectory("cli-fifo-idx")
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try makeFIFO(idx.appendingPathComponent(name))
        }
        Self.expectCleanFailure(try Self.run(["zoo", "generate", "--family", "cnn", "--dataset", "idx", "--data", idx.path, "--members", "2",
                                              "--out", out.appendingPathComponent("d").path]), ["idx3-ubyte", "FIFO"], "IDX FIFO")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".") } == ["a"])
    }

    // MARK: Data loss

    /// A fake finished run: its configuration and a checkpoint file.
    static func fakeRun() throws -> URL {
        let run = makeTemporaryDirectory("cli-run")
        var config = ExperimentConfiguration(model: "hnp", zoo: referenceZoo.path)
        config.out = run.path
        try config.write(to: run.appendingPathComponent(ExperimentRunner.configurationFileName))
        try Data("checkpoint".utf8).write(to: run.appendingPathComponent(ExperimentRunner.checkpointFileName))
        try JSONEncoder().encode(ExperimentReport(title: "a finished run")).write(to: run.appendingPathComponent("results.json"))
        return run
    }

    /// (label, arguments with ZOO / RUN / FILE / OTHER placeholders, fragments).
    static let destinationCases: [(String, [String], [String])] = [
        ("train into a zoo", ["train", "--model", "hnp", "--zoo", "ZOO", "--out", "ZOO"], ["zoo folder"]),
        ("train inside a zoo", ["train", "--model", "hnp", "--zoo", "ZOO", "--out", "ZOO/run"], ["inside the zoo folder"]),
        ("train over a file", ["train", "--model", "hnp", "--zoo", "ZOO", "--out", "FILE"], ["is a file"]),
        ("train into a folder of other files", ["train", "--model", "hnp", "--zoo", "ZOO", "--out", "OTHER"], ["already holds files"]),
        ("evaluate into its run folder", ["evaluate", "--run", "RUN", "--report", "RUN"], ["run folder"]),
        ("evaluate into a zoo", ["evaluate", "--run", "RUN", "--report", "ZOO"], ["zoo folder"]),
        ("evaluate inside a zoo", ["evaluate", "--run", "RUN", "--report", "ZOO/report"], ["inside the zoo folder"]),
        ("evaluate over a file", ["evaluate", "--run", "RUN", "--report", "FILE"], ["is a file"]),
        ("evaluate into a folder of other files", ["evaluate", "--run", "RUN", "--report", "OTHER"], ["already holds files"]),
        ("export into the zoo", ["zoo", "export", "ZOO", "--out", "ZOO/x.safetensors", "--csv", "OTHER/x.csv"], ["inside the zoo folder"]),
        ("export over an existing file", ["zoo", "export", "ZOO", "--out", "FILE", "--csv", "OTHER/x.csv"], ["already exists"]),
        ("export both outputs to one file", ["zoo", "export", "ZOO", "--out", "OTHER/x", "--csv", "OTHER/x"], ["both"]),
        ("generate into a folder of other files", ["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members", "2", "--out", "OTHER"], ["refusing to overwrite"]),
        ("merge into an existing zoo", ["zoo", "merge", "ZOO", "ZOO"], ["ZOO"]),
        ("report into a zoo", ["report", "RUN", "--out", "ZOO"], ["zoo folder"]),
        ("report over a file", ["report", "RUN", "--out", "FILE"], ["is a file"]),
        ("generate into a run folder", ["zoo", "generate", "--family", "cnn", "--dataset", "synthetic", "--members", "2", "--out", "RUN"], ["refusing to overwrite"]),
    ]

    @Test(arguments: 0..<destinationCases.count)
    func destinationIsRefused(_ index: Int) throws {
        let (label, template, fragments) = Self.destinationCases[index]
        let zoo = try copyOf(referenceZoo)
        let run = try Self.fakeRun()
        let scratch = makeTemporaryDirectory("cli-dest")
        let file = scratch.appendingPathComponent("precious.safetensors")
        try Data("precious".utf8).write(to: file)
        let other = scratch.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: other.appendingPathComponent("notes.txt"))
        func substitute(_ s: String) -> String {
            s.replacingOccurrences(of: "ZOO", with: zoo.path).replacingOccurrences(of: "RUN", with: run.path)
                .replacingOccurrences(of: "FILE", with: file.path).replacingOccurrences(of: "OTHER", with: other.path)
        }
        let before = try [snapshot(zoo), snapshot(run), snapshot(scratch)]
        let r = try Self.run(template.map(substitute))
        Self.expectCleanFailure(r, fragments.map(substitute), label)
        #expect(try [snapshot(zoo), snapshot(run), snapshot(scratch)] == before, "\(label): a file changed")
    }
}
