import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// A Monomial-NFN invariant predictor (Tran et al. 2024, *Monomial Matrix Group Equivariant NFNs*,
/// §6; the reference `InvariantNFN` with `HNPS` layers and the `mlp_hnps` head): weight-space
/// features `[B, C₀, …]` → `[B, outputs]`, invariant to hidden-neuron permutations × positive
/// scales (or × signs).
///
/// f(U) = MLP(Pool(σ(E_m(… σ(E_1(U)))))) with
/// - E_k: ``MonomialLinear`` layers C₀ → C₁ → … → C_m (`hiddenChannels`), each followed by
/// - σ: a ``MonomialNonlinearity`` that commutes with the group (ReLU for positive scaling,
///   tanh or sine for signs),
/// - Pool: ``MonomialInvariantPool`` (per-entry canonicalisation, then HNP mean pooling),
/// - MLP: `headWidth` wide, `headHiddenLayers` ReLU hidden layers, linear output (Glorot uniform).
///
/// Invariance: every E_k and σ is equivariant and Pool is invariant, so f(gU) = f(U) for every g of
/// the group (tested to ≤ 1e-4). Tran et al. 2024's CNN-generalisation model (§6) uses
/// `hiddenChannels: [16, 16, 5]`, `headWidth: 200` and a sigmoid on the output (apply it in the loss).
///
/// - Complexity: see ``MonomialLinear``; the head adds O(B·(C_m·K·h + h²)).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = try MonomialPredictor(architecture: .smallCNNZoo(),
///                                   configuration: .init(kind: .positiveScaling, hiddenChannels: [16, 16, 16]),
///                                   rng: &rng)
/// let accuracy = model(WeightSpaceVariables(features)).sigmoid()   // [B, 1]
/// ```
public final class MonomialPredictor: Module, WeightSpaceModel {
    /// Hyper-parameters, with the defaults of Tran et al. 2024 (§6).
    public struct Configuration: Sendable, Equatable, Codable {
        /// The group to be invariant to.
        public var kind: MonomialGroupKind
        /// Channels of the input features (1 for raw weights).
        public var inputChannels: Int
        /// Output channels of each equivariant layer.
        public var hiddenChannels: [Int]
        /// The pointwise nonlinearity; nil picks ReLU (positive scaling) or tanh (sign).
        public var activation: MonomialNonlinearity.Function?
        /// Width of the MLP head.
        public var headWidth: Int
        /// Hidden layers of the MLP head.
        public var headHiddenLayers: Int
        /// Outputs per network.
        public var outputs: Int

        public init(kind: MonomialGroupKind = .positiveScaling, inputChannels: Int = 1,
                    hiddenChannels: [Int] = [16, 16, 5], activation: MonomialNonlinearity.Function? = nil,
                    headWidth: Int = 200, headHiddenLayers: Int = 2, outputs: Int = 1) {
            self.kind = kind; self.inputChannels = inputChannels; self.hiddenChannels = hiddenChannels
            self.activation = activation; self.headWidth = headWidth
            self.headHiddenLayers = headHiddenLayers; self.outputs = outputs
        }
    }

    public let layers: [MonomialLinear]
    public let nonlinearity: MonomialNonlinearity
    public let pool: MonomialInvariantPool
    public let head: MLP
    public let configuration: Configuration
    /// The architecture it was built for.
    public let architecture: FeedforwardArchitecture

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the activation does not commute with
    ///   the group, no layers are requested, a size is not positive, or the architecture has L < 2.
    public init(architecture: FeedforwardArchitecture, configuration: Configuration = .init(),
                rng: inout SeededGenerator) throws {
        let cfg = configuration
        self.architecture = architecture
        let function = cfg.activation ?? .default(for: cfg.kind)
        guard function.isEquivariant(under: cfg.kind) else {
            throw ModuleError.invalidConfiguration("\(function.rawValue) does not commute with the \(cfg.kind.rawValue) group")
        }
        guard !cfg.hiddenChannels.isEmpty, cfg.headWidth > 0, cfg.headHiddenLayers >= 0, cfg.outputs > 0 else {
            throw ModuleError.invalidConfiguration("MonomialPredictor needs ≥ 1 equivariant layer and positive head sizes, got \(cfg)")
        }
        var built: [MonomialLinear] = []
        var c = cfg.inputChannels
        for co in cfg.hiddenChannels {
            built.append(try MonomialLinear(inChannels: c, outChannels: co, architecture: architecture, kind: cfg.kind, rng: &rng))
            c = co
        }
        layers = built
        nonlinearity = MonomialNonlinearity(function)
        pool = try MonomialInvariantPool(channels: c, architecture: architecture, kind: cfg.kind)
        head = MLP(widths: [pool.outputCount] + Array(repeating: cfg.headWidth, count: cfg.headHiddenLayers) + [cfg.outputs],
                   activation: .relu, rng: &rng)
        self.configuration = cfg
        super.init()
    }

    /// The invariant features fed to the head, `[B, C_m·K]`.
    ///
    /// The filter taps are folded once on entry and unfolded once before the pool (see
    /// ``FoldedWeightSpace``).
    public func pooledFeatures(_ input: WeightSpaceVariables) -> Variable {
        if let first = layers.first { do { try first.validate(input) } catch { preconditionFailure("\(error)") } }
        var h = FoldedWeightSpace(folding: input, layout: .channelsFirst)
        for layer in layers { h = nonlinearity(layer(h)) }
        return pool(h.unfolded())
    }

    /// `[B, outputs]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        head(pooledFeatures(input))
    }
}
