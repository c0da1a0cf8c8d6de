import Foundation
import Testing
import _TestSupport
import Tensors
import TensorIO
import Zoo

/// Bad input never crashes: every corruption throws a ZooError naming the file.
@Suite struct ZooCorruptionTests {
    func expectZooError(_ body: () throws -> Void, mentioning file: String, _ detail: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as ZooError {
            #expect(error.description.contains(file), "\(error)", sourceLocation: sourceLocation)
            if let detail { #expect(error.description.contains(detail), "\(error)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("not a ZooError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func aFolderWithoutZooJSONIsNotAZoo() {
        let dir = makeTemporaryDirectory()
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: dir.path, "not a zoo")
    }

    @Test(arguments: [
        ("{not json", "corrupt zoo manifest"),
        (#"{"format": "swiftnfn-zoo"}"#, "missing key"),
        ("", "corrupt zoo manifest"),
    ])
    func corruptZooJSON(_ text: String, _ detail: String) throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        try Data(text.utf8).write(to: url)
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: url.path, detail)
        expectZooError({ _ = try ZooGenerator.generate(spec: tinySpec(), into: dir) }, mentioning: url.path)
    }

    func editManifest(_ dir: URL, _ edit: (String) -> String) throws -> URL {
        let url = dir.appendingPathComponent(ZooLayout.manifest)
        try Data(edit(String(decoding: try Data(contentsOf: url), as: UTF8.self)).utf8).write(to: url)
        return url
    }

    @Test func unknownFamilyAndFormatVersion() throws {
        let dir = try copyOf(referenceZoo)
        let url = try editManifest(dir) { $0.replacingOccurrences(of: #""family" : "cnn""#, with: #""family" : "resnet""#) }
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: url.path, "unknown family 'resnet'")
        let dir2 = try copyOf(referenceZoo)
        let url2 = try editManifest(dir2) { $0.replacingOccurrences(of: #""format_version" : 1"#, with: #""format_version" : 99"#) }
        expectZooError({ _ = try ZooReader(directory: dir2) }, mentioning: url2.path, "format_version 99")
    }

    @Test func malformedLinesInTheMiddleAreErrorsWithLineNumbers() throws {
        let dir = try copyOf(referenceZoo)
        let url = dir.appendingPathComponent(ZooLayout.records)
        var lines = try recordLines(dir)
        lines[3] = "{\"member\": oops"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: url.path + ":4:")

        lines = try recordLines(referenceZoo)
        lines[2] = lines[2].replacingOccurrences(of: #""member":1"#, with: #""member":99"#)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: url.path + ":3:", "outside 0..<8")

        lines = try recordLines(referenceZoo)
        lines.append(lines[0].replacingOccurrences(of: #""optimizer":""#, with: #""optimizer":"x"#))
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: url.path + ":17:")
    }

    @Test func aMissingShardIsNamed() throws {
        let dir = try copyOf(referenceZoo)
        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 3))
        try FileManager.default.removeItem(at: shard)
        expectZooError({ _ = try ZooReader(directory: dir) }, mentioning: shard.path, "missing")
    }

    @Test func aTruncatedShardIsNamedWhenRead() throws {
        let dir = try copyOf(referenceZoo)
        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 2))
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count / 2).write(to: shard)
        let reader = try ZooReader(directory: dir)
        let checkpoint = reader.checkpoints(member: 2)[0]
        expectZooError({ _ = try reader.parameters(of: checkpoint) }, mentioning: shard.path, "corrupt weight shard")
        expectZooError({ _ = try reader.features(reader.checkpoints(epoch: 1)) }, mentioning: shard.path)
        expectZooError({ _ = try ZooVerifier.verify(directory: dir) }, mentioning: shard.path)
        let out = makeTemporaryDirectory("export")
        expectZooError({
            _ = try reader.export(safetensors: out.appendingPathComponent("x.safetensors"), csv: out.appendingPathComponent("x.csv"))
        }, mentioning: shard.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test func recordsReferringToMissingTensorsAreNamed() throws {
        let dir = try copyOf(referenceZoo)
        let shard = dir.appendingPathComponent(ZooCheckpoint.shardName(member: 6))
        var file = try SafetensorsFile.read(from: shard)
        file["member-6/epoch-2/conv3.bias"] = nil
        file["member-6/epoch-1/conv1.weight"] = Tensor(zeros: [2, 2])
        try file.write(to: shard)
        let reader = try ZooReader(directory: dir)
        expectZooError({ _ = try reader.parameters(of: reader.checkpoints(member: 6)[1]) }, mentioning: shard.path,
                       "member-6/epoch-2/conv3.bias")
        expectZooError({ _ = try reader.parameters(of: reader.checkpoints(member: 6)[0]) }, mentioning: shard.path,
                       "member-6/epoch-1/conv1.weight")
        expectZooError({ _ = try ZooVerifier.verify(directory: dir) }, mentioning: shard.path)
    }
}
