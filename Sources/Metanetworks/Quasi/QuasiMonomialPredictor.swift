import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A quasi-equivariant Monomial-NFN predictor ("Monomial-NFN Quasi" of Tran et al. 2026,
/// *Quasi-Equivariant Metanetworks*, §5.1): a ``MonomialPredictor`` whose equivariant layers are
/// (some of them) replaced by ``QuasiMonomialLayer``s, followed by the same invariant head:
/// `[B, C₀, …]` → `[B, outputs]`.
///
/// f(U) = MLP(Pool(σ(Q_m(… σ(Q_1(U)))))), Q_k = φ_k·E_k where quasi (see ``Placement``), E_k otherwise.
///
/// **Invariance (Tran et al. 2026, Prop. 3.3).** Each Q_k is quasi-equivariant, σ (ReLU) commutes with
/// positive scales, compositions of quasi-equivariant maps are quasi-equivariant, and Pool is
/// invariant to the whole group, so f(gU) = f(U) for every hidden permutation × positive scaling g
/// (tested to ≤ 1e-4).
///
/// **Caveat, proved and tested.** Because φ_k(·) is itself a group element and everything after it
/// is equivariant or invariant, the scales cancel in the head: f equals the ``MonomialPredictor``
/// with the same E weights, pool and MLP (up to the pool's ε). The φ networks then receive zero
/// gradient. The paper's reported gain for this model cannot come from φ in exact arithmetic; the
/// quasi layer matters only for equivariant outputs (weight-space editing).
///
/// - Complexity: that of ``MonomialPredictor`` plus each quasi layer's statistics and MLPs.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = try QuasiMonomialPredictor(architecture: .smallCNNZoo(),
///                                        configuration: .init(hiddenChannels: [16, 16, 5]), rng: &rng)
/// let prediction = model(WeightSpaceVariables(features))   // [B, 1]
/// ```
public final class QuasiMonomialPredictor: Module, WeightSpaceModel {
    /// Which equivariant layers become quasi-equivariant.
    public enum Placement: String, Sendable, CaseIterable, Codable {
        /// Only the last one (the paper's choice).
        case lastLayer
        /// Every one.
        case allLayers
    }

    /// ``MonomialLinear`` or ``QuasiMonomialLayer`` stages, in order.
    public let layers: [any Module & WeightSpaceLayer]
    public let nonlinearity: MonomialNonlinearity
    public let pool: MonomialInvariantPool
    public let head: MLP
    public let placement: Placement
    /// The input requirement of the wrapped predictor.
    let baseRequirement: WeightSpaceInputRequirement

    /// Builds a fresh model (the equivariant parts exactly as ``MonomialPredictor`` would).
    ///
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` unless `configuration.kind` is
    ///   ``MonomialGroupKind/positiveScaling`` (and as ``MonomialPredictor`` does).
    public convenience init(architecture: FeedforwardArchitecture, configuration: MonomialPredictor.Configuration = .init(),
                            placement: Placement = .lastLayer, scaleHiddenWidth: Int = 32, initialGamma: Float = 0.01,
                            rng: inout SeededGenerator) throws {
        let base = try MonomialPredictor(architecture: architecture, configuration: configuration, rng: &rng)
        try self.init(wrapping: base, placement: placement, scaleHiddenWidth: scaleHiddenWidth,
                      initialGamma: initialGamma, rng: &rng)
    }

    /// Wraps an existing predictor: its equivariant layers, pool and head are *shared* (same
    /// parameters), and new φ networks are added at `placement`.
    public init(wrapping base: MonomialPredictor, placement: Placement = .lastLayer, scaleHiddenWidth: Int = 32,
                initialGamma: Float = 0.01, rng: inout SeededGenerator) throws {
        guard base.configuration.kind == .positiveScaling else {
            throw ModuleError.invalidConfiguration("QuasiMonomialPredictor needs the positive-scaling group")
        }
        let m = base.layers.count
        var stages: [any Module & WeightSpaceLayer] = []
        for (k, e) in base.layers.enumerated() {
            if placement == .allLayers || k == m - 1 {
                stages.append(try QuasiMonomialLayer(e, hiddenWidth: scaleHiddenWidth, initialGamma: initialGamma, rng: &rng))
            } else {
                stages.append(e)
            }
        }
        layers = stages
        nonlinearity = base.nonlinearity
        pool = base.pool
        head = base.head
        self.placement = placement
        baseRequirement = base.inputRequirement
        super.init()
    }

    /// The features after the last stage and its nonlinearity (before pooling).
    public func equivariantFeatures(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        var h = input
        for layer in layers { h = nonlinearity(layer(h)) }
        return h
    }

    /// `[B, outputs]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        head(pool(equivariantFeatures(input)))
    }
}
