import Autograd

/// The pointwise activations the zoos use, by name (`relu`, `tanh`, `sine`, `identity`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, tanh, sine, identity

    /// Applies the activation elementwise (`sine` is sin(x), with no frequency).
    public func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sine: return x.sin()
        case .identity: return x
        }
    }
}
