import Foundation
import Testing
import _TestSupport
import Experiments
import Training
#if canImport(Glibc)
import Glibc
#endif

/// Shared fixtures: small synthetic-data zoos (no data set needed) generated once per process.
private enum Fixture {
    static let root = makeTemporaryDirectory("train-cli")

    /// 48 CNN members, 1 epoch on the synthetic digits.
    static let zoo: URL = generate("cnn-zoo", ["--family", "cnn", "--members", "48", "--epochs", "1", "--seed", "0"])
    /// Another zoo of the same weight space (other seed, fewer members).
    static let otherZoo: URL = generate("cnn-zoo-b", ["--family", "cnn", "--members", "16", "--epochs", "1", "--seed", "7"])
    /// Checkpoints at epochs 1 and 2 (24 members), for runs on several epochs.
    static let twoEpochZoo: URL = generate("cnn-zoo-2ep", ["--family", "cnn", "--members", "24", "--epochs", "2",
                                                           "--checkpoint-epochs", "1,2", "--seed", "4"])
    /// A zoo of another weight space.
    static let mlpZoo: URL = generate("mlp-zoo", ["--family", "mlp", "--members", "12", "--epochs", "1", "--seed", "1"])

    static func generate(_ name: String, _ arguments: [String]) -> URL {
        let dir = root.appendingPathComponent(name)
        let r = try! runNFN(["zoo", "generate", "--dataset", "synthetic", "--out", dir.path] + arguments)
        precondition(r.status == 0, "zoo generation failed: \(r.stderr)")
        return dir
    }

    /// The training options every run here shares (a model with noticeable time per epoch).
    static func trainArguments(out: URL) -> [String] {
        ["train", "--model", "hnp", "--zoo", zoo.path, "--out", out.path, "--small", "--epochs", "12", "--patience", "0",
         "--seed", "3", "--json"]
    }

    /// One uninterrupted run, shared by the tests that compare against it.
    static let reference: (out: URL, stdout: String) = {
        let out = root.appendingPathComponent("reference")
        let r = try! runNFN(trainArguments(out: out))
        precondition(r.status == 0, "reference run failed: \(r.stderr)")
        return (out, r.stdout)
    }()
}

private func decodeResult(_ data: Data) throws -> ModelResult {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(ModelResult.self, from: data)
}

