import Tensors

/// A seeded train / validation / test split of zoo members.
public struct DataSplit: Codable, Sendable, Equatable {
    /// Member indices used for training.
    public var train: [Int]
    /// Member indices for early stopping / model selection.
    public var validation: [Int]
    /// Member indices for the reported metrics.
    public var test: [Int]

    /// Shuffles `0..<count` with `seed` and cuts it by the given fractions (test gets the rest).
    ///
    /// - Throws: ``TrainingError/invalidSplit(_:)`` when a part would be empty or fractions are
    ///   outside (0, 1).
    public init(count: Int, trainFraction: Double = 0.7, validationFraction: Double = 0.15, seed: UInt64) throws {
        try self.init(groups: Array(0..<count), trainFraction: trainFraction, validationFraction: validationFraction, seed: seed)
    }

    /// Splits items that come in groups — several checkpoints of one zoo member — so that every
    /// group lands in one part: a member seen in training never leaks into validation or test
    /// through a sibling checkpoint. The groups are shuffled with `seed` and cut by the fractions;
    /// each part lists its items' indices into `groups`, group by group in shuffled order.
    ///
    /// With every group distinct (`groups = 0..<n`) this is exactly ``init(count:trainFraction:validationFraction:seed:)``.
    ///
    /// - Throws: ``TrainingError/invalidSplit(_:)`` when a part would be empty or fractions are
    ///   outside (0, 1).
    public init(groups: [Int], trainFraction: Double = 0.7, validationFraction: Double = 0.15, seed: UInt64) throws {
        guard trainFraction > 0, validationFraction > 0, trainFraction + validationFraction < 1 else {
            throw TrainingError.invalidSplit("split fractions must be positive and sum to less than 1, got \(trainFraction) and \(validationFraction)")
        }
        let unique = Array(Set(groups)).sorted()
        let count = unique.count
        let nTrain = Int((Double(count) * trainFraction).rounded())
        let nVal = Int((Double(count) * validationFraction).rounded())
        guard nTrain >= 1, nVal >= 1, count - nTrain - nVal >= 2 else {
            throw TrainingError.invalidSplit("\(count) members are too few to split into train/validation/test")
        }
        var rng = SeededGenerator(seed: seed)
        let order = rng.permutation(count)
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        func items(_ range: ArraySlice<Int>) -> [Int] { range.flatMap { members[unique[$0]] ?? [] } }
        train = items(order[0..<nTrain])
        validation = items(order[nTrain..<(nTrain + nVal)])
        test = items(order[(nTrain + nVal)...])
    }
}
