import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The Monomial-NFN equivariant linear layer (Tran et al. 2024, *Monomial Matrix Group Equivariant
/// NFNs*, §5.1; reference `HNPSLinear` and, for ``MonomialGroupKind/sign``, `HNPS_SirenLinear`, in
/// MathematicalAI-NUS/Monomial-NFN): weight-space features with C channels →
/// features with C′ channels, equivariant to hidden-neuron permutations × positive scales
/// (ReLU networks) or × signs (tanh/sine networks).
///
/// With L layers (0-based code index i, 1-based math index i+1), widths n₀…n_L, and every
/// coefficient a learned contraction over channels (no constant terms except τ):
/// - **First layer**, row j (hidden neuron j, factor d_j):
///   W̃⁽¹⁾_{jk} = Σ_{q} P_{·,·,q,k} W⁽¹⁾_{jq} + Q_{·,·,k} v⁽¹⁾_j and
///   ṽ⁽¹⁾_j = Σ_q R_{·,·,q} W⁽¹⁾_{jq} + S v⁽¹⁾_j. Every input of row j carries the same d_j, so the
///   unpermuted input index q may be mixed freely.
/// - **Hidden layers** 1 < i < L: W̃⁽ⁱ⁾_{jk} = T W⁽ⁱ⁾_{jk}, ṽ⁽ⁱ⁾_j = U v⁽ⁱ⁾_j — pure channel mixing.
///   Row, column and global means are *not* allowed: entries of one row or column carry different
///   factors d_j/d_k.
/// - **Last layer**, column k (factor 1/d_k): W̃⁽ᴸ⁾_{jk} = Σ_p X_{·,·,p,j} W⁽ᴸ⁾_{pk} and
///   ṽ⁽ᴸ⁾_j = Σ_p Y_{·,·,p,j} v⁽ᴸ⁾_p + τ_j (the output bias is invariant, so a constant is allowed).
/// - **Sign only** (d_k = ±1 = 1/d_k): W̃⁽ᴸ⁾_{jk} += Z_{·,·,j} v⁽ᴸ⁻¹⁾_k and
///   ṽ⁽ᴸ⁻¹⁾_j += Σ_p Ω_{·,·,p} W⁽ᴸ⁾_{pj}. Unlike the reference code (which skips Ω when L = 2), Ω is
///   used for every L ≥ 2; for L = 2 it feeds the first layer's bias, which is still equivariant.
///
/// **Filter taps (CNN weight spaces).** The group acts on conv channels only: every tap of the
/// filter W⁽ⁱ⁾_{jk,·,·} carries the same factor d_j/d_k. So mixing over taps is homogeneous wherever
/// the mixed entries share (j, k) (or share j in the first layer, k in the last), and taps are
/// folded into channels (as the reference `shape_wsfeat_symmetry` does): a conv layer with
/// f = kh·kw taps uses f·C input and f·C′ output channels in T, P and X. Biases have no taps; the
/// bias terms read or write the tap-folded vectors where needed (Q, R, Ω).
///
/// **Layout of the parameters** (all are right-multiplied row features, except `hiddenWeights` and
/// `hiddenBiases`, which are `[out, in]` like ``Dense``):
/// - `first`: `[C·n₀·f₁ + C, C′·n₀·f₁ + C′]`; row index (c, q, tap) then the C bias inputs;
///   columns (c′, q′, tap′) then the C′ bias outputs — P, Q, R, S in one matrix.
/// - `hiddenWeights[h]`: `[C′·f, C·f]` (T, index c·f + tap); `hiddenBiases[h]`: `[C′, C]` (U).
/// - `last`: `[C·n_L·f_L (+ C for sign), C′·n_L·f_L]`, rows (c, p, tap) (then Z's C rows).
/// - `lastBias`: `[C·n_L, C′·n_L]` (Y), `outputBias`: `[C′·n_L]` (τ), index c′·n_L + j.
/// - `signBias` (sign only): `[C·n_L·f_L, C′]` (Ω).
///
/// Initialisation: every block U(−a, a) with a = 1/√fanIn, fanIn = the number of inputs that feed
/// one output of that block (PyTorch's default for Linear/Conv); τ likewise.
///
/// - Complexity: forward and backward are O(B·C·C′·(f²·Σ_hidden n_i n_{i−1} + n₁(n₀f₁)² +
///   n_{L−1}(n_L f_L)²)) multiply-adds in a handful of BLAS gemms per layer, plus two transposing
///   copies of each feature tensor for tapped layers.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let arch = FeedforwardArchitecture.smallCNNZoo()
/// let layer = try MonomialLinear(inChannels: 1, outChannels: 16, architecture: arch,
///                                kind: .positiveScaling, rng: &rng)
/// let out = layer(WeightSpaceVariables(features))   // features: [B, 1, …] Small CNN Zoo weights
/// ```
public final class MonomialLinear: Module, FoldedWeightSpaceLayer {
    /// The group the layer is equivariant to.
    public typealias Kind = MonomialGroupKind

    /// P, Q, R, S of the first layer, `[C·n₀·f₁ + C, C′·n₀·f₁ + C′]`.
    public let first: Parameter
    /// T per hidden layer (i = 2…L−1), `[C′·fᵢ, C·fᵢ]`.
    public let hiddenWeights: [Parameter]
    /// U per hidden layer (i = 2…L−1), `[C′, C]`.
    public let hiddenBiases: [Parameter]
    /// X (and Z for sign), `[C·n_L·f_L (+C), C′·n_L·f_L]`.
    public let last: Parameter
    /// Y, `[C·n_L, C′·n_L]`.
    public let lastBias: Parameter
    /// τ, `[C′·n_L]`.
    public let outputBias: Parameter
    /// Ω (sign only), `[C·n_L·f_L, C′]`.
    public let signBias: Parameter?

    /// The group this layer is equivariant to.
    public let kind: Kind
    public let inChannels: Int
    public let outChannels: Int
    /// n₀ … n_L.
    public let widths: [Int]
    /// Spatial kernel extents per layer (empty for dense layers).
    public let kernels: [[Int]]

    /// Builds the layer for networks of `architecture` (L ≥ 2 layers).
    ///
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for L < 2 (no hidden neurons: the
    ///   group is trivial) or non-positive channel counts.
    public init(inChannels: Int, outChannels: Int, architecture: FeedforwardArchitecture, kind: Kind,
                rng: inout SeededGenerator) throws {
        guard inChannels > 0, outChannels > 0 else {
            throw ModuleError.invalidConfiguration("MonomialLinear needs positive channel counts, got \(inChannels) → \(outChannels)")
        }
        guard architecture.layerCount >= 2 else {
            throw ModuleError.invalidConfiguration("MonomialLinear needs L ≥ 2 layers (hidden neurons), got \(architecture.layerCount)")
        }
        let (c, co) = (inChannels, outChannels)
        let l = architecture.layerCount
        let n = architecture.widths
        let f = (0..<l).map { architecture.filterFactor(layer: $0) }
        let (n0, nL, f0, fL) = (n[0], n[l], f[0], f[l - 1])
        func block(_ shape: [Int], fanIn: Int) -> Parameter {
            Parameter(Initializer.lecunUniform.sample(shape, fanIn: fanIn, fanOut: 1, rng: &rng))
        }
        let firstIn = c * n0 * f0 + c
        first = block([firstIn, co * n0 * f0 + co], fanIn: firstIn)
        var hw: [Parameter] = [], hb: [Parameter] = []
        for i in 1..<(l - 1) {
            hw.append(block([co * f[i], c * f[i]], fanIn: c * f[i]))
            hb.append(block([co, c], fanIn: c + (kind == .sign && i == l - 2 ? c * nL * fL : 0)))
        }
        hiddenWeights = hw
        hiddenBiases = hb
        let lastIn = c * nL * fL + (kind == .sign ? c : 0)
        last = block([lastIn, co * nL * fL], fanIn: lastIn)
        lastBias = block([c * nL, co * nL], fanIn: c * nL + 1)
        outputBias = block([co * nL], fanIn: c * nL + 1)
        signBias = kind == .sign ? block([c * nL * fL, co], fanIn: c + c * nL * fL) : nil
        self.kind = kind
        self.inChannels = c
        self.outChannels = co
        self.widths = n
        self.kernels = architecture.layers.map(\.kernel)
        super.init()
    }

    /// The number of layers L of the networks this layer reads.
    public var layerCount: Int { widths.count - 1 }

    /// The filter factor fᵢ = ∏ kernel of 0-based layer i (1 for dense layers).
    public func filterFactor(layer i: Int) -> Int { kernels[i].reduce(1, *) }

    /// Throws ``ModuleError/invalidInput(_:)`` unless `input` has this layer's widths, kernels and
    /// input channel count.
    public func validate(_ input: WeightSpaceVariables) throws {
        guard input.channelCount == inChannels, input.widths == widths,
              input.weights.map({ Array($0.shape.dropFirst(4)) }) == kernels else {
            throw ModuleError.invalidInput(
                "MonomialLinear expects \(inChannels) channels, widths \(widths), kernels \(kernels); got \(input.channelCount) channels, widths \(input.widths), weight shapes \(input.weights.map(\.shape))")
        }
    }

    /// The equivariant map; see the type's documentation for the formula.
    /// Input `[B, C, …]` features of this layer's architecture → `[B, C′, …]`. Folds the filter
    /// taps on entry and unfolds on exit (inside a model, layers pass ``FoldedWeightSpace``
    /// features instead).
    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        do { try validate(input) } catch { preconditionFailure("\(error)") }
        return self(FoldedWeightSpace(folding: input, layout: .channelsFirst)).unfolded()
    }

    /// The equivariant map on channels-first folded features (weights `[B, C·fᵢ, n_{i+1}, n_i]`).
    ///
    /// The parameters are indexed in the canonical order (channel, neuron, tap); folded features
    /// put the tap before the neuron, so the first and last layers' coefficient matrices are read
    /// with their rows and columns reordered (a gather of the small matrix, not of the features).
    public func callAsFunction(_ input: FoldedWeightSpace) -> FoldedWeightSpace {
        precondition(input.layout == .channelsFirst, "MonomialLinear computes on channels-first folded features")
        precondition(input.channels == inChannels && input.widths == widths && input.kernels == kernels,
                     "MonomialLinear expects \(inChannels) channels, widths \(widths), kernels \(kernels); got \(input.channels) channels, widths \(input.widths), kernels \(input.kernels)")
        let tape = input.tape
        let b = input.batchSize
        let (c, co) = (inChannels, outChannels)
        let l = layerCount, n = widths
        var outW = [Variable](), outB = [Variable]()

        // First layer: one gemm over the row features [W⁽¹⁾_{j,:,:}, v⁽¹⁾_j], read (channel, tap, n₀).
        do {
            let f0 = filterFactor(layer: 0), n0 = n[0], n1 = n[1]
            let rowW = input.weights[0].permuted([0, 2, 1, 3]).reshaped([b * n1, c * f0 * n0])
            let rowV = input.biases[0].permuted([0, 2, 1]).reshaped([b * n1, c])
            let coefficients = Self.tapMajor(first.variable(on: tape), rows: (c, n0, f0), columns: (co, n0, f0))
            let y = Variable.concatenate([rowW, rowV], alongAxis: 1).matmul(coefficients)
            let wOut = co * n0 * f0
            outW.append(y.slice(axis: 1, 0..<wOut).reshaped([b, n1, co * f0, n0]).permuted([0, 2, 1, 3]))
            outB.append(y.slice(axis: 1, wOut..<(wOut + co)).reshaped([b, n1, co]).permuted([0, 2, 1]))
        }
        // Hidden layers: channel (× tap) mixing only, one strided-batched gemm each.
        for i in 1..<(l - 1) {
            outW.append(PermutationOps.channelMix(hiddenWeights[i - 1].variable(on: tape), input.weights[i]))
            outB.append(PermutationOps.channelMix(hiddenBiases[i - 1].variable(on: tape), input.biases[i]))
        }
        // Last layer: one gemm over the column features [W⁽ᴸ⁾_{:,k,:} (, v⁽ᴸ⁻¹⁾_k)], read (channel, tap, n_L).
        do {
            let fL = filterFactor(layer: l - 1), nL = n[l], k = n[l - 1]
            let colW = input.weights[l - 1].reshaped([b, c * fL * nL, k]).permuted([0, 2, 1]).reshaped([b * k, c * fL * nL])
            var cols = colW
            if kind == .sign {
                let prevBias = input.biases[l - 2].permuted([0, 2, 1]).reshaped([b * k, c])
                cols = Variable.concatenate([colW, prevBias], alongAxis: 1)
            }
            let coefficients = Self.tapMajor(last.variable(on: tape), rows: (c, nL, fL), columns: (co, nL, fL))
            outW.append(cols.matmul(coefficients).reshaped([b, k, co * fL * nL]).permuted([0, 2, 1])
                .reshaped([b, co * fL, nL, k]))
            let bias = input.biases[l - 1].reshaped([b, c * nL]).matmul(lastBias.variable(on: tape))
                + outputBias.variable(on: tape)
            outB.append(bias.reshaped([b, co, nL]))
            if let omega = signBias {
                // ṽ⁽ᴸ⁻¹⁾_j += Σ_p Ω W⁽ᴸ⁾_{pj}: valid only because 1/d_j = d_j for signs.
                let omegaFolded = Self.tapMajor(omega.variable(on: tape), rows: (c, nL, fL), columns: nil)
                let extra = colW.matmul(omegaFolded).reshaped([b, k, co]).permuted([0, 2, 1])
                outB[l - 2] = outB[l - 2] + extra
            }
        }
        return FoldedWeightSpace(weights: outW, biases: outB, kernels: input.kernels, layout: .channelsFirst)
    }

    /// The indices reordering a (channel, neuron, tap)-major block of `c·n·f` entries into
    /// (channel, tap, neuron) order, followed by `extra` entries left in place.
    private static func tapMajorOrder(_ c: Int, _ n: Int, _ f: Int, extra: Int) -> [Int] {
        var order: [Int] = []
        order.reserveCapacity(c * n * f + extra)
        for ch in 0..<c { for tap in 0..<f { for j in 0..<n { order.append((ch * n + j) * f + tap) } } }
        order.append(contentsOf: (c * n * f)..<(c * n * f + extra))
        return order
    }

    /// `matrix` with its leading `c·n·f` rows (and, when given, columns) reordered from
    /// (channel, neuron, tap) to (channel, tap, neuron) order; the remaining rows/columns (bias
    /// coefficients) stay last. Returns `matrix` itself when every f is 1.
    private static func tapMajor(_ matrix: Variable, rows: (Int, Int, Int), columns: (Int, Int, Int)?) -> Variable {
        var m = matrix
        if rows.2 > 1 {
            let extra = m.shape[0] - rows.0 * rows.1 * rows.2
            m = m.gathering(tapMajorOrder(rows.0, rows.1, rows.2, extra: extra), alongAxis: 0)
        }
        if let columns, columns.2 > 1 {
            let extra = m.shape[1] - columns.0 * columns.1 * columns.2
            m = m.gathering(tapMajorOrder(columns.0, columns.1, columns.2, extra: extra), alongAxis: 1)
        }
        return m
    }
}
