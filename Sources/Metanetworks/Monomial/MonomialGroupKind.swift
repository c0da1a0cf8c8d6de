import WeightSpace

/// Which monomial group a Monomial-NFN layer is equivariant to (Tran et al. 2024, *Monomial Matrix
/// Group Equivariant NFNs*).
///
/// Both contain the hidden-neuron permutations (HNP); they differ in the per-neuron factor d_j
/// that acts as W⁽ⁱ⁾ ← D_i P_i W⁽ⁱ⁾ P_{i−1}⁻¹ D_{i−1}⁻¹, v⁽ⁱ⁾ ← D_i P_i v⁽ⁱ⁾ (D_0 = D_L = I):
/// - ``positiveScaling``: d_j > 0, the symmetry of ReLU networks (ReLU(λx) = λ·ReLU(x), λ > 0);
/// - ``sign``: d_j = ±1, the symmetry of networks with odd activations (tanh, sin).
///
/// Input and output neurons are never permuted or scaled, so layers may mix freely over them.
public enum MonomialGroupKind: String, Sendable, CaseIterable, Codable {
    /// Hidden permutations × positive per-neuron scales (ReLU networks).
    case positiveScaling
    /// Hidden permutations × ±1 per-neuron signs (tanh and sine networks).
    case sign

    /// The matching ``NeuronGroupElement/Kind`` for sampling test elements.
    public var neuronGroupKind: NeuronGroupElement.Kind {
        switch self {
        case .positiveScaling: return .positiveScaling
        case .sign: return .signFlip
        }
    }
}
