import Foundation
import Testing
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
        c.epochs = 3
        c.batchSize = 12
        c.learningRate = 3e-3
        c.size = .small
        c.seed = 5
        c.edit = edit
        let trained = try #require(try ExperimentRunner.train(c).results.first)
        #expect(trained.task == task && trained.epochs == 3)
        let evaluated = try #require(try ExperimentRunner.evaluate(run: out).results.first)
        #expect(evaluated.metrics == trained.metrics, "\(evaluated.metrics) vs \(trained.metrics)")
        #expect(evaluated.robustness == trained.robustness)
        #expect(evaluated.parameters == trained.parameters)
        if task == "inr-editing" {
            #expect(trained.metrics["mse"].map { $0.isFinite && $0 >= 0 } == true)
            let gallery = try String(contentsOf: out.appendingPathComponent(ExperimentRunner.editGalleryFileName), encoding: .utf8)
            #expect(gallery.hasPrefix("<svg") && gallery.contains("target (\(edit!))"))
        } else {
            #expect(trained.metrics["accuracy"].map { (0...1).contains($0) } == true)
        }
    }

    @Test func commandLineTrainsAndEvaluatesAnEditor() throws {
        let out = runFolder("cli")
        defer { try? FileManager.default.removeItem(at: out) }
        let zoo = try INRZooFixture.zoo().path
        let train = try runNFN(["train", "--task", "inr-editing", "--edit", "erode", "--model", "np", "--zoo", zoo,
                                "--out", out.path, "--epochs", "2", "--small", "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try jsonObject(train.stdout)
        let metrics = try #require(trained["metrics"] as? [String: Double])
        #expect(metrics["mse"] != nil && metrics["no_edit_mse"] != nil)
        let evaluate = try runNFN(["evaluate", "--run", out.path, "--json"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(try jsonObject(evaluate.stdout)["metrics"] as? [String: Double] == metrics)

        // A wrong edit name fails with the valid ones listed, before anything is written.
        let bad = try runNFN(["train", "--task", "inr-editing", "--edit", "blur", "--model", "np", "--zoo", zoo,
                              "--out", out.appendingPathComponent("bad").path])
        #expect(bad.status != 0 && bad.stderr.contains("valid edits"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("bad").path))
    }
}
