import Tensors
import Autograd
import NeuralNetworks

/// The learned coefficients that produce one layer's weight and bias outputs in ``NPLinear`` and
/// ``HNPLinear``. Each is a channel-mixing matrix `[outputs, inputs]` applied to one group of
/// features; absent terms are nil (e.g. the first HNP layer has no pointwise term).
///
/// Initialisation (the reference code's `set_init_`): every coefficient and bias feeding one
/// output is drawn from U(−a, a) with a = 1/√(sum of their fan-ins), so the output's variance does
/// not grow with the number of terms.
final class PermutationLayerTerms: Module {
    /// d-term: entry (j, k) from entry (j, k), `[O_w, I_w]`.
    let pointwise: Parameter?
    /// The term broadcast over the matrix (or over one axis in the HNP IO layers) from the global
    /// vector, `[O, G]`, with its bias `[O]`.
    let global: Parameter
    let globalBias: Parameter
    /// Varies with the column k (broadcast over rows), `[O_w, I_col]`.
    let columnTerm: Parameter?
    /// Varies with the row j (broadcast over columns), `[O_w, I_row]`.
    let rowTerm: Parameter?
    /// Bias output from the per-neuron (row) features, `[O_b, I_row]`.
    let biasRow: Parameter?
    /// Bias output from the global vector, `[O_b, G]`, and its bias `[O_b]`.
    let biasGlobal: Parameter
    let biasBias: Parameter

    /// Each argument is `(outputs, inputs)` of one coefficient matrix, nil when the term is absent.
    init(pointwise: (Int, Int)?, global: (Int, Int), column: (Int, Int)?, row: (Int, Int)?,
         biasRow: (Int, Int)?, biasGlobal: (Int, Int), rng: inout SeededGenerator) {
        let weightFanIn = (pointwise?.1 ?? 0) + global.1 + (column?.1 ?? 0) + (row?.1 ?? 0)
        let aw = 1 / Float(Swift.max(weightFanIn, 1)).squareRoot()
        self.pointwise = pointwise.map { PermutationOps.uniform([$0.0, $0.1], bound: aw, rng: &rng) }
        self.global = PermutationOps.uniform([global.0, global.1], bound: aw, rng: &rng)
        globalBias = PermutationOps.uniform([global.0], bound: aw, rng: &rng)
        columnTerm = column.map { PermutationOps.uniform([$0.0, $0.1], bound: aw, rng: &rng) }
        rowTerm = row.map { PermutationOps.uniform([$0.0, $0.1], bound: aw, rng: &rng) }
        let ab = 1 / Float(Swift.max((biasRow?.1 ?? 0) + biasGlobal.1, 1)).squareRoot()
        self.biasRow = biasRow.map { PermutationOps.uniform([$0.0, $0.1], bound: ab, rng: &rng) }
        self.biasGlobal = PermutationOps.uniform([biasGlobal.0, biasGlobal.1], bound: ab, rng: &rng)
        biasBias = PermutationOps.uniform([biasGlobal.0], bound: ab, rng: &rng)
        super.init()
    }
}
