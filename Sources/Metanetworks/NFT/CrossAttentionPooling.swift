import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Invariant weight-space cross-attention pooling (Zhou et al. 2023, *Neural Functional
/// Transformers*, Eq. 9, §3.2):
/// CA(U)_m = Σ_t softmax_t(e_m · K_t / √d) V_t, for M learned queries e_m ∈ ℝ^d, where the tokens t
/// run over **every** weight entry W⁽ˢ⁾_{pq} and every bias entry v⁽ˢ⁾_p of every layer, with
/// K_t = θ_K x_t, V_t = θ_V x_t. The M outputs are concatenated: `[B, M·d]`.
///
/// For CNN weight spaces each weight entry is its folded channel vector ℝ^{C·f_i}; the key/value
/// projections are then per layer (θ_K⁽ⁱ⁾, θ_V⁽ⁱ⁾: ℝ^{C·f_i} → ℝ^d, and separate ones for biases),
/// the PROJ_i of §3.3. Eq. 9 has one shared θ_K, θ_V (``NFTProjectionSharing/shared``, the
/// default for dense weight spaces). Eq. 9 writes no 1/√d; we scale, as PyTorch's
/// `scaled_dot_product_attention` in the reference `CrossAttnEncoder` does. Eq. 9 covers weights
/// only; biases join as tokens (Appendix A.2 treats biases as tokens throughout). The reference
/// encoder uses identity keys/values; we learn θ_K, θ_V as Eq. 9 says.
///
/// **Group.** Invariant to every permutation of the tokens that keeps each token's projection,
/// hence to the full neuron-permutation group 𝒮_NP (and HNP). With `.perLayer` it is not invariant
/// to moving entries across layers; with `.shared` it is (it sees a bag of entries) — put a
/// ``LayerEncoding`` before it, as ``NFTPredictor`` does.
///
/// **Shapes.** Canonical features `[B, C, n_{i+1}, n_i, spatial…]` in, `[B, M·d]` out.
/// **Initialisation.** Queries e_m ~ N(0, 1) (the reference's `torch.randn`); projections Glorot
/// uniform with zero bias. **Parameters.** M·d + shared: (C + 1)·2d; per layer:
/// Σ_i [(C·f_i + 1)·2d + (C + 1)·2d].
///
/// - Complexity: O(B · dim 𝒰 · (C f d + M d)): one projection gemm and two attention gemms over
///   all N = dim 𝒰 / C tokens.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let pool = try CrossAttentionPooling(channels: 8, queries: 4, dimension: 16, filterFactors: [1, 1], rng: &rng)
/// let pooled = pool(features)         // [B, 64]
/// ```
public final class CrossAttentionPooling: Module {
    /// e₁ … e_M, `[M, d]`.
    public let queries: Parameter
    /// Shared key/value projection C → 2d (`.shared`).
    public let sharedKeyValue: Dense?
    /// Per-layer weight key/value projections C·f_i → 2d (`.perLayer`).
    public let weightKeyValue: [Dense]
    /// Per-layer bias key/value projections C → 2d (`.perLayer`).
    public let biasKeyValue: [Dense]
    public let channels: Int
    /// M.
    public let queryCount: Int
    /// d.
    public let dimension: Int
    public let filterFactors: [Int]
    public let sharing: NFTProjectionSharing

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive sizes or `.shared` with
    ///   f_i > 1.
    public init(channels: Int, queries: Int, dimension: Int, filterFactors: [Int],
                sharing: NFTProjectionSharing? = nil, rng: inout SeededGenerator) throws {
        guard channels > 0, queries > 0, dimension > 0, !filterFactors.isEmpty, filterFactors.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("CrossAttentionPooling: need positive sizes, got C=\(channels), M=\(queries), d=\(dimension), f=\(filterFactors)")
        }
        let sharing = sharing ?? .automatic(filterFactors: filterFactors)
        if sharing == .shared, filterFactors.contains(where: { $0 != 1 }) {
            throw ModuleError.invalidConfiguration("CrossAttentionPooling: shared projections need dense layers (f_i = 1), got \(filterFactors)")
        }
        self.channels = channels
        self.queryCount = queries
        self.dimension = dimension
        self.filterFactors = filterFactors
        self.sharing = sharing
        self.queries = Parameter(Tensor.normal([queries, dimension], rng: &rng))
        switch sharing {
        case .shared:
            sharedKeyValue = Dense(channels, 2 * dimension, rng: &rng)
            weightKeyValue = []; biasKeyValue = []
        case .perLayer:
            sharedKeyValue = nil
            var w: [Dense] = [], b: [Dense] = []
            for f in filterFactors {
                w.append(Dense(channels * f, 2 * dimension, rng: &rng))
                b.append(Dense(channels, 2 * dimension, rng: &rng))
            }
            weightKeyValue = w; biasKeyValue = b
        }
        super.init()
    }

    /// M·d, the output width.
    public var outputCount: Int { queryCount * dimension }

    /// CA(U) for canonical features: `[B, M·d]`.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        forward(NFTFoldedFeatures(folding: input, layout: .channelsLast))
    }

    func forward(_ x: NFTFoldedFeatures) -> Variable {
        nftCheckStructure(x, channels: channels, filterFactors: sharing == .perLayer ? filterFactors : nil,
                          layer: "CrossAttentionPooling")
        let batch = x.batchSize, d = dimension
        var tokens: [Variable] = []
        if let kv = sharedKeyValue {
            precondition(x.filterFactors.allSatisfy { $0 == 1 }, "CrossAttentionPooling: shared projections need dense layers")
            // One gemm over all entries of all layers.
            var raw: [Variable] = []
            for (w, b) in zip(x.weights, x.biases) {
                raw.append(w.reshaped([batch, -1, channels]))
                raw.append(b)
            }
            tokens = [nftLinear(Variable.concatenate(raw, alongAxis: 1), kv)]
        } else {
            for i in 0..<x.layerCount {
                let w = x.weights[i]
                tokens.append(nftLinear(w.reshaped([batch, -1, w.shape[3]]), weightKeyValue[i]))
                tokens.append(nftLinear(x.biases[i], biasKeyValue[i]))
            }
        }
        let kv = tokens.count == 1 ? tokens[0] : Variable.concatenate(tokens, alongAxis: 1)    // [B, N, 2d]
        let keys = kv.slice(axis: 2, 0..<d), values = kv.slice(axis: 2, d..<(2 * d))
        let e = queries.variable(on: x.weights[0].tape)
        // Scores [B, N, M]: each query's softmax runs over the N tokens (axis 1).
        let attention = (Variable.matmul(keys, e, transposeB: true) * (1 / Float(d).squareRoot())).softmax(alongAxis: 1)
        let pooled = Variable.matmul(attention, transposeA: true, values)                       // [B, M, d]
        return pooled.reshaped([batch, queryCount * d])
    }
}
