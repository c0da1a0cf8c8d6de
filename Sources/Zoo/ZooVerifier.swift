import Foundation
import WeightSpace
import Tensors
import Autograd
import NeuralNetworks
import Training
import LinearAlgebra

/// Rebuilds members from their stored weights, re-evaluates them, and compares with the
/// recorded metrics — proof that the shards hold what `members.jsonl` describes.
///
/// Classifiers: test accuracy on the zoo's test set (same ``ZooDataSpec/testLimit``). SIREN: the
/// fit's mean squared error (recorded as `train_loss`). Diverged checkpoints have no metrics
/// and are skipped.
public enum ZooVerifier {
    /// How to verify.
    public struct Options: Sendable {
        /// Check a seeded random sample of this many members (`nil`: all).
        public var sample: Int?
        /// The seed of the sample.
        public var seed: UInt64
        /// Where the data is, when it moved since generation (`nil`: the recorded path); for an
        /// imported zoo recorded as `external`, the folder of the data set it names (see
        /// ``ZooDataSpec/imported(name:path:)``).
        public var dataPath: String?
        /// The largest acceptable |recorded − recomputed| (default 0.001).
        public var tolerance: Float
        /// Members evaluated concurrently.
        public var workers: Int

        /// Creates options (all members, tolerance 0.001).
        public init(sample: Int? = nil, seed: UInt64 = 0, dataPath: String? = nil, tolerance: Float = 0.001,
                    workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.sample = sample; self.seed = seed; self.dataPath = dataPath
            self.tolerance = tolerance; self.workers = workers
        }
    }

    /// One checkpoint whose recomputed metric differs from the record.
    public struct Mismatch: Codable, Sendable {
        /// The member.
        public var member: Int
        /// The checkpoint epoch.
        public var epoch: Int
        /// The metric in `members.jsonl`.
        public var recorded: Float
        /// The metric recomputed from the stored weights.
        public var recomputed: Float
    }

    /// The outcome (`nfn zoo verify --json`).
    public struct Report: Codable, Sendable {
        /// Complete members in the zoo.
        public var members: Int
        /// Members checked.
        public var checked: Int
        /// Checkpoints re-evaluated.
        public var checkpointsChecked: Int
        /// Checkpoints skipped (diverged, or recorded without the metric).
        public var skipped: Int
        /// `test_accuracy` (classifiers) or `mse` (SIREN).
        public var metric: String
        /// The largest |recorded − recomputed| of the metric.
        public var maxAbsAccuracyDiff: Float
        /// The tolerance used.
        public var tolerance: Float
        /// Checkpoints whose difference exceeds the tolerance.
        public var mismatches: Int
        /// Shards of the checked members whose bytes matched their recorded CRC-32.
        public var shardsChecksummed: Int
        /// Shards of the checked members recorded without a checksum (zoos written before
        /// checksums existed): only their metrics were compared.
        public var shardsWithoutChecksum: Int
        /// The first 20 mismatches.
        public var mismatchDetails: [Mismatch]

        enum CodingKeys: String, CodingKey {
            case members, checked
            case checkpointsChecked = "checkpoints_checked"
            case skipped, metric
            case maxAbsAccuracyDiff = "max_abs_accuracy_diff"
            case tolerance, mismatches
            case shardsChecksummed = "shards_checksummed"
            case shardsWithoutChecksum = "shards_without_checksum"
            case mismatchDetails = "mismatch_details"
        }
    }

