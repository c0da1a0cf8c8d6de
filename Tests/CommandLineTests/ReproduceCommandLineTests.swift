import Foundation
import Testing
import _TestSupport

/// `nfn reproduce`: the experiment list, a quick-scale table with every field, zoo reuse and
/// resume, and clear errors for unknown names.
@Suite struct ReproduceCommandLineTests {
    @Test func listNamesEveryExperiment() throws {
        let r = try runNFN(["reproduce", "--list", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try jsonObject(r.stdout)
        let experiments = try #require(json["experiments"] as? [[String: Any]])
        #expect(experiments.compactMap { $0["name"] as? String } ==
                ["cnn-generalization", "inr-classification", "inr-editing", "transformer-generalization", "quasi-ablations"])
        let cnn = try #require(experiments.first?["parts"] as? [String: [String]])
        #expect(cnn["cnn-zoo"] == ["statnn", "mlp", "np", "hnp", "nft", "monomial", "graph-nn", "np-reference", "nft-reference"])
        #expect(try #require(json["scales"] as? [String]) == ["quick", "standard", "large"])
    }

    @Test func unknownExperimentOrScaleIsAClearError() throws {
        let experiment = try runNFN(["reproduce", "resnet-zoo", "--scale", "quick"])
        #expect(experiment.status != 0)
        #expect(experiment.stderr.contains("unknown experiment 'resnet-zoo'") && experiment.stderr.contains("cnn-generalization"))
        let scale = try runNFN(["reproduce", "cnn-generalization", "--scale", "huge"])
        #expect(scale.status != 0)
        #expect(scale.stderr.contains("unknown scale 'huge'") && scale.stderr.contains("quick"))
        let seeds = try runNFN(["reproduce", "cnn-generalization", "--scale", "quick", "--seeds", "0"])
        #expect(seeds.status != 0 && seeds.stderr.contains("--seeds"))
        let none = try runNFN(["reproduce"])
        #expect(none.status != 0 && none.stderr.contains("--list"))
    }

    @Test func quickCNNGeneralizationWritesTheTableAndReusesItsZoo() throws {
        let dir = makeTemporaryDirectory("reproduce")
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["reproduce", "cnn-generalization", "--scale", "quick", "--json", "--workers", "2",
                    "--cache", dir.appendingPathComponent("cache").path, "--out", dir.appendingPathComponent("out").path]
        let start = Date()
        let r = try runNFN(args)
        #expect(r.status == 0, "\(r.stderr)")
        // About 20 s alone (measured 18.7 s); inside the full suite, with the other suites on the
        // same 2 cores, it took 161 s for both runs, so the bound is loose.
        #expect(Date().timeIntervalSince(start) < 300)
        let json = try jsonObject(r.stdout)
        #expect(json["schema"] as? String == "swiftnfn.reproduction/1")
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["method"] as? String } == ["statnn", "mlp", "np", "hnp", "nft", "monomial", "graph-nn", "np-reference", "nft-reference"])
        for row in rows {
            let summary = try #require(row["summary"] as? [String: Any])
            #expect(summary["mean"] is Double && summary["sd"] is Double)
            #expect(row.keys.contains("paper"))
            let verdict = try #require(row["verdict"] as? [String: Any])
            #expect(["holds", "does-not-hold", "not-comparable"].contains(verdict["status"] as? String ?? ""))
            #expect((verdict["sentence"] as? String ?? "").count > 10)
            #expect(try #require(row["parameters"] as? Int) > 0)
            // The robustness columns, with how many members the scales acted on.
            let robustness = try #require(row["robustness"] as? [String: Any])
            #expect(robustness["scale [1, 100]"] != nil && robustness["permutation"] != nil)
            let acted = try #require(row["augmentedMembers"] as? [String: [String: Int]])
            let scaled = try #require(acted["scale [1, 100]"]), permuted = try #require(acted["permutation"])
            #expect(permuted["actedOn"] == permuted["of"])
            #expect(try #require(scaled["actedOn"]) <= scaled["of"] ?? 0)
        }
        let hnp = try #require(rows.first { $0["method"] as? String == "hnp" })
        let paper = try #require(hnp["paper"] as? [String: Any])
        #expect(paper["value"] as? Double == 0.934)
        #expect((hnp["verdict"] as? [String: Any])?["status"] as? String == "not-comparable")
        let claims = try #require(json["claims"] as? [[String: Any]])
        #expect(claims.count == 5)
        for file in ["reproduction.json", "reproduction.md"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/\(file)").path))
        }
        let zoos = try #require(json["zoos"] as? [[String: Any]])
        #expect(zoos.first?["generatedNow"] as? Int == zoos.first?["members"] as? Int)

