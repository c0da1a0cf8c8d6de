import Foundation
import Testing
import _TestSupport
import Tensors
import TensorIO
import Datasets
import Zoo

/// Zoo folders on damaged input: `zoo.json` fields out of range, truncated or nested absurdly;
/// `members.jsonl` gone, empty, cut off or edited; shards with flipped bits or cut off. Each is a
/// ``ZooError`` naming the file (and field), and a resumed generation regenerates damaged members.
@Suite(.serialized) struct ZooFaultTests {
    // MARK: zoo.json

    /// (JSON path, value, fragment the error must name).
    nonisolated(unsafe) static let manifestOverrides: [([String], Any, String)] = [
        (["spec", "members"], Int.max, "members"),
        (["spec", "members"], 1_000_001, "members"),
        (["spec", "members"], 0, "members"),
        (["spec", "members"], -1, "members"),
        (["classes"], Int.max, "classes"),
        (["classes"], 1_000_000_000, "classes"),
        (["classes"], 0, "classes"),
        (["image_shape"], [1, Int.max, 28], "image_shape"),
        (["image_shape"], [1, 0, 28], "image_shape"),
        (["image_shape"], [1, 28], "image_shape"),
        (["image_shape"], [100_000, 100_000, 100_000], "image_shape"),
        (["spec", "architecture", "filters"], Int.max, "filters"),
        (["spec", "architecture", "filters"], 1_000_000, "filters"),
        (["spec", "architecture", "filters"], 0, "filters"),
        (["spec", "training", "epochs"], Int.max, "epochs"),
        (["spec", "training", "batch_size"], Int.max, "batch_size"),
        (["spec", "training", "batch_size"], 0, "batch sizes"),
        (["spec", "training", "evaluation_batch_size"], Int.max, "evaluation_batch_size"),
        (["spec", "training", "checkpoint_epochs"], [Int.max], "checkpoint epoch"),
        (["spec", "training", "checkpoint_epochs"], [Int](repeating: 1, count: 20_000), "checkpoint_epochs"),
        (["spec", "training", "warmup_epochs"], Int.max, "warmup_epochs"),
        (["spec", "data", "synthetic_train_count"], Int.max, "synthetic_train_count"),
        (["spec", "data", "synthetic_test_count"], -5, "synthetic_test_count"),
        (["format_version"], Int.max, "format_version"),
        (["shard"], ["index": Int.max, "count": Int.max, "strategy": "contiguous"], "shard"),
        (["shard"], ["index": 3, "count": 2, "strategy": "contiguous"], "shard 3/2"),
        (["shard"], ["index": 0, "count": Int.max, "strategy": "strided"], "shard 0/"),
        (["spec", "members"], "many", "members"),
        (["classes"], -3, "classes"),
    ]

    static func edit(_ object: inout [String: Any], _ path: [String], _ value: Any) -> Bool {
        guard let key = path.first else { return false }
        if path.count == 1 {
            // `shard` is left out of an unsharded zoo's manifest; every other field must exist.
            guard object[key] != nil || key == "shard" else { return false }
            object[key] = value
            return true
        }
        guard var child = object[key] as? [String: Any] else { return false }
        let done = edit(&child, Array(path.dropFirst()), value)
        object[key] = child
        return done
    }

    @Test(arguments: 0..<manifestOverrides.count)
    func manifestFieldOutOfRange(_ index: Int) throws {
        let (path, value, fragment) = Self.manifestOverrides[index]
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(Self.edit(&object, path, value), "\(path) is not a field of zoo.json")
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        expectError(ZooError.self, mentioning: [url.path, fragment], "\(path) = \(value)") { _ = try ZooReader(directory: dir) }
    }

