import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Weight-space features in the layout the NFT layers compute in: filter taps folded into the
/// channels and the channels moved last, so that every per-entry channel map is one gemm.
///
/// `weights[i]`: `[B, n_{i+1}, n_i, C·f_i]` with folded channel index `c·f_i + tap` (taps in
/// row-major order of the kernel, the reference code's `b (c h w) o i` order); `biases[i]`:
/// `[B, n_{i+1}, C]`; f_i = kh·kw (1 for a dense layer). Neuron permutations act on axes 1 and 2
/// only, so folding commutes with them (as in Zhou et al. 2023, *Permutation Equivariant Neural
/// Functionals*, §2.2, and *Neural Functional Transformers*, §3.3): the taps behave as extra
/// channels.
///
/// This is the NFT family's own small folding helper (it does not depend on any other family's).
struct NFTFoldedFeatures {
    /// `[B, n_{i+1}, n_i, C·f_i]`.
    var weights: [Variable]
    /// `[B, n_{i+1}, C]`.
    var biases: [Variable]
    /// The spatial kernel shape of every layer (empty for dense layers), needed to unfold.
    var kernels: [[Int]]

    init(weights: [Variable], biases: [Variable], kernels: [[Int]]) {
        self.weights = weights
        self.biases = biases
        self.kernels = kernels
    }

    /// Folds canonical features `[B, C, n_{i+1}, n_i, spatial…]` / `[B, C, n_{i+1}]`.
    /// - Complexity: one permuted copy of every tensor, O(dim 𝒲 · C).
    init(folding input: WeightSpaceVariables) {
        var ws: [Variable] = [], kernels: [[Int]] = []
        for w in input.weights {
            let spatial = Array(w.shape.dropFirst(4))
            kernels.append(spatial)
            let (b, c, o, i) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
            let f = spatial.reduce(1, *)
            // [B, C, o, i, taps…] → [B, o, i, C, taps…] → [B, o, i, C·f].
            let order = [0, 2, 3, 1] + Array(4..<w.rank)
            ws.append(w.permuted(order).reshaped([b, o, i, c * f]))
        }
        self.init(weights: ws, biases: input.biases.map { $0.permuted([0, 2, 1]) }, kernels: kernels)
    }

    /// Back to the canonical layout, with `channels` channels per tap.
    func unfolded(channels: Int) -> WeightSpaceVariables {
        var ws: [Variable] = []
        for (w, kernel) in zip(weights, kernels) {
            let (b, o, i) = (w.shape[0], w.shape[1], w.shape[2])
            let x = w.reshaped([b, o, i, channels] + kernel)
            // [B, o, i, C, taps…] → [B, C, o, i, taps…].
            let order = [0, 3, 1, 2] + Array(4..<x.rank)
            ws.append(x.permuted(order))
        }
        return WeightSpaceVariables(weights: ws, biases: biases.map { $0.permuted([0, 2, 1]) })
    }

    var layerCount: Int { weights.count }
    var batchSize: Int { weights[0].shape[0] }
    /// Neuron counts n₀ … n_L.
    var widths: [Int] { [weights[0].shape[2]] + weights.map { $0.shape[1] } }
    /// f_i per layer.
    var filterFactors: [Int] { kernels.map { $0.reduce(1, *) } }
    /// The per-tap channel count C (the bias channel count).
    var channels: Int { biases[0].shape[2] }

    /// Applies one map to every weight and another to every bias, layer by layer.
    func mapLayers(weight: (Int, Variable) -> Variable, bias: (Int, Variable) -> Variable) -> NFTFoldedFeatures {
        NFTFoldedFeatures(weights: weights.enumerated().map { weight($0.offset, $0.element) },
                          biases: biases.enumerated().map { bias($0.offset, $0.element) },
                          kernels: kernels)
    }

    /// Entrywise sum (residual connections).
    static func + (a: NFTFoldedFeatures, b: NFTFoldedFeatures) -> NFTFoldedFeatures {
        NFTFoldedFeatures(weights: zip(a.weights, b.weights).map { $0 + $1 },
                          biases: zip(a.biases, b.biases).map { $0 + $1 }, kernels: a.kernels)
    }
}

/// Shape checks shared by the NFT layers: the number of layers and the filter factor of each must
/// match the configuration the layer's per-layer parameters were built for.
func nftCheckStructure(_ x: NFTFoldedFeatures, channels: Int, filterFactors: [Int]?, layer: String) {
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