        // The training runs live in the cache beside their zoo, one per (model, seed).
        let zooFolder = URL(fileURLWithPath: try #require(zoos.first?["directory"] as? String)).lastPathComponent
        let runs = dir.appendingPathComponent("cache/runs/\(zooFolder)/small/generalization")
        let monomialRun = runs.appendingPathComponent("monomial-seed0.checkpoint")
        let written = try #require(try FileManager.default.attributesOfItem(atPath: monomialRun.path)[.modificationDate] as? Date)

        // Again, into another output folder: the zoo is reused (spec hash) and every training run
        // resumes from its finished checkpoint in the cache (not rewritten), so the numbers are the same.
        var otherOut = args
        otherOut[otherOut.count - 1] = dir.appendingPathComponent("out2").path
        let again = try runNFN(otherOut)
        #expect(again.status == 0, "\(again.stderr)")
        let second = try jsonObject(again.stdout)
        #expect((second["zoos"] as? [[String: Any]])?.first?["generatedNow"] as? Int == 0)
        #expect((second["zoos"] as? [[String: Any]])?.first?["directory"] as? String == zoos.first?["directory"] as? String)
        let means = { (j: [String: Any]) in ((j["rows"] as? [[String: Any]]) ?? []).map { ($0["summary"] as? [String: Any])?["mean"] as? Double } }
        #expect(means(second) == means(json))
        // A reloaded run reports its epochs' time (not the moment it took to reload): at most the
        // first run's wall time, and above zero.
        let seconds = { (j: [String: Any]) in ((j["rows"] as? [[String: Any]]) ?? []).map { (($0["trainingSeconds"] as? [String: Any])?["mean"] as? Double) ?? -1 } }
        for (reloaded, trained) in zip(seconds(second), seconds(json)) where trained > 0 {
            #expect(reloaded > 0 && reloaded <= trained * 1.01 + 0.01, "\(reloaded) vs \(trained)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: monomialRun.path)[.modificationDate] as? Date == written)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out2/checkpoints").path))
    }

    /// Classification and editing train an `np` on the same SIREN zoo: two runs, kept apart by
    /// task in the shared cache (one folder per task), so the second table neither reuses nor
    /// refuses the first's checkpoint.
    @Test func twoTasksOnOneZooKeepTheirRunsApart() throws {
        let dir = makeTemporaryDirectory("reproduce-tasks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.appendingPathComponent("cache").path
        for experiment in ["inr-classification", "inr-editing"] {
            let r = try runNFN(["reproduce", experiment, "--scale", "quick", "--json", "--workers", "2", "--cache", cache,
                                "--out", dir.appendingPathComponent(experiment).path])
            #expect(r.status == 0, "\(experiment): \(r.stderr)")
        }
        let runs = dir.appendingPathComponent("cache/runs")
        let zoo = try #require(try FileManager.default.contentsOfDirectory(atPath: runs.path).first { $0.hasPrefix("siren-") })
        let tasks = try FileManager.default.contentsOfDirectory(atPath: runs.appendingPathComponent("\(zoo)/small").path)
        #expect(Set(tasks) == ["inr-classification", "inr-editing"])
        for task in tasks {
            let np = runs.appendingPathComponent("\(zoo)/small/\(task)/np-seed0.checkpoint")
            #expect(FileManager.default.fileExists(atPath: np.path), "\(np.path)")
        }
    }

    @Test func aForeignReportFileIsNotOverwritten() throws {
        let dir = makeTemporaryDirectory("reproduce-foreign")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("my notes".utf8).write(to: out.appendingPathComponent("reproduction.json"))
        let r = try runNFN(["reproduce", "cnn-generalization", "--scale", "quick", "--cache", dir.appendingPathComponent("cache").path,
                            "--out", out.path])
        #expect(r.status != 0 && r.stderr.contains("is not a reproduction report"))
        #expect(try String(contentsOf: out.appendingPathComponent("reproduction.json"), encoding: .utf8) == "my notes")
    }
}
