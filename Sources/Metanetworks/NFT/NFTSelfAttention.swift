import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Whether an NFT attention layer uses one channel projection for every weight and bias, or one
/// per layer (and separate ones for weights and biases).
public enum NFTProjectionSharing: String, Sendable, Codable, CaseIterable {
    /// One projection θ for all entries (Zhou et al. 2023, *Neural Functional Transformers*, Eqs. 7
    /// and 9). Needs every layer to have the same channel count, i.e. a dense (MLP) weight space
    /// with f_i = 1; the layer then accepts any number of layers and any widths.
    case shared
    /// One projection per layer, PROJ_i: ℝ^{C·f_i} → ℝ^{3C} for weights and ℝ^C → ℝ^{3C} for
    /// biases, and (in self-attention) an UNPROJ_i: ℝ^C → ℝ^{C·f_i} back (Zhou et al. 2023,
    /// *Neural Functional Transformers*, §3.3).
    /// Required for convolutional weight spaces, whose folded channel counts C·f_i differ.
    case perLayer

    /// `.shared` when every filter factor is 1, else `.perLayer`.
    public static func automatic(filterFactors: [Int]) -> NFTProjectionSharing {
        filterFactors.allSatisfy { $0 == 1 } ? .shared : .perLayer
    }
}

/// Weight-space multi-head self-attention (Zhou et al. 2023, *Neural Functional Transformers*,
/// Eqs. 4–7 and Appendix A.2, with the layer-mean global term of §3.1 and the reference
/// `NPAttention` in AllanYangZhou/nfn).
///
/// Every weight entry W⁽ⁱ⁾_{jk} ∈ ℝ^C and bias entry v⁽ⁱ⁾_j is projected pointwise to a query,
/// key and value (Q = θ_Q W, K = θ_K W, V = θ_V W, one gemm over all entries; for CNNs the filter
/// taps are folded into the channels first, `[B, C·kh·kw, n_out, n_in]`). The output is the sum of
/// two terms:
///
/// - **Neuron term (Eqs. 4–5).** For every neuron layer ℓ = 0…L, the tokens are the weight vectors
///   incident to its n_ℓ neurons: the columns W⁽ℓ⁾_{:,q} (one per neuron of layer ℓ−1), the bias
///   v⁽ℓ⁾, and the rows W⁽ℓ⁺¹⁾_{p,:} (one per neuron of layer ℓ+1). Each token is a vector over
///   layer ℓ's neurons; per head its features are the flattened (n_ℓ × C/h) block. Attention runs
///   among those n_{ℓ−1} + 1 + n_{ℓ+1} tokens with scale 1/√(n_ℓ·C/h), and each output token is
///   written back to the column, bias or row it came from. Every weight therefore receives two
///   contributions (as a column token at its output layer, as a row token at its input layer) and
///   every bias one: exactly Eq. 23–24's `ATTN(Q_{j,:}, KV₁)_k + ATTN(Q_{:,k}, KV₂)_j`.
/// - **Layer term (tractable Eq. 6).** Attention among the 2L per-layer mean tokens
///   (W⁽ˢ⁾_{⋆⋆}, v⁽ˢ⁾_⋆) of the projected q/k/v, scale 1/√(C/h); output token s is broadcast to
///   every entry of W⁽ˢ⁾ (or v⁽ˢ⁾).
///
/// Heads split the C projected channels into h groups of C/h; their outputs are concatenated back
/// to C channels (no output projection, as in the paper and the reference code). With
/// ``NFTProjectionSharing/perLayer`` the weight outputs go through UNPROJ_i back to C·f_i.
///
/// **Choices where paper and reference code differ (decided here, tested):**
/// - Eq. 3 has no 1/√d scaling; the reference (`simple_attention`) divides by √(token dim). We
///   scale (it keeps softmax temperatures comparable across widths).
/// - Eq. 6 is naive attention between all dim 𝒲 entries, O((dim 𝒲)² C); the paper's practical
///   version attends between row-column *sums* of weight matrices only. We follow the reference
///   code: *means* of weights **and** biases, 2L tokens (means keep the scale width-independent).
/// - The q/k/v projections carry a bias (the reference's `ChannelLinear`); Eq. 7 has none. A
///   pointwise bias is NP-equivariant, so nothing is lost.
///
/// **Group.** Equivariant to the full neuron-permutation group 𝒮_NP (σ₀ … σ_L, input and output
/// neurons included), hence also to hidden-neuron permutations (HNP): permuting layer ℓ's neurons
/// permutes the coordinates of every token of ℓ identically (dot products unchanged) and permutes
/// the tokens of ℓ±1 (attention is permutation equivariant over tokens); means are invariant.
/// It is **not** equivariant to per-neuron scalings (attention is nonlinear) nor to false
/// symmetries that decouple the row permutation of W⁽ⁱ⁾ from the column permutation of W⁽ⁱ⁺¹⁾.
/// On its own it is also not equivariant to relabelling (swapping) two equally shaped layers:
/// the neuron term couples adjacent layers through their shared neurons, so the swap changes
/// which matrices meet. The layer term alone *is* swap-equivariant (it treats layers as an
/// unordered set of tokens); ``LayerEncoding`` before it breaks that (Zhou et al. 2023, Thm. 3.1).
///
/// **Shapes.** Canonical layout in and out: `weights[i]` `[B, C, n_{i+1}, n_i, spatial…]`,
/// `biases[i]` `[B, C, n_{i+1}]`; any batch B ≥ 1; widths are free (parameters do not depend on
/// them). With ``NFTProjectionSharing/shared`` the layer count is free too.
///
/// **Initialisation.** Projection matrices Glorot uniform, projection biases zero.
///
/// **Parameters.** Shared: 3C² + 3C. Per layer: Σ_i [(C·f_i + 1)·3C + (C + 1)·3C + (C + 1)·C·f_i].
///
/// - Complexity: neuron term O(B Σ_ℓ (n_{ℓ−1} + 1 + n_{ℓ+1})² n_ℓ C), i.e. O(B L n³ C) for width
///   n (Zhou et al. 2023, §3.1); layer term O(B L² C); projections O(B · dim 𝒲 · C² f). Measured
///   (release, one thread, B = 8, C = 16, L = 3, forward + backward): ×4.5, ×5.6, ×6.3 per doubling
///   of n from 16 to 128 (7 ms → 1.2 s), tending to the n³ factor 8 as the neuron term dominates
///   the O(n²) projections.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let attention = try NFTSelfAttention(channels: 8, heads: 2, filterFactors: [1, 1, 1], rng: &rng)
/// let features = WeightSpaceVariables(input)          // [B, 8, …] weight-space features
/// let output = attention(features)                    // same shapes
/// ```
public final class NFTSelfAttention: Module, WeightSpaceLayer {
    /// Which of the two terms are computed (for ablations and the false-symmetry study).
    public struct Terms: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Attention among the tokens incident to each neuron layer (Eqs. 4–5).
        public static let neuron = Terms(rawValue: 1)
        /// Attention among the 2L per-layer mean tokens, broadcast back (tractable Eq. 6).
        public static let layer = Terms(rawValue: 2)
        /// Both terms: the layer of the paper.
        public static let all: Terms = [.neuron, .layer]
    }

    /// Shared q/k/v projection C → 3C (`.shared` only).
    public let sharedQKV: Dense?
    /// Per-layer weight projections C·f_i → 3C (`.perLayer` only).
    public let weightQKV: [Dense]
    /// Per-layer bias projections C → 3C (`.perLayer` only).
    public let biasQKV: [Dense]
    /// Per-layer weight unprojections C → C·f_i (`.perLayer` only).
    public let unprojection: [Dense]

    /// C, the channel count per filter tap.
    public let channels: Int
    /// h; C must be divisible by h.
    public let heads: Int
    /// f_i per layer this layer was built for.
    public let filterFactors: [Int]
    public let sharing: NFTProjectionSharing
    public let terms: Terms
    /// How often the per-layer unprojection adds its bias (see ``NFTRecipe/UnprojectionBias``).
    public let unprojectionBias: NFTRecipe.UnprojectionBias

    /// - Parameters:
    ///   - channels: C (per filter tap).
    ///   - heads: h, dividing C.
    ///   - filterFactors: f_i = kh·kw per layer (1 for dense layers).
    ///   - sharing: defaults to ``NFTProjectionSharing/automatic(filterFactors:)``.
    ///   - terms: which terms to compute; both by default.
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when h does not divide C, a count is not
    ///   positive, no term is selected, or `.shared` is asked for a weight space with f_i > 1.
    public init(channels: Int, heads: Int, filterFactors: [Int], sharing: NFTProjectionSharing? = nil,
                terms: Terms = .all, unprojectionBias: NFTRecipe.UnprojectionBias = .once, rng: inout SeededGenerator) throws {
        guard channels > 0, heads > 0, channels % heads == 0 else {
            throw ModuleError.invalidConfiguration("NFTSelfAttention: heads (\(heads)) must divide channels (\(channels))")
        }
        guard !filterFactors.isEmpty, filterFactors.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("NFTSelfAttention: filter factors must be positive, got \(filterFactors)")
        }
        guard !terms.isEmpty else { throw ModuleError.invalidConfiguration("NFTSelfAttention: no term selected") }
        let sharing = sharing ?? .automatic(filterFactors: filterFactors)
        if sharing == .shared, filterFactors.contains(where: { $0 != 1 }) {
            throw ModuleError.invalidConfiguration("NFTSelfAttention: shared projections need dense layers (f_i = 1), got \(filterFactors); use .perLayer")
        }
        self.channels = channels
        self.heads = heads
        self.filterFactors = filterFactors
        self.sharing = sharing
        self.terms = terms
        self.unprojectionBias = unprojectionBias
        let c = channels
        switch sharing {
        case .shared:
            sharedQKV = Dense(c, 3 * c, rng: &rng)
            weightQKV = []; biasQKV = []; unprojection = []
        case .perLayer:
            sharedQKV = nil
            var w: [Dense] = [], b: [Dense] = [], u: [Dense] = []
            for f in filterFactors {
                w.append(Dense(c * f, 3 * c, rng: &rng))
                b.append(Dense(c, 3 * c, rng: &rng))
                u.append(Dense(c, c * f, rng: &rng))
            }
            weightQKV = w; biasQKV = b; unprojection = u
        }
        super.init()
    }

    /// Builds the layer for an architecture's filter factors.
    public convenience init(channels: Int, heads: Int, architecture: FeedforwardArchitecture,
                            sharing: NFTProjectionSharing? = nil, terms: Terms = .all,
                            unprojectionBias: NFTRecipe.UnprojectionBias = .once, rng: inout SeededGenerator) throws {
        try self.init(channels: channels, heads: heads,
                      filterFactors: (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) },
                      sharing: sharing, terms: terms, unprojectionBias: unprojectionBias, rng: &rng)
    }

    /// SA(U) in the canonical layout (see the type's documentation).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        forward(NFTFoldedFeatures(folding: input, layout: .channelsLast)).unfolded()
    }

    /// SA on folded channels-last features (used inside ``NFTBlock`` without refolding).
    func forward(_ x: NFTFoldedFeatures) -> NFTFoldedFeatures {
        nftCheckStructure(x, channels: channels, filterFactors: sharing == .perLayer ? filterFactors : nil,
                          layer: "NFTSelfAttention")
        if sharing == .shared {
            precondition(x.filterFactors.allSatisfy { $0 == 1 }, "NFTSelfAttention: shared projections need dense layers")
        }
        let layers = x.layerCount, batch = x.batchSize
        let c = channels, h = heads, d = channels / heads
        let widths = x.widths
        // Per-entry q/k/v, channels last: weights [B, o, i, 3C], biases [B, o, 3C].
        let pw: [Variable] = (0..<layers).map { i in nftLinear(x.weights[i], sharedQKV ?? weightQKV[i]) }
        let pb: [Variable] = (0..<layers).map { i in nftLinear(x.biases[i], sharedQKV ?? biasQKV[i]) }

        var outW = [Variable?](repeating: nil, count: layers)
        var outB = [Variable?](repeating: nil, count: layers)
        func add(_ slot: inout Variable?, _ v: Variable) { slot = slot.map { $0 + v } ?? v }

        if terms.contains(.neuron) {
            for l in 0...layers {
                let n = widths[l]
                // Tokens as [3, B, h, T, n, d]: q/k/v first so one reshape splits them.
                var parts: [Variable] = []
                var columns = 0, rows = 0
                if l >= 1 {
                    columns = widths[l - 1]
                    parts.append(pw[l - 1].reshaped([batch, n, columns, 3, h, d]).permuted([3, 0, 4, 2, 1, 5]))
                    parts.append(pb[l - 1].reshaped([batch, 1, n, 3, h, d]).permuted([3, 0, 4, 1, 2, 5]))
                }
                if l < layers {
                    rows = widths[l + 1]
                    parts.append(pw[l].reshaped([batch, rows, n, 3, h, d]).permuted([3, 0, 4, 1, 2, 5]))
                }
                let tokens = parts.count == 1 ? parts[0] : Variable.concatenate(parts, alongAxis: 3)
                let count = tokens.shape[3]
                let qkv = tokens.reshaped([3, batch * h, count, n * d])
                func part(_ k: Int) -> Variable { qkv.slice(axis: 0, k..<(k + 1)).reshaped([batch * h, count, n * d]) }
                let out = nftAttention(part(0), part(1), part(2), scale: 1 / Float(n * d).squareRoot())
                    .reshaped([batch, h, count, n, d])
                var start = 0
                if l >= 1 {
                    // Column tokens back to W⁽ℓ⁾ [B, n, columns, C]; the bias token to v⁽ℓ⁾ [B, n, C].
                    add(&outW[l - 1], out.slice(axis: 2, 0..<columns).permuted([0, 3, 2, 1, 4])
                        .reshaped([batch, n, columns, c]))
                    add(&outB[l - 1], out.slice(axis: 2, columns..<(columns + 1)).reshaped([batch, h, n, d])
                        .permuted([0, 2, 1, 3]).reshaped([batch, n, c]))
                    start = columns + 1
                }
                if l < layers {
                    // Row tokens back to W⁽ℓ⁺¹⁾ [B, rows, n, C].
                    add(&outW[l], out.slice(axis: 2, start..<count).permuted([0, 2, 3, 1, 4])
                        .reshaped([batch, rows, n, c]))
                }
            }
        }

        if terms.contains(.layer) {
            let means = pw.map { $0.mean(alongAxes: [1, 2]) } + pb.map { $0.mean(alongAxes: [1]) }   // 2L × [B, 3C]
            let t = 2 * layers
            let qkv = Variable.stack(means, alongAxis: 1)                                            // [B, 2L, 3C]
                .reshaped([batch, t, 3, h, d]).permuted([2, 0, 3, 1, 4]).reshaped([3, batch * h, t, d])
            func part(_ k: Int) -> Variable { qkv.slice(axis: 0, k..<(k + 1)).reshaped([batch * h, t, d]) }
            let g = nftAttention(part(0), part(1), part(2), scale: 1 / Float(d).squareRoot())
                .reshaped([batch, h, t, d]).permuted([0, 2, 1, 3]).reshaped([batch, t, c])
            for i in 0..<layers {
                let gw = g.slice(axis: 1, i..<(i + 1)).reshaped([batch, 1, 1, c])
                let gb = g.slice(axis: 1, (layers + i)..<(layers + i + 1))                             // [B, 1, C]
                let shapeW = [batch, widths[i + 1], widths[i], c], shapeB = [batch, widths[i + 1], c]
                outW[i] = outW[i].map { $0 + gw } ?? gw.broadcast(to: shapeW)
                outB[i] = outB[i].map { $0 + gb } ?? gb.broadcast(to: shapeB)
            }
        }

        var weights = outW.map { $0! }
        if sharing == .perLayer {
            weights = weights.enumerated().map { nftLinear($0.element, unprojection[$0.offset]) }
            // The reference unprojects each term (column and row of the neuron term, the layer
            // mean) on its own: the same linear map of their sum, with the bias once per term.
            let termCount = (terms.contains(.neuron) ? 2 : 0) + (terms.contains(.layer) ? 1 : 0)
            if unprojectionBias == .perTerm, termCount > 1 {
                weights = weights.enumerated().map { i, w in
                    guard let b = unprojection[i].bias else { return w }
                    return w + b.variable(on: w.tape) * Float(termCount - 1)
                }
            }
        }
        return NFTFoldedFeatures(weights: weights, biases: outB.map { $0! }, kernels: x.kernels, layout: .channelsLast)
    }
}
