import Foundation
import Testing
import _TestSupport
import Zoo

@Suite(.enabled(if: nfnBinary != nil, "needs the nfn executable (build all products)"))
struct ImportCommandLineTests {
    @Test func importSmallCNNZooThenVerify() throws {
        let source = try FakeSmallCNNZoo.standard().write()
        let out = makeTemporaryDirectory("cli-import").appendingPathComponent("zoo").path
        let r = try runNFN(["zoo", "import", "small-cnn-zoo", source.path, "--out", out, "--dataset", "synthetic", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try jsonObject(r.stdout)
        #expect(j["members"] as? Int == 2)
        #expect(j["skipped_nonfinite"] as? Int == 2)
        #expect(j["skipped_other"] as? Int == 0)
        #expect(j["out"] as? String == out)
        let v = try runNFN(["zoo", "verify", out, "--json"])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect(try jsonObject(v.stdout)["mismatches"] as? Int == 0)
        let info = try runNFN(["zoo", "info", out])
        #expect(info.stdout.contains("imported from small-cnn-zoo"), "\(info.stdout)")

        // Text output, a step filter, and a refusal to overwrite.
        let out2 = makeTemporaryDirectory("cli-import").appendingPathComponent("zoo").path
        let t = try runNFN(["zoo", "import", "small-cnn-zoo", source.path, "--out", out2, "--step", "86", "--dataset", "synthetic"])
        #expect(t.status == 0 && t.stdout.contains("2 cnn members, 2 checkpoints at epochs 86"), "\(t.stdout)\(t.stderr)")
        let again = try runNFN(["zoo", "import", "small-cnn-zoo", source.path, "--out", out2])
        #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
    }

    @Test func badInputFailsCleanly() throws {
        let source = try FakeSmallCNNZoo.standard().write()
        let url = source.appendingPathComponent("weights.npy")
        try Data(try Data(contentsOf: url).prefix(1000)).write(to: url)
        let out = makeTemporaryDirectory("cli-import").appendingPathComponent("zoo")
        let r = try runNFN(["zoo", "import", "small-cnn-zoo", source.path, "--out", out.path, "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("weights.npy: cannot import"), "\(r.stderr)")
        #expect(leftNothing(at: out))
    }

    @Test func importPyTorchAndNpz() throws {
        let dir = makeTemporaryDirectory("cli-pt")
        for f in [ImportFixtures.run1Epoch75, ImportFixtures.run2Epoch75, ImportFixtures.pickledModule] {
            try f.bytes.write(to: dir.appendingPathComponent(f.file))
        }
        let out = makeTemporaryDirectory("cli-import").appendingPathComponent("zoo").path
        let r = try runNFN(["zoo", "import", "pytorch", dir.path, "--out", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try jsonObject(r.stdout)
        #expect(j["members"] as? Int == 2 && j["skipped_other"] as? Int == 1)
        let strict = try runNFN(["zoo", "import", "pytorch", dir.path, "--out", out + "-strict", "--strict"])
        #expect(strict.status == 1 && strict.stderr.contains("pickled_module.pt"), "\(strict.stderr)")

        let npz = dir.appendingPathComponent(ImportFixtures.stackedMLP.file)
        try ImportFixtures.stackedMLP.bytes.write(to: npz)
        let out3 = makeTemporaryDirectory("cli-import").appendingPathComponent("zoo").path
        let n = try runNFN(["zoo", "import", "npz", npz.path, "--out", out3, "--family", "mlp", "--activation", "relu", "--json"])
        #expect(n.status == 0, "\(n.stderr)")
        #expect(try jsonObject(n.stdout)["skipped_nonfinite"] as? Int == 1)
    }
}
