import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The NP-equivariant linear layer H of Zhou et al. (2023), *Permutation Equivariant Neural
/// Functionals*, Eq. 2 and Table 7 (reference code: `NPLinear` in AllanYangZhou/nfn): equivariant
/// to permutations of *all* neurons, inputs and outputs included.
///
/// For layer i (1-based, L layers), with "⋆" a mean over that index, every coefficient a learned
/// `c_out × c_in` matrix (`f_i c_out × f_i c_in` blocks for folded conv layers, see
/// ``FilterFolding``):
///
/// ```
/// W̃⁽ⁱ⁾_jk = a_i·[W⁽¹⁾_⋆⋆ … W⁽ᴸ⁾_⋆⋆, v⁽¹⁾_⋆ … v⁽ᴸ⁾_⋆] + β_i                  (global)
///         + b_i·[W⁽ⁱ⁾_⋆k, W⁽ⁱ⁻¹⁾_k⋆, v⁽ⁱ⁻¹⁾_k]                            (varies with column k)
///         + c_i·[W⁽ⁱ⁾_j⋆, v⁽ⁱ⁾_j, W⁽ⁱ⁺¹⁾_⋆j]                              (varies with row j)
///         + d_i·W⁽ⁱ⁾_jk                                                 (pointwise)
/// ṽ⁽ⁱ⁾_j  = e_i·[global vector] + β'_i + f_i·[W⁽ⁱ⁾_j⋆, v⁽ⁱ⁾_j, W⁽ⁱ⁺¹⁾_⋆j]
/// ```
/// Terms naming layer 0 or L + 1 are omitted. Means (not sums) keep the scale independent of the
/// widths, as in the reference code. Each output has a single learned bias (the reference code's
/// four per-term `Conv1d`/`Linear` biases sum to one, so they are merged).
///
/// **Group.** Equivariant to NP (every σ_0 … σ_L), hence to HNP. With `ioEmbedding: true`, learned
/// tensors are added before the computation (as the reference's `NPLinear(io_embed=True)`:
/// `in_embed [1, f_1 c_in, 1, n_0]` to W⁽¹⁾, `out_embed [1, f_L c_in, n_L, 1]` to W⁽ᴸ⁾,
/// `out_bias_embed [1, c_in, n_L]` to v⁽ᴸ⁾; N(0, 1) at initialisation): they break the symmetry
/// of the input and output neurons, so the layer is then only HNP-equivariant, and n_0, n_L are
/// fixed.
///
/// **Shapes.** `weights[i]`: `[B, c_in, n_{i+1}, n_i, kernel…]` → `[B, c_out, n_{i+1}, n_i, kernel…]`;
/// `biases[i]`: `[B, c_in, n_{i+1}]` → `[B, c_out, n_{i+1}]`. Without IO embeddings the parameter
/// count does not depend on the widths, so one layer serves any widths with the same filter factors.
///
/// **Initialisation.** All coefficients feeding one output from U(−a, a), a = 1/√(total fan-in).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let arch = FeedforwardArchitecture.smallCNNZoo()
/// let layer = NPLinear(inChannels: 1, outChannels: 16, architecture: arch, rng: &rng)
/// let x = try WeightSpaceFeatures(                                       // 2 random networks
///     weights: (0..<arch.layerCount).map { Tensor.normal([2, 1] + arch.weightShape(layer: $0), rng: &rng) },
///     biases: (0..<arch.layerCount).map { Tensor.normal([2, 1] + arch.biasShape(layer: $0), rng: &rng) })
/// let y = layer(WeightSpaceVariables(x))                                  // 16 channels
/// ```
/// - Complexity: O(B·c_in·c_out·Σ_i f_i² n_i n_{i−1}) for the pointwise terms (BLAS); the row,
///   column and global terms are O(B·c_in·c_out·Σ_i f_i (f_i + f_{i±1}) n_i) and O(L² c_in c_out).
///   Parameters: c_in·c_out·Σ_i f_i·(f_i + Σ_s f_s + L + O(f)) + biases, i.e. O(c_in c_out L²) for
///   dense layers — independent of the widths.
public final class NPLinear: Module, FoldedWeightSpaceLayer {
    public let inChannels: Int
    public let outChannels: Int
    /// f_1 … f_L (1 for dense layers).
    public let filterFactors: [Int]
    /// n_0 … n_L this layer was built for (only n_0 and n_L matter, and only with IO embeddings).
    public let widths: [Int]
    let terms: [PermutationLayerTerms]
    /// Learned input-neuron embedding `[1, f_1 c_in, 1, n_0]`, when `ioEmbedding`.
    public let inEmbedding: Parameter?
    /// Learned output-neuron embedding `[1, f_L c_in, n_L, 1]`, when `ioEmbedding`.
    public let outEmbedding: Parameter?
    /// Learned output-bias embedding `[1, c_in, n_L]`, when `ioEmbedding`.
    public let outBiasEmbedding: Parameter?

    /// Whether learned IO embeddings break the input/output symmetry (HNP-equivariant only).
    public var usesIOEmbedding: Bool { inEmbedding != nil }

