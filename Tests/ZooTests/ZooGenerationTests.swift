import Foundation
import Testing
import _TestSupport
import Tensors
import TensorIO
import NeuralNetworks
import WeightSpace
import Zoo
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ZooGenerationTests {
    @Test func theReferenceZooIsCompleteAndCanonical() throws {
        let manifest = try ZooManifest.read(from: referenceZoo)
        #expect(manifest.complete)
        #expect(manifest.shard == nil)
        #expect(manifest.imageShape == [1, 28, 28] && manifest.classes == 10)
        let lines = try recordLines(referenceZoo)
        #expect(lines.count == 8 * 2)
        let reader = try ZooReader(directory: referenceZoo)
        #expect(reader.checkpoints.map { [$0.member, $0.epoch] } == (0..<8).flatMap { [[$0, 1], [$0, 2]] })
        #expect(reader.memberIDs == Array(0..<8))
        let files = try contents(of: referenceZoo).keys.sorted()
        #expect(files == ["members.jsonl"] + (0..<8).map { ZooCheckpoint.shardName(member: $0) } + ["zoo.json"])
        for c in reader.checkpoints where !c.diverged {
            #expect(c.testAccuracy != nil && c.trainLoss != nil)
            #expect(c.hyperparameters == ZooMemberTrainer.hyperparameters(spec: reader.spec, member: c.member))
        }
        // The sampled recipe produces a spread, not eight copies of one network.
        let accuracies = reader.checkpoints(epoch: 2).compactMap(\.testAccuracy)
        #expect(Set(accuracies).count >= 4, "\(accuracies)")
    }

    @Test func sameSeedGivesTheSameBytesWhateverTheWorkerCount() throws {
        let other = makeTemporaryDirectory()
        let report = try ZooGenerator.generate(spec: tinySpec(), into: other, options: ZooGenerationOptions(workers: 1))
        #expect(report.generated == 8 && report.complete)
        #expect(try contents(of: other) == contents(of: referenceZoo))

        let reseeded = makeTemporaryDirectory()
        _ = try ZooGenerator.generate(spec: tinySpec(members: 2, seed: 4), into: reseeded)
        let a = try ZooReader(directory: referenceZoo), b = try ZooReader(directory: reseeded)
        #expect(try a.parameters(of: a.checkpoints[0]) != b.parameters(of: b.checkpoints[0]))
    }

    @Test func aMemberAloneEqualsTheSameMemberInTheZoo() throws {
        let reader = try ZooReader(directory: referenceZoo)
        let data = try reader.spec.data.load()
        let output = try ZooMemberTrainer.train(member: 5, spec: reader.spec, data: data)
        // The generator adds the shard's checksum when it writes the shard; the rest is the trainer's.
        #expect(output.checkpoints == reader.checkpoints(member: 5).map { c in
            var line = c
            line.shardCRC32 = nil
            return line
        })
        let stored = try reader.parameters(of: reader.checkpoints(member: 5))
        for (c, values) in zip(output.checkpoints, stored) {
            for (path, t) in values { #expect(output.tensors[c.tensorPrefix + path] == t) }
        }
    }

    @Test func resumingAfterACrashGivesTheUninterruptedZoo() throws {
        let dir = makeTemporaryDirectory()
        let partial = try ZooGenerator.generate(spec: tinySpec(), into: dir,
                                                options: ZooGenerationOptions(workers: 1, maximumNewMembers: 5))
        #expect(partial.generated == 5 && !partial.complete)
        #expect(try !ZooManifest.read(from: dir).complete)
        // The crash: the last member's append was cut mid-line, and its shard is gone as well.
        let records = dir.appendingPathComponent(ZooLayout.records)
        let bytes = try Data(contentsOf: records)
        try bytes.prefix(bytes.count - 57).write(to: records)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(ZooCheckpoint.shardName(member: 4)))
        // A shard whose lines never made it is ignored and overwritten.
        try Data("garbage".utf8).write(to: dir.appendingPathComponent(ZooCheckpoint.shardName(member: 6)))

        let interrupted = try ZooReader(directory: dir)
        #expect(interrupted.memberIDs == [0, 1, 2, 3])
        #expect(interrupted.ignoredPartialLine)
        #expect(interrupted.incompleteMembers == [4])

        let resumed = try ZooGenerator.generate(spec: tinySpec(), into: dir, options: ZooGenerationOptions(workers: 2))
        #expect(resumed.resumed == 4 && resumed.generated == 4 && resumed.complete)
        #expect(try contents(of: dir) == contents(of: referenceZoo))
    }

    @Test func aHalfAppendedMemberIsRegeneratedNotDuplicated() throws {
        let dir = try copyOf(referenceZoo)
        // Keep member 7's first line only (as if the kill hit between its two lines), and mark the
        // zoo incomplete, as it would be before the final rewrite.
        var lines = try recordLines(dir)
        lines.removeLast()
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent(ZooLayout.records))
        let manifestURL = dir.appendingPathComponent(ZooLayout.manifest)
        let manifest = String(decoding: try Data(contentsOf: manifestURL), as: UTF8.self)
        try Data(manifest.replacingOccurrences(of: #""complete" : true"#, with: #""complete" : false"#).utf8).write(to: manifestURL)
        #expect(try ZooReader(directory: dir).incompleteMembers == [7])
        let report = try ZooGenerator.generate(spec: tinySpec(), into: dir)
        #expect(report.generated == 1 && report.resumed == 7)
        #expect(try contents(of: dir) == contents(of: referenceZoo))
    }

    @Test(arguments: ZooShard.Strategy.allCases)
    func shardsMergeIntoTheSingleRunZoo(_ strategy: ZooShard.Strategy) throws {
        let root = makeTemporaryDirectory("shards")
        var parts: [URL] = []
        for k in 0..<3 {
            let part = root.appendingPathComponent("part\(k)")
            let shard = try ZooShard(index: k, count: 3, strategy: strategy)
            let report = try ZooGenerator.generate(spec: tinySpec(), into: part, options: ZooGenerationOptions(shard: shard, workers: 1))
            #expect(report.complete && report.present == shard.memberIDs(of: 8).count)
            #expect(try ZooManifest.read(from: part).shard == shard)
            parts.append(part)
        }
        let merged = root.appendingPathComponent("merged")
        let report = try ZooMerger.merge(sources: parts.reversed(), into: merged)
        #expect(report.complete && report.members == 8)
        #expect(try contents(of: merged) == contents(of: referenceZoo))

        // Overlapping sources are fine when they agree.
        let again = root.appendingPathComponent("again")
        _ = try ZooMerger.merge(sources: parts + [referenceZoo], into: again)
        #expect(try contents(of: again) == contents(of: referenceZoo))

        // A partial merge is an incomplete zoo that `generate` completes.
        let partial = root.appendingPathComponent("partial")
        #expect(try !ZooMerger.merge(sources: [parts[0]], into: partial).complete)
        _ = try ZooGenerator.generate(spec: tinySpec(), into: partial)
        #expect(try contents(of: partial) == contents(of: referenceZoo))
    }

    @Test func mergingConflictingZoosFailsAndWritesNothing() throws {
        let root = makeTemporaryDirectory("conflict")
        let other = root.appendingPathComponent("other")
        _ = try ZooGenerator.generate(spec: tinySpec(members: 2, seed: 9), into: other)
        let out = root.appendingPathComponent("out")
        #expect { try ZooMerger.merge(sources: [referenceZoo, other], into: out) } throws: { error in
            guard case .specMismatch(let file, let detail) = error as? ZooError else { return false }
            return file.hasPrefix(other.path) && detail.contains("members") && detail.contains("seed")
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["other"])

        // Same spec on other data.
        var spec = tinySpec(members: 2)
        spec.data.syntheticTestCount = 64
        let otherData = root.appendingPathComponent("other-data")
        _ = try ZooGenerator.generate(spec: spec, into: otherData)
        #expect(throws: ZooError.self) { try ZooMerger.merge(sources: [referenceZoo, otherData], into: out) }

        // A non-empty output is never overwritten.
        #expect(throws: ZooError.outputExists(file: other.path)) { try ZooMerger.merge(sources: [referenceZoo], into: other) }
    }

    @Test func resumingWithAnotherSpecShardOrDataIsRefused() throws {
        let dir = try copyOf(referenceZoo)
        var spec = tinySpec()
        spec.space.dropout = .fixed(0)
        #expect { try ZooGenerator.generate(spec: spec, into: dir) } throws: { error in
            guard case .specMismatch(let file, let detail) = error as? ZooError else { return false }
            return file.hasSuffix("zoo.json") && detail.contains("space")
        }
        #expect(throws: ZooError.self) {
            try ZooGenerator.generate(spec: tinySpec(), into: dir, options: ZooGenerationOptions(shard: try ZooShard(index: 0, count: 2)))
        }
        // Moving the data is fine (the path is not part of the identity); the zoo is untouched.
        var moved = tinySpec()
        moved.data.path = "/elsewhere"
        #expect(try ZooGenerator.generate(spec: moved, into: dir).generated == 0)
        #expect(try contents(of: dir) == contents(of: referenceZoo))
    }

    @Test func foreignFoldersBadDataAndHeldLocksAreRefused() throws {
        let root = makeTemporaryDirectory("refuse")
        let foreign = root.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        #expect(throws: ZooError.outputExists(file: foreign.path)) { try ZooGenerator.generate(spec: tinySpec(), into: foreign) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: foreign.path) == ["notes.txt"])

        var spec = tinySpec()
        spec.data = ZooDataSpec(kind: .idx, path: root.appendingPathComponent("no-such-data").path)
        let never = root.appendingPathComponent("never")
        #expect(throws: (any Error).self) { try ZooGenerator.generate(spec: spec, into: never) }
        #expect(!FileManager.default.fileExists(atPath: never.path))

        let dir = try copyOf(referenceZoo)
        let fd = open(dir.appendingPathComponent(ZooLayout.lock).path, O_RDWR | O_CREAT, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(throws: ZooError.locked(file: dir.appendingPathComponent(ZooLayout.lock).path)) {
            try ZooGenerator.generate(spec: tinySpec(), into: dir)
        }
        close(fd)
    }

    @Test func verifyAgreesAndCatchesTamperedWeights() throws {
        let report = try ZooVerifier.verify(directory: referenceZoo, options: .init(workers: 2))
        #expect(report.members == 8 && report.checked == 8)
        #expect(report.checkpointsChecked + report.skipped == 16)
        #expect(report.checkpointsChecked >= 12)
        #expect(report.maxAbsAccuracyDiff <= 0.001)
        #expect(report.mismatches == 0)

        let sample = try ZooVerifier.verify(directory: referenceZoo, options: .init(sample: 3, seed: 1))
        #expect(sample.checked == 3 && sample.mismatches == 0)

        // Scramble one member's final classifier: its recomputed accuracy moves.
        let dir = try copyOf(referenceZoo)
        let reader = try ZooReader(directory: dir)
        let target = try #require(reader.checkpoints(epoch: 2).first { ($0.testAccuracy ?? 0) > 0.15 })
        let shardURL = reader.shardURL(for: target)
        var file = try SafetensorsFile.read(from: shardURL)
        let name = target.tensorPrefix + "classifier.bias"
        file[name] = Tensor(shape: [10], scalars: [100] + [Float](repeating: 0, count: 9))
        try file.write(to: shardURL)
        // The shard no longer matches its recorded checksum: named before anything is re-evaluated.
        #expect { try ZooVerifier.verify(directory: dir) } throws: { error in
            guard case .corruptShard(let f, let detail) = error as? ZooError else { return false }
            return f == shardURL.path && detail.contains("CRC-32")
        }
        // With the checksum updated too (a deliberate rewrite), re-evaluation still catches it.
        let records = dir.appendingPathComponent(ZooLayout.records)
        let crc = try ZooChecksum.crc32(ofFile: shardURL)
        let old = try #require(target.shardCRC32)
        try Data(String(decoding: try Data(contentsOf: records), as: UTF8.self)
            .replacingOccurrences(of: #""shard_crc32":"\#(old)""#, with: #""shard_crc32":"\#(crc)""#).utf8).write(to: records)
        let tampered = try ZooVerifier.verify(directory: dir)
        #expect(tampered.mismatches >= 1)
        #expect(tampered.mismatchDetails.first?.member == target.member)
        #expect(tampered.maxAbsAccuracyDiff > 0.001)
    }

    @Test func featuresMatchTheRebuiltModelsAndSkipNonFiniteMembers() throws {
        let dir = try copyOf(referenceZoo)
        var reader = try ZooReader(directory: dir)
        let finals = reader.checkpoints(epoch: 2)
        let batch = try reader.features(finals, filter: ZooCheckpointFilter(skipDiverged: false))
        #expect(batch.features.batchSize == finals.count)
        #expect(batch.features.weights.map(\.shape) == [[8, 1, 16, 1, 3, 3], [8, 1, 16, 16, 3, 3], [8, 1, 16, 16, 3, 3], [8, 1, 10, 16]])
        let model = try #require(try reader.model(for: finals[3]) as? SmallCNN)
        let single = WeightSpaceFeatures(model: model)
        #expect(batch.features.member(3) == single)
        #expect(try reader.features(indices: [7, 1]).checkpoints.map { [$0.member, $0.epoch] } == [[3, 2], [0, 2]])

        // Poison member 2's final weights with a NaN.
        let victim = finals[2]
        let url = reader.shardURL(for: victim)
        var file = try SafetensorsFile.read(from: url)
        var w = try #require(file[victim.tensorPrefix + "conv2.weight"])
        w.withUnsafeMutableBufferPointer { $0[5] = .nan }
        file[victim.tensorPrefix + "conv2.weight"] = w
        try file.write(to: url)
        reader = try ZooReader(directory: dir)
        let filtered = try reader.features(finals, filter: ZooCheckpointFilter(skipDiverged: false))
        #expect(filtered.skippedNonFinite == 1)
        #expect(filtered.features.batchSize == 7)
        #expect(!filtered.checkpoints.contains { $0.member == 2 })
        #expect(!filtered.features.hasNonFinite)
        #expect(throws: ZooError.self) { try reader.transformerFeatures(finals) }
    }

    @Test func infoNumbersMatchTheRecords() throws {
        let reader = try ZooReader(directory: referenceZoo)
        let summary = ZooSummary(reader)
        #expect(summary.members == 8 && summary.planned == 8 && summary.complete)
        #expect(summary.checkpoints == 16 && summary.epochs == [1, 2])
        #expect(summary.family == .cnn && summary.dataset == "synthetic")
        let accuracies = reader.checkpoints(epoch: 2).compactMap(\.testAccuracy).sorted()
        let s = try #require(summary.testAccuracy)
        #expect(s.count == accuracies.count)
        #expect(s.min == accuracies.first && s.max == accuracies.last)
        #expect(s.median == (accuracies[3] + accuracies[4]) / 2)
        #expect(summary.mse == nil)
        let hp = reader.memberIDs.map { ZooMemberTrainer.hyperparameters(spec: reader.spec, member: $0) }
        #expect(summary.hyperparameters["learning_rate"]?.min == hp.compactMap(\.learningRate).min())
        #expect(summary.hyperparameters["learning_rate"]?.max == hp.compactMap(\.learningRate).max())
        let optimizerCounts = Dictionary(grouping: hp, by: { $0.optimizer?.rawValue ?? "" }).mapValues(\.count)
        #expect(summary.hyperparameters["optimizer"]?.values == optimizerCounts)
        #expect(summary.text.contains("8/8 members"))
    }

    @Test func exportWritesStackedTensorsAndACSV() throws {
        let root = makeTemporaryDirectory("export")
        let reader = try ZooReader(directory: referenceZoo)
        let st = root.appendingPathComponent("zoo.safetensors"), csv = root.appendingPathComponent("zoo.csv")
        let report = try reader.export(safetensors: st, csv: csv, filter: ZooCheckpointFilter(skipDiverged: false))
        #expect(report.rows == 16)
        let file = try SafetensorsFile.read(from: st)
        #expect(file["conv1.weight"]?.shape == [16, 16, 1, 3, 3])
        #expect(file["classifier.bias"]?.shape == [16, 10])
        let table = String(decoding: try Data(contentsOf: csv), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(table.count == 17)
        let header = table[0].split(separator: ",").map(String.init)
        #expect(Array(header.prefix(4)) == ["row", "member", "epoch", "diverged"])
        #expect(header.contains("learning_rate") && header.contains("bias_initializer") && header.contains("image_index"))
        let row5 = table[6].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let c = reader.checkpoints[5]
        #expect(row5[1] == "\(c.member)" && row5[2] == "\(c.epoch)")
        #expect(Float(row5[header.firstIndex(of: "test_accuracy")!]) == c.testAccuracy)
        let stacked = try #require(file["conv2.weight"])
        #expect(stacked.slice(axis: 0, 5..<6).reshaped([16, 16, 3, 3]) == (try reader.parameters(of: c))["conv2.weight"])

        // Existing files are replaced only when asked to.
        #expect(throws: ZooError.self) { try reader.export(safetensors: st, csv: csv, epoch: 2) }
        let onlyFinal = try reader.export(safetensors: st, csv: csv, epoch: 2, overwrite: true)
        #expect(onlyFinal.rows + onlyFinal.skippedDiverged == 8)
        #expect(throws: ZooError.self) { try reader.export(safetensors: st, csv: csv, epoch: 5, overwrite: true) }
    }

    @Test func exportNeverWritesIntoTheZooAndCreatesMissingFolders() throws {
        let zoo = try copyOf(referenceZoo)
        let reader = try ZooReader(directory: zoo)
        let before = try contents(of: zoo)
        let root = makeTemporaryDirectory("export-guard")
        for (st, csv) in [(zoo.appendingPathComponent("zoo.json"), root.appendingPathComponent("a.csv")),
                          (root.appendingPathComponent("a.safetensors"), zoo.appendingPathComponent(ZooLayout.records)),
                          (root.appendingPathComponent("same"), root.appendingPathComponent("same"))] {
            #expect(throws: ZooError.self) { try reader.export(safetensors: st, csv: csv, overwrite: true) }
        }
        #expect(try contents(of: zoo) == before)
        let nested = root.appendingPathComponent("new/folder")
        let report = try reader.export(safetensors: nested.appendingPathComponent("z.safetensors"), csv: nested.appendingPathComponent("z.csv"))
        #expect(report.rows > 0 && FileManager.default.fileExists(atPath: nested.appendingPathComponent("z.csv").path))
    }
}
