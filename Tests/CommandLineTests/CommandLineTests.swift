import Foundation
import Testing
import _TestSupport
import Datasets

@Suite(.serialized) struct CommandLineTests {
    @Test(.enabled(if: FashionMNIST.isAvailable(split: .train)))
    func trainCNNReachesSeventyPercent() throws {
        let r = try runNFN(["train-cnn", "--epochs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try jsonObject(r.stdout)
        let accuracy = try #require(json["test_accuracy"] as? Double)
        #expect(accuracy >= 0.70, "test accuracy \(accuracy)")
        #expect(json["parameters"] as? Int == 4970)
        #expect(json["test_examples"] as? Int == 10_000)
        #expect((json["seconds"] as? Double ?? 0) > 0)
    }

    @Test func checkSymmetryReportsTrueAndFalseSymmetries() throws {
        let r = try runNFN(["check-symmetry", "--family", "mlp", "--group", "hnp", "--trials", "20", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try jsonObject(r.stdout)
        #expect(json["family"] as? String == "mlp")
        #expect(json["is_true_symmetry"] as? Bool == true)
        #expect(try #require(json["true_symmetry_max_rel_dev"] as? Double) <= 1e-4)
        #expect(try #require(json["false_symmetry_max_rel_dev"] as? Double) >= 1e-2)

        let scale = try jsonObject(try runNFN(["check-symmetry", "--family", "cnn", "--group", "scale",
                                               "--activation", "tanh", "--trials", "3", "--json"]).stdout)
        #expect(scale["is_true_symmetry"] as? Bool == false)
        #expect(try #require(scale["true_symmetry_max_rel_dev"] as? Double) >= 1e-2)

        let attention = try jsonObject(try runNFN(["check-symmetry", "--family", "transformer", "--group", "attention",
                                                   "--trials", "3", "--json"]).stdout)
        #expect(try #require(attention["true_symmetry_max_rel_dev"] as? Double) <= 1e-4)
        #expect(try #require(attention["max_condition_number"] as? Double) <= 100)
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let r = try runNFN(["check-symmetry", "--family", "mlp", "--group", "attention"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("use --family transformer"))
        let unknown = try runNFN(["check-symmetry", "--family", "resnet", "--group", "hnp"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("resnet"))
        let missing = try runNFN(["train-cnn", "--data", "/nonexistent-dir", "--json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent-dir"))
    }

    @Test func checkEquivarianceSeparatesInvariantModelsFromBaselines() throws {
        func report(_ model: String) throws -> [String: Any] {
            let r = try runNFN(["check-equivariance", "--model", model, "--trials", "10", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            return try jsonObject(r.stdout)
        }
        let hnp = try report("hnp")
        let hnpDev = try #require(hnp["invariance_max_rel_dev"] as? [String: Double])
        #expect(try #require(hnpDev["hnp"]) <= 1e-4)
        #expect(try #require(hnp["parameters"] as? Int) > 0)
        let mono = try #require(try report("monomial")["invariance_max_rel_dev"] as? [String: Double])
        #expect(try #require(mono["scale[1,10]"]) <= 1e-4)
        let statnn = try #require(try report("statnn")["invariance_max_rel_dev"] as? [String: Double])
        #expect(try #require(statnn["hnp"]) <= 1e-4)
        #expect(try #require(statnn["scale[1,10]"]) >= 1e-2)
        let mlp = try #require(try report("mlp")["invariance_max_rel_dev"] as? [String: Double])
        #expect(try #require(mlp["hnp"]) >= 1e-2)
        let tnfn = try #require(try report("transformer-nfn")["invariance_max_rel_dev"] as? [String: Double])
        #expect(try #require(tnfn["attention"]) <= 1e-4)
        let unknown = try runNFN(["check-equivariance", "--model", "resnet"])
        #expect(unknown.status != 0 && unknown.stderr.contains("resnet"))
    }

    @Test(.enabled(if: FashionMNIST.isAvailable(split: .train)))
    func quickMainJobRunsEndToEnd() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        let r = try runNFN(["demo", "--quick", "--json", "--cache", dir.appendingPathComponent("cache").path,
                            "--report", dir.appendingPathComponent("report").path])
        #expect(r.status == 0, "\(r.stderr)")
        // Standalone the quick job takes well under 3 minutes; here other suites share the 2
        // cores, so the bound is looser.
        #expect(Date().timeIntervalSince(start) < 400)
        let json = try jsonObject(r.stdout)
        let results = try #require(json["results"] as? [[String: Any]])
        let models = results.compactMap { $0["model"] as? String }
        #expect(models == ["statnn", "mlp", "hnp", "nft", "monomial", "quasi-monomial",
                           "transformer-statnn", "transformer-mlp", "transformer-nfn", "quasi-transformer-nfn"])
        for result in results {
            let metrics = try #require(result["metrics"] as? [String: Any])
            #expect(metrics["tau"] != nil)
            let model = result["model"] as? String ?? ""
            // Invariant models: the augmented test sets give exactly the same ranking.
            if ["monomial", "quasi-monomial", "transformer-nfn", "quasi-transformer-nfn", "hnp", "nft"].contains(model),
               let tau = metrics["tau"] as? Double, let robustness = result["robustness"] as? [String: Double] {
                for (aug, t) in robustness where model.contains("monomial") || model.contains("transformer") || aug == "permutation" {
                    #expect(abs(t - tau) < 1e-9, "\(model) under \(aug): \(t) vs \(tau)")
                }
            }
        }
        let notes = try #require(json["notes"] as? [String])
        #expect(notes.contains { $0.hasPrefix("claim: equivariant ≥ STATNN ≥ flat MLP") })
        for file in ["results.json", "results.md", "learning-curves-cnn-zoo-quick-seed0.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report/\(file)").path), "\(file)")
        }
        // The results page (Docs/MainJobResults.md after a full run) states every model's τ, and
        // --rewrite-summary renders the same page again from results.json alone.
        let pageURL = dir.appendingPathComponent("report/summary.md")
        let page = try String(contentsOf: pageURL, encoding: .utf8)
        for result in results {
            if let metrics = result["metrics"] as? [String: Any], let tau = metrics["tau"] as? Double, tau.isFinite {
                #expect(page.contains(String(format: "%.3f", tau)), "\(result["model"] ?? "?"): τ \(tau) not on the page")
            }
        }
        try FileManager.default.removeItem(at: pageURL)
        let rewrite = try runNFN(["demo", "--rewrite-summary", "--report", dir.appendingPathComponent("report").path])
        #expect(rewrite.status == 0, "\(rewrite.stderr)")
        #expect(try String(contentsOf: pageURL, encoding: .utf8) == page)
        // The second run reuses the cached zoos.
        let again = try runNFN(["demo", "--quick", "--cache", dir.appendingPathComponent("cache").path,
                                "--report", dir.appendingPathComponent("report2").path])
        #expect(again.status == 0)
        #expect(again.stderr.contains("(0 trained now)"))
    }

    @Test func helpDescribesTheCommands() throws {
        let r = try runNFN(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("demo"))
        #expect(r.stdout.contains("check-symmetry"))
    }
}
