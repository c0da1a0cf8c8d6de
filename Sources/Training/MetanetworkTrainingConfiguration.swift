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
    /// Epochs of a two-stage model's first stage (the INR2ARRAY autoencoder's reconstruction), before
    /// `epochs` of its second (classification). nil: the model's default; other models refuse it.
    /// Optional so that configurations without it encode (and fingerprint) exactly as before.
    public var reconstructionEpochs: Int?

    /// A configuration; every argument has the documented default.
    public init(epochs: Int = 30, batchSize: Int = 32, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3,
                weightDecay: Float = 0, patience: Int = 10, seed: UInt64 = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer
        self.learningRate = learningRate; self.weightDecay = weightDecay; self.patience = patience; self.seed = seed
    }

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
        if let r = reconstructionEpochs, !(1...Self.maximumEpochs).contains(r) {
            throw bad("reconstruction_epochs must be in 1…\(Self.maximumEpochs), got \(r)")
        }
    }
}
