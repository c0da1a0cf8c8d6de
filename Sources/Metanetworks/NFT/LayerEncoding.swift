import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Learned layer position encodings (Zhou et al. 2023, *Neural Functional Transformers*, Eq. 8):
/// LAYERENC(U)⁽ⁱ⁾_{jk} = W⁽ⁱ⁾_{jk} + φ⁽ⁱ⁾, v⁽ⁱ⁾_j + ψ⁽ⁱ⁾.
///
/// One learned vector per layer is added to every weight entry of that layer (φ⁽ⁱ⁾ ∈ ℝ^{C·f_i}, one
/// C-vector per filter tap, i.e. Eq. 8 with the taps folded into the channels) and one to every
/// bias entry (ψ⁽ⁱ⁾ ∈ ℝ^C). Eq. 8 only encodes weights; like the reference code's
/// `LearnedPosEmbedding` we give biases their own encoding, so that weights and biases of
/// different layers are all distinguishable.
///
/// **Why.** Neuron permutations never move entries between layers, but attention over sets of
/// tokens cannot tell layers apart by itself: ``NFTSelfAttention``'s layer term treats the 2L mean
/// tokens as an unordered set, so without encodings it is equivariant to the false symmetry that
/// relabels two equally shaped layers. With distinct φ⁽ⁱ⁾, SA ∘ LAYERENC is minimally
/// 𝒮_NP-equivariant (Zhou et al. 2023, Thm. 3.1) — the tests check both sides of that.
///
/// **Group.** Equivariant to every permutation that preserves the layer index (𝒮_NP included);
/// not to permutations across layers.
///
/// **Shapes.** Canonical layout in and out (`[B, C, n_{i+1}, n_i, spatial…]`, `[B, C, n_{i+1}]`),
/// for the layer count and filter factors it was built with; any widths and batch.
///
/// **Taps.** With ``NFTRecipe/LayerEncodingTaps/shared`` φ⁽ⁱ⁾ ∈ ℝ^C is one vector per layer added
/// to every filter tap, as the reference's `LearnedPosEmbedding` does (see ``NFTRecipe``).
///
/// **Initialisation.** φ, ψ ~ N(0, 1) (PyTorch's `nn.Embedding` default, as in the reference).
/// **Parameters.** Σ_i C·(f_i + 1) per tap; 2LC shared.
///
/// - Complexity: O(dim 𝒰 · C), one broadcast add per tensor.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let encode = try LayerEncoding(channels: 8, filterFactors: [9, 9, 9, 1], rng: &rng)
/// let encoded = encode(features)      // features: WeightSpaceVariables with 8 channels
/// ```
public final class LayerEncoding: Module, WeightSpaceLayer {
    /// φ⁽ⁱ⁾, `[C·f_i]` (index c·f_i + tap), or `[C]` with shared taps.
    public let weightEncodings: [Parameter]
    /// Whether each tap has its own encoding.
    public let taps: NFTRecipe.LayerEncodingTaps
    /// ψ⁽ⁱ⁾, `[C]`.
    public let biasEncodings: [Parameter]
    public let channels: Int
    public let filterFactors: [Int]

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive counts.
    public init(channels: Int, filterFactors: [Int], taps: NFTRecipe.LayerEncodingTaps = .perTap,
                rng: inout SeededGenerator) throws {
        guard channels > 0, !filterFactors.isEmpty, filterFactors.allSatisfy({ $0 > 0 }) else {
            throw ModuleError.invalidConfiguration("LayerEncoding: need channels > 0 and positive filter factors, got \(channels), \(filterFactors)")
        }
        self.channels = channels
        self.filterFactors = filterFactors
        self.taps = taps
        var w: [Parameter] = [], b: [Parameter] = []
        for f in filterFactors {
            w.append(Parameter(Tensor.normal([taps == .shared ? channels : channels * f], rng: &rng)))
            b.append(Parameter(Tensor.normal([channels], rng: &rng)))
        }
        weightEncodings = w
        biasEncodings = b
        super.init()
    }

    /// Builds encodings for an architecture's layers.
    public convenience init(channels: Int, architecture: FeedforwardArchitecture, taps: NFTRecipe.LayerEncodingTaps = .perTap,
                            rng: inout SeededGenerator) throws {
        try self.init(channels: channels,
                      filterFactors: (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) },
                      taps: taps, rng: &rng)
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        precondition(input.layerCount == filterFactors.count,
                     "LayerEncoding: built for \(filterFactors.count) layers, got \(input.layerCount)")
        let tape = input.tape
        var weights: [Variable] = [], biases: [Variable] = []
        for i in 0..<input.layerCount {
            let w = input.weights[i]
            let kernel = Array(w.shape.dropFirst(4))
            precondition(w.shape[1] == channels && kernel.reduce(1, *) == filterFactors[i],
                         "LayerEncoding: layer \(i) has shape \(w.shape), expected \(channels) channels and filter factor \(filterFactors[i])")
            let phi = weightEncodings[i].variable(on: tape)
                .reshaped([1, channels, 1, 1] + (taps == .shared ? kernel.map { _ in 1 } : kernel))
            weights.append(w + phi)
            biases.append(input.biases[i] + biasEncodings[i].variable(on: tape).reshaped([1, channels, 1]))
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }

    /// The same on folded channels-last features.
    func forward(_ x: NFTFoldedFeatures) -> NFTFoldedFeatures {
        nftCheckStructure(x, channels: channels, filterFactors: filterFactors, layer: "LayerEncoding")
        let tape = x.weights[0].tape
        return x.mapLayers(
            weight: { i, w in
                let phi = self.weightEncodings[i].variable(on: tape)
                guard self.taps == .shared else { return w + phi.reshaped([1, 1, 1, self.channels * self.filterFactors[i]]) }
                // Folded index c·f_i + tap: one φ_c for all taps of channel c.
                let s = w.shape, f = self.filterFactors[i]
                return (w.reshaped([s[0], s[1], s[2], self.channels, f]) + phi.reshaped([1, 1, 1, self.channels, 1])).reshaped(s)
            },
            bias: { i, b in b + self.biasEncodings[i].variable(on: tape).reshaped([1, 1, self.channels]) })
    }
}
