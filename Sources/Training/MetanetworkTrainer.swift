import Foundation
import Tensors
import Autograd
import NeuralNetworks

/// A seeded, resumable training loop for any metanetwork.
///
/// The data never enters the loop directly: the caller supplies `loss(indices, tape)` (the
/// training loss on those members, recorded on the tape) and `validate()` (the validation metric,
/// higher is better). This keeps one loop for every task and every weight-space type
/// (feed-forward or transformer).
///
/// Determinism and resume: epoch e's batch order comes from `SeededGenerator(seed).split(stream: e)`,
/// not from a generator carried across epochs, and after every epoch the model, the optimizer
/// state, the best weights so far and the history are written atomically to one checkpoint file.
/// A run killed at any moment and restarted with the same configuration continues from the last
/// finished epoch and ends with exactly the weights and history an uninterrupted run produces.
///
/// Each step's gradient comes from ``DataParallelGradients`` on `configuration.threads` threads:
/// the same bits for every thread count.
public enum MetanetworkTrainer {
    /// Trains `model` and returns its history; the model ends with its best-validation weights.
    ///
    /// - Parameters:
    ///   - memberCount: the number of training members; batches are index lists into `0..<memberCount`.
    ///   - checkpoint: a file to write after every epoch and to resume from (nil: no checkpointing).
    ///   - loss: the training loss on a batch, recorded on the tape.
    ///   - validate: the validation metric (higher is better), evaluated in eval mode.
    ///   - progress: called after each epoch; throwing from it stops training (the checkpoint is
    ///     already written).
    /// - Throws: ``TrainingError`` for a bad configuration, a diverging loss, or a checkpoint that
    ///   belongs to another run.
    public static func train(
        model: Module, memberCount: Int, configuration c: MetanetworkTrainingConfiguration,
        checkpoint: URL? = nil,
        loss: ([Int], Tape) throws -> Variable,
        validate: () throws -> Double,
        progress: ((MetanetworkEpoch) throws -> Void)? = nil
    ) throws -> MetanetworkTrainingHistory {
        try c.validate()
        guard memberCount > 0 else { throw TrainingError.incompatibleData("no training members") }
        let optimizer = c.optimizer.make(learningRate: c.learningRate, weightDecay: c.weightDecay)
        var history: [MetanetworkEpoch] = []
        var best = -Double.infinity, bestEpoch = 0
        var bestWeights = model.parameterValues()
        var sinceBest = 0
        var resumedFrom: Int? = nil
        let fingerprint = try configurationFingerprint(c, model: model, memberCount: memberCount)

        if let checkpoint, FileManager.default.fileExists(atPath: checkpoint.path) {
            let state = try TrainerCheckpoint.read(from: checkpoint, fingerprint: fingerprint)
            try model.loadParameterValues(state.model)
            optimizer.restore(stateTensors: state.optimizer, stepCount: state.stepCount)
            bestWeights = state.best
            history = state.history.epochs
            best = state.history.bestValidationMetric
            bestEpoch = state.history.bestEpoch
            sinceBest = (history.last?.epoch ?? 0) - bestEpoch
            resumedFrom = history.last?.epoch
            if state.history.stoppedEarly || history.count >= c.epochs {
                try model.loadParameterValues(bestWeights)
                var h = state.history
                h.resumedFromEpoch = resumedFrom
                return h
            }
        }

        model.train()
        let base = SeededGenerator(seed: c.seed)
        let stepsPerEpoch = (memberCount + c.batchSize - 1) / c.batchSize
        let schedule = c.warmupCosine?.schedule(learningRate: c.learningRate, epochs: c.epochs, stepsPerEpoch: stepsPerEpoch)
        var stoppedEarly = false
        for epoch in (history.count + 1)...c.epochs {
            let start = Date()
            var rng = base.split(stream: UInt64(epoch))
            let order = rng.permutation(memberCount)
            var lossSum = 0.0, batches = 0
            for startIndex in stride(from: 0, to: memberCount, by: c.batchSize) {
                let indices = Array(order[startIndex..<Swift.min(startIndex + c.batchSize, memberCount)])
                let (value, grads) = try DataParallelGradients.lossAndGradients(
                    model: model, batch: indices, threads: c.threads, loss: loss)
                guard value.isFinite else {
                    throw TrainingError.invalidConfiguration("training loss became \(value) in epoch \(epoch); lower the learning rate")
                }
                // The optimizer's own step count, restored on resume, keeps the schedule on its curve.
                if let schedule { optimizer.learningRate = schedule.learningRate(at: optimizer.stepCount) }
                optimizer.step(model, gradients: grads)
                lossSum += Double(value); batches += 1
            }
            model.eval()
            let metric = try validate()
            model.train()
            let record = MetanetworkEpoch(epoch: epoch, trainLoss: lossSum / Double(Swift.max(batches, 1)),
                                          validationMetric: metric, seconds: Date().timeIntervalSince(start))
            history.append(record)
            if metric > best || (best == -.infinity) {
                best = metric; bestEpoch = epoch; bestWeights = model.parameterValues(); sinceBest = 0
            } else {
                sinceBest += 1
            }
            stoppedEarly = c.patience > 0 && sinceBest >= c.patience && epoch < c.epochs
            let h = MetanetworkTrainingHistory(epochs: history, bestEpoch: bestEpoch, bestValidationMetric: best,
                                               stoppedEarly: stoppedEarly, resumedFromEpoch: resumedFrom)
            if let checkpoint {
                try TrainerCheckpoint(model: model.parameterValues(), best: bestWeights, optimizer: optimizer.stateTensors,
                                      stepCount: optimizer.stepCount, history: h)
                    .write(to: checkpoint, fingerprint: fingerprint)
            }
            try progress?(record)
            if stoppedEarly { break }
        }
        model.eval()
        try model.loadParameterValues(bestWeights)
        return MetanetworkTrainingHistory(epochs: history, bestEpoch: bestEpoch, bestValidationMetric: best,
                                          stoppedEarly: stoppedEarly, resumedFromEpoch: resumedFrom)
    }

