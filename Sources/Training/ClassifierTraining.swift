import Foundation
import Tensors
import Autograd
import NeuralNetworks
import Datasets

/// How to train an image classifier.
public struct ClassifierTrainingConfiguration: Codable, Sendable, Equatable {
    /// Passes over the training set, ≥ 0 (0 trains nothing); default 1.
    public var epochs = 1
    /// Training mini-batch size, > 0; the last batch of an epoch may be smaller. Default 128.
    public var batchSize = 128
    /// Which optimizer to build; default ``OptimizerKind/adam``.
    public var optimizer: OptimizerKind = .adam
    /// Base learning rate η, finite and > 0; default 1e-3.
    public var learningRate: Float = 1e-3
    /// L2 regularisation strength (see ``OptimizerKind/make(learningRate:weightDecay:)``).
    public var weightDecay: Float = 0
    /// Linear warm-up epochs before cosine decay; with 0 and `cosineDecay` false the rate is constant.
    public var warmupEpochs = 0
    /// Cosine decay of the learning rate to 1% of its base over the run.
    public var cosineDecay = false
    /// Seeds the batch order (model initialisation is the caller's, from its own seed).
    public var seed: UInt64 = 0
    /// Batch size for evaluation passes.
    public var evaluationBatchSize = 1000

    /// Creates a configuration; values are checked by ``validate()``, which
    /// ``ClassifierTraining/train(_:on:evaluatingOn:configuration:onEpochEnd:)`` calls.
    public init(epochs: Int = 1, batchSize: Int = 128, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3,
                weightDecay: Float = 0, warmupEpochs: Int = 0, cosineDecay: Bool = false, seed: UInt64 = 0,
                evaluationBatchSize: Int = 1000) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer
        self.learningRate = learningRate; self.weightDecay = weightDecay; self.warmupEpochs = warmupEpochs
        self.cosineDecay = cosineDecay; self.seed = seed; self.evaluationBatchSize = evaluationBatchSize
    }

    /// Throws ``TrainingError/invalidConfiguration(_:)`` for non-positive sizes or rates.
    public func validate() throws {
        guard epochs >= 0, batchSize > 0, evaluationBatchSize > 0 else {
            throw TrainingError.invalidConfiguration("epochs must be ≥ 0 and batch sizes > 0")
        }
        guard learningRate > 0, learningRate.isFinite, weightDecay >= 0, weightDecay.isFinite else {
            throw TrainingError.invalidConfiguration("learning rate must be > 0 and weight decay ≥ 0, got \(learningRate), \(weightDecay)")
        }
        guard warmupEpochs >= 0 else { throw TrainingError.invalidConfiguration("warm-up epochs must be ≥ 0") }
    }

    /// The learning rate per optimizer step for a training set of `trainingExamples` examples:
    /// linear warm-up over ``warmupEpochs`` and cosine decay to 1% of ``learningRate`` over
    /// ``epochs`` when either is asked for, else constant.
    public func learningRateSchedule(trainingExamples: Int) -> LearningRateSchedule {
        let stepsPerEpoch = (trainingExamples + batchSize - 1) / batchSize
        return (cosineDecay || warmupEpochs > 0)
            ? WarmupCosineSchedule(base: learningRate, warmupSteps: warmupEpochs * stepsPerEpoch,
                                   totalSteps: epochs * stepsPerEpoch,
                                   minimum: cosineDecay ? learningRate * 0.01 : learningRate)
            : ConstantSchedule(learningRate)
    }
}

/// Metrics after one epoch.
public struct EpochMetrics: Codable, Sendable, Equatable {
    /// The 1-based epoch number.
    public var epoch: Int
    /// Mean softmax cross-entropy (nats) over the epoch's training samples, each batch measured before its
    /// update, in training mode; the non-finite loss itself when the run diverged.
    public var trainLoss: Float
    /// Fraction of training samples classified correctly, in [0, 1], from the same forward passes as
    /// `trainLoss` (dropout active); 0 when the run diverged.
    public var trainAccuracy: Float
    /// Mean cross-entropy on the test set in evaluation mode, or nil without a test set.
    public var testLoss: Float?
    /// Test accuracy in [0, 1], or nil without a test set.
    public var testAccuracy: Float?
    /// Wall-clock seconds for the epoch, including its evaluation.
    public var seconds: Double
}

/// The outcome of a training run.
public struct ClassifierTrainingResult: Codable, Sendable {
    /// Per-epoch metrics, in order; after a divergence the last entry is the partial epoch.
    public var epochs: [EpochMetrics]
    /// True when the loss became NaN/∞ and training stopped early (a "crashed" zoo member).
    public var diverged: Bool
    /// Wall-clock seconds for the whole run.
    public var seconds: Double
    /// The last epoch's metrics, or nil when no epoch ran.
    public var final: EpochMetrics? { epochs.last }
}

