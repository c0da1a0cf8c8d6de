import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The HNP-equivariant linear layer H̃ of Zhou et al. (2023), *Permutation Equivariant Neural
/// Functionals*, appendix C, Tables 8–11 (reference code: `HNPLinear` in AllanYangZhou/nfn):
/// equivariant to permutations of the *hidden* neurons only — the true permutation symmetry of a
/// feed-forward network.
///
/// Since the input neurons (columns of W⁽¹⁾) and output neurons (rows of W⁽ᴸ⁾, entries of v⁽ᴸ⁾)
/// are not permuted, coefficients may depend on those indices. With "⋆" a mean over an index:
///
/// - **Global vector** G̃ (per channel): all W⁽ˢ⁾_⋆⋆ and v⁽ˢ⁾_⋆, plus W⁽¹⁾_⋆q for every input q,
///   W⁽ᴸ⁾_p⋆ for every output p, and the whole v⁽ᴸ⁾ — `(Σ f_s + L + f_1 n_0 + f_L n_L + n_L)·c_in`
///   values.
/// - **Hidden layers 1 < i < L**: as ``NPLinear`` (pointwise, global from G̃, a term varying with the
///   column k from `[W⁽ⁱ⁾_⋆k, W⁽ⁱ⁻¹⁾_k⋆, v⁽ⁱ⁻¹⁾_k]`, one varying with the row j from
///   `[W⁽ⁱ⁾_j⋆, v⁽ⁱ⁾_j, W⁽ⁱ⁺¹⁾_⋆j]`), where for i = 2 the column features also contain the whole
///   input row W⁽¹⁾_{k,:} and for i = L − 1 the row features the whole output column W⁽ᴸ⁾_{:,j}
///   (one coefficient per input / output index).
/// - **First layer**, row j (hidden neuron j of layer 1): the features `[W⁽¹⁾_{j,:}, W⁽²⁾_⋆j, v⁽¹⁾_j]`
///   (plus W⁽ᴸ⁾_{:,j} when L = 2) map to all n_0 entries of the row at once, so W̃⁽¹⁾_jk depends on
///   the whole row with k-specific coefficients; plus a k-specific term from G̃. ṽ⁽¹⁾_j comes from
///   the same row features plus G̃.
/// - **Last layer**, column k (hidden neuron k of layer L − 1): the features
///   `[W⁽ᴸ⁾_{:,k}, W⁽ᴸ⁻¹⁾_k⋆, v⁽ᴸ⁻¹⁾_k]` (plus W⁽¹⁾_{k,:} when L = 2) map to all n_L entries of
///   the column, plus a j-specific term from G̃. ṽ⁽ᴸ⁾ is a linear map of G̃ (which holds v⁽ᴸ⁾ and
///   the row means of W⁽ᴸ⁾).
///
/// **Choice (paper vs code).** The reference code does not feed v⁽ᴸ⁻¹⁾_k into W̃⁽ᴸ⁾_{·k}, but the
/// paper's Table 9 has that term (a_φ^{L,L−1,j}, b_φ^{L,L−1,j}); it is HNP-equivariant (the bias of
/// hidden neuron k moves with column k) and looks like an omission in the code. This layer
/// includes it by default; `lastLayerUsesPreviousBias: false` reproduces the reference code. The
/// tests check equivariance either way and that W̃⁽ᴸ⁾ does depend on v⁽ᴸ⁻¹⁾ by default.
///
/// **Group.** HNP (σ_0 = σ_L = id); *not* NP-equivariant. n_0, n_L are fixed by the parameters;
/// hidden widths may vary. Needs L ≥ 2 (with L = 1 nothing is permuted).
///
/// **Shapes** as ``NPLinear``. **Initialisation**: every coefficient feeding one output from
/// U(−a, a), a = 1/√(total fan-in).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let layer = HNPLinear(inChannels: 1, outChannels: 8, architecture: try .mlp(widths: [5, 7, 6, 3]), rng: &rng)
/// print(layer.parameterCount)
/// ```
/// - Complexity: as ``NPLinear`` plus O(B·c_in·c_out·(f_1 n_0)²·n_1) and O(B·c_in·c_out·(f_L n_L)²·n_{L−1})
///   for the IO layers. Parameters: O(c_in c_out (L + f_1 n_0 + f_L n_L)²) (paper Table 1).
public final class HNPLinear: Module, FoldedWeightSpaceLayer {
    public let inChannels: Int
    public let outChannels: Int
    /// f_1 … f_L.
    public let filterFactors: [Int]
    /// n_0 and n_L (fixed); the hidden widths are free.
    public let inputWidth: Int
    public let outputWidth: Int
    /// Whether W̃⁽ᴸ⁾_{·k} reads v⁽ᴸ⁻¹⁾_k (paper Table 9; the reference code omits it).
    public let lastLayerUsesPreviousBias: Bool
    let terms: [PermutationLayerTerms]

