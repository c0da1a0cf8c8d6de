import Foundation
import Training
import Metanetworks
import Zoo

/// One paper table that `nfn reproduce` can run: its parts (one zoo each), their methods, and the
/// claims checked on the result.
public struct ReproductionExperiment: Sendable {
    /// The name on the command line (`cnn-generalization`, …).
    public var name: String
    /// What the table shows.
    public var title: String
    /// The tables' parts, each on its own zoo.
    public var parts: [ReproductionPart]
    /// The papers' claims checked on this table.
    public var claims: [ReproductionClaim]
}

/// Trains a part's methods on its zoo for every seed: results by model, one per seed.
public typealias ReproductionPartRunner = @Sendable (
    _ zoo: URL, _ spec: ZooSpec, _ models: [String], _ seeds: [UInt64], _ configuration: MetanetworkTrainingConfiguration,
    _ size: MetanetworkKind.Size, _ checkpoints: URL, _ log: @escaping @Sendable (String) -> Void
) throws -> [String: [ModelResult]]

/// One zoo of a reproduction table and the methods trained on it.
public struct ReproductionPart: Sendable {
    /// The part's name (`cnn-zoo`, `transformer-zoo`, `siren-zoo`).
    public var name: String
    /// The main metric (`tau`, `accuracy`, `mse`).
    public var metric: String
    /// Whether a larger metric is better.
    public var higherIsBetter: Bool
    /// The methods, in table order.
    public var methods: [ReproductionMethod]
    /// The names the part's task can build (checked before anything is trained).
    public var modelNames: [String]
    /// The zoo recipe at a scale.
    public var zooSpec: @Sendable (ReproductionScale, ReproductionOptions) -> ZooSpec
    /// The metanetwork training recipe at a scale (its seed is replaced per run).
    public var training: @Sendable (ReproductionScale) -> MetanetworkTrainingConfiguration
    /// Accuracy thresholds at which τ is also reported (τ over test members at or above each).
    public var accuracyThresholds: [Double] = []
    /// Loads the zoo and trains.
    public var run: ReproductionPartRunner
}

extension ReproductionPart {
    /// A runner for any ``MetanetworkTask``: one member-grouped split per seed, every model trained
    /// with the seed's configuration, resuming from its checkpoint in `checkpoints/TASK` when there
    /// is one (the task in the path keeps two tasks on one zoo apart: an `np` editor and an `np`
    /// classifier of the same SIRENs are different runs).
    public static func runner<T: MetanetworkTask & SendableMetatype>(_: T.Type, load: @escaping @Sendable (URL, ZooSpec) throws -> T.Data)
        -> ReproductionPartRunner {
        { zoo, spec, models, seeds, configuration, size, checkpoints, log in
            let data = try load(zoo, spec)
            let checkpoints = checkpoints.appendingPathComponent(T.task.rawValue)
            try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
            var results: [String: [ModelResult]] = [:]
            for seed in seeds {
                let split = try T.split(data, seed: seed)
                var c = configuration
                c.seed = seed
                for model in models {
                    let checkpoint = checkpoints.appendingPathComponent("\(model)-seed\(seed).checkpoint")
                    let r = try T.run(model: model, data: data, split: split, configuration: c, size: size, checkpoint: checkpoint)
                    log("\(model) seed \(seed): \(r.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")), \(String(format: "%.1f", r.trainingSeconds)) s")
                    results[model, default: []].append(r)
                }
            }
            return results
        }
    }
}