private func readReport(_ folder: URL) throws -> ExperimentReport {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(ExperimentReport.self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
}

/// Sorted-key JSON with NaN as a string, so that equal numbers (NaN included) give equal text.
private func canonical<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A result's numbers as canonical JSON, without what legitimately differs between two runs of the
/// same configuration: wall-clock times and the output folder. (Comparing the encoded form also
/// treats NaN metrics as equal to themselves.)
private func comparable(_ r: ModelResult, keepConfiguration: Bool = true) throws -> String {
    var r = r
    r.trainingSeconds = 0
    r.learningCurve = r.learningCurve.map { var e = $0; e.seconds = 0; return e }
    r.configuration["out"] = nil
    if !keepConfiguration { r.configuration = [:] }
    return try canonical(r)
}

@Suite(.serialized) struct TrainResumeCommandLineTests {
    @Test func killDashNineMidTrainingThenRerunReproducesTheUninterruptedRun() throws {
        let reference = Fixture.reference
        let referenceResult = try #require(try readReport(reference.out).results.first)
        #expect(referenceResult.epochs == 12)
        #expect(try comparable(decodeResult(Data(reference.stdout.utf8))) == comparable(referenceResult), "stdout is the JSON result")

        let out = Fixture.root.appendingPathComponent("killed")
        let checkpoint = out.appendingPathComponent(ExperimentRunner.checkpointFileName)
        let p = Process()
        p.executableURL = try #require(nfnBinary)
        p.arguments = Fixture.trainArguments(out: out)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first epoch's checkpoint, then kill -9.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && p.isRunning && Date() < deadline {
            usleep(2_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "the run must die by the signal, not finish")
        #expect(p.terminationStatus == SIGKILL)
        // The checkpoint is whole (atomic writes) and holds a partial run.
        let partial = try #require(try MetanetworkTrainer.checkpointHistory(at: checkpoint))
        #expect(partial.epochs.count >= 1 && partial.epochs.count < 12, "killed after \(partial.epochs.count) epochs")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("results.json").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.count <= 1, "at most the temporary file being written when killed: \(leftovers)")

        let resumed = try runNFN(Fixture.trainArguments(out: out))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming from epoch \(partial.epochs.count) of 12"), "\(resumed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") } == [],
                "no temporary files are left after the resumed run")
        let resumedResult = try #require(try readReport(out).results.first)
        #expect(resumedResult.bestEpoch == referenceResult.bestEpoch)
        #expect(resumedResult.predictions == referenceResult.predictions)
        #expect(resumedResult.learningCurve.map(\.trainLoss) == referenceResult.learningCurve.map(\.trainLoss))
        #expect(resumedResult.learningCurve.map(\.validationMetric) == referenceResult.learningCurve.map(\.validationMetric))
        #expect(try comparable(resumedResult) == comparable(referenceResult))
    }

    @Test func evaluateReproducesTheTrainTestMetricsExactly() throws {
        let reference = Fixture.reference
        let trained = try #require(try readReport(reference.out).results.first)
        let r = try runNFN(["evaluate", "--run", reference.out.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let evaluated = try decodeResult(Data(r.stdout.utf8))
        #expect(evaluated.metrics.keys.sorted() == ["mse", "r2", "tau", "tau_acc_ge_0.50"])
        #expect(evaluated.robustness.keys.sorted() == ["permutation", "scale [1, 100]", "scale [1, 10]"])
        #expect(try canonical(evaluated.metrics) == canonical(trained.metrics))
        #expect(try canonical(evaluated.robustness) == canonical(trained.robustness))
        #expect(evaluated.metrics["tau"]?.isFinite == true)
        #expect(evaluated.predictions == trained.predictions)
        #expect(evaluated.actual == trained.actual)
        #expect(evaluated.bestEpoch == trained.bestEpoch)
        #expect(evaluated.configuration["train/val/test"] == trained.configuration["train/val/test"])
        // The evaluation report folder.
        let folder = reference.out.appendingPathComponent("evaluation")
        for file in ["results.json", "results.md", "scatter-cnn-zoo-hnp.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(file)")
        }
        // Text mode prints the Markdown table.
        let text = try runNFN(["evaluate", "--run", reference.out.path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("| cnn-zoo | hnp |"))
    }

    @Test func evaluateOnAnotherZooOfTheSameWeightSpaceUsesEveryMember() throws {
        let reference = Fixture.reference
        let report = makeTemporaryDirectory("eval-other")
        let r = try runNFN(["evaluate", "--run", reference.out.path, "--zoo", Fixture.otherZoo.path, "--report", report.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try decodeResult(Data(r.stdout.utf8))
        #expect(result.zoo == "cnn-zoo-b")
        #expect(result.predictions?.count == 16)
        #expect(result.configuration["evaluated_on"]?.hasPrefix("all 16 members of") == true)
        #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("results.json").path))

        let mlp = try runNFN(["evaluate", "--run", reference.out.path, "--zoo", Fixture.mlpZoo.path])
        #expect(mlp.status == 1)
        #expect(mlp.stderr.contains("has weight space"), "\(mlp.stderr)")
    }

    @Test func evaluateRefusesAMismatchingRunFolderCleanly() throws {
        let reference = Fixture.reference
        // A run folder whose configuration names another model size than its checkpoint holds.
        let wrong = makeTemporaryDirectory("eval-wrong")
        try FileManager.default.removeItem(at: wrong)
        try FileManager.default.copyItem(at: reference.out, to: wrong)
        try? FileManager.default.removeItem(at: wrong.appendingPathComponent("evaluation"))
        var config = try ExperimentConfiguration.load(from: wrong.appendingPathComponent(ExperimentRunner.configurationFileName))
        config.size = .standard
        try config.write(to: wrong.appendingPathComponent(ExperimentRunner.configurationFileName))
        let r = try runNFN(["evaluate", "--run", wrong.path])
        #expect(r.status == 1, "a clean error exit, not a crash: \(r.status)")
        #expect(r.stderr.contains("cannot evaluate the run") && r.stderr.contains("checkpoint"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: wrong.appendingPathComponent("evaluation").path))

        // Another model with the same training configuration.
        config.size = .small
        config.model = "mlp"
        try config.write(to: wrong.appendingPathComponent(ExperimentRunner.configurationFileName))
        let other = try runNFN(["evaluate", "--run", wrong.path])
        #expect(other.status == 1 && other.stderr.contains("checkpoint"), "\(other.stderr)")

        // No checkpoint, no configuration.
        try FileManager.default.removeItem(at: wrong.appendingPathComponent(ExperimentRunner.checkpointFileName))
        let none = try runNFN(["evaluate", "--run", wrong.path])
        #expect(none.status == 1 && none.stderr.contains("has no checkpoint.safetensors"), "\(none.stderr)")
        let notARun = try runNFN(["evaluate", "--run", Fixture.zoo.path])
        #expect(notARun.status == 1 && notARun.stderr.contains("has no config.yaml"), "\(notARun.stderr)")
    }

    @Test func aConfigFileWithCommandLineOverrides() throws {
        let dir = makeTemporaryDirectory("config")
        let out = dir.appendingPathComponent("run")
        let file = dir.appendingPathComponent("run.yaml")
        try """
        task: generalization
        model: statnn
        zoo: \(Fixture.zoo.path)
        out: \(dir.appendingPathComponent("not-this-one").path)
        epochs: 5
        batch_size: 8
        optimizer: adamw
        learning_rate: 0.002
        patience: 0
        size: small
        seed: 4
        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try runNFN(["train", "--config", file.path, "--epochs", "2", "--out", out.path, "--seed", "5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("epoch 2/2: train loss"), "one progress line per epoch on stderr: \(r.stderr)")
        let result = try decodeResult(Data(r.stdout.utf8))
        #expect(result.model == "statnn")
        #expect(result.epochs == 2)
        #expect(result.configuration["optimizer"] == "adamw" && result.configuration["batch_size"] == "8")
        #expect(result.configuration["seed"] == "5" && result.configuration["learning_rate"] == "0.002")
        let saved = try ExperimentConfiguration.load(from: out.appendingPathComponent(ExperimentRunner.configurationFileName))
        #expect(saved.training.epochs == 2 && saved.training.seed == 5 && saved.training.batchSize == 8 && saved.training.optimizer == .adamw)
        #expect(saved.out == out.path && saved.zoo == Fixture.zoo.path)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("not-this-one").path))

        // The saved configuration reruns the same run (it is finished: nothing is retrained).
        let again = try runNFN(["train", "--config", out.appendingPathComponent("config.yaml").path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try comparable(decodeResult(Data(again.stdout.utf8))) == comparable(result))

        // A different configuration in the same folder is refused, naming what differs.
        let clash = try runNFN(["train", "--config", file.path, "--epochs", "3", "--out", out.path, "--seed", "5"])
        #expect(clash.status == 1)
        #expect(clash.stderr.contains("differs in: epochs"), "\(clash.stderr)")
    }

    @Test func severalZooEpochsSplitByMemberAndEvaluateExactly() throws {
        let out = makeTemporaryDirectory("two-epochs")
        let r = try runNFN(["train", "--model", "statnn", "--zoo", Fixture.twoEpochZoo.path, "--zoo-epochs", "1,2",
                            "--out", out.path, "--epochs", "3", "--seed", "2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let trained = try jsonObject(r.stdout)
        let configuration = try #require(trained["configuration"] as? [String: String])
        #expect(configuration["zoo_epochs"] == "1,2")
        // 24 members × 2 checkpoints; the split counts checkpoints, members kept whole (14/4/6 members).
        #expect(configuration["train/val/test"] == "28/8/12", "\(configuration)")
        let e = try runNFN(["evaluate", "--run", out.path, "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try jsonObject(e.stdout)["metrics"] as? [String: Double] == trained["metrics"] as? [String: Double])
    }

    @Test func badConfigurationsFailWithTheFileNameAndWriteNothing() throws {
        let dir = makeTemporaryDirectory("bad-config")
        let out = dir.appendingPathComponent("run")
        func check(_ yaml: String, _ expected: String) throws {
            let file = dir.appendingPathComponent("c-\(UUID().uuidString).yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            let r = try runNFN(["train", "--config", file.path, "--out", out.path])
            #expect(r.status == 1, "\(yaml)")
            #expect(r.stderr.contains(file.path) && r.stderr.contains(expected), "\(r.stderr)")
        }
        let zoo = Fixture.zoo.path
        try check("model: hnp\nzoo: \(zoo)\nepochz: 3\n", "unknown key 'epochz'")
        try check("model: hnp\nzoo: \(zoo)\nepochs: [3\n", "malformed YAML")
        try check("model: hnp\nzoo: \(zoo)\nbatch_size: big\n", "batch_size: expected an integer")
        try check("model: hnp\nzoo: \(zoo)\ntask: classify\n", "valid tasks: generalization, inr-classification, inr-editing")
        #expect(!FileManager.default.fileExists(atPath: out.path))

        let model = try runNFN(["train", "--model", "transformer-nfn", "--zoo", zoo, "--out", out.path])
        #expect(model.status == 1 && model.stderr.contains("models for its weight space: np, hnp"), "\(model.stderr)")
        let task = try runNFN(["train", "--task", "inr-classification", "--model", "hnp", "--zoo", zoo, "--out", out.path])
        #expect(task.status == 1 && task.stderr.contains("SIREN"), "\(task.stderr)")
        let noModel = try runNFN(["train", "--zoo", zoo, "--out", out.path])
        #expect(noModel.status != 0 && noModel.stderr.contains("--model is required"), "\(noModel.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
