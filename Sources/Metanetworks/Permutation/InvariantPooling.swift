import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// How ``NPPool`` and ``HNPPool`` reduce over permuted neuron axes.
public enum NeuronPoolReduction: String, Sendable, Codable, CaseIterable {
    /// The mean (the papers' default; independent of the widths).
    case mean
    /// The maximum (DWSNets' default for its invariant layer).
    case max
    /// The sum.
    case sum
}

extension Variable {
    /// Reduces `axes` with `reduction` (keeping no dimensions).
    fileprivate func neuronPooled(_ axes: [Int], _ reduction: NeuronPoolReduction) -> Variable {
        switch reduction {
        case .mean: return mean(alongAxes: axes)
        case .max: return max(alongAxes: axes)
        case .sum: return sum(alongAxes: axes)
        }
    }
}

/// NP-invariant pooling (Zhou et al. 2023, *Permutation Equivariant Neural Functionals*, Eq. 17;
/// reference `NPPool`):
/// P(U) = (W⁽¹⁾_⋆⋆, …, W⁽ᴸ⁾_⋆⋆, v⁽¹⁾_⋆, …, v⁽ᴸ⁾_⋆) per channel, every filter tap of a conv layer
/// kept as its own value (taps are not permuted).
///
/// **Group.** Invariant to NP (all neuron permutations), hence to HNP.
/// **Shape.** Features with C channels → `[B, C·Σ_i (f_i + 1)]`, channel-major: for each channel c,
/// per layer the f_i tap values of W⁽ⁱ⁾_⋆⋆ then v⁽ⁱ⁾_⋆ (the reference order). No parameters.
///
/// ```swift
/// let pooled = NPPool()(features)   // [B, C · Σ(f_i + 1)]
/// ```
/// - Complexity: O(size of the features).
public final class NPPool: Module, FoldedWeightSpaceModel {
    public let reduction: NeuronPoolReduction

    public init(reduction: NeuronPoolReduction = .mean) {
        self.reduction = reduction
        super.init()
    }

    /// The output width `C·Σ_i (f_i + 1)` for `channels` channels.
    public static func outputCount(filterFactors: [Int], channels: Int) -> Int {
        channels * filterFactors.reduce(0) { $0 + $1 + 1 }
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        let b = input.batchSize, c = input.channelCount
        var parts: [Variable] = []
        for (w, v) in zip(input.weights, input.biases) {
            parts.append(w.neuronPooled([2, 3], reduction).reshaped([b, c, -1]))      // [B, C, f_i]
            parts.append(v.neuronPooled([2], reduction).reshaped([b, c, 1]))         // [B, C, 1]
        }
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, -1])
    }

    /// The same pooled vector from channels-first folded features: pooling `[B, C·f, n, m]` over
    /// its neuron axes gives `[B, C, f]` in the canonical order (folded channel c·f + tap).
    public func callAsFunction(_ input: FoldedWeightSpace) -> Variable {
        precondition(input.layout == .channelsFirst, "NPPool reads channels-first folded features")
        let b = input.batchSize, c = input.channels
        var parts: [Variable] = []
        for (w, v) in zip(input.weights, input.biases) {
            // The mean over both neuron axes from the fused row/column means (one pass each way).
            let pooled = reduction == .mean ? PermutationOps.rowColumnMeans(w).overRows.mean(alongAxes: [2])
                                            : w.neuronPooled([2, 3], reduction)
            parts.append(pooled.reshaped([b, c, -1]))                                // [B, C, f_i]
            parts.append(v.neuronPooled([2], reduction).reshaped([b, c, 1]))         // [B, C, 1]
        }
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, -1])
    }
}

/// HNP-invariant pooling (Zhou et al. 2023, §2.3; reference `HNPPool`): like ``NPPool`` but the
/// unpermuted IO neurons are kept apart —
/// P̃(U) = (W⁽¹⁾_⋆,: , W⁽²⁾_⋆⋆, …, W⁽ᴸ⁻¹⁾_⋆⋆, W⁽ᴸ⁾_:,⋆ , v⁽¹⁾_⋆, …, v⁽ᴸ⁻¹⁾_⋆, v⁽ᴸ⁾).
/// W⁽¹⁾ is averaged over its (hidden) rows, keeping one value per input neuron and tap; W⁽ᴸ⁾ over
/// its (hidden) columns, one value per output neuron and tap; v⁽ᴸ⁾ is kept whole.
///
/// **Group.** Invariant to HNP; not to NP.
/// **Shape.** → `[B, C·((n_0 f_1 + 1) + Σ_{1<i<L}(f_i + 1) + (n_L f_L + n_L))]`, channel-major, per layer
/// the weight values then the bias values (the reference order). With L = 1 nothing is pooled
/// (W⁽¹⁾ and v⁽¹⁾ are kept whole). No parameters.
/// - Complexity: O(size of the features).
public final class HNPPool: Module, FoldedWeightSpaceModel {
    public let reduction: NeuronPoolReduction

