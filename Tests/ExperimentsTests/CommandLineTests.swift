import Foundation
import Testing
import Datasets

/// Runs the built `nfn` executable (it sits next to the test bundle in the build folder).
func runNFN(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let buildDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var binary = buildDir.appendingPathComponent("nfn")
    if !FileManager.default.fileExists(atPath: binary.path) {
        // Some runners launch the bundle through a helper one folder deeper.
        binary = buildDir.deletingLastPathComponent().appendingPathComponent("nfn")
    }
    let p = Process()
    p.executableURL = binary
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

func jsonObject(_ s: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
}

@Suite(.serialized) struct CommandLineTests {
    @Test(.enabled(if: FashionMNIST.isAvailable(split: .train)))
    func demoTrainsTheZooCNNToSeventyPercent() throws {
        let r = try runNFN(["demo", "--epochs", "1", "--json"])
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
        let missing = try runNFN(["demo", "--data", "/nonexistent-dir", "--json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent-dir"))
    }

    @Test func helpDescribesTheCommands() throws {
        let r = try runNFN(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("demo"))
        #expect(r.stdout.contains("check-symmetry"))
    }
}
