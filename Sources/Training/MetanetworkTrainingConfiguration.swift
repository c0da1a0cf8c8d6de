import Foundation
import NeuralNetworks

/// How a metanetwork is trained on a zoo.
public struct MetanetworkTrainingConfiguration: Codable, Sendable, Equatable {
    /// Maximum epochs.
    public var epochs = 30
    /// Zoo members per optimizer step.
    public var batchSize = 32
    /// The optimizer.
    public var optimizer: OptimizerKind = .adam
    /// Step size (> 0).
    public var learningRate: Float = 1e-3
    /// L2 strength (≥ 0; decoupled for AdamW).
    public var weightDecay: Float = 0
    /// Stop when the validation metric has not improved for this many epochs (0 = never).
    public var patience = 10
    /// Seeds the per-epoch batch orders.
    public var seed: UInt64 = 0
    /// A linear warm-up and cosine decay of the learning rate (nil: the rate stays constant).
    /// Optional so that configurations and checkpoint fingerprints written before it existed
    /// read and match as before.
    public var warmupCosine: WarmupCosine?

    /// Linear warm-up from 10% of the learning rate to all of it over `warmupEpochs`, then cosine
    /// decay to `finalFraction` of it at the last epoch (``WarmupCosineSchedule``, per optimizer
    /// step, so a resumed run continues on the same curve).
    public struct WarmupCosine: Codable, Sendable, Equatable {
        /// Epochs of linear warm-up (≥ 0).
        public var warmupEpochs: Int
        /// The final rate as a fraction of the learning rate, in [0, 1].
        public var finalFraction: Float

        /// A schedule; see the properties.
        public init(warmupEpochs: Int, finalFraction: Float = 0) {
            self.warmupEpochs = warmupEpochs; self.finalFraction = finalFraction
        }

        /// The schedule for a run of `epochs` epochs of `stepsPerEpoch` optimizer steps.
        public func schedule(learningRate: Float, epochs: Int, stepsPerEpoch: Int) -> WarmupCosineSchedule {
            WarmupCosineSchedule(base: learningRate, warmupSteps: warmupEpochs * stepsPerEpoch, totalSteps: epochs * stepsPerEpoch,
                                 minimum: learningRate * finalFraction)
        }
    }

    /// Epochs of a two-stage model's first stage (the INR2ARRAY autoencoder's reconstruction), before
    /// `epochs` of its second (classification). nil: the model's default; other models refuse it.
    /// Optional so that configurations without it encode (and fingerprint) exactly as before.
    public var reconstructionEpochs: Int?

    /// Threads for each optimizer step (≥ 1): the batch's chunks run side by side
    /// (``DataParallelGradients``). The result does not depend on it, so it is not part of the
    /// encoded configuration (a run resumes with any thread count).
    public var threads = 1

    private enum CodingKeys: String, CodingKey {
        case epochs, batchSize, optimizer, learningRate, weightDecay, patience, seed, warmupCosine, reconstructionEpochs
    }

    /// Equal when they train to the same result: the thread count is not compared.
    public static func == (a: Self, b: Self) -> Bool {
        a.epochs == b.epochs && a.batchSize == b.batchSize && a.optimizer == b.optimizer
            && a.learningRate == b.learningRate && a.weightDecay == b.weightDecay && a.patience == b.patience
            && a.seed == b.seed && a.warmupCosine == b.warmupCosine
            && a.reconstructionEpochs == b.reconstructionEpochs
    }

    /// A configuration; every argument has the documented default.
    public init(epochs: Int = 30, batchSize: Int = 32, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3,
                weightDecay: Float = 0, patience: Int = 10, seed: UInt64 = 0, threads: Int = 1) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer
        self.learningRate = learningRate; self.weightDecay = weightDecay; self.patience = patience; self.seed = seed
        self.threads = threads
    }

    /// The most threads a run may ask for.
    public static let maximumThreads = 1024

    /// The most epochs (and the longest patience) a run may ask for.
    public static let maximumEpochs = 100_000
    /// The largest batch size a run may ask for.
    public static let maximumBatchSize = 1 << 20

    /// Checks every value; the message names the key as run configurations spell it
    /// (`batch_size`, `learning_rate`).
    ///
    /// - Throws: ``TrainingError/invalidConfiguration(_:)``.
    public func validate() throws {
        func bad(_ m: String) -> TrainingError { .invalidConfiguration(m) }
        // Upper bounds too: these come from flags and files, and an unbounded epoch count is a
        // run that never ends.
        guard epochs >= 1 else { throw bad("epochs must be ≥ 1, got \(epochs)") }
        guard epochs <= Self.maximumEpochs else { throw bad("epochs must be ≤ \(Self.maximumEpochs), got \(epochs)") }
        guard batchSize >= 1 else { throw bad("batch_size must be ≥ 1, got \(batchSize)") }
        guard batchSize <= Self.maximumBatchSize else { throw bad("batch_size must be ≤ \(Self.maximumBatchSize), got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learning_rate must be a finite number > 0, got \(learningRate)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw bad("weight_decay must be a finite number ≥ 0, got \(weightDecay)") }
        guard patience >= 0 else { throw bad("patience must be ≥ 0, got \(patience)") }
        guard patience <= Self.maximumEpochs else { throw bad("patience must be ≤ \(Self.maximumEpochs), got \(patience)") }
        guard (1...Self.maximumThreads).contains(threads) else { throw bad("threads must be in 1...\(Self.maximumThreads), got \(threads)") }
        if let w = warmupCosine {
            guard (0...epochs).contains(w.warmupEpochs) else { throw bad("warm-up epochs must be in 0...\(epochs) (the epochs), got \(w.warmupEpochs)") }
            guard w.finalFraction.isFinite, (0...1).contains(w.finalFraction) else {
                throw bad("the cosine's final fraction must be in [0, 1], got \(w.finalFraction)")
            }
        }
        if let r = reconstructionEpochs, !(1...Self.maximumEpochs).contains(r) {
            throw bad("reconstruction_epochs must be in 1…\(Self.maximumEpochs), got \(r)")
        }
    }
}
