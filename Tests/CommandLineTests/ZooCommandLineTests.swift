import Foundation
import Testing
import _TestSupport
import Zoo
#if canImport(Glibc)
import Glibc
#endif

@Suite(.enabled(if: nfnBinary != nil, "needs the nfn executable (build all products)"))
struct ZooCommandLineTests {
    let common = ["--family", "cnn", "--members", "8", "--dataset", "synthetic", "--epochs", "2",
                  "--checkpoint-epochs", "1,2", "--seed", "3", "--batch-size", "32"]

    @Test func generateInfoVerifyExportMerge() throws {
        let root = makeTemporaryDirectory("cli")
        let zoo = root.appendingPathComponent("zoo").path
        let g = try runNFN(["zoo", "generate"] + common + ["--out", zoo, "--workers", "2", "--json"])
        #expect(g.status == 0, "\(g.stderr)")
        // Not a terminal (a log): whole progress lines on stderr, the last one at 8/8; stdout stays JSON.
        let progress = g.stderr.split(separator: "\n")
        #expect(!progress.isEmpty && progress.allSatisfy { $0.hasPrefix("progress: ") }, "\(g.stderr)")
        #expect(progress.last?.contains("8/8 members") == true, "\(g.stderr)")
        let gj = try jsonObject(g.stdout)
        #expect(gj["generated"] as? Int == 8 && gj["complete"] as? Bool == true)
        // The CLI's defaults reproduce the library's spec exactly.
        #expect(try contents(of: URL(fileURLWithPath: zoo)) == contents(of: referenceZoo))

        let info = try jsonObject(try runNFN(["zoo", "info", zoo, "--json"]).stdout)
        #expect(info["members"] as? Int == 8)
        #expect(info["family"] as? String == "cnn")
        #expect(info["dataset"] as? String == "synthetic")
        let acc = try #require(info["test_accuracy"] as? [String: Any])
        let summary = try #require(ZooSummary(try ZooReader(directory: referenceZoo)).testAccuracy)
        #expect((acc["min"] as? Double).map(Float.init) == summary.min)
        #expect((acc["median"] as? Double).map(Float.init) == summary.median)
        #expect((acc["max"] as? Double).map(Float.init) == summary.max)
        let hp = try #require(info["hyperparameters"] as? [String: Any])
        #expect(hp["learning_rate"] != nil && hp["activation"] != nil)

        let v = try runNFN(["zoo", "verify", zoo, "--json"])
        #expect(v.status == 0, "\(v.stderr)")
        let vj = try jsonObject(v.stdout)
        #expect(vj["members"] as? Int == 8 && vj["checked"] as? Int == 8 && vj["mismatches"] as? Int == 0)
        #expect(try #require(vj["max_abs_accuracy_diff"] as? Double) <= 0.001)

        let e = try runNFN(["zoo", "export", zoo, "--out", root.appendingPathComponent("z.safetensors").path,
                            "--csv", root.appendingPathComponent("z.csv").path, "--epoch", "2", "--include-diverged", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try jsonObject(e.stdout)["rows"] as? Int == 8)

        var parts: [String] = []
        for k in 0..<2 {
            let part = root.appendingPathComponent("part\(k)").path
            let r = try runNFN(["zoo", "generate"] + common + ["--out", part, "--shard", "\(k)/2", "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty, "--quiet prints no progress: \(r.stderr)")
            parts.append(part)
        }
        let merged = root.appendingPathComponent("merged").path
        let m = try runNFN(["zoo", "merge", merged] + parts + ["--json"])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(try contents(of: URL(fileURLWithPath: merged)) == contents(of: referenceZoo))
    }

    @Test func killDashNineThenResumeGivesTheUninterruptedZoo() throws {
        let zoo = makeTemporaryDirectory("kill").appendingPathComponent("zoo")
        let args = ["zoo", "generate"] + common + ["--out", zoo.path, "--workers", "1", "--quiet"]
        let (p, _, _) = try startNFN(args)
        let records = zoo.appendingPathComponent(ZooLayout.records)
        let deadline = Date().addingTimeInterval(60)
        // Kill once the first members are committed (or whenever the run is over).
        while p.isRunning, Date() < deadline {
            if let d = try? Data(contentsOf: records), d.filter({ $0 == 0x0A }).count >= 4 { break }
            usleep(2_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let r = try runNFN(args + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try contents(of: zoo) == contents(of: referenceZoo))
    }

    @Test func badInputFailsWithAMessageNamingTheProblem() throws {
        let root = makeTemporaryDirectory("cli-bad")
        let unknown = try runNFN(["zoo", "generate", "--family", "resnet", "--out", root.appendingPathComponent("x").path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("resnet"))

        let specFile = root.appendingPathComponent("spec.json")
        let printed = try runNFN(["zoo", "generate", "--family", "cnn", "--print-spec"])
        #expect(printed.status == 0)
        try Data(printed.stdout.replacingOccurrences(of: #""family" : "cnn""#, with: #""family" : "resnet""#).utf8).write(to: specFile)
        let badSpec = try runNFN(["zoo", "generate", "--spec", specFile.path, "--out", root.appendingPathComponent("w").path])
        #expect(badSpec.status != 0)
        #expect(badSpec.stderr.contains(specFile.path) && badSpec.stderr.contains("unknown family 'resnet'"), "\(badSpec.stderr)")

        // Recipes: the transformer default is the reference one; v1 on request; unknown refused.
        let reference = try jsonObject(try runNFN(["zoo", "generate", "--family", "transformer", "--print-spec"]).stdout)
        #expect(reference["recipe"] as? String == "reference")
        #expect((reference["training"] as? [String: Any])?["shared_initialization"] as? Bool == true)
        let v1 = try jsonObject(try runNFN(["zoo", "generate", "--family", "transformer", "--recipe", "swiftnfn-v1", "--print-spec"]).stdout)
        #expect(v1["recipe"] == nil && (v1["training"] as? [String: Any])?["shared_initialization"] == nil)
        let badRecipe = try runNFN(["zoo", "generate", "--family", "transformer", "--recipe", "nfn", "--print-spec"])
        #expect(badRecipe.status != 0 && badRecipe.stderr.contains("--recipe"), "\(badRecipe.stderr)")
        // Engines: new CNN and transformer zoos use the member batch; --engine picks; unknown refused.
        #expect(reference["engine"] as? String == "member-batch")
        let tape = try jsonObject(try runNFN(["zoo", "generate", "--family", "cnn", "--engine", "tape", "--print-spec"]).stdout)
        #expect(tape["engine"] as? String == "tape")
        let badEngine = try runNFN(["zoo", "generate", "--family", "cnn", "--engine", "gpu", "--print-spec"])
        #expect(badEngine.status != 0 && badEngine.stderr.contains("--engine"), "\(badEngine.stderr)")

        let zoo = try copyOf(referenceZoo)
        try Data("{oops".utf8).write(to: zoo.appendingPathComponent(ZooLayout.manifest))
        for command in [["info"], ["verify"]] {
            let r = try runNFN(["zoo"] + command + [zoo.path])
            #expect(r.status != 0)
            #expect(r.stderr.contains(zoo.appendingPathComponent("zoo.json").path), "\(r.stderr)")
        }

        let notAZoo = try runNFN(["zoo", "info", root.path])
        #expect(notAZoo.status != 0 && notAZoo.stderr.contains("not a zoo"))

        let shard = try runNFN(["zoo", "generate"] + common + ["--out", root.appendingPathComponent("y").path, "--shard", "2/2"])
        #expect(shard.status != 0 && shard.stderr.contains("2/2"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("y").path))

        let missingData = try runNFN(["zoo", "generate", "--family", "cnn", "--data", "/nonexistent-zoo-data",
                                      "--out", root.appendingPathComponent("z").path])
        #expect(missingData.status != 0 && missingData.stderr.contains("/nonexistent-zoo-data"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("z").path))

        // A tampered zoo fails verification with a non-zero status.
        let tampered = try copyOf(referenceZoo)
        var lines = try recordLines(tampered)
        lines[3] = lines[3].replacingOccurrences(of: #""test_accuracy":"#, with: #""test_accuracy":0.9,"x":"#)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: tampered.appendingPathComponent(ZooLayout.records))
        let v = try runNFN(["zoo", "verify", tampered.path, "--json"])
        #expect(v.status == 1, "\(v.stdout) \(v.stderr)")
        #expect(try jsonObject(v.stdout)["mismatches"] as? Int == 1)
    }

    @Test func helpListsTheZooCommands() throws {
        let r = try runNFN(["zoo", "--help"])
        #expect(r.status == 0)
        for name in ["generate", "info", "merge", "verify", "export"] { #expect(r.stdout.contains(name)) }
    }
}
