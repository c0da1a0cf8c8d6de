import Tensors
import Autograd
import WeightSpace

/// Differentiable per-layer summary statistics of weight-space features — the input of the
/// quasi-equivariant group-element predictor φ (Tran et al. 2026, *Quasi-Equivariant Metanetworks*,
/// Appendix B.1; the STATNN features of Unterthiner et al. 2020).
///
/// For every member b, channel c and layer i: mean, population variance and the 0, .25, .5, .75, 1
/// quantiles (linear interpolation between order statistics) of the weight entries (taps
/// included), then the same seven of the biases: `[B, C, L, 14]`, the same values and order as
/// ``WeightSpaceFeatures/layerStatistics()``.
///
/// Gradients: ∂mean/∂x_e = 1/N, ∂var/∂x_e = 2(x_e − mean)/N, and a quantile's gradient goes to the
/// two order statistics it interpolates (weights 1 − t and t); at ties the order is the one the
/// sort chose (a valid subgradient).
///
/// These statistics are permutation-invariant but **not** scale-invariant; that is fine for
/// quasi-equivariance (see ``QuasiMonomialLayer``).
///
/// - Complexity: O(N log N) per (member, channel, tensor) of N entries (a sort), forward and
///   O(N) backward.
public enum QuasiMonomialStatistics {
    /// The number of statistics per layer (7 for the weights, 7 for the biases).
    public static let perLayer = 14
    /// The quantile levels, in output order after mean and variance.
    public static let quantiles: [Double] = [0, 0.25, 0.5, 0.75, 1]

    /// `[B, C, L, 14]` statistics of `input`, recorded on its tape.
    public static func layerStatistics(_ input: WeightSpaceVariables) -> Variable {
        let b = input.batchSize, c = input.channelCount
        var layers: [Variable] = []
        for (w, v) in zip(input.weights, input.biases) {
            let sw = rowStatistics(w.reshaped([b, c, -1]))
            let sv = rowStatistics(v.reshaped([b, c, -1]))
            layers.append(Variable.concatenate([sw, sv], alongAxis: 2))   // [B, C, 14]
        }
        return Variable.stack(layers, alongAxis: 2)                        // [B, C, L, 14]
    }

    /// x `[B, C, N]` → `[B, C, 7]` (mean, variance, 5 quantiles) over the last axis, as one fused op.
    static func rowStatistics(_ x: Variable) -> Variable {
        let shape = x.shape
        let rows = shape[0] * shape[1], n = shape[2]
        let qCount = quantiles.count
        var out = Tensor(zeros: [shape[0], shape[1], 7])
        var means = [Float](repeating: 0, count: rows)
        var lo = [Int32](repeating: 0, count: rows * qCount)
        var hi = [Int32](repeating: 0, count: rows * qCount)
        var frac = [Float](repeating: 0, count: rows * qCount)
        let xv = x.value
        xv.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                var order = [Int32](repeating: 0, count: n)
                for r in 0..<rows {
                    let base = r * n
                    var sum: Double = 0
                    for e in 0..<n { sum += Double(p[base + e]) }
                    let mean = sum / Double(Swift.max(n, 1))
                    var ss: Double = 0
                    for e in 0..<n { let d = Double(p[base + e]) - mean; ss += d * d }
                    for e in 0..<n { order[e] = Int32(e) }
                    order.sort { p[base + Int($0)] < p[base + Int($1)] }
                    means[r] = Float(mean)
                    o[r * 7] = Float(mean)
                    o[r * 7 + 1] = Float(ss / Double(Swift.max(n, 1)))
                    for (k, q) in quantiles.enumerated() {
                        let pos = q * Double(n - 1)
                        let l = Int(pos.rounded(.down)), h = Swift.min(l + 1, n - 1)
                        let t = Float(pos - Double(l))
                        let (a, bb) = (p[base + Int(order[l])], p[base + Int(order[h])])
                        o[r * 7 + 2 + k] = a + (bb - a) * t
                        lo[r * qCount + k] = order[l]
                        hi[r * qCount + k] = order[h]
                        frac[r * qCount + k] = t
                    }
                }
            }
        }
        return Variable.record(out, inputs: [x]) { g in
            var dx = Tensor(zeros: shape)
            g.withUnsafeBufferPointer { gp in
                xv.withUnsafeBufferPointer { p in
                    dx.withUnsafeMutableBufferPointer { d in
                        let inv = 1 / Float(Swift.max(n, 1))
                        for r in 0..<rows {
                            let base = r * n
                            let gMean = gp[r * 7] * inv, gVar = 2 * gp[r * 7 + 1] * inv
                            let m = means[r]
                            for e in 0..<n { d[base + e] = gMean + gVar * (p[base + e] - m) }
                            for k in 0..<qCount {
                                let gq = gp[r * 7 + 2 + k], t = frac[r * qCount + k]
                                d[base + Int(lo[r * qCount + k])] += gq * (1 - t)
                                d[base + Int(hi[r * qCount + k])] += gq * t
                            }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}