    /// zoo.json cut at 16 points: an error naming it, never a crash.
    @Test(arguments: 0..<16)
    func manifestTruncated(_ index: Int) throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        let data = try Data(contentsOf: url)
        let cut = cutPoints(data.count - 2, count: 16)[index]   // −2: the closing brace and newline
        try truncated(data, to: cut).write(to: url)
        expectError(ZooError.self, mentioning: [url.path], "cut at \(cut)") { _ = try ZooReader(directory: dir) }
    }

    /// Structure a JSON parser could mishandle: nesting 100,000 deep, a repeated key.
    @Test(arguments: ["deep", "deep-object", "duplicate"])
    func manifestStructure(_ kind: String) throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        var text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        switch kind {
        case "deep": text = text.replacingOccurrences(of: "{", with: "{\"x\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + ",", options: [], range: text.range(of: "{"))
        case "deep-object": text = String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000)
        default: text = text.replacingOccurrences(of: "{", with: "{\"classes\": 10,", options: [], range: text.range(of: "{"))
        }
        try Data(text.utf8).write(to: url)
        expectError(ZooError.self, mentioning: [url.path], kind) { _ = try ZooReader(directory: dir) }
    }

    // MARK: members.jsonl

    /// A complete zoo whose members.jsonl is cut at 12 points (0 = empty): reading and verifying
    /// it is an error naming the file, not a smaller zoo.
    @Test(arguments: 0..<12)
    func recordsTruncated(_ index: Int) throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.records)
        let data = try Data(contentsOf: url)
        let cut = cutPoints(data.count - 1, count: 12)[index]
        try truncated(data, to: cut).write(to: url)
        expectError(ZooError.self, mentioning: [url.path, "complete"], "cut at \(cut)") { _ = try ZooReader(directory: dir) }
        expectError(ZooError.self, mentioning: [url.path], "verify, cut at \(cut)") { _ = try ZooVerifier.verify(directory: dir) }
    }

    @Test func recordsGoneOrEmpty() throws {
        let gone = try copyOf(referenceZoo)
        try FileManager.default.removeItem(at: gone.appendingPathComponent(ZooLayout.records))
        expectError(ZooError.self, mentioning: [ZooLayout.records, "no such file"], "gone") { _ = try ZooVerifier.verify(directory: gone) }
        let empty = try copyOf(referenceZoo)
        try Data().write(to: empty.appendingPathComponent(ZooLayout.records))
        expectError(ZooError.self, mentioning: [ZooLayout.records, "no records"], "empty") { _ = try ZooVerifier.verify(directory: empty) }
        let lines = try recordLines(referenceZoo)
        let dropped = try copyOf(referenceZoo)
        try Data((lines.dropLast(2).joined(separator: "\n") + "\n").utf8).write(to: dropped.appendingPathComponent(ZooLayout.records))
        expectError(ZooError.self, mentioning: [ZooLayout.records, "members 7"], "last member removed") { _ = try ZooReader(directory: dropped) }
    }

    /// Edited record lines: (replace, with, fragment).
    static let recordEdits: [(String, String, String)] = [
        (#""member":0,"#, #""member":9223372036854775807,"#, "member"),
        (#""member":0,"#, #""member":-1,"#, "member"),
        (#""epoch":1,"#, #""epoch":9223372036854775807,"#, "epoch"),
        (#""shard_crc32":""#, #""shard_crc32":"zz"#, "shard_crc32"),
        (#""member":0,"#, #""member":0,"member":1,"#, "twice"),
        (#""member":0,"#, #""x":"# + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + #","member":0,"#, "nested"),
        (#""member":0,"#, #""member":"zero","#, "member"),
    ]

    @Test(arguments: 0..<recordEdits.count)
    func recordLineEdited(_ index: Int) throws {
        let (old, new, fragment) = Self.recordEdits[index]
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.records)
        var lines = try recordLines(dir)
        #expect(lines[0].contains(old), "line 1 has no \(old)")
        lines[0] = lines[0].replacingOccurrences(of: old, with: new)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        expectError(ZooError.self, mentioning: [url.path + ":1:", fragment], "\(new.prefix(40))") { _ = try ZooReader(directory: dir) }
    }

    @Test func conflictingChecksumsOfOneMember() throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.records)
        var lines = try recordLines(dir)
        let crc = try #require(lines[1].range(of: #""shard_crc32":"([0-9a-f]{8})""#, options: .regularExpression))
        lines[1].replaceSubrange(crc, with: #""shard_crc32":"00000000""#)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        expectError(ZooError.self, mentioning: [url.path + ":2:", "disagree on shard_crc32"]) { _ = try ZooReader(directory: dir) }
    }

    // MARK: Shards

    /// Damage to member 5's shard: 8 bit flips (anywhere, even in weights whose change leaves the
    /// accuracy as it was) and 4 truncations; verify names the shard.
    static let shardDamage: [(kind: String, at: Double)] =
        [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999].map { ("flip", $0) } + [0.0, 0.25, 0.5, 0.99].map { ("cut", $0) }

    static func damage(_ shard: URL, _ kind: String, _ at: Double) throws {
        let bytes = try Data(contentsOf: shard)
        let offset = min(bytes.count - 1, Int(Double(bytes.count) * at))
        try (kind == "flip" ? flipped(bytes, at: offset, bit: 3) : truncated(bytes, to: offset)).write(to: shard)
    }

    @Test(arguments: 0..<shardDamage.count)
    func damagedShardFailsVerify(_ index: Int) throws {
        let (kind, at) = Self.shardDamage[index]
        let dir = try copyOf(referenceZoo)
        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 5))
        try Self.damage(shard, kind, at)
        expectError(ZooError.self, mentioning: [shard.path], "\(kind) at \(at)") { _ = try ZooVerifier.verify(directory: dir) }
    }

    /// Rerunning generate on a complete zoo with a damaged shard regenerates that member, and the
    /// folder ends byte-for-byte equal to the undamaged zoo (3 flips, 2 cuts).
    @Test(arguments: [0, 3, 7, 8, 10])
    func resumeRegeneratesADamagedShard(_ index: Int) throws {
        let (kind, at) = Self.shardDamage[index]
        let dir = try copyOf(referenceZoo)
        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 5))
        try Self.damage(shard, kind, at)
        let report = try ZooGenerator.generate(spec: tinySpec(), into: dir, options: ZooGenerationOptions(workers: 2))
        #expect(report.damaged == [5] && report.generated == 1 && report.complete, "\(kind) at \(at): \(report)")
        #expect(try contents(of: dir) == contents(of: referenceZoo))
    }

    /// A zoo written before checksums (no shard_crc32) still reads and verifies, and says so; a
    /// truncated shard in it is still found on resume (it no longer parses).
    @Test func zooWithoutChecksumsStillReads() throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.records)
        let lines = try recordLines(dir).map { $0.replacingOccurrences(of: #","shard_crc32":"[0-9a-f]{8}""#, with: "", options: .regularExpression) }
        #expect(!lines.joined().contains("shard_crc32"))
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        let report = try ZooVerifier.verify(directory: dir)
        #expect(report.mismatches == 0 && report.shardsWithoutChecksum == 8 && report.shardsChecksummed == 0)
        let reference = try ZooVerifier.verify(directory: referenceZoo)
        #expect(reference.shardsChecksummed == 8 && reference.shardsWithoutChecksum == 0)

        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 2))
        try Self.damage(shard, "cut", 0.5)
        let resumed = try ZooGenerator.generate(spec: tinySpec(), into: dir, options: ZooGenerationOptions(workers: 2))
        #expect(resumed.damaged == [2] && resumed.generated == 1)
        #expect(try ZooVerifier.verify(directory: dir).mismatches == 0)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity, -0.5])
    func verifyRefusesABadTolerance(_ tolerance: Float) throws {
        expectError(ZooError.self, mentioning: ["tolerance"], "\(tolerance)") {
            _ = try ZooVerifier.verify(directory: referenceZoo, options: .init(tolerance: tolerance))
        }
    }

    // MARK: Spec files and sizes from the library API

    /// Specs whose sizes would overflow or allocate absurd amounts (set through the API).
    static let specOverrides: [(String, @Sendable (inout ZooSpec) -> Void)] = [
        ("members Int.max", { $0.members = .max }),
        ("epochs Int.max", { $0.training.epochs = .max; $0.training.checkpointEpochs = [1] }),
        ("batch Int.max", { $0.training.batchSize = .max }),
        ("filters Int.max", { $0.architecture.filters = .max }),
        ("synthetic count Int.max", { $0.data.syntheticTrainCount = .max }),
        ("hidden widths", { $0.family = .mlp; $0.architecture.hiddenWidths = [Int.max] }),
        ("many hidden layers", { $0.family = .mlp; $0.architecture.hiddenWidths = [Int](repeating: 4, count: 1000) }),
    ]

    @Test(arguments: 0..<specOverrides.count)
    func generateRefusesAbsurdSizesBeforeAllocating(_ index: Int) throws {
        let (label, change) = Self.specOverrides[index]
        var spec = tinySpec()
        change(&spec)
        let out = makeTemporaryDirectory("absurd").appendingPathComponent("zoo")
        expectError(ZooError.self, mentioning: ["invalid zoo spec"], label) { _ = try ZooGenerator.generate(spec: spec, into: out) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test(arguments: 0..<3)
    func specFileStructure(_ index: Int) throws {
        var text = String(decoding: try JSONEncoder().encode(tinySpec()), as: UTF8.self)
        switch index {
        case 0: text = "{\"members\": 4, " + text.dropFirst()
        case 1: text = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        default: text = String(text.prefix(text.count / 2))
        }
        let url = try scratchFile("spec.json", Data(text.utf8))
        expectError(ZooError.self, mentioning: [url.path], "spec \(index)") { _ = try ZooSpec.load(from: url) }
    }

    @Test func specFileThatIsAFIFO() throws {
        let url = makeTemporaryDirectory("fifo").appendingPathComponent("spec.json")
        try makeFIFO(url)
        let result = withDeadline(10) { _ = try ZooSpec.load(from: url) }
        #expect(result != nil, "ZooSpec.load blocked on a FIFO")
        if let result { #expect(throws: ZooError.self) { try result.get() } }
    }
}