/// Supervised training and evaluation of image classifiers with softmax cross-entropy.
public enum ClassifierTraining {
    /// Loss and accuracy of `model` on `dataset`, in evaluation mode, without a tape.
    public static func evaluate(_ model: Module & Layer, on dataset: LabeledImageDataset,
                                batchSize: Int = 1000) -> (loss: Float, accuracy: Float) {
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        var lossSum: Double = 0, correct = 0
        for (images, labels) in dataset.batches(size: batchSize) {
            let logits = model(Variable(images)).value
            let logp = logits.logSoftmax(alongAxis: 1)
            let predicted = logits.argmax(alongAxis: 1)
            let classes = logits.shape[1]
            logp.withUnsafeBufferPointer { p in
                for (i, label) in labels.enumerated() { lossSum -= Double(p[i * classes + label]) }
            }
            correct += zip(predicted, labels).filter { $0 == $1 }.count
        }
        let n = Swift.max(dataset.count, 1)
        return (Float(lossSum / Double(n)), Float(correct) / Float(n))
    }

    /// Checks what ``train(_:on:evaluatingOn:configuration:onEpochEnd:)`` checks before its first
    /// step: a valid configuration, a non-empty training set, and a model that takes its images
    /// and has an output per class (one tape-less forward pass on one image).
    ///
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` or ``TrainingError/incompatibleData(_:)``.
    public static func checkTrainable(_ model: Module & Layer, on train: LabeledImageDataset,
                                      configuration c: ClassifierTrainingConfiguration) throws {
        try c.validate()
        guard train.count > 0 else { throw TrainingError.incompatibleData("empty training set \(train.name)") }
        let wasTraining = model.isTraining
        model.eval()
        defer { if wasTraining { model.train() } }
        let probe = model(Variable(train.images.slice(axis: 0, 0..<1)))
        guard probe.rank == 2, probe.shape[1] >= train.classCount else {
            throw TrainingError.incompatibleData("model outputs \(probe.shape) for one image, but \(train.name) has \(train.classCount) classes")
        }
    }

    /// Trains `model` on `train` and evaluates on `test` after every epoch.
    ///
    /// - Parameter onEpochEnd: called after each epoch with its metrics (e.g. to checkpoint the
    ///   model); return `false` to stop early.
    /// - Throws: ``TrainingError`` for a bad configuration or data whose classes exceed the model's
    ///   outputs.
    public static func train(
        _ model: Module & Layer, on train: LabeledImageDataset, evaluatingOn test: LabeledImageDataset? = nil,
        configuration c: ClassifierTrainingConfiguration,
        onEpochEnd: ((EpochMetrics) throws -> Bool)? = nil
    ) throws -> ClassifierTrainingResult {
        try checkTrainable(model, on: train, configuration: c)
        let optimizer = c.optimizer.make(learningRate: c.learningRate, weightDecay: c.weightDecay)
        let schedule = c.learningRateSchedule(trainingExamples: train.count)
        var rng = SeededGenerator(seed: c.seed)
        var history: [EpochMetrics] = []
        let start = Date()
        var step = 0
        model.train()
        for epoch in 1...Swift.max(c.epochs, 1) where c.epochs > 0 {
            let epochStart = Date()
            var lossSum: Double = 0, correct = 0, seen = 0
            for (images, labels) in train.batches(size: c.batchSize, shuffledWith: &rng) {
                optimizer.learningRate = schedule.learningRate(at: step)
                var logitsValue: Tensor? = nil
                let (loss, grads) = model.lossAndGradients { tape in
                    let logits = model(tape.constant(images))
                    logitsValue = logits.value
                    return Loss.softmaxCrossEntropy(logits, labels: labels)
                }
                guard loss.isFinite else {
                    history.append(EpochMetrics(epoch: epoch, trainLoss: loss, trainAccuracy: 0, testLoss: nil,
                                                testAccuracy: nil, seconds: Date().timeIntervalSince(epochStart)))
                    return ClassifierTrainingResult(epochs: history, diverged: true, seconds: Date().timeIntervalSince(start))
                }
                optimizer.step(model, gradients: grads)
                step += 1
                lossSum += Double(loss) * Double(labels.count)
                if let l = logitsValue {
                    correct += zip(l.argmax(alongAxis: 1), labels).filter { $0 == $1 }.count
                }
                seen += labels.count
            }
            var metrics = EpochMetrics(epoch: epoch, trainLoss: Float(lossSum / Double(Swift.max(seen, 1))),
                                       trainAccuracy: Float(correct) / Float(Swift.max(seen, 1)),
                                       testLoss: nil, testAccuracy: nil, seconds: 0)
            if let test {
                let (l, a) = evaluate(model, on: test, batchSize: c.evaluationBatchSize)
                metrics.testLoss = l
                metrics.testAccuracy = a
            }
            metrics.seconds = Date().timeIntervalSince(epochStart)
            history.append(metrics)
            if let onEpochEnd, try !onEpochEnd(metrics) { break }
        }
        return ClassifierTrainingResult(epochs: history, diverged: false, seconds: Date().timeIntervalSince(start))
    }
}