    /// - Parameters:
    ///   - widths: n_0 … n_L (L + 1 ≥ 3 entries; only n_0 and n_L shape the parameters).
    ///   - filterFactors: f_1 … f_L (1 for dense layers).
    public init(inChannels: Int, outChannels: Int, widths: [Int], filterFactors: [Int],
                lastLayerUsesPreviousBias: Bool = true, rng: inout SeededGenerator) {
        let L = filterFactors.count
        precondition(L >= 2 && widths.count == L + 1, "HNPLinear needs L ≥ 2 layers with L + 1 widths, got \(filterFactors) and \(widths)")
        precondition(inChannels > 0 && outChannels > 0, "HNPLinear needs positive channel counts")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.filterFactors = filterFactors
        self.inputWidth = widths[0]
        self.outputWidth = widths[L]
        self.lastLayerUsesPreviousBias = lastLayerUsesPreviousBias
        let c = inChannels, o = outChannels, f = filterFactors
        let n0 = widths[0], nL = widths[L]
        let globalInputs = HNPLinear.globalVectorLength(filterFactors: f, inputWidth: n0, outputWidth: nL) * c
        let inputRow = f[0] * n0 * c            // W⁽¹⁾_{k,:} as features of hidden neuron k of layer 1
        let outputColumn = f[L - 1] * nL * c    // W⁽ᴸ⁾_{:,k} as features of hidden neuron k of layer L−1
        var terms: [PermutationLayerTerms] = []
        for i in 0..<L {
            if i == 0 {
                let rowInputs = inputRow + f[1] * c + c + (L == 2 ? outputColumn : 0)
                terms.append(PermutationLayerTerms(
                    pointwise: nil, global: (n0 * f[0] * o, globalInputs), column: nil,
                    row: (n0 * f[0] * o, rowInputs),
                    biasRow: (o, rowInputs), biasGlobal: (o, globalInputs), rng: &rng))
            } else if i == L - 1 {
                let columnInputs = outputColumn + f[L - 2] * c + (lastLayerUsesPreviousBias ? c : 0) + (L == 2 ? inputRow : 0)
                terms.append(PermutationLayerTerms(
                    pointwise: nil, global: (nL * f[i] * o, globalInputs),
                    column: (nL * f[i] * o, columnInputs), row: nil,
                    biasRow: nil, biasGlobal: (nL * o, globalInputs), rng: &rng))
            } else {
                let columnInputs = (f[i] + f[i - 1] + 1) * c + (i == 1 ? inputRow : 0)
                let rowInputs = (f[i] + 1 + f[i + 1]) * c + (i == L - 2 ? outputColumn : 0)
                terms.append(PermutationLayerTerms(
                    pointwise: (f[i] * o, f[i] * c), global: (f[i] * o, globalInputs),
                    column: (f[i] * o, columnInputs), row: (f[i] * o, rowInputs),
                    biasRow: (o, rowInputs), biasGlobal: (o, globalInputs), rng: &rng))
            }
        }
        self.terms = terms
        super.init()
    }

    /// A layer for the weight space of `architecture` (L ≥ 2).
    public convenience init(inChannels: Int, outChannels: Int, architecture: FeedforwardArchitecture,
                            lastLayerUsesPreviousBias: Bool = true, rng: inout SeededGenerator) {
        self.init(inChannels: inChannels, outChannels: outChannels, widths: architecture.widths,
                  filterFactors: FilterFolding.filterFactors(architecture),
                  lastLayerUsesPreviousBias: lastLayerUsesPreviousBias, rng: &rng)
    }

    /// The length of G̃ per channel: `Σ f_s + L + f_1 n_0 + f_L n_L + n_L`.
    public static func globalVectorLength(filterFactors f: [Int], inputWidth n0: Int, outputWidth nL: Int) -> Int {
        f.reduce(0, +) + f.count + f[0] * n0 + f[f.count - 1] * nL + nL
    }

