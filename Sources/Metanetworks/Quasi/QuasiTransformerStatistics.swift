import Tensors
import WeightSpace

extension TransformerBlockFeatures {
    /// Per-tensor summary statistics of the block (Tran et al. 2026, *Quasi-Equivariant
    /// Metanetworks*, App. B.1): for each of W_Q, W_K, W_V, W_O, W_A, b_A, W_B, b_B (in that order)
    /// the mean, population variance and the 0, .25, .5, .75, 1 quantiles (linear interpolation) —
    /// 56 numbers per member and channel, `[B, C, 56]`.
    ///
    /// Permutation-invariant (heads, π_O, π_A), but **not** GL-invariant (W_Q·M has another mean);
    /// see ``QuasiTransformerNFN`` for why that is fine.
    /// - Complexity: O(N log N) per tensor of N entries per member and channel (quantiles sort).
    public func quasiStatistics() -> Tensor {
        // `layerStatistics` reports weight-then-bias statistics per "layer" from entry counts only,
        // so pairing the eight tensors two by two yields their statistics in order.
        let t = tensors
        let pairs = WeightSpaceFeatures(unchecked: [t[0], t[2], t[4], t[6]], biases: [t[1], t[3], t[5], t[7]])
        let s = pairs.layerStatistics()                       // [B, C, 4, 14]
        return s.reshaped([s.shape[0], s.shape[1], 56])
    }
}

extension TransformerWeightSpaceFeatures {
    /// The input of the quasi-equivariant group-element networks: every block's
    /// ``TransformerBlockFeatures/quasiStatistics()``, concatenated per member,
    /// `[B, L·C·56]` (block-major, then channel, then the 56 statistics).
    public func quasiStatistics() -> Tensor {
        let b = batchSize
        let parts = blocks.map { $0.quasiStatistics().reshaped([b, -1]) }
        return Tensor.concatenate(parts, alongAxis: 1)
    }
}
