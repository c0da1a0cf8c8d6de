import Foundation
import Testing
import TensorIO
import _TestSupport
import SwiftNFN

/// The INR tasks through `ExperimentRunner` and the `nfn` command line: a run folder trains,
/// and `evaluate` on it reproduces the test numbers training reported.
@Suite(.serialized) struct INRRunnerTests {
    func runFolder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("swiftnfn-inr-runner-\(name)-\(UUID().uuidString)")
    }

    @Test(arguments: [("inr-classification", "hnp", nil), ("inr-editing", "hnp", "dilate"), ("inr-editing", "mlp", "contrast")]
          as [(String, String, String?)])
    func trainThenEvaluateReproducesTheTestNumbers(_ task: String, _ model: String, _ edit: String?) throws {
        let out = runFolder(task)
        defer { try? FileManager.default.removeItem(at: out) }
        var c = ExperimentConfiguration(task: try ExperimentTask(name: task), model: model,
                                        zoo: try INRZooFixture.zoo().path, out: out.path)
        c.training.epochs = 3
        c.training.batchSize = 12
        c.training.learningRate = 3e-3
        c.size = .small
        c.training.seed = 5
        c.edit = edit
        let trained = try #require(try ExperimentRunner.train(c).results.first)
        #expect(trained.task == task && trained.epochs == 3)
        let evaluated = try #require(try ExperimentRunner.evaluate(run: out).results.first)
        #expect(evaluated.metrics == trained.metrics, "\(evaluated.metrics) vs \(trained.metrics)")
        #expect(evaluated.robustness == trained.robustness)
        #expect(evaluated.parameters == trained.parameters)
        if task == "inr-editing" {
            #expect(trained.metrics["mse"].map { $0.isFinite && $0 >= 0 } == true)
            let gallery = try String(contentsOf: out.appendingPathComponent(INREditingExperiment.galleryFileName), encoding: .utf8)
            #expect(gallery.hasPrefix("<svg") && gallery.contains("target (\(edit!))"))
        } else {
            #expect(trained.metrics["accuracy"].map { (0...1).contains($0) } == true)
        }
    }

    @Test func aModelAboveMaxParametersIsRefusedBeforeAnythingIsWritten() throws {
        let out = runFolder("too-large")
        defer { try? FileManager.default.removeItem(at: out) }
        var c = ExperimentConfiguration(task: .inrClassification, model: "hnp", zoo: try INRZooFixture.zoo().path, out: out.path)
        c.training.epochs = 1
        c.size = .small
        c.maxParameters = 100
        var lines: [String] = []
        let message = configurationError { try ExperimentRunner.train(c, log: { lines.append($0) }) }
        #expect(message?.contains("above max_parameters 100") == true, "\(message ?? "no error")")
        #expect(message?.contains("--force") == true)
        #expect(lines.first?.contains("parameters; checkpoint ≈") == true, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let forced = try ExperimentRunner.train(c, force: true)
        #expect(forced.results.first.map { $0.parameters > 100 } == true)
    }

    @Test func aSecondTrainingIntoTheSameFolderIsRefused() throws {
        let out = runFolder("locked")
        defer { try? FileManager.default.removeItem(at: out) }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var c = ExperimentConfiguration(task: .inrClassification, model: "np", zoo: try INRZooFixture.zoo().path, out: out.path)
        c.training.epochs = 1
        c.size = .small
        // Another process's lock (flock locks are per open file, so this holder counts as one).
        let held = try FileLock(out.appendingPathComponent(ExperimentRunner.lockFileName))
        #expect(throws: ExperimentError.self) { try ExperimentRunner.train(c) }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(ExperimentRunner.configurationFileName).path))
        held.release()
        #expect(try ExperimentRunner.train(c).results.count == 1)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(ExperimentRunner.lockFileName).path))
    }
}
