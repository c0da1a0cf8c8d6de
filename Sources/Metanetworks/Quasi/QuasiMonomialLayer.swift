import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A quasi-equivariant Monomial-NFN layer (Tran et al. 2026, *Quasi-Equivariant Metanetworks*,
/// Eq. 4 and Appendix B.1):
/// Q(U) = φ(U) · E(U), with E an equivariant ``MonomialLinear`` (positive scaling) and φ(U) a
/// *group element* — positive per-hidden-neuron scales — predicted from statistics of U.
///
/// **φ.** For each hidden neuron layer ℓ = 1…L−1:
/// s_ℓ = 1 + γ̃_ℓ · sin(MLP_ℓ(stats(U))) ∈ ℝ^{B × n_ℓ}, with stats(U) the
/// ``QuasiMonomialStatistics`` of the layer's input (mean, variance, 5 quantiles of every layer's
/// weights and biases, per channel: C·L·14 values; for a first layer that is the raw network, as in
/// the paper, which computes them from the raw network even for its last-layer placement — any φ
/// into the group is valid, see below), MLP_ℓ = Dense(C·L·14 → `hiddenWidth`) → ReLU →
/// Dense(→ n_ℓ) (Glorot uniform, as the paper's "Xavier"; the appendix once says "Gated-MLP" without
/// defining it, so we use this plain MLP — our choice), and a learnable γ_ℓ (init 0.01) passed
/// through γ̃ = 0.9·tanh(γ/0.9). The bound is our addition: it keeps every s in [0.1, 1.9], so
/// φ(U) is *always* a valid group element even if training pushes γ past 1 (the paper's raw
/// 1 + γ·sin(·) is positive only while |γ| < 1); for small γ, γ̃ ≈ γ.
///
/// **Action.** φ(U) acts on E(U) exactly as a ``NeuronGroupElement`` with factors s (identity
/// permutations): rows of W⁽ℓ⁾ and entries of v⁽ℓ⁾ are multiplied by s_ℓ, columns of W⁽ℓ⁺¹⁾ divided by
/// s_ℓ, every channel and filter tap alike; input and output neurons are untouched.
///
/// **Why any statistics work (our reading of Tran et al. 2026, §4.1).** For f = φ·E with
/// φ(U) ∈ G and E equivariant, f(gU) = φ(gU)·g·E(U) = [φ(gU)·g·φ(U)⁻¹]·f(U), and
/// g′ = φ(gU)·g·φ(U)⁻¹ is in G because G is a group. So f is quasi-equivariant for *every* φ into
/// G — the statistics need not be invariant (they are not: scaling a neuron changes its layer's
/// mean and quantiles). What *is* required is that φ's output be a group element: positive, one
/// factor per hidden neuron shared by all channels and taps, inverted on the next layer's columns.
/// The cocycle conditions of Tran et al. 2026, Appendix A.1, concern the other construction
/// (choose g′ first, then solve for f), which the paper does not use either. The permutation part
/// of φ is constant (Remark 4.1), so the learned scale for "neuron j" attaches to a position, not
/// to a neuron identity.
///
/// **Consequence (Prop. 3.3).** An invariant head cannot see φ: for any G-invariant I,
/// I(φ(U)·Y) = I(Y). With equivariant layers and positively homogeneous nonlinearities after it the
/// same holds, so a ``QuasiMonomialPredictor`` computes exactly the function of the
/// ``MonomialPredictor`` with the same E weights (tested). Quasi-equivariance changes outputs only
/// where weight-space features are the output (e.g. editing tasks).
///
/// Only ``MonomialGroupKind/positiveScaling`` is supported: the sign group is discrete, so a
/// continuous φ into it is constant (Tran et al. 2026, Remarks 4.1 and 4.3), and positive scales
/// are not sign symmetries.
///
/// - Complexity: E's cost, plus the statistics (a sort per layer, member and channel) and
///   L−1 small MLPs.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let e = try MonomialLinear(inChannels: 1, outChannels: 16, architecture: .smallCNNZoo(),
///                            kind: .positiveScaling, rng: &rng)
/// let quasi = try QuasiMonomialLayer(e, rng: &rng)
/// let out = quasi(WeightSpaceVariables(features))     // φ(U) · E(U)
/// ```
public final class QuasiMonomialLayer: Module, WeightSpaceLayer {
    /// E, the equivariant part.
    public let equivariant: MonomialLinear
    /// MLP_ℓ for ℓ = 1…L−1 (hidden neuron layers).
    public let scaleNetworks: [MLP]
    /// γ_ℓ, `[L−1]`.
    public let gamma: Parameter
    /// The bound of γ̃ = bound·tanh(γ/bound).
    public static let gammaBound: Float = 0.9

    /// - Parameters:
    ///   - equivariant: E; its kind must be ``MonomialGroupKind/positiveScaling``.
    ///   - hiddenWidth: the width of each scale MLP (the paper uses 32).
    ///   - initialGamma: γ at initialisation (the paper uses 0.01).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for the sign group, a non-positive width,
    ///   or |initialGamma| ≥ ``gammaBound``.
    public init(_ equivariant: MonomialLinear, hiddenWidth: Int = 32, initialGamma: Float = 0.01,
                rng: inout SeededGenerator) throws {
        guard equivariant.kind == .positiveScaling else {
            throw ModuleError.invalidConfiguration("QuasiMonomialLayer needs the positive-scaling group: the sign group is discrete, so φ would be constant")
        }
        guard hiddenWidth > 0, Swift.abs(initialGamma) < Self.gammaBound else {
            throw ModuleError.invalidConfiguration("QuasiMonomialLayer needs hiddenWidth > 0 and |γ| < \(Self.gammaBound), got \(hiddenWidth), \(initialGamma)")
        }
        self.equivariant = equivariant
        let l = equivariant.layerCount
        let statCount = equivariant.inChannels * l * QuasiMonomialStatistics.perLayer
        scaleNetworks = (1..<l).map { ell in
            MLP(widths: [statCount, hiddenWidth, equivariant.widths[ell]], activation: .relu, rng: &rng)
        }
        // Store γ so that γ̃ = bound·tanh(γ/bound) equals the requested initial value.
        let b = Self.gammaBound
        gamma = Parameter(Tensor(repeating: b * Float(atanh(Double(initialGamma / b))), shape: [l - 1]))
        super.init()
    }

    /// The per-neuron scales s_ℓ of φ(U), `[B, n_ℓ]` for ℓ = 1…L−1, recorded on the input's tape.
    public func scales(_ input: WeightSpaceVariables) -> [Variable] {
        let b = input.batchSize
        let stats = QuasiMonomialStatistics.layerStatistics(input).reshaped([b, -1])
        let g = gamma.variable(on: input.tape)
        let bound = Self.gammaBound
        let effective = (g / bound).tanh() * bound                          // [L−1]
        return scaleNetworks.enumerated().map { h, net in
            1 + effective.slice(axis: 0, h..<(h + 1)) * net(stats).sin()    // [B, n_ℓ]
        }
    }

    /// φ(U) for member `member` of `features`, as a ``NeuronGroupElement`` (identity permutations,
    /// factors s_ℓ on hidden layers, 1 on input and output neurons).
    public func groupElement(for features: WeightSpaceFeatures, member: Int) -> NeuronGroupElement {
        let s = scales(WeightSpaceVariables(features.member(member)))
        let widths = equivariant.widths
        let factors: [[Float]] = widths.indices.map { ell in
            (ell == 0 || ell == widths.count - 1) ? [Float](repeating: 1, count: widths[ell]) : s[ell - 1].value.scalars
        }
        // Valid by construction: identity permutations and factors in [0.1, 1.9].
        return try! NeuronGroupElement(permutations: widths.map { Array(0..<$0) }, factors: factors)
    }

    /// φ(U) · E(U).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        let s = scales(input)
        return Self.act(scales: s, on: equivariant(input))
    }

    /// Applies per-member hidden-neuron scales (`[B, n_ℓ]` for ℓ = 1…L−1) as a group element:
    /// rows of layer ℓ and its bias × s_ℓ, columns of layer ℓ+1 ÷ s_ℓ.
    static func act(scales s: [Variable], on y: WeightSpaceVariables) -> WeightSpaceVariables {
        let b = y.batchSize, l = y.layerCount
        var weights = y.weights, biases = y.biases
        for i in 0..<l {
            let taps = weights[i].rank - 4
            if i + 1 < l {   // rows are hidden neurons ℓ = i + 1
                let n = s[i].shape[1]
                weights[i] = weights[i] * s[i].reshaped([b, 1, n, 1] + Array(repeating: 1, count: taps))
                biases[i] = biases[i] * s[i].reshaped([b, 1, n])
            }
            if i > 0 {       // columns are hidden neurons ℓ = i
                let n = s[i - 1].shape[1]
                weights[i] = weights[i] / s[i - 1].reshaped([b, 1, 1, n] + Array(repeating: 1, count: taps))
            }
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }
}
