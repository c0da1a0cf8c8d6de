import WeightSpace

extension MonomialLinear {
    /// The number of trainable scalars of a `MonomialLinear(inChannels: c, outChannels: c′, …)`,
    /// without building it.
    ///
    /// With L layers, widths n₀…n_L, filter factors f₁…f_L (1 for dense) and s = 1 for
    /// ``MonomialGroupKind/sign`` (0 otherwise):
    ///
    ///     c·c′·[ (n₀f₁ + 1)²                           first layer: P, Q, R, S
    ///          + Σ_{i=2}^{L−1} (fᵢ² + 1)                 hidden layers: T, U
    ///          + n_L f_L (n_L f_L + s) + n_L² + s·n_L f_L ]  last layer: X (+Z), Y (+Ω)
    ///     + c′·n_L                                       τ
    ///
    /// **Growth (derived here from the terms above, verified in the tests):** the count is *linear
    /// in L* (each hidden layer adds the constant c·c′(f² + 1)) but *quadratic in n₀ and n_L*
    /// (second differences 2c·c′f₁² and 2c·c′(f_L² + 1)): the first and last layers mix a whole
    /// row/column over the unpermuted inputs/outputs. The "linear in L, n₀, n_L" of Tran et al. 2024
    /// (*Monomial Matrix Group Equivariant NFNs*, §5.1) therefore holds only in the sense that no
    /// L², L·n₀, L·n_L or n₀·n_L terms appear — those are what make HNP's count
    /// O(c·c′(L + n₀ + n_L)²) (see ``hnpParameterCount(inChannels:outChannels:architecture:)``).
    ///
    /// - Complexity: O(L).
    public static func parameterCount(inChannels c: Int, outChannels co: Int,
                                      architecture: FeedforwardArchitecture, kind: Kind) -> Int {
        let l = architecture.layerCount
        guard l >= 2 else { return 0 }
        let n = architecture.widths
        let f = (0..<l).map { architecture.filterFactor(layer: $0) }
        let s = kind == .sign ? 1 : 0
        let (n0, nL, f1, fL) = (n[0], n[l], f[0], f[l - 1])
        var perPair = (n0 * f1 + 1) * (n0 * f1 + 1)
        for i in 1..<(l - 1) { perPair += f[i] * f[i] + 1 }
        perPair += nL * fL * (nL * fL + s) + nL * nL + s * nL * fL
        return c * co * perPair + co * nL
    }

    /// The number of trainable scalars of one HNP equivariant layer (Zhou et al. 2023, *Permutation
    /// Equivariant Neural Functionals*, App. C, Tables 8–11; reference `HNPLinear` in
    /// AllanYangZhou/nfn) with the same channels on the same weight space — computed here
    /// from the layer's structure, for comparison with ``parameterCount(inChannels:outChannels:architecture:kind:)``.
    ///
    /// Every block is a Linear/1×1-conv with a bias (a·b + b scalars for a → b). With f = filter
    /// factors (taps folded into channels, `shape_wsfeat_symmetry`) and the per-channel length of
    /// the global vector R = Σᵢ fᵢ + L + n₀f₁ + n_L f_L + n_L (all W⋆⋆ and v⋆, the row-averaged W⁽¹⁾,
    /// the column-averaged W⁽ᴸ⁾, and v⁽ᴸ⁾):
    /// - first layer: a = (n₀f₁ + f₂ + 1 [+ n_L f₂ if L = 2])·c row features →
    ///   n₀f₁c′ weight outputs and c′ bias outputs; plus the global R·c → n₀f₁c′ and R·c → c′;
    /// - hidden layer i: the pointwise fᵢc → fᵢc′; global R·c → fᵢc′; row features
    ///   (f_{i−1} + fᵢ + 1 [+ n₀f₁ if i = 2])·c → fᵢc′; column features
    ///   (f_{i+1} + fᵢ + 1 [+ n_L f_L if i = L−1])·c → fᵢc′ and → c′ (bias); global R·c → c′;
    /// - last layer: column features (n_L f_L + f_{L−1} [+ n₀f₁ if L = 2])·c → n_L f_L c′; global
    ///   R·c → n_L f_L c′ and R·c → n_L c′ (bias).
    ///
    /// This is O(c·c′·(L + n₀ + n_L)²) as in the NFN paper's Table 1: the L global blocks each read
    /// R = O(L + n₀ + n_L) entries, and the first/last blocks write O(n₀), O(n_L) outputs.
    ///
    /// - Complexity: O(L).
    public static func hnpParameterCount(inChannels c: Int, outChannels co: Int,
                                         architecture: FeedforwardArchitecture) -> Int {
        let l = architecture.layerCount
        guard l >= 2 else { return 0 }
        let n = architecture.widths
        let f = (0..<l).map { architecture.filterFactor(layer: $0) }
        let (n0, nL) = (n[0], n[l])
        func linear(_ a: Int, _ b: Int) -> Int { a * b + b }
        let r = f.reduce(0, +) + l + n0 * f[0] + nL * f[l - 1] + nL
        var total = 0
        // First layer.
        var rowIn = f[0] * n0 + f[1] + 1
        if l == 2 { rowIn += nL * f[1] }
        total += linear(rowIn * c, n0 * f[0] * co) + linear(r * c, n0 * f[0] * co)
        total += linear(rowIn * c, co) + linear(r * c, co)
        // Hidden layers.
        for i in 1..<(l - 1) {
            total += linear(f[i] * c, f[i] * co) + linear(r * c, f[i] * co)
            var rows = (f[i - 1] + f[i] + 1) * c, cols = (f[i + 1] + f[i] + 1) * c
            if i == 1 { rows += n0 * f[0] * c }
            if i == l - 2 { cols += nL * f[l - 1] * c }
            total += linear(rows, f[i] * co) + linear(cols, f[i] * co)
            total += linear(cols, co) + linear(r * c, co)
        }
        // Last layer.
        var colIn = f[l - 1] * nL + f[l - 2]
        if l == 2 { colIn += n0 * f[l - 2] }
        total += linear(colIn * c, nL * f[l - 1] * co) + linear(r * c, nL * f[l - 1] * co)
        total += linear(r * c, nL * co)
        return total
    }
}