    /// Verifies the zoo in `directory`.
    ///
    /// Each checked member's shard is first compared with the CRC-32 recorded in `members.jsonl`
    /// (when there is one), so damage that leaves the metric unchanged is found too.
    ///
    /// - Throws: the errors of ``ZooReader`` (missing shards, missing tensors, corrupt files, a
    ///   complete zoo whose `members.jsonl` is gone, empty or truncated);
    ///   ``ZooError/corruptShard(file:detail:)`` for a shard that does not match its checksum;
    ///   ``ZooError/invalidSpec(_:)`` for a NaN, infinite or negative tolerance;
    ///   ``ZooError/specMismatch(file:detail:)`` when the data found differs from the data the zoo
    ///   was trained on; data loading errors.
    public static func verify(directory: URL, options: Options = Options()) throws -> Report {
        // A NaN tolerance compares false with every difference; refuse it rather than report.
        guard options.tolerance.isFinite, options.tolerance >= 0 else {
            throw ZooError.invalidSpec("tolerance must be a finite number ≥ 0, got \(options.tolerance)")
        }
        try ZooLimits.checkWorkers(options.workers, option: "workers")
        let reader = try ZooReader(directory: directory)
        var dataSpec = reader.spec.data
        if dataSpec.kind == .external {
            // An imported zoo's data that was not at hand at import: resolve it by name now.
            guard let path = options.dataPath else {
                throw ZooError.invalidSpec("the zoo was imported without its data set '\(dataSpec.name ?? "?")': give its folder (--data DIR)")
            }
            dataSpec = ZooDataSpec.imported(name: dataSpec.name ?? "", path: path)
            guard dataSpec.kind != .external else {
                throw ZooError.invalidSpec("SwiftNFN has no loader for the data set '\(dataSpec.name ?? "?")' of this imported zoo")
            }
        } else if let path = options.dataPath {
            dataSpec.path = path
        }
        let data = try dataSpec.load()
        // An imported zoo whose data was not loaded at import has no fingerprint to compare.
        guard reader.manifest.dataFingerprint.isEmpty || data.fingerprint == reader.manifest.dataFingerprint else {
            throw ZooError.specMismatch(file: directory.appendingPathComponent(ZooLayout.manifest).path,
                                        detail: "the data at \(dataSpec.displayName) differs from the data the zoo was generated on")
        }
        var ids = reader.memberIDs
        if let n = options.sample, n < ids.count {
            guard n >= 0 else { throw ZooError.invalidSpec("sample must be ≥ 0") }
            var rng = SeededGenerator(seed: options.seed)
            ids = rng.permutation(ids.count).prefix(n).map { ids[$0] }.sorted()
        }
        let family = reader.family
        let batchSize = reader.spec.training.evaluationBatchSize
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var checked = 0, skipped = 0, maxDiff: Float = 0, checksummed = 0, unchecksummed = 0
            var mismatches: [Mismatch] = []
        }
        let results = Results()
        let tolerance = options.tolerance
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        try WorkerPool.run(ids, workers: Swift.max(1, options.workers)) { member in
            let checkpoints = reader.checkpoints(member: member)
            // Bytes first: a damaged shard is named even when the damage leaves the metric unchanged.
            var checksummed = false
            if let recorded = checkpoints.first?.shardCRC32, let first = checkpoints.first {
                let url = reader.shardURL(for: first)
                let actual = try ZooChecksum.crc32(ofFile: url)
                guard actual == recorded.lowercased() else {
                    throw ZooError.corruptShard(file: url.path, detail: "CRC-32 is \(actual), but members.jsonl records \(recorded): the file was damaged after it was written")
                }
                checksummed = true
            }
            let values = try reader.parameters(of: checkpoints)
            var local: [(ZooCheckpoint, Float?)] = []
            for (c, v) in zip(checkpoints, values) {
                guard !c.diverged, c.metric(for: family) != nil else { local.append((c, nil)); continue }
                let model = try reader.templateModel(c.hyperparameters)
                do { try model.loadParameterValues(v) } catch { local.append((c, nil)); continue }
                model.eval()
                let recomputed: Float
                if family.isClassifier {
                    recomputed = ClassifierTraining.evaluate(model, on: data.test, batchSize: batchSize).accuracy
                } else {
                    let split = reader.spec.data.imageSplit == .train ? data.train : data.test
                    let index = c.imageIndex ?? c.member
                    guard index < split.count else {
                        throw ZooError.memberFailed(member: member, detail: "image \(index) is not in the \(split.count)-image split")
                    }
                    let grid = SIRENRenderer.coordinates(height: split.height, width: split.width)
                    let prediction = model(Variable(grid)).value
                    recomputed = Loss.meanSquaredError(Variable(prediction), ZooModels.pixelTargets(split.image(at: index))).value.sum()
                }
                local.append((c, recomputed))
            }
            results.lock.lock()
            defer { results.lock.unlock() }
            if checksummed { results.checksummed += 1 } else { results.unchecksummed += 1 }
            for (c, recomputed) in local {
                guard let r = recomputed, let recorded = c.metric(for: family) else { results.skipped += 1; continue }
                results.checked += 1
                let diff = r.isFinite ? Swift.abs(r - recorded) : .infinity
                results.maxDiff = Swift.max(results.maxDiff, diff)
                if !(diff <= tolerance) {
                    results.mismatches.append(Mismatch(member: c.member, epoch: c.epoch, recorded: recorded, recomputed: r))
                }
            }
        }
        let sorted = results.mismatches.sorted { ($0.member, $0.epoch) < ($1.member, $1.epoch) }
        return Report(members: reader.memberIDs.count, checked: ids.count, checkpointsChecked: results.checked,
                      skipped: results.skipped, metric: family.isClassifier ? "test_accuracy" : "mse",
                      maxAbsAccuracyDiff: results.maxDiff, tolerance: tolerance, mismatches: sorted.count,
                      shardsChecksummed: results.checksummed, shardsWithoutChecksum: results.unchecksummed,
                      mismatchDetails: Array(sorted.prefix(20)))
    }
}
