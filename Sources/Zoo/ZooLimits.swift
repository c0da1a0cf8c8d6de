import Foundation
import NeuralNetworks

/// Upper bounds on every count and size a zoo spec, manifest or option can hold.
///
/// Why: these numbers come from files and flags, and each one sizes an allocation or a loop (a
/// member-id array, a network's weight matrices, an epoch loop). Without a bound, a manifest with
/// `"members": 9223372036854775807` or `"filters": 1000000` overflows an index computation or asks
/// for tens of gigabytes before anything is checked. The bounds are far above every zoo in the
/// literature (the Small CNN Zoo has 30,000 members of 16 filters), so they only refuse nonsense.
public enum ZooLimits {
    /// Members of one zoo.
    public static let members = 1_000_000
    /// Training epochs (SIREN: full-batch steps).
    public static let epochs = 100_000
    /// Entries of `training.checkpoint_epochs`.
    public static let checkpointEpochs = 10_000
    /// Training and evaluation batch sizes.
    public static let batchSize = 1 << 20
    /// Classes of the data.
    public static let classes = 10_000
    /// Each of an image's channels, height and width.
    public static let imageSide = 4096
    /// Convolution filters of a CNN member.
    public static let filters = 1024
    /// Hidden layers of an MLP or SIREN member.
    public static let hiddenLayers = 64
    /// The width of one hidden layer, and every transformer size.
    public static let width = 4096
    /// Images drawn for the synthetic data set.
    public static let syntheticImages = 1_000_000
    /// Workers of a generation or verification run.
    public static let workers = 1024

    /// Throws ``ZooError/invalidSpec(_:)`` naming the first field of `spec` outside its bound.
    static func check(_ spec: ZooSpec) throws {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws {
            if !ok { throw ZooError.invalidSpec(message()) }
        }
        try require(spec.members <= members, "members \(spec.members) is above the limit of \(members)")
        let t = spec.training
        try require(t.epochs <= epochs, "training.epochs \(t.epochs) is above the limit of \(epochs)")
        try require(t.checkpointEpochs.count <= checkpointEpochs,
                    "training.checkpoint_epochs lists \(t.checkpointEpochs.count) epochs, above the limit of \(checkpointEpochs)")
        try require(t.batchSize <= batchSize, "training.batch_size \(t.batchSize) is above the limit of \(batchSize)")
        try require(t.evaluationBatchSize <= batchSize,
                    "training.evaluation_batch_size \(t.evaluationBatchSize) is above the limit of \(batchSize)")
        try require(t.warmupEpochs <= epochs, "training.warmup_epochs \(t.warmupEpochs) is above the limit of \(epochs)")
        let d = spec.data
        try require(d.syntheticTrainCount <= syntheticImages && d.syntheticTestCount <= syntheticImages,
                    "data.synthetic_train_count / synthetic_test_count must be ≤ \(syntheticImages)")
        let a = spec.architecture
        if let f = a.filters { try require(f <= filters, "architecture.filters \(f) is above the limit of \(filters)") }
        if let w = a.hiddenWidths {
            try require(w.count <= hiddenLayers, "architecture.hidden_widths has \(w.count) layers, above the limit of \(hiddenLayers)")
            if let big = w.first(where: { $0 > width }) {
                throw ZooError.invalidSpec("architecture.hidden_widths holds \(big), above the limit of \(width)")
            }
        }
        if let c = a.transformer {
            let sizes = [("input_channels", c.inputChannels), ("image_size", c.imageSize), ("patch_size", c.patchSize),
                         ("model_dimension", c.modelDimension), ("heads", c.heads), ("key_dimension", c.keyDimension),
                         ("value_dimension", c.valueDimension), ("feed_forward_dimension", c.feedForwardDimension),
                         ("block_count", c.blockCount), ("classes", c.classes)]
            for (name, value) in sizes {
                try require(value >= 1 && value <= width, "architecture.transformer.\(name) \(value) is outside 1...\(width)")
            }
        }
    }

    /// Throws ``ZooError/invalidSpec(_:)`` unless `workers` is in `1...`` workers``; `option` names
    /// the flag or field in the message.
    static func checkWorkers(_ value: Int, option: String) throws {
        guard value >= 1, value <= workers else {
            throw ZooError.invalidSpec("\(option) \(value) is outside 1...\(workers)")
        }
    }
}
