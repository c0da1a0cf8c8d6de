import Foundation
import Testing
import _TestSupport
import Experiments

/// `nfn train --model xgboost|random-forest` and `nfn evaluate` on a small synthetic CNN zoo.
@Suite struct TreeEnsembleCommandLineTests {
    /// 40 CNN members, 1 epoch on the synthetic digits: 24 training checkpoints.
    static let zoo: URL = {
        let dir = makeTemporaryDirectory("tree-cli").appendingPathComponent("cnn-zoo")
        let r = try! runNFN(["zoo", "generate", "--dataset", "synthetic", "--family", "cnn", "--members", "40", "--epochs", "1",
                             "--seed", "2", "--out", dir.path])
        precondition(r.status == 0, "zoo generation failed: \(r.stderr)")
        return dir
    }()

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The papers' min_child_weight 50 is above this zoo's 24 training checkpoints; 3 lets trees split.
    private func train(_ model: String, out: URL, extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runNFN(["train", "--model", model, "--zoo", Self.zoo.path, "--out", out.path, "--seed", "1",
                    "--tree-min-child-weight", "3", "--json"] + extra)
    }

    @Test(arguments: ["xgboost", "random-forest"])
    func trainsSavesXGBoostsFormatAndEvaluateReproducesTau(_ model: String) throws {
        let out = makeTemporaryDirectory("tree-\(model)")
        let r = try train(model, out: out, extra: model == "xgboost" ? ["--tree-rounds", "12"] : ["--tree-parallel-trees", "20"])
        #expect(r.status == 0, "\(r.stderr)")
        let trained = try json(r.stdout)
        // NaN travels as the string "nan" (τ at accuracy ≥ 0.5 is undefined on this zoo).
        let metrics = try #require(trained["metrics"] as? [String: Any])
        let tau = try #require(metrics["tau"] as? Double)
        #expect(tau.isFinite && tau > -1 && tau <= 1)
        let configuration = try #require(trained["configuration"] as? [String: String])
        // XGBoost keeps the best-validation prefix of its rounds; the forest is one round of 20 trees.
        #expect(configuration["trees"] == (model == "xgboost" ? configuration["best_round"] : "20"), "\(configuration)")
        #expect(configuration["tree_min_child_weight"] == "3.0" && configuration["tree_max_depth"] == "10")
        #expect(configuration["features"]?.hasPrefix("STATNN statistics (56 per checkpoint)") == true, "\(configuration)")
        #expect(r.stderr.contains("round 1: train RMSE"), "\(r.stderr)")
        // The model is XGBoost's own UBJ (a '{' and an object marker), next to the fit record.
        let bytes = try Data(contentsOf: out.appendingPathComponent(TreeEnsembleRunner.modelFileName))
        #expect(bytes.first == UInt8(ascii: "{"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(TreeEnsembleRunner.fitFileName).path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(ExperimentRunner.checkpointFileName).path))

        // nfn evaluate reloads the booster and reproduces every test number.
        let e = try runNFN(["evaluate", "--run", out.path, "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let evaluated = try json(e.stdout)
        #expect(NSDictionary(dictionary: try #require(evaluated["metrics"] as? [String: Any])).isEqual(to: metrics))
        #expect(evaluated["predictions"] as? [Double] == trained["predictions"] as? [Double])
        let robustness = try #require(trained["robustness"] as? [String: Any])
        #expect(robustness.count == 3)
        // The statistics are invariant to neuron permutations, so is every prediction made from them.
        #expect(robustness["permutation"] as? Double == tau)
        #expect(NSDictionary(dictionary: try #require(evaluated["robustness"] as? [String: Any])).isEqual(to: robustness))

        // Same seed, same folder: the refit gives the same numbers; another configuration is refused.
        let again = try train(model, out: out, extra: model == "xgboost" ? ["--tree-rounds", "12"] : ["--tree-parallel-trees", "20"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(NSDictionary(dictionary: try #require(try json(again.stdout)["metrics"] as? [String: Any])).isEqual(to: metrics))
        let clash = try train(model, out: out, extra: ["--tree-max-depth", "3"])
        #expect(clash.status == 1 && clash.stderr.contains("differs in:") && clash.stderr.contains("tree_max_depth"), "\(clash.stderr)")
    }

    @Test func treeKeysAreCheckedAndRefusedForMetanetworks() throws {
        let dir = makeTemporaryDirectory("tree-bad")
        let range = try train("xgboost", out: dir.appendingPathComponent("a"), extra: ["--tree-subsample", "1.5"])
        #expect(range.status == 1 && range.stderr.contains("tree_subsample must be in (0, 1]"), "\(range.stderr)")
        let wrongModel = try runNFN(["train", "--model", "hnp", "--zoo", Self.zoo.path, "--out", dir.appendingPathComponent("b").path,
                                     "--tree-rounds", "5"])
        #expect(wrongModel.status == 1 && wrongModel.stderr.contains("tree_rounds: only the tree ensembles"), "\(wrongModel.stderr)")
        // The papers' min_child_weight on 24 checkpoints: no split, so every round is a single leaf,
        // the validation τ is undefined and the first round is kept.
        let flat = try runNFN(["train", "--model", "xgboost", "--zoo", Self.zoo.path, "--out", dir.appendingPathComponent("c").path,
                               "--tree-rounds", "3", "--json"])
        #expect(flat.status == 0, "\(flat.stderr)")
        let configuration = try #require(try json(flat.stdout)["configuration"] as? [String: String])
        #expect(configuration["leaves"] == "1" && configuration["best_round"] == "1", "\(configuration)")
        for name in ["a", "b"] { #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).appendingPathComponent("model.ubj").path)) }
    }
}
