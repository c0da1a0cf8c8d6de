import Foundation
import Tensors
import NeuralNetworks
import Datasets

/// One member's work in a step of a classifier member batch: its mini-batch, as indices into its
/// training set.
struct MemberBatchWork {
    /// The member's index in the batch's members.
    var member: Int
    /// The member's training set.
    var dataset: LabeledImageDataset
    /// The examples of this mini-batch (non-empty), in order.
    var indices: ArraySlice<Int>
}

/// What one member's step computed, before any update.
struct MemberBatchStepResult {
    /// The mean softmax cross-entropy of the mini-batch (possibly non-finite).
    var loss: Float
    /// Examples whose largest logit is their label (first index on ties).
    var correct: Int
    /// The gradient of `loss` with respect to every parameter, by parameter path.
    var gradients: [String: Tensor]
}

/// Image classifiers of one zoo trained in lockstep by ``ZooMemberTrainer``: each step hands every
/// member that has a mini-batch to ``step(_:)``, then steps each member's own optimizer with the
/// gradients it returns. Members never mix: a member's numbers do not depend on which members
/// share its batch.
protocol ClassifierMemberBatch: AnyObject {
    /// Runs one training step's forward and backward pass for every member in `work` (each member
    /// at most once) with the members' current parameters, and returns one result per entry of
    /// `work`, in its order. Updates nothing.
    func step(_ work: [MemberBatchWork]) -> [MemberBatchStepResult]

    /// Member `member`'s mean loss and accuracy on `dataset` in evaluation mode (no dropout).
    func evaluate(member: Int, on dataset: LabeledImageDataset, batchSize: Int) -> (loss: Float, accuracy: Float)
}

/// A member batch whose members run one after another through one set of buffers
/// (``CNNMemberBatch``, ``TransformerMemberBatch``): its step and its evaluation are the same walk
/// for every network — load the images, run the member forward, the softmax cross-entropy on the
/// logits, then (training) the backward pass — and only the network's own passes differ.
protocol SequentialMemberBatch: ClassifierMemberBatch {
    /// The largest mini-batch a step may bring; evaluation runs in chunks of this many images.
    var capacity: Int { get }
    /// The classifier's outputs.
    var classCount: Int { get }
    /// `[capacity, classes]` each: the logits ``forward(member:images:training:)`` writes, the
    /// log-probabilities, and dL/dlogits, which ``backward(member:images:)`` reads.
    var lossBuffers: (logits: FloatBuffer, logProbabilities: FloatBuffer, logitGradient: FloatBuffer) { get }
    /// Copies the images at `indices` into the input buffers.
    func load(_ dataset: LabeledImageDataset, indices: ArraySlice<Int>)
    /// Runs member `member` on the first `images` loaded images (in training mode with its dropout).
    func forward(member: Int, images: Int, training: Bool)
    /// The gradients of the loss whose dL/dlogits is in ``lossBuffers``, by parameter path.
    func backward(member: Int, images: Int) -> [String: Tensor]
}

extension SequentialMemberBatch {
    func step(_ work: [MemberBatchWork]) -> [MemberBatchStepResult] {
        let buffers = lossBuffers
        return work.map { w in
            let images = w.indices.count
            precondition(images > 0 && images <= capacity, "a member batch step of \(images) images exceeds \(capacity)")
            load(w.dataset, indices: w.indices)
            forward(member: w.member, images: images, training: true)
            let (loss, correct) = SoftmaxCrossEntropyRows.lossAndGradient(
                logits: buffers.logits.base, labels: w.indices.map { w.dataset.labels[$0] }, classes: classCount,
                logProbabilities: buffers.logProbabilities.base, gradient: buffers.logitGradient.base)
            return MemberBatchStepResult(loss: loss, correct: correct, gradients: backward(member: w.member, images: images))
        }
    }

    /// Evaluation runs in chunks of ``capacity`` images whatever `batchSize` asks: the capacity
    /// depends on the spec and data only, so a member's numbers never change with its company.
    func evaluate(member: Int, on dataset: LabeledImageDataset, batchSize: Int) -> (loss: Float, accuracy: Float) {
        let buffers = lossBuffers
        var lossSum: Double = 0, correct = 0
        for start in stride(from: 0, to: dataset.count, by: capacity) {
            let indices = start..<Swift.min(dataset.count, start + capacity)
            load(dataset, indices: ArraySlice(indices))
            forward(member: member, images: indices.count, training: false)
            let (sum, hits) = SoftmaxCrossEntropyRows.evaluate(
                logits: buffers.logits.base, labels: indices.map { dataset.labels[$0] }, classes: classCount,
                logProbabilities: buffers.logProbabilities.base)
            lossSum += sum
            correct += hits
        }
        let n = Swift.max(dataset.count, 1)
        return (Float(lossSum / Double(n)), Float(correct) / Float(n))
    }
}

/// Softmax cross-entropy on rows of logits kept in a member batch's own buffers, with the same
/// arithmetic as ``Loss/softmaxCrossEntropy(_:labels:)`` and ``ClassifierTraining/evaluate(_:on:batchSize:)``:
/// the log-softmax lane by lane, the loss summed in Double, the first index of the largest logit
/// as the prediction, and the closed-form gradient `(softmax − onehot)/rows`.
enum SoftmaxCrossEntropyRows {
    /// Writes the log-probabilities of `labels.count` rows of `logits` to `logProbabilities` and
    /// returns the summed negative log-likelihood of the labels and the number of correct
    /// predictions.
    static func evaluate(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                         logProbabilities: UnsafeMutablePointer<Float>) -> (lossSum: Double, correct: Int) {
        var total: Double = 0, hits = 0
        for (row, label) in labels.enumerated() {
            let z = logits + row * classes, lp = logProbabilities + row * classes
            Tensor.logSoftmax(lane: z, into: lp, length: classes)
            total -= Double(lp[label])
            var best = -Float.infinity, bestIndex = 0
            for k in 0..<classes where z[k] > best {
                best = z[k]; bestIndex = k
            }
            if bestIndex == label { hits += 1 }
        }
        return (total, hits)
    }

    /// The mean loss of a mini-batch (as ``evaluate(logits:labels:classes:logProbabilities:)``
    /// returns its sum) and, into `gradient`, dL/dlogits = `(softmax − onehot) / rows`.
    static func lossAndGradient(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                                logProbabilities: UnsafeMutablePointer<Float>,
                                gradient: UnsafeMutablePointer<Float>) -> (loss: Float, correct: Int) {
        let rows = labels.count
        let (total, hits) = evaluate(logits: logits, labels: labels, classes: classes, logProbabilities: logProbabilities)
        let scale = Float(1) / Float(rows)
        for i in 0..<(rows * classes) { gradient[i] = Foundation.exp(logProbabilities[i]) * scale }
        for (row, label) in labels.enumerated() { gradient[row * classes + label] -= scale }
        return (Float(total / Double(rows)), hits)
    }
}
