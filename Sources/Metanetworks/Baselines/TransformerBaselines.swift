import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// STATNN for transformer weight spaces: mean, variance and the 0/25/50/75/100 % quantiles of
/// every tensor (embedding, each block's eight tensors, classifier) → MLP (the STATNN baseline of
/// Unterthiner et al. 2020, *Predicting Neural Network Accuracy from Weights*, applied per tensor).
///
/// Invariant to head permutations and to π_O/π_A (statistics of whole tensors), not to GL actions.
public final class TransformerStatisticsPredictor: Module, TransformerWeightSpaceModel {
    /// The MLP on the statistics.
    public let head: PredictionMLP
    /// Tensors per member (2 embedding + 8 per block + 4 classifier).
    public let tensorCount: Int

    /// - Parameter tensorCount: tensors per member (2 embedding + 8 per block + 4 classifier).
    public init(tensorCount: Int, hidden: Int = 256, rng: inout SeededGenerator) {
        self.tensorCount = tensorCount
        head = PredictionMLP(inputs: tensorCount * 7, hidden: [hidden, hidden], outputs: 1, rng: &rng)
        super.init()
    }

    /// The statistics `[B, tensors·7]` (no gradient flows into the weights).
    public static func statistics(_ f: TransformerWeightSpaceFeatures) -> Tensor {
        let b = f.batchSize
        let parts = f.allTensors.map { t -> Tensor in
            let rows = t.reshaped([b, -1])
            let stats = WeightSpaceFeatures(unchecked: [rows.reshaped([b, 1, 1, rows.shape[1]])],
                                            biases: [Tensor(zeros: [b, 1, 1])]).layerStatistics()
            return stats.reshaped([b, 14]).slice(axis: 1, 0..<7)
        }
        return Tensor.concatenate(parts, alongAxis: 1)
    }

    /// Logits `[B, 1]`; the statistics enter the input's tape as constants.
    public func callAsFunction(_ input: TransformerWeightSpaceVariables) -> Variable {
        let s = Self.statistics(input.features)
        return head(input.tape?.constant(s) ?? Variable(s))
    }

    /// Throws ``ModuleError/invalidInput(_:)`` unless the features have ``tensorCount`` finite tensors.
    public func validate(_ features: TransformerWeightSpaceFeatures) throws {
        try TransformerFlatPredictor.checkTensors(features, count: tensorCount, scalars: nil)
    }
}

/// The flat-weights MLP baseline for transformer weight spaces: every scalar of a member, in one
/// vector, into an MLP (not invariant to any symmetry).
public final class TransformerFlatPredictor: Module, TransformerWeightSpaceModel {
    /// The MLP on the flattened weights.
    public let head: PredictionMLP
    /// Scalars per member.
    public let inputs: Int

    /// - Parameter inputs: scalars per member (every weight and bias of one transformer).
    public init(inputs: Int, hidden: Int = 256, rng: inout SeededGenerator) {
        self.inputs = inputs
        head = PredictionMLP(inputs: inputs, hidden: [hidden, hidden], outputs: 1, rng: &rng)
        super.init()
    }

    /// Every scalar of each member, `[B, total]`.
    public static func flattened(_ f: TransformerWeightSpaceFeatures) -> Tensor {
        Tensor.concatenate(f.allTensors.map { $0.reshaped([f.batchSize, -1]) }, alongAxis: 1)
    }

    /// Logits `[B, 1]`; the flattened weights enter the input's tape as constants.
    public func callAsFunction(_ input: TransformerWeightSpaceVariables) -> Variable {
        let x = Self.flattened(input.features)
        return head(input.tape?.constant(x) ?? Variable(x))
    }

    /// Throws ``ModuleError/invalidInput(_:)`` unless the features hold ``inputs`` finite scalars
    /// per member.
    public func validate(_ features: TransformerWeightSpaceFeatures) throws {
        try Self.checkTensors(features, count: nil, scalars: inputs)
    }

    /// The shared input check of the two baselines: tensor count, scalars per member, finiteness.
    static func checkTensors(_ f: TransformerWeightSpaceFeatures, count: Int?, scalars: Int?) throws {
        let tensors = f.allTensors, b = f.batchSize
        if let count, tensors.count != count {
            throw ModuleError.invalidInput("expected \(count) tensors per transformer, got \(tensors.count)")
        }
        guard b > 0, tensors.allSatisfy({ $0.rank >= 1 && $0.shape[0] == b }) else {
            throw ModuleError.invalidInput("every tensor must have the batch size \(b) as its first axis")
        }
        if let scalars {
            let n = tensors.reduce(0) { $0 + $1.count } / b
            guard n == scalars else { throw ModuleError.invalidInput("expected \(scalars) weights per transformer, got \(n)") }
        }
        if tensors.contains(where: \.hasNonFinite) { throw ModuleError.invalidInput("the weights contain NaN or infinity") }
    }
}
