import NeuralNetworks

/// The optimizers a training run can name (in configs, zoo hyper-parameter spaces, the CLI).
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// `sgd`: ``SGD`` without momentum; `momentum`: ``SGD`` with μ = 0.9; `adam`: ``Adam``;
    /// `adamw`: ``AdamW``; `rmsprop`: ``RMSProp`` (α = 0.99, no momentum). Hyper-parameters other than
    /// the learning rate and weight decay take their defaults.
    case sgd, momentum, adam, adamw, rmsprop

    /// A fresh optimizer. `weightDecay` is coupled L2 (added to the gradient) except for AdamW,
    /// where it is decoupled; `momentum` uses 0.9.
    public func make(learningRate: Float, weightDecay: Float = 0) -> Optimizer {
        switch self {
        case .sgd: return SGD(learningRate: learningRate, weightDecay: weightDecay)
        case .momentum: return SGD(learningRate: learningRate, momentum: 0.9, weightDecay: weightDecay)
        case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: return AdamW(learningRate: learningRate, weightDecay: weightDecay)
        case .rmsprop: return RMSProp(learningRate: learningRate, weightDecay: weightDecay)
        }
    }

    /// Tensors of optimizer state kept per parameter tensor (Adam and AdamW: two moments;
    /// momentum and RMSProp: one; plain SGD: none) — for sizing checkpoints before training.
    public var stateTensorsPerParameter: Int {
        switch self {
        case .sgd: return 0
        case .momentum, .rmsprop: return 1
        case .adam, .adamw: return 2
        }
    }
}
