import Tensors
import Autograd
import WeightSpace

/// Folds convolution filter taps into feature channels and back (Zhou et al. 2023, *Permutation
/// Equivariant Neural Functionals*, §2.2; the reference code's `shape_wsfeat_symmetry` in
/// AllanYangZhou/nfn).
///
/// The neuron permutations never touch the spatial taps of a filter, so for a permutation
/// equivariant layer a tap is just one more feature channel:
/// `[B, C, n_out, n_in, kh, kw] ↔ [B, C·kh·kw, n_out, n_in]`, with folded channel index
/// `c·(kh·kw) + tap` (channel-major, taps in row-major order — einops' `(c h w)`). Layer i of an
/// NP/HNP layer with C feature channels therefore works with f_i·C channels, f_i = kh·kw
/// (f_i = 1 for a dense layer, whose rank-4 weight is left unchanged). Biases `[B, C, n_out]`
/// are never folded.
///
/// This lets one NP/HNP layer accept a mixed CNN weight space — e.g. the Small CNN Zoo's three
/// 3×3 convolutions (f = 9) followed by a dense layer (f = 1) — since global average pooling sits
/// between the last convolution and the dense layer, so conv channels connect straight to dense
/// inputs.
///
/// ```swift
/// let w = Variable(Tensor(zeros: [2, 3, 16, 8, 3, 3]))
/// let folded = FilterFolding.fold(w)                         // [2, 27, 16, 8]
/// let back = FilterFolding.unfold(folded, kernel: [3, 3])    // [2, 3, 16, 8, 3, 3]
/// ```
/// - Complexity: one copy of the tensor (a per-channel transpose of [n·m, taps] blocks); free for
///   dense weights.
public enum FilterFolding {
    /// The axis permutation taking `[B, C, n, m, k…]` to `[B, C, k…, n, m]`.
    static func foldPermutation(rank: Int) -> [Int] {
        [0, 1] + Array(4..<rank) + [2, 3]
    }

    /// The axis permutation taking `[B, C, k…, n, m]` back to `[B, C, n, m, k…]`.
    static func unfoldPermutation(spatialRank s: Int) -> [Int] {
        [0, 1, s + 2, s + 3] + Array(2..<(s + 2))
    }

    /// `[B, C, n_out, n_in, k…]` → `[B, C·∏k, n_out, n_in]`; rank-4 (dense) weights are returned
    /// unchanged. Differentiable (the pullback unfolds the gradient).
    public static func fold(_ weight: Variable) -> Variable {
        precondition(weight.rank >= 4, "fold expects a weight [B, C, n_out, n_in, spatial…], got \(weight.shape)")
        if weight.rank == 4 { return weight }
        let s = weight.shape
        let taps = s[4...].reduce(1, *)
        // Per (member, channel): transpose [n·m, taps] → [taps, n·m].
        return PermutationOps.transposeBlocks(weight, batch: s[0] * s[1], rows: s[2] * s[3], columns: taps,
                                              shape: [s[0], s[1] * taps, s[2], s[3]])
    }

    /// `[B, C·∏kernel, n_out, n_in]` → `[B, C, n_out, n_in, kernel…]`; an empty `kernel` (dense
    /// layer) returns the input unchanged. Inverse of ``fold(_:)-swift.type.method``.
    public static func unfold(_ folded: Variable, kernel: [Int]) -> Variable {
        precondition(folded.rank == 4, "unfold expects a folded weight [B, C·f, n_out, n_in], got \(folded.shape)")
        if kernel.isEmpty { return folded }
        let s = folded.shape, taps = kernel.reduce(1, *)
        precondition(taps > 0 && s[1] % taps == 0, "unfold: \(s[1]) folded channels are not a multiple of the \(taps) taps of kernel \(kernel)")
        // Per (member, channel): transpose [taps, n·m] → [n·m, taps].
        return PermutationOps.transposeBlocks(folded, batch: s[0] * s[1] / taps, rows: taps, columns: s[2] * s[3],
                                              shape: [s[0], s[1] / taps, s[2], s[3]] + kernel)
    }

    /// Tensor version of ``fold(_:)-swift.type.method``.
    public static func fold(_ weight: Tensor) -> Tensor {
        precondition(weight.rank >= 4, "fold expects a weight [B, C, n_out, n_in, spatial…], got \(weight.shape)")
        if weight.rank == 4 { return weight }
        let s = weight.shape
        let taps = s[4...].reduce(1, *)
        return weight.permuted(foldPermutation(rank: weight.rank)).reshaped([s[0], s[1] * taps, s[2], s[3]])
    }

    /// Tensor version of ``unfold(_:kernel:)-swift.type.method``.
    public static func unfold(_ folded: Tensor, kernel: [Int]) -> Tensor {
        precondition(folded.rank == 4, "unfold expects a folded weight [B, C·f, n_out, n_in], got \(folded.shape)")
        if kernel.isEmpty { return folded }
        let s = folded.shape, taps = kernel.reduce(1, *)
        precondition(taps > 0 && s[1] % taps == 0, "unfold: \(s[1]) folded channels are not a multiple of the \(taps) taps of kernel \(kernel)")
        return folded.reshaped([s[0], s[1] / taps] + kernel + [s[2], s[3]])
            .permuted(unfoldPermutation(spatialRank: kernel.count))
    }

    /// Every weight of `features` folded (biases are never folded).
    public static func foldedWeights(_ features: WeightSpaceVariables) -> [Variable] {
        features.weights.map { fold($0) }
    }

    /// The spatial kernel of every layer of `features` (`[]` for dense layers).
    public static func kernels(_ features: WeightSpaceVariables) -> [[Int]] {
        features.weights.map { Array($0.shape.dropFirst(4)) }
    }

    /// The filter factor f_i = ∏ kernel of every layer of `features` (1 for dense layers).
    public static func filterFactors(_ features: WeightSpaceVariables) -> [Int] {
        kernels(features).map { $0.reduce(1, *) }
    }

    /// The filter factor of every layer of `architecture` (1 for dense layers).
    public static func filterFactors(_ architecture: FeedforwardArchitecture) -> [Int] {
        (0..<architecture.layerCount).map { architecture.filterFactor(layer: $0) }
    }
}
