import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A pointwise nonlinearity on weight-space features that commutes with a monomial group
/// (Tran et al. 2024, *Monomial Matrix Group Equivariant NFNs*): σ(d·x) = d·σ(x) for every factor d
/// of the group.
///
/// - ``Function/relu``: ReLU(λx) = λ·ReLU(x) for λ > 0 → equivariant under
///   ``MonomialGroupKind/positiveScaling`` (not under signs).
/// - ``Function/tanh``, ``Function/sine``: odd functions, σ(−x) = −σ(x) → equivariant under
///   ``MonomialGroupKind/sign`` (not under positive scales, since they are not homogeneous).
///
/// Every entry of every weight and bias is mapped; permutations commute with any pointwise map.
/// Shapes are unchanged. No parameters.
/// - Complexity: O(number of entries).
public final class MonomialNonlinearity: Module, FoldedWeightSpaceLayer {
    /// The pointwise function.
    public enum Function: String, Sendable, CaseIterable, Codable {
        case relu, tanh, sine

        /// Whether σ(d·x) = d·σ(x) for every factor d of `kind`.
        public func isEquivariant(under kind: MonomialGroupKind) -> Bool {
            switch (self, kind) {
            case (.relu, .positiveScaling), (.tanh, .sign), (.sine, .sign): return true
            default: return false
            }
        }

        /// The natural choice for a group: ReLU for positive scaling, tanh for signs.
        public static func `default`(for kind: MonomialGroupKind) -> Function {
            kind == .positiveScaling ? .relu : .tanh
        }
    }

    public let function: Function

    public init(_ function: Function) {
        self.function = function
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        switch function {
        case .relu: return input.map(PermutationOps.relu)
        case .tanh: return input.map { $0.tanh() }
        case .sine: return input.map { $0.sin() }
        }
    }

    /// The nonlinearity on folded features (any layout: an entrywise map commutes with folding).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        switch function {
        case .relu: return input.map(PermutationOps.relu)
        case .tanh: return input.map { $0.tanh() }
        case .sine: return input.map { $0.sin() }
        }
    }
}
