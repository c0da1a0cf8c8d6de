import Foundation

/// One epoch of a metanetwork training run.
public struct MetanetworkEpoch: Codable, Sendable, Equatable {
    /// The epoch number (1-based).
    public var epoch: Int
    /// Mean training loss over the epoch's batches.
    public var trainLoss: Double
    /// The validation metric (higher is better: τ for regression, accuracy for classification,
    /// −MSE for editing).
    public var validationMetric: Double
    /// Wall-clock seconds of the epoch, validation included.
    public var seconds: Double
    /// The stage of a model trained in stages (e.g. "reconstruction" for INR2ARRAY's first), as
    /// progress reports it; nil for a model's one (or final) stage, and never stored.
    public var stage: String?

    /// An epoch record.
    public init(epoch: Int, trainLoss: Double, validationMetric: Double, seconds: Double) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.validationMetric = validationMetric; self.seconds = seconds
    }
}

/// The result of a metanetwork training run: the learning curve and the epoch whose weights were
/// kept (best validation metric).
public struct MetanetworkTrainingHistory: Codable, Sendable, Equatable {
    /// Every epoch run, in order (including those before a resume).
    public var epochs: [MetanetworkEpoch]
    /// The epoch whose weights were kept.
    public var bestEpoch: Int
    /// Its validation metric.
    public var bestValidationMetric: Double
    /// Whether patience ran out before the last epoch.
    public var stoppedEarly: Bool
    /// The last finished epoch found in the checkpoint, when the run resumed.
    public var resumedFromEpoch: Int?

    /// The wall-clock seconds of every epoch, those before a resume included: the run's training
    /// time however many sessions it took (a finished run that is only reloaded adds nothing).
    public var epochSeconds: Double { epochs.reduce(0) { $0 + $1.seconds } }
}
