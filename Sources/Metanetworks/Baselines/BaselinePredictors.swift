import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The STATNN baseline (Unterthiner et al. 2020; reference `StatNet`): per-layer summary
/// statistics of the weights → MLP → `[B, outputs]`.
///
/// Features: for every channel and layer, mean, population variance and the 0/.25/.5/.75/1
/// quantiles of the weights, then the same of the biases (``WeightSpaceFeatures/layerStatistics()``),
/// flattened to `[B, C·L·14]`, then `Dense(·, h) → ReLU → [Dropout] → Dense(h, h) → ReLU →
/// [Dropout] → Dense(h, outputs) [→ sigmoid]`. The statistics are computed on the input *values*:
/// the inputs are data, so no gradient flows back into them.
///
/// **Group.** Invariant to every neuron permutation (statistics of a multiset), but *not* to the
/// positive per-neuron scalings that leave a ReLU network's function unchanged (tested).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let statnn = STATNNPredictor(layerCount: 4, hidden: 64, rng: &rng)
/// ```
/// - Complexity: O(N log N) for the quantiles (N weights per member), plus the MLP.
public final class STATNNPredictor: Module, WeightSpaceModel {
    public let layerCount: Int
    public let inChannels: Int
    public let head: PredictionMLP

    /// - Parameters:
    ///   - hidden: the width h of the two hidden layers (the reference uses 1000).
    public init(layerCount: Int, inChannels: Int = 1, hidden: Int = 1000, outputs: Int = 1,
                dropout: Float = 0, sigmoid: Bool = false, rng: inout SeededGenerator) {
        self.layerCount = layerCount
        self.inChannels = inChannels
        head = PredictionMLP(inputs: inChannels * layerCount * 14, hidden: [hidden, hidden], outputs: outputs,
                             dropout: dropout, sigmoid: sigmoid, rng: &rng)
        super.init()
    }

    public convenience init(architecture: FeedforwardArchitecture, inChannels: Int = 1, hidden: Int = 1000,
                            outputs: Int = 1, dropout: Float = 0, sigmoid: Bool = false, rng: inout SeededGenerator) {
        self.init(layerCount: architecture.layerCount, inChannels: inChannels, hidden: hidden, outputs: outputs,
                  dropout: dropout, sigmoid: sigmoid, rng: &rng)
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        precondition(input.layerCount == layerCount && input.channelCount == inChannels,
                     "STATNNPredictor built for \(layerCount) layers × \(inChannels) channels")
        let stats = input.value.layerStatistics().reshaped([input.batchSize, -1])
        let x = input.tape?.constant(stats) ?? Variable(stats)
        return head(x)
    }
}

/// The flat-MLP baseline: every weight and bias of a member concatenated in layer order (weight
/// then bias, ``WeightSpaceFeatures/flattened``'s order) → MLP → `[B, outputs]`.
///
/// **Group.** None: a hidden-neuron permutation moves the inputs of the first dense layer, so the
/// prediction changes (tested against HNP).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let flat = FlatMLPPredictor(architecture: .smallCNNZoo(), hidden: [256, 256], rng: &rng)
/// ```
/// - Complexity: O(B · (C·N·h₁ + Σ h_i h_{i+1})) for N scalars per member.
public final class FlatMLPPredictor: Module, WeightSpaceModel {
    /// Scalars per member and channel.
    public let inputCount: Int
    public let inChannels: Int
    public let head: PredictionMLP
    /// The architecture it was built for.
    public let architecture: FeedforwardArchitecture

    public init(architecture: FeedforwardArchitecture, inChannels: Int = 1, hidden: [Int] = [1000, 1000],
                outputs: Int = 1, dropout: Float = 0, sigmoid: Bool = false, rng: inout SeededGenerator) {
        inputCount = architecture.parameterCount
        self.architecture = architecture
        self.inChannels = inChannels
        head = PredictionMLP(inputs: inChannels * inputCount, hidden: hidden, outputs: outputs,
                             dropout: dropout, sigmoid: sigmoid, rng: &rng)
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        let b = input.batchSize
        let parts = zip(input.weights, input.biases).flatMap { [$0.reshaped([b, -1]), $1.reshaped([b, -1])] }
        let flat = Variable.concatenate(parts, alongAxis: 1)
        precondition(flat.shape[1] == inChannels * inputCount,
                     "FlatMLPPredictor expects \(inChannels * inputCount) scalars per member, got \(flat.shape[1])")
        return head(flat)
    }
}