    /// The approximate size in bytes of the checkpoint a run writes after every epoch: the
    /// current weights, the best weights and the optimizer state, 4 bytes per value.
    public static func checkpointBytes(parameterCount: Int, optimizer: OptimizerKind) -> Int {
        let (tensors, overflow) = parameterCount.multipliedReportingOverflow(by: 4 * (2 + optimizer.stateTensorsPerParameter))
        return overflow ? Int.max : tensors
    }

    /// The history saved in a checkpoint (nil when there is no file): the epochs finished so far,
    /// the best epoch, and whether training stopped early.
    ///
    /// - Throws: ``TrainingError/incompatibleData(_:)`` for an unreadable checkpoint.
    public static func checkpointHistory(at checkpoint: URL) throws -> MetanetworkTrainingHistory? {
        guard FileManager.default.fileExists(atPath: checkpoint.path) else { return nil }
        return try TrainerCheckpoint.read(from: checkpoint, fingerprint: nil).history
    }

    /// Loads the best-validation weights that a run saved in its checkpoint into `model` (in eval
    /// mode), and returns the run's history. Works for a finished run and for one that was
    /// interrupted (then the weights are the best of the epochs finished so far).
    ///
    /// - Parameters:
    ///   - configuration, memberCount: when both are given, the checkpoint must have been written
    ///     by exactly that configuration and training-set size (and a model of `model`'s shapes),
    ///     as when resuming; otherwise only the parameter names and shapes must match `model`.
    /// - Throws: ``TrainingError/incompatibleData(_:)`` for a missing, unreadable or mismatching
    ///   checkpoint, naming the file and the first difference; the model is unchanged then.
    @discardableResult
    public static func loadBestWeights(from checkpoint: URL, into model: Module,
                                       configuration: MetanetworkTrainingConfiguration? = nil,
                                       memberCount: Int? = nil) throws -> MetanetworkTrainingHistory {
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw TrainingError.incompatibleData("no checkpoint at \(checkpoint.path)")
        }
        let state: TrainerCheckpoint
        if let configuration, let memberCount {
            state = try TrainerCheckpoint.read(from: checkpoint, fingerprint: configurationFingerprint(configuration, model: model, memberCount: memberCount))
        } else {
            state = try TrainerCheckpoint.read(from: checkpoint, fingerprint: nil)
        }
        guard !state.best.isEmpty else { throw TrainingError.incompatibleData("checkpoint \(checkpoint.path) holds no weights") }
        do {
            try model.loadParameterValues(state.best)
        } catch {
            throw TrainingError.incompatibleData("checkpoint \(checkpoint.path) does not fit the model (\(error)); was it written by another model, size or zoo?")
        }
        model.eval()
        return state.history
    }

    /// Identifies a run: a checkpoint from a different configuration, model shape or data size is
    /// refused instead of silently resumed.
    static func configurationFingerprint(_ c: MetanetworkTrainingConfiguration, model: Module, memberCount: Int) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let config = String(decoding: try encoder.encode(c), as: UTF8.self)
        let shapes = model.namedParameters().map { "\($0.path)\($0.parameter.shape)" }.joined(separator: ";")
        return "\(config)|members=\(memberCount)|\(shapes)"
    }
}
