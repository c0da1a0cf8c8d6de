import Foundation

/// The observed range of one hyper-parameter over a zoo's members.
public struct ZooHyperparameterRange: Codable, Sendable, Equatable {
    /// Smallest value (real hyper-parameters).
    public var min: Double?
    /// Largest value (real hyper-parameters).
    public var max: Double?
    /// How many members took each value (categorical hyper-parameters).
    public var values: [String: Int]?
}

/// The headline metric after one checkpoint epoch.
public struct ZooEpochSummary: Codable, Sendable, Equatable {
    /// The checkpoint epoch.
    public var epoch: Int
    /// Min/median/max over members that did not diverge.
    public var summary: ZooMetricSummary?
}

/// What `nfn zoo info` prints: size, family, data, metric spread and hyper-parameter ranges.
public struct ZooSummary: Codable, Sendable {
    /// The zoo folder.
    public var directory: String
    /// The family.
    public var family: ZooFamily
    /// The data set's name.
    public var dataset: String
    /// The on-disk format version.
    public var formatVersion: Int
    /// Complete members present.
    public var members: Int
    /// Members the folder should hold (its shard, or the spec's count).
    public var planned: Int
    /// The folder's shard (`k/n`), if it is one.
    public var shard: String?
    /// Whether the folder's range is complete.
    public var complete: Bool
    /// Checkpoint records of complete members.
    public var checkpoints: Int
    /// The checkpoint epochs.
    public var epochs: [Int]
    /// Members whose training diverged.
    public var diverged: Int
    /// Members with some but not all lines (left by an interrupted run).
    public var incompleteMembers: Int
    /// Whether `members.jsonl` ends in a cut-off line.
    public var ignoredPartialLine: Bool
    /// Test accuracy at the last checkpoint epoch over members that did not diverge (classifiers).
    public var testAccuracy: ZooMetricSummary?
    /// The fits' mean squared error at the last checkpoint epoch (SIREN).
    public var mse: ZooMetricSummary?
    /// The headline metric after each checkpoint epoch.
    public var byEpoch: [ZooEpochSummary]
    /// Observed ranges by hyper-parameter name.
    public var hyperparameters: [String: ZooHyperparameterRange]
    /// The zoo seed.
    public var seed: UInt64
    /// The training recipe (`swiftnfn-v1` for zoos written before recipes were recorded).
    public var recipe: ZooRecipe
    /// How the members were computed (``ZooSpec/effectiveEngine``).
    public var engine: ZooEngine
    /// Whether every member started from the same initial draw.
    public var sharedInitialization: Bool
    /// SIREN: the fits' PSNR (dB) at the last checkpoint epoch, when recorded.
    public var psnr: ZooMetricSummary?
    /// Where an imported zoo came from (`nil`: generated).
    public var source: ZooImportSource?

    enum CodingKeys: String, CodingKey {
        case directory, family, dataset
        case formatVersion = "format_version"
        case members, planned, shard, complete, checkpoints, epochs, diverged
        case incompleteMembers = "incomplete_members"
        case ignoredPartialLine = "ignored_partial_line"
        case recipe, engine
        case sharedInitialization = "shared_initialization"
        case psnr
        case testAccuracy = "test_accuracy"
        case mse
        case byEpoch = "by_epoch"
        case hyperparameters, seed, source
    }

    /// Summarises an open zoo (reads no weights).
    public init(_ reader: ZooReader) {
        let m = reader.manifest
        directory = reader.directory.path
        recipe = m.spec.effectiveRecipe
        engine = m.spec.effectiveEngine
        sharedInitialization = m.spec.training.sharedInitialization == true
        family = reader.family
        dataset = m.spec.data.displayName
        formatVersion = m.formatVersion
        members = reader.memberIDs.count
        planned = m.memberIDs.count
        shard = m.shard?.description
        complete = m.complete
        checkpoints = reader.checkpoints.count
        epochs = reader.epochs
        diverged = Set(reader.checkpoints.filter(\.diverged).map(\.member)).count
        incompleteMembers = reader.incompleteMembers.count
        ignoredPartialLine = reader.ignoredPartialLine
        seed = m.spec.seed
        source = m.source
        let family = reader.family
        byEpoch = reader.epochs.map { e in
            ZooEpochSummary(epoch: e, summary: ZooMetricSummary(reader.checkpoints(epoch: e).compactMap { $0.metric(for: family) }))
        }
        let last = byEpoch.last?.summary
        testAccuracy = family.isClassifier ? last : nil
        mse = family.isClassifier ? nil : last
        let lastEpoch = reader.epochs.last
        psnr = ZooMetricSummary(reader.checkpoints.filter { $0.epoch == lastEpoch }.compactMap(\.psnr))
        var ranges: [String: ZooHyperparameterRange] = [:]
        let firstPerMember = Dictionary(grouping: reader.checkpoints, by: \.member).compactMap { $0.value.first }
        for c in firstPerMember {
            for (name, value) in c.hyperparameters.values {
                var r = ranges[name] ?? ZooHyperparameterRange()
                switch value {
                case .number(let v):
                    r.min = Swift.min(r.min ?? v, v)
                    r.max = Swift.max(r.max ?? v, v)
                case .text(let s):
                    r.values = r.values ?? [:]
                    r.values![s, default: 0] += 1
                }
                ranges[name] = r
            }
        }
        hyperparameters = ranges
    }

    /// A few human-readable lines.
    public var text: String {
        var lines = ["\(directory): \(family.rawValue) zoo on \(dataset), \(members)/\(planned) members"
            + (shard.map { " (shard \($0))" } ?? "") + (complete ? ", complete" : ", incomplete")
            + ", \(checkpoints) checkpoints at epochs \(epochs.map(String.init).joined(separator: ","))"]
        lines.append("recipe: \(recipe.rawValue)" + (sharedInitialization ? ", one shared initial draw" : ", each member its own initial draw")
            + ", engine: \(engine.rawValue)")
        if let p = psnr { lines.append(String(format: "fit PSNR at the last checkpoint: min %.1f dB, median %.1f dB, max %.1f dB", p.min, p.median, p.max)) }
        if let s = source {
            lines.append("imported from \(s.format) \(s.path): \(s.rows) source checkpoints, skipped \(s.skippedNonFinite) with NaN/∞ weights and \(s.skippedOther) others")
        }
        if diverged > 0 { lines.append("diverged members: \(diverged)") }
        if incompleteMembers > 0 || ignoredPartialLine {
            lines.append("left by an interrupted run: \(incompleteMembers) unfinished members" + (ignoredPartialLine ? ", a cut-off last line" : ""))
        }
        let metricName = family.isClassifier ? "test accuracy" : "MSE"
        for e in byEpoch {
            if let s = e.summary {
                lines.append(String(format: "epoch %d %@: min %.4f, median %.4f, max %.4f (%d members)",
                                    e.epoch, metricName, s.min, s.median, s.max, s.count))
            }
        }
        for name in MemberHyperparameters.names {
            guard let r = hyperparameters[name] else { continue }
            if let lo = r.min, let hi = r.max {
                lines.append("  \(name): \(lo) … \(hi)")
            } else if let v = r.values {
                lines.append("  \(name): " + v.keys.sorted().map { "\($0) (\(v[$0]!))" }.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