    /// - Parameters:
    ///   - widths: n_0 … n_L (L + 1 entries).
    ///   - filterFactors: f_1 … f_L, the number of filter taps per layer (1 for dense).
    ///   - ioEmbedding: add learned input/output embeddings (the reference's `io_embed`), which
    ///     fixes n_0 and n_L.
    public init(inChannels: Int, outChannels: Int, widths: [Int], filterFactors: [Int],
                ioEmbedding: Bool = false, rng: inout SeededGenerator) {
        let L = filterFactors.count
        precondition(L >= 1 && widths.count == L + 1, "NPLinear needs L ≥ 1 filter factors and L + 1 widths, got \(filterFactors) and \(widths)")
        precondition(inChannels > 0 && outChannels > 0, "NPLinear needs positive channel counts")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.filterFactors = filterFactors
        self.widths = widths
        let c = inChannels, o = outChannels, f = filterFactors
        let globalInputs = (f.reduce(0, +) + L) * c
        var terms: [PermutationLayerTerms] = []
        for i in 0..<L {
            let columnInputs = f[i] * c + (i > 0 ? (f[i - 1] + 1) * c : 0)
            let rowInputs = (f[i] + 1) * c + (i < L - 1 ? f[i + 1] * c : 0)
            terms.append(PermutationLayerTerms(
                pointwise: (f[i] * o, f[i] * c), global: (f[i] * o, globalInputs),
                column: (f[i] * o, columnInputs), row: (f[i] * o, rowInputs),
                biasRow: (o, rowInputs), biasGlobal: (o, globalInputs), rng: &rng))
        }
        self.terms = terms
        if ioEmbedding {
            inEmbedding = Parameter(Tensor.normal([1, f[0] * c, 1, widths[0]], rng: &rng))
            outEmbedding = Parameter(Tensor.normal([1, f[L - 1] * c, widths[L], 1], rng: &rng))
            outBiasEmbedding = Parameter(Tensor.normal([1, c, widths[L]], rng: &rng))
        } else {
            inEmbedding = nil; outEmbedding = nil; outBiasEmbedding = nil
        }
        super.init()
    }

    /// A layer for the weight space of `architecture`.
    public convenience init(inChannels: Int, outChannels: Int, architecture: FeedforwardArchitecture,
                            ioEmbedding: Bool = false, rng: inout SeededGenerator) {
        self.init(inChannels: inChannels, outChannels: outChannels, widths: architecture.widths,
                  filterFactors: FilterFolding.filterFactors(architecture), ioEmbedding: ioEmbedding, rng: &rng)
    }

    /// The layer on canonical features: folds the filter taps on entry and unfolds on exit (inside
    /// a model, layers pass ``FoldedWeightSpace`` features instead).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        self(FoldedWeightSpace(folding: input, layout: .channelsFirst)).unfolded()
    }

    /// The layer on channels-first folded features (weights `[B, f_i c, n_i, n_{i−1}]`).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        let L = filterFactors.count
        precondition(input.layout == .channelsFirst, "NPLinear computes on channels-first folded features")
        precondition(input.layerCount == L, "NPLinear built for \(L) layers, got \(input.layerCount)")
        precondition(input.channels == inChannels, "NPLinear expects \(inChannels) channels, got \(input.channels)")
        precondition(input.filterFactors == filterFactors,
                     "NPLinear built for filter factors \(filterFactors), got \(input.filterFactors)")
        if usesIOEmbedding {
            precondition(input.widths.first == widths.first && input.widths.last == widths.last,
                         "NPLinear with IO embeddings needs n_0 = \(widths[0]), n_L = \(widths[L]); got widths \(input.widths)")
        }
        let tape = input.tape
        let b = input.batchSize, o = outChannels
        var w = input.weights                                // [B, f_i c, n_i, n_{i-1}]
        var v = input.biases                                 // [B, c, n_i]
        if let e = inEmbedding, let eo = outEmbedding, let eb = outBiasEmbedding {
            w[0] = w[0] + e.variable(on: tape)
            w[L - 1] = w[L - 1] + eo.variable(on: tape)
            v[L - 1] = v[L - 1] + eb.variable(on: tape)
        }
        let means = w.map(PermutationOps.rowColumnMeans)
        let overRows = means.map(\.overRows)                // W_{⋆,k}: [B, f_i c, n_{i-1}]
        let overCols = means.map(\.overColumns)             // W_{j,⋆}: [B, f_i c, n_i]
        let globalVector = Variable.concatenate(overCols.map { $0.mean(alongAxes: [2]) } + v.map { $0.mean(alongAxes: [2]) },
                                                alongAxis: 1)
        var outWeights: [Variable] = [], outBiases: [Variable] = []
        for i in 0..<L {
            let t = terms[i]
            var columnFeatures = [overRows[i]]
            if i > 0 { columnFeatures += [overCols[i - 1], v[i - 1]] }
            var rowFeatures = [overCols[i], v[i]]
            if i < L - 1 { rowFeatures.append(overRows[i + 1]) }
            let columnInput = Variable.concatenate(columnFeatures, alongAxis: 1)
            let rowInput = Variable.concatenate(rowFeatures, alongAxis: 1)

            let global = PermutationOps.linear(globalVector, t.global.variable(on: tape), t.globalBias.variable(on: tape))
            let column = PermutationOps.channelMix(t.columnTerm!.variable(on: tape), columnInput)
            let row = PermutationOps.channelMix(t.rowTerm!.variable(on: tape), rowInput)
            // Pointwise channel (× tap) mixing plus the broadcast terms, in one node.
            outWeights.append(PermutationOps.mixCombine(t.pointwise!.variable(on: tape), w[i],
                                                        global: global, columnTerm: column, rowTerm: row))

            let biasGlobal = PermutationOps.linear(globalVector, t.biasGlobal.variable(on: tape), t.biasBias.variable(on: tape))
            let biasRow = PermutationOps.channelMix(t.biasRow!.variable(on: tape), rowInput)
            outBiases.append(biasRow + biasGlobal.reshaped([b, o, 1]))
        }
        return FoldedWeightSpace(weights: outWeights, biases: outBiases, kernels: input.kernels, layout: .channelsFirst)
    }
}
