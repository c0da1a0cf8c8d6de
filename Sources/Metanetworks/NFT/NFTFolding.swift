import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

// The NFT layers compute on `FoldedWeightSpace` features in the `.channelsLast` layout
// (`[B, n_{i+1}, n_i, C·f_i]` weights, `[B, n_{i+1}, C]` biases): every per-entry channel map is
// one gemm over all B·n·m entries. `NFTFoldedFeatures` names that type here.
typealias NFTFoldedFeatures = FoldedWeightSpace

/// Shape checks shared by the NFT layers: the number of layers and the filter factor of each must
/// match the configuration the layer's per-layer parameters were built for.
func nftCheckStructure(_ x: NFTFoldedFeatures, channels: Int, filterFactors: [Int]?, layer: String) {
    precondition(x.layout == .channelsLast, "\(layer): expected channels-last folded features")
    precondition(x.channels == channels, "\(layer): expected \(channels) channels, got \(x.channels)")
    if let f = filterFactors {
        precondition(x.filterFactors == f,
                     "\(layer): built for \(f.count) layers with filter factors \(f), got \(x.filterFactors)")
    }
}

/// Scaled dot-product attention over the last two axes: `softmax(q kᵀ · scale) v`.
///
/// Shapes: `q`, `k`, `v` are `[G, T, D]` (G independent groups: batch × heads × …) → `[G, T, D]`.
/// - Complexity: O(G T² D), two batched gemms and one softmax.
func nftAttention(_ q: Variable, _ k: Variable, _ v: Variable, scale: Float) -> Variable {
    let scores = Variable.matmul(q, k, transposeB: true) * scale
    return Variable.matmul(scores.softmax(alongAxis: -1), v)
}
