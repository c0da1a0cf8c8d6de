import Foundation

/// Test metrics of a generalization predictor.
public struct GeneralizationMetrics: Codable, Sendable, Equatable {
    /// Kendall τ-b between predicted and true test accuracy.
    public var tau: Double
    /// R² of the predictions.
    public var r2: Double
    /// Mean squared error of the predictions.
    public var mse: Double
    /// τ on the members whose true accuracy is at least each threshold (key: threshold).
    public var tauAtThreshold: [String: Double]
    /// The number of test members.
    public var count: Int

    /// Computes every metric from predictions and true values.
    public init(predicted: [Double], actual: [Double], thresholds: [Double] = []) {
        tau = Metrics.kendallTauB(predicted, actual)
        r2 = Metrics.rSquared(predicted: predicted, actual: actual)
        mse = Metrics.meanSquaredError(predicted: predicted, actual: actual)
        tauAtThreshold = Dictionary(uniqueKeysWithValues: thresholds.map {
            (String(format: "%.2f", $0), Metrics.kendallTauB(predicted: predicted, actual: actual, actualAtLeast: $0).tau)
        })
        count = actual.count
    }
}
