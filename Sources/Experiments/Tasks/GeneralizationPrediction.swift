import Foundation
import Tensors
import Autograd
import NeuralNetworks
import Training

/// Predicting a network's test accuracy from its weights (the main benchmark of Zhou et al. 2023,
/// *Neural Functional Transformers*, §5.3, and of Tran et al. 2024, 2025 and 2026 — see
/// Docs/References.md): a metanetwork with one output trained with binary cross-entropy on logits
/// against the true accuracy in [0, 1]; its prediction is the sigmoid of that output.
public enum GeneralizationPrediction {
    /// `forward(indices, tape)` returns the model's `[b, 1]` logits for those members.
    public typealias Forward = ([Int], Tape?) throws -> Variable

    /// The logit of the mean training accuracy (clamped to [0.01, 0.99]), added to a model's
    /// output so that an untrained predictor already predicts the mean.
    ///
    /// Why: the predictors start near logit 0 (accuracy 0.5); with the few hundred Adam steps a
    /// zoo of a few hundred members allows, the output bias alone cannot travel to a mean accuracy
    /// of 0.25 (logit −1.1), so the validation τ used for early stopping is measured on predictions
    /// that are still dominated by that drift. Starting at the mean leaves training to learn the
    /// ranking.
    public static func logitOffset(_ trainingTargets: [Float]) -> Float {
        guard !trainingTargets.isEmpty else { return 0 }
        let mean = trainingTargets.reduce(0, +) / Float(trainingTargets.count)
        let p = Swift.min(Swift.max(mean, 0.01), 0.99)
        return Foundation.log(p / (1 - p))
    }

    /// Predicted accuracies (sigmoid of the logits) for `indices`, in order, without a tape.
    public static func predict(_ forward: Forward, indices: [Int], batchSize: Int = 64) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(indices.count)
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let chunk = Array(indices[start..<Swift.min(start + batchSize, indices.count)])
            let logits = try forward(chunk, nil).value.sigmoid()
            out += logits.scalars.map(Double.init)
        }
        return out
    }
}
