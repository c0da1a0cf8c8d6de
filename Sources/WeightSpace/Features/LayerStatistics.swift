import Tensors

extension WeightSpaceFeatures {
    /// The statistic names, in the order ``layerStatistics()`` reports them per tensor.
    public static let statisticNames = ["mean", "variance", "q0", "q25", "q50", "q75", "q100"]

    /// Per-layer summary statistics — the STATNN features (Unterthiner et al., 2020) and the inputs
    /// of quasi-equivariant group-element predictors (Tran et al. 2026, *Quasi-Equivariant
    /// Metanetworks*, App. B.1).
    ///
    /// For every member, channel and layer: mean, population variance, and the 0, .25, .5, .75, 1
    /// quantiles (linear interpolation) of the weights, then the same seven of the biases.
    /// Shape `[B, C, L, 14]`. These are invariant to neuron permutations of hidden layers.
    /// - Complexity: O(N log N) per tensor of N entries (quantiles sort).
    public func layerStatistics() -> Tensor {
        let b = batchSize, c = channelCount, l = layerCount
        var out = Tensor(zeros: [b, c, l, 14])
        let qs = [0.0, 0.25, 0.5, 0.75, 1.0]
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<l {
                for (k, t) in [weights[i], biases[i]].enumerated() {
                    let per = t.count / (b * c)
                    t.withUnsafeBufferPointer { p in
                        var scratch = [Float](repeating: 0, count: per)
                        for m in 0..<b {
                            for ch in 0..<c {
                                let base = (m * c + ch) * per
                                var sum: Double = 0
                                for e in 0..<per { scratch[e] = p[base + e]; sum += Double(p[base + e]) }
                                let mean = sum / Double(Swift.max(per, 1))
                                var ss: Double = 0
                                for e in 0..<per { let d = Double(scratch[e]) - mean; ss += d * d }
                                scratch.sort()
                                let dst = ((m * c + ch) * l + i) * 14 + k * 7
                                o[dst] = Float(mean)
                                o[dst + 1] = Float(ss / Double(Swift.max(per, 1)))
                                for (qi, q) in qs.enumerated() {
                                    let pos = q * Double(per - 1)
                                    let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, per - 1)
                                    let f = Float(pos - Double(lo))
                                    o[dst + 2 + qi] = scratch[lo] + (scratch[hi] - scratch[lo]) * f
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
