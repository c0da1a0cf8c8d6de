import Foundation
import Testing
import _TestSupport

/// `nfn train` / `nfn evaluate` on a SIREN zoo, end to end.
@Suite(.enabled(if: nfnBinary != nil, "needs the nfn executable (build all products)"))
struct INRCommandLineTests {
    @Test func commandLineTrainsAndEvaluatesAnEditor() throws {
        let out = makeTemporaryDirectory("inr-cli")
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

        // The finished run in a comparison table: the task's metric is MSE.
        let report = try runNFN(["report", out.path, "--out", out.appendingPathComponent("comparison").path])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("| inr-editing |") && report.stdout.contains("| mse |"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("comparison/comparison-mse.svg").path))

        // A wrong edit name fails with the valid ones listed, before anything is written.
        let bad = try runNFN(["train", "--task", "inr-editing", "--edit", "blur", "--model", "np", "--zoo", zoo,
                              "--out", out.appendingPathComponent("bad").path])
        #expect(bad.status != 0 && bad.stderr.contains("valid edits"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("bad").path))
    }
}