    public init(reduction: NeuronPoolReduction = .mean) {
        self.reduction = reduction
        super.init()
    }

    /// The output width for `channels` channels (the reference `get_num_outs` × C).
    public static func outputCount(widths: [Int], filterFactors: [Int], channels: Int) -> Int {
        let L = filterFactors.count
        if L == 1 { return channels * (widths[0] * widths[1] * filterFactors[0] + widths[1]) }
        var count = 0
        for (i, f) in filterFactors.enumerated() {
            if i == 0 { count += widths[0] * f + 1 }
            else if i == L - 1 { count += widths[L] * f + widths[L] }
            else { count += f + 1 }
        }
        return channels * count
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        let b = input.batchSize, c = input.channelCount, L = input.layerCount
        var parts: [Variable] = []
        for (i, (w, v)) in zip(input.weights, input.biases).enumerated() {
            if L == 1 {
                parts.append(w.reshaped([b, c, -1])); parts.append(v)
                continue
            }
            if i == 0 {
                parts.append(w.neuronPooled([2], reduction).reshaped([b, c, -1]))     // [B, C, n_0·f]
            } else if i == L - 1 {
                parts.append(w.neuronPooled([3], reduction).reshaped([b, c, -1]))     // [B, C, n_L·f]
            } else {
                parts.append(w.neuronPooled([2, 3], reduction).reshaped([b, c, -1]))  // [B, C, f]
            }
            parts.append(i == L - 1 ? v : v.neuronPooled([2], reduction).reshaped([b, c, 1]))
        }
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, -1])
    }

    /// The same pooled vector from channels-first folded features. Pooling the folded
    /// `[B, C·f, n, m]` keeps the tap axis before the kept neuron axis (`[B, C, f, n_0]`), so the
    /// small pooled tensors are transposed to the canonical `[B, C, n_0, f]` order.
    public func callAsFunction(_ input: FoldedWeightSpace) -> Variable {
        precondition(input.layout == .channelsFirst, "HNPPool reads channels-first folded features")
        let b = input.batchSize, c = input.channels, L = input.layerCount
        var parts: [Variable] = []
        for (i, (w, v)) in zip(input.weights, input.biases).enumerated() {
            let f = input.filterFactors[i]
            // [B, C·f, r] with r a neuron axis → [B, C, r·f] in canonical (neuron-major, tap-minor) order.
            func tapsLast(_ x: Variable) -> Variable {
                f == 1 ? x.reshaped([b, c, -1]) : x.reshaped([b, c, f, -1]).transposed(2, 3).reshaped([b, c, -1])
            }
            if L == 1 {
                parts.append(tapsLast(w.reshaped([b, c * f, -1]))); parts.append(v)
                continue
            }
            // Means over the rows and over the columns come from one fused pass (and one pullback pass).
            let means = reduction == .mean ? PermutationOps.rowColumnMeans(w) : nil
            if i == 0 {
                let pooled = means?.overRows ?? w.neuronPooled([2], reduction)
                parts.append(tapsLast(pooled.reshaped([b, c * f, -1])))                             // [B, C, n_0·f]
            } else if i == L - 1 {
                let pooled = means?.overColumns ?? w.neuronPooled([3], reduction)
                parts.append(tapsLast(pooled.reshaped([b, c * f, -1])))                             // [B, C, n_L·f]
            } else {
                let pooled = means.map { $0.overRows.mean(alongAxes: [2]) } ?? w.neuronPooled([2, 3], reduction)
                parts.append(pooled.reshaped([b, c, -1]))                                           // [B, C, f]
            }
            parts.append(i == L - 1 ? v : v.neuronPooled([2], reduction).reshaped([b, c, 1]))
        }
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, -1])
    }
}
