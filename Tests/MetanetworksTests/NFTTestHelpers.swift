import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// Shared helpers for the NFT test suites (prefixed `nft` to stay out of other families' way).

/// Random canonical features for `architecture`: weights `[B, C, out, in, spatial…]`, N(0, std²).
func nftRandomFeatures(_ architecture: FeedforwardArchitecture, batch: Int, channels: Int, std: Float = 1,
                       rng: inout SeededGenerator) -> WeightSpaceFeatures {
    var ws: [Tensor] = [], bs: [Tensor] = []
    for i in 0..<architecture.layerCount {
        ws.append(Tensor.normal([batch, channels] + architecture.weightShape(layer: i), std: std, rng: &rng))
        bs.append(Tensor.normal([batch, channels] + architecture.biasShape(layer: i), std: std, rng: &rng))
    }
    return try! WeightSpaceFeatures(weights: ws, biases: bs)
}

/// A small CNN weight space: two 3×3 conv layers then a dense layer.
func nftSmallConvArchitecture() -> FeedforwardArchitecture {
    let conv = FeedforwardArchitecture.LayerKind.conv2d(kernel: [3, 3], stride: [1, 1], padding: [0, 0])
    return try! FeedforwardArchitecture(family: .cnn, widths: [2, 3, 4, 3], layers: [conv, conv, .dense], activation: .relu)
}

func nftFilterFactors(_ a: FeedforwardArchitecture) -> [Int] { (0..<a.layerCount).map { a.filterFactor(layer: $0) } }

/// Runs a weight-space layer without a tape.
func nftApply(_ layer: WeightSpaceLayer, _ x: WeightSpaceFeatures) -> WeightSpaceFeatures {
    layer(WeightSpaceVariables(x)).value
}

func nftTensors(_ x: WeightSpaceFeatures) -> [Tensor] { x.weights + x.biases }

/// Swaps two layers (weights and biases) — a false symmetry when the layers have equal shapes.
func nftSwapLayers(_ x: WeightSpaceFeatures, _ a: Int, _ b: Int) -> WeightSpaceFeatures {
    var y = x
    y.weights.swapAt(a, b)
    y.biases.swapAt(a, b)
    return y
}

/// The false symmetry of Zhou et al. 2023, *Neural Functional Transformers*, App. A.1, case 3:
/// permute the rows of W⁽ⁱ⁾ (and v⁽ⁱ⁾) by σ but the columns of W⁽ⁱ⁺¹⁾ by a different τ (0-based
/// layer `i`).
func nftDecoupledPermutation(_ x: WeightSpaceFeatures, layer i: Int, rows sigma: [Int], columns tau: [Int]) -> WeightSpaceFeatures {
    var y = x
    y.weights[i] = x.weights[i].gathering(sigma, alongAxis: 2)
    y.biases[i] = x.biases[i].gathering(sigma, alongAxis: 2)
    y.weights[i + 1] = x.weights[i + 1].gathering(tau, alongAxis: 3)
    return y
}

/// Concatenates every weight and bias of a layer output into one flat variable.
func nftFlatten(_ y: WeightSpaceVariables) -> Variable {
    Variable.concatenate((y.weights + y.biases).map { $0.reshaped([-1]) }, alongAxis: 0)
}

/// Builds `WeightSpaceVariables` from a flat list of variables (weights first, then biases).
func nftVariables(_ vars: [Variable]) -> WeightSpaceVariables {
    let l = vars.count / 2
    return WeightSpaceVariables(weights: Array(vars[0..<l]), biases: Array(vars[l...]))
}

/// Finite-difference check of the gradients with respect to every parameter of `module`
/// (up to `maxEntries` entries each), for the objective ⟨forward(x), R⟩ with a fixed random R.
/// Same error measure and step as `checkGradient`: |analytic − numeric| / max(1, |numeric|).
func nftCheckParameterGradients(_ module: Module, input: WeightSpaceFeatures, maxEntries: Int = 8,
                                epsilon: Float = 1e-2, seed: UInt64 = 7,
                                _ forward: (WeightSpaceVariables) -> Variable) -> (error: Float, checked: Int) {
    var rng = SeededGenerator(seed: seed)
    let tape = Tape()
    let out = forward(WeightSpaceVariables(input, tape: tape))
    let projection = Tensor.normal(out.shape, rng: &rng)
    let grads = tape.gradients(of: out, seed: projection)

    func objective() -> Double {
        let y = forward(WeightSpaceVariables(input)).value
        var acc: Double = 0
        for i in 0..<y.count { acc += Double(y[flat: i]) * Double(projection[flat: i]) }
        return acc
    }
    var worst: Float = 0, checked = 0
    for p in module.parameters {
        let g = grads[p]
        let original = p.value
        let indices = p.value.count <= maxEntries ? Array(0..<p.value.count)
                                                  : Array(rng.permutation(p.value.count).prefix(maxEntries))
        for i in indices {
            let h = epsilon * max(1, abs(original[flat: i]))
            var plus = original; plus[flat: i] += h
            var minus = original; minus[flat: i] -= h
            p.value = plus
            let fp = objective()
            p.value = minus
            let fm = objective()
            p.value = original
            let numeric = (fp - fm) / Double(2 * h)
            let err = Float(abs(Double(g[flat: i]) - numeric) / max(1, abs(numeric)))
            worst = max(worst, err.isNaN ? .infinity : err)
            checked += 1
        }
    }
    return (worst, checked)
}
