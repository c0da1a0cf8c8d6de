import Foundation
import Tensors

/// One boosting round of a fit: the training RMSE and the validation score after it.
public struct TreeEnsembleRound: Codable, Sendable, Equatable {
    /// The round (1-based).
    public var round: Int
    /// Root mean squared error on the training rows.
    public var trainRMSE: Double
    /// The caller's validation score (higher is better; NaN without validation).
    public var validationScore: Double
    /// Wall-clock seconds of the round, validation included.
    public var seconds: Double
}

/// A fitted ensemble: the booster (already cut to its best round) and the record of the fit.
public struct TreeEnsembleFit {
    /// The model, holding rounds `1...bestRound`.
    public var booster: XGBoostBooster
    /// Every round run.
    public var rounds: [TreeEnsembleRound]
    /// The round whose prefix was kept (the best validation score; the last without validation).
    public var bestRound: Int
}

/// Fits squared-error regression ensembles through XGBoost.
///
/// Not a differentiable metanetwork: trees are grown greedily by XGBoost on fixed features (here,
/// per-layer weight statistics), so there is no gradient with respect to the input and no tape.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let x = Tensor(shape: [200, 3], generating: { _ in Float.random(in: -1...1, using: &rng) })
/// let scalars = x.scalars
/// let y = (0..<200).map { scalars[3 * $0] * 2 }
/// var h = TreeEnsembleHyperparameters.xgboostDefaults
/// h.minChildWeight = 1
/// let fit = try TreeEnsembleRegressor.fit(.xgboost, hyperparameters: h, seed: 0, features: x, labels: y)
/// let predicted = try fit.booster.predict(try XGBoostMatrix(features: x))
/// ```
public enum TreeEnsembleRegressor {
    /// Grows `hyperparameters.rounds` rounds on (`features`, `labels`), starting from the mean
    /// label (`base_score`); after each it scores
    /// `validation` (predictions for its features → a score, higher is better) and keeps the
    /// prefix of rounds with the best score (the first best on ties).
    ///
    /// - Parameter progress: called after every round.
    /// - Throws: ``TreeEnsembleError/invalidInput(_:)`` for bad hyper-parameters, shapes, an empty
    ///   training set or non-finite values; XGBoost's errors.
    /// - Complexity: O(rounds · parallelTrees · n · d · log n) for the fit (XGBoost's hist method),
    ///   plus a prediction of both sets per round.
    public static func fit(_ kind: TreeEnsembleKind, hyperparameters h: TreeEnsembleHyperparameters, seed: UInt64,
                           features: Tensor, labels: [Float],
                           validation: (features: Tensor, score: ([Float]) throws -> Double)? = nil,
                           progress: ((TreeEnsembleRound) throws -> Void)? = nil) throws -> TreeEnsembleFit {
        try h.validate()
        let train = try XGBoostMatrix(features: features, labels: labels, threads: h.threads)
        let check = try validation.map { try XGBoostMatrix(features: $0.features, threads: h.threads) }
        if let check, check.columns != train.columns {
            throw TreeEnsembleError.invalidInput("validation features have \(check.columns) columns, training features \(train.columns)")
        }
        let booster = try XGBoostBooster(training: train)
        // The trees start from the mean target, as XGBoost ≥ 2.0 does by itself. From 1.7's fixed
        // 0.5, every gradient of an accuracy far from 0.5 carries the same large offset, and the
        // lambda penalty then outweighs the gain of any split (measured: a 24-checkpoint forest
        // with lambda 0.2 grew no split at all).
        let mean = Float(labels.reduce(0.0) { $0 + Double($1) } / Double(labels.count))
        let parameters = h.xgboostParameters(kind: kind, seed: seed, baseScore: mean)
        try booster.setParameters(parameters)
        var rounds: [TreeEnsembleRound] = []
        var best = (round: 0, score: -Double.infinity)
        for r in 0..<h.rounds {
            let start = Date()
            try booster.update(round: r, training: train)
            if r == 0 {
                // A name the linked XGBoost does not know would only be logged: refuse it instead.
                let unknown = try booster.unknownParameters(parameters.keys.sorted())
                guard unknown.isEmpty else {
                    throw TreeEnsembleError.xgboost(operation: "configuration", message: "XGBoost \(xgboostVersion) does not know the parameter(s) \(unknown.joined(separator: ", "))")
                }
            }
            let fitted = try booster.predict(train)
            var sq = 0.0
            for (p, y) in zip(fitted, labels) { sq += Double(p - y) * Double(p - y) }
            var score = Double.nan
            if let check, let validation {
                score = try validation.score(try booster.predict(check))
                if score > best.score || best.round == 0 { best = (r + 1, score.isNaN ? -Double.infinity : score) }
            } else {
                best = (r + 1, .nan)
            }
            let record = TreeEnsembleRound(round: r + 1, trainRMSE: (sq / Double(labels.count)).squareRoot(),
                                           validationScore: score, seconds: Date().timeIntervalSince(start))
            rounds.append(record)
            try progress?(record)
        }
        let kept = best.round == h.rounds ? booster : try booster.prefix(rounds: best.round)
        return TreeEnsembleFit(booster: kept, rounds: rounds, bestRound: best.round)
    }
}
