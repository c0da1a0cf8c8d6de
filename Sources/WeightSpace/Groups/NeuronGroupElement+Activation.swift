import NeuralNetworks

extension NeuronGroupElement.Kind {
    /// Whether every element of this part of the group leaves a feed-forward network with hidden
    /// activation `activation` computing the same function.
    ///
    /// Hidden permutations are a symmetry of every pointwise activation. Positive per-neuron
    /// scales are one only where σ(a·x) = a·σ(x) for a > 0 (ReLU, identity); sign flips only where
    /// σ(−x) = −σ(x) (tanh, sine, identity). All-neuron permutations are never one. This is the
    /// same table ``SymmetryCheck/isTrueSymmetry(family:group:activation:)`` checks on networks.
    public func isSymmetry(of activation: Activation) -> Bool {
        switch self {
        case .hiddenPermutation: return true
        case .allPermutation: return false
        case .positiveScaling: return activation == .relu || activation == .identity
        case .signFlip: return activation == .tanh || activation == .sine || activation == .identity
        }
    }
}