    /// The layer on canonical features: folds the filter taps on entry and unfolds on exit (inside
    /// a model, layers pass ``FoldedWeightSpace`` features instead).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        self(FoldedWeightSpace(folding: input, layout: .channelsFirst)).unfolded()
    }

    /// The layer on channels-first folded features (weights `[B, f_i c, n_i, n_{i−1}]`).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        let L = filterFactors.count
        precondition(input.layout == .channelsFirst, "HNPLinear computes on channels-first folded features")
        precondition(input.layerCount == L, "HNPLinear built for \(L) layers, got \(input.layerCount)")
        precondition(input.channels == inChannels, "HNPLinear expects \(inChannels) channels, got \(input.channels)")
        precondition(input.filterFactors == filterFactors,
                     "HNPLinear built for filter factors \(filterFactors), got \(input.filterFactors)")
        precondition(input.widths.first == inputWidth && input.widths.last == outputWidth,
                     "HNPLinear needs n_0 = \(inputWidth), n_L = \(outputWidth); got widths \(input.widths)")
        let tape = input.tape
        let b = input.batchSize, o = outChannels, f = filterFactors
        let w = input.weights                                // [B, f_i c, n_i, n_{i-1}]
        let v = input.biases
        let n0 = inputWidth, nL = outputWidth
        let means = w.map(PermutationOps.rowColumnMeans)
        let overRows = means.map(\.overRows)                // W_{⋆,k}: [B, f_i c, n_{i-1}]
        let overCols = means.map(\.overColumns)             // W_{j,⋆}: [B, f_i c, n_i]
        // W⁽¹⁾ rows as features of the hidden neurons of layer 1: [B, f_1 c · n_0, n_1] ("(c n_0) n_1").
        let inputRows = w[0].transposed(2, 3).reshaped([b, -1, w[0].shape[2]])
        // W⁽ᴸ⁾ columns as features of the hidden neurons of layer L−1: [B, f_L c · n_L, n_{L−1}].
        let outputColumns = w[L - 1].reshaped([b, -1, w[L - 1].shape[3]])
        let globalVector = Variable.concatenate(
            overCols.map { $0.mean(alongAxes: [2]) } + v.map { $0.mean(alongAxes: [2]) }
                + [overRows[0].reshaped([b, -1]), overCols[L - 1].reshaped([b, -1]), v[L - 1].reshaped([b, -1])],
            alongAxis: 1)

        var outWeights: [Variable] = [], outBiases: [Variable] = []
        for i in 0..<L {
            let t = terms[i]
            let (n, m) = (w[i].shape[2], w[i].shape[3])
            let global = PermutationOps.linear(globalVector, t.global.variable(on: tape), t.globalBias.variable(on: tape))
            let biasGlobal = PermutationOps.linear(globalVector, t.biasGlobal.variable(on: tape), t.biasBias.variable(on: tape))
            if i == 0 {
                var rowFeatures = [inputRows, overRows[1], v[0]]
                if L == 2 { rowFeatures.append(outputColumns) }
                let rowInput = Variable.concatenate(rowFeatures, alongAxis: 1)
                // [B, f_1 o · n_0, n_1] → [B, f_1 o, n_1, n_0]: every entry of row j from the whole row.
                let perRow = PermutationOps.channelMix(t.rowTerm!.variable(on: tape), rowInput)
                    .reshaped([b, f[0] * o, n0, n]).transposed(2, 3)
                let folded = PermutationOps.broadcastCombine(
                    pointwise: perRow, global: nil, columnTerm: global.reshaped([b, f[0] * o, n0]), rowTerm: nil,
                    batch: b, channels: f[0] * o, rows: n, columns: m)
                outWeights.append(folded)
                let biasRow = PermutationOps.channelMix(t.biasRow!.variable(on: tape), rowInput)
                outBiases.append(biasRow + biasGlobal.reshaped([b, o, 1]))
            } else if i == L - 1 {
                var columnFeatures = [outputColumns, overCols[L - 2]]
                if lastLayerUsesPreviousBias { columnFeatures.append(v[L - 2]) }
                if L == 2 { columnFeatures.append(inputRows) }
                let columnInput = Variable.concatenate(columnFeatures, alongAxis: 1)
                // [B, f_L o · n_L, n_{L−1}] → [B, f_L o, n_L, n_{L−1}]: every entry of column k.
                let perColumn = PermutationOps.channelMix(t.columnTerm!.variable(on: tape), columnInput)
                    .reshaped([b, f[i] * o, nL, m])
                let folded = PermutationOps.broadcastCombine(
                    pointwise: perColumn, global: nil, columnTerm: nil, rowTerm: global.reshaped([b, f[i] * o, nL]),
                    batch: b, channels: f[i] * o, rows: n, columns: m)
                outWeights.append(folded)
                outBiases.append(biasGlobal.reshaped([b, o, nL]))
            } else {
                var columnFeatures = [overRows[i], overCols[i - 1], v[i - 1]]
                if i == 1 { columnFeatures.append(inputRows) }
                var rowFeatures = [overCols[i], v[i], overRows[i + 1]]
                if i == L - 2 { rowFeatures.append(outputColumns) }
                let columnInput = Variable.concatenate(columnFeatures, alongAxis: 1)
                let rowInput = Variable.concatenate(rowFeatures, alongAxis: 1)
                let column = PermutationOps.channelMix(t.columnTerm!.variable(on: tape), columnInput)
                let row = PermutationOps.channelMix(t.rowTerm!.variable(on: tape), rowInput)
                // Pointwise channel (× tap) mixing plus the broadcast terms, in one node.
                outWeights.append(PermutationOps.mixCombine(t.pointwise!.variable(on: tape), w[i],
                                                            global: global, columnTerm: column, rowTerm: row))
                let biasRow = PermutationOps.channelMix(t.biasRow!.variable(on: tape), rowInput)
                outBiases.append(biasRow + biasGlobal.reshaped([b, o, 1]))
            }
        }
        return FoldedWeightSpace(weights: outWeights, biases: outBiases, kernels: input.kernels, layout: .channelsFirst)
    }
}
