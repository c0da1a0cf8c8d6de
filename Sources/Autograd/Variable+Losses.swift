import Foundation
import Tensors

// Losses as fused operations: one forward loop producing a rank-0 loss, and a pullback that writes
// the closed-form gradient directly (no softmax/one-hot/log intermediates on the tape). Every loss
// is a mean, so its scale does not depend on the batch size.

extension Variable {
    /// The mean softmax cross-entropy of integer class labels:
    /// `L = (1/N) Σ_n [log Σ_c exp(z_nc) − z_n,label_n]`, computed through a stable log-softmax.
    ///
    /// - Parameters:
    ///   - logits: unnormalised scores, shape `[N, C]`.
    ///   - labels: `N` class indices in `0..<C` (a mismatch is a programming error and traps).
    /// - Returns: a rank-0 variable.
    ///
    /// Pullback: `dz = g · (softmax(z) − onehot(labels)) / N`.
    public static func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
        precondition(logits.rank == 2, "softmaxCrossEntropy needs logits of shape [N, C], got \(logits.shape)")
        let n = logits.shape[0], classes = logits.shape[1]
        precondition(labels.count == n, "softmaxCrossEntropy: \(labels.count) labels for \(n) rows of logits")
        precondition(n > 0, "softmaxCrossEntropy: empty batch")
        let logProbabilities = logits.value.logSoftmax(alongAxis: 1)
        var total: Double = 0
        logProbabilities.withUnsafeBufferPointer { lp in
            for (row, label) in labels.enumerated() {
                precondition(label >= 0 && label < classes, "softmaxCrossEntropy: label \(label) out of range 0..<\(classes)")
                total -= Double(lp[row * classes + label])
            }
        }
        let loss = Tensor(Float(total / Double(n)))
        return record(loss, inputs: [logits]) { g in
            let scale = g.scalar / Float(n)
            var d = Tensor(uninitializedShape: [n, classes])
            d.withUnsafeMutableBufferPointer { dp in
                logProbabilities.withUnsafeBufferPointer { lp in
                    for i in 0..<dp.count { dp[i] = Foundation.exp(lp[i]) * scale }
                }
                for (row, label) in labels.enumerated() { dp[row * classes + label] -= scale }
            }
            return [d]
        }
    }

    /// The mean binary cross-entropy between `sigmoid(logits)` and `targets`, computed from the
    /// logits in the overflow-free form `max(x, 0) − x·t + log(1 + e^(−|x|))` and averaged over
    /// every element.
    ///
    /// - Parameters:
    ///   - logits: any shape.
    ///   - targets: the same shape, values in [0, 1] (soft targets allowed).
    /// - Returns: a rank-0 variable.
    ///
    /// Pullback: `dx = g · (σ(x) − t) / count`.
    public static func binaryCrossEntropyWithLogits(logits: Variable, targets: Tensor) -> Variable {
        precondition(logits.shape == targets.shape,
                     "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
        let x = logits.value, count = x.count
        var total: Double = 0
        x.withUnsafeBufferPointer { xp in
            targets.withUnsafeBufferPointer { tp in
                for i in 0..<count {
                    let v = xp[i]
                    total += Double(Swift.max(v, 0) - v * tp[i] + Foundation.log1p(Foundation.exp(-Swift.abs(v))))
                }
            }
        }
        let loss = Tensor(Float(total / Double(Swift.max(count, 1))))
        return record(loss, inputs: [logits]) { g in
            let scale = g.scalar / Float(Swift.max(count, 1))
            return [zipElements(x.sigmoid(), targets) { ($0 - $1) * scale }]
        }
    }

    /// The mean squared error `L = (1/count) Σ (p − t)²` over every element.
    ///
    /// - Parameters:
    ///   - prediction: any shape.
    ///   - target: the same shape (a constant: no gradient flows to it).
    /// - Returns: a rank-0 variable.
    ///
    /// Pullback: `dp = g · 2 (p − t) / count`.
    public static func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
        precondition(prediction.shape == target.shape,
                     "meanSquaredError: prediction \(prediction.shape) and target \(target.shape) differ")
        let difference = prediction.value - target
        let count = difference.count
        var total: Double = 0
        difference.withUnsafeBufferPointer { dp in
            for v in dp { total += Double(v) * Double(v) }
        }
        let loss = Tensor(Float(total / Double(Swift.max(count, 1))))
        return record(loss, inputs: [prediction]) { g in
            [difference * (2 * g.scalar / Float(Swift.max(count, 1)))]
        }
    }
}
