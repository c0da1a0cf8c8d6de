import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The Monomial-NFN invariant pooling (Tran et al. 2024, *Monomial Matrix Group Equivariant NFNs*,
/// §5; reference `HNPSPool` with `param_mul_L2` in MathematicalAI-NUS/Monomial-NFN): features
/// `[B, C, …]` → `[B, C·K]`, invariant to the whole monomial group.
///
/// Two steps:
/// 1. **Per-entry canonicalisation**, which removes the factor every entry carries:
///    - ``MonomialGroupKind/positiveScaling``: x̂ = x / √(‖x‖² + ε), the norm over the C channels
///      and the f filter taps of one (row, column) entry — all of which share one factor λ > 0,
///      so x̂(λx) = x̂(x) (up to ε);
///    - ``MonomialGroupKind/sign``: x̂ = |x| (invariant to ±1).
///
///    Then a learned per-(channel, tap) affine map γ ⊙ x̂ + β (γ = 1, β = 0 at initialisation;
///    the reference draws both from N(0, 1)), which keeps invariance.
/// 2. **HNP mean pooling** over the permuted (hidden) indices only:
///    first weight W⁽¹⁾ → mean over rows (n₀·f₁ values per channel); hidden weights → mean over rows
///    and columns (fᵢ values); last weight W⁽ᴸ⁾ → mean over columns (n_L·f_L values); biases of
///    hidden layers → mean (1 value); the output bias v⁽ᴸ⁾ is already invariant and is kept raw
///    (n_L values).
///
/// K = (n₀f₁ + 1) + Σ_{i=2}^{L−1}(fᵢ + 1) + (n_L f_L + n_L) per channel (the reference's
/// `HNPSPool.get_num_outs`), laid out channel-major: index c·K + (layer blocks in order: weight,
/// bias, for i = 1…L).
///
/// - Complexity: O(B·C·P) for P scalars per network.
public final class MonomialInvariantPool: Module, WeightSpaceModel {
    /// γ per layer, `[C·fᵢ]` (index c·fᵢ + tap), for the weights.
    public let weightScales: [Parameter]
    /// β per layer, `[C·fᵢ]`, for the weights.
    public let weightShifts: [Parameter]
    /// γ per layer i = 1…L−1, `[C]`, for the biases (v⁽ᴸ⁾ is pooled raw).
    public let biasScales: [Parameter]
    /// β per layer i = 1…L−1, `[C]`, for the biases.
    public let biasShifts: [Parameter]

    public let kind: MonomialGroupKind
    public let channels: Int
    public let widths: [Int]
    public let kernels: [[Int]]
    /// ε under the square root of the norm (positive scaling only); invariance holds to relative
    /// order ε/‖x‖². The default 1e-24 matches `F.normalize`'s 1e-12 floor on the norm: with a
    /// larger ε (say 1e-12), entries of norm ~1e-6 — which ReLU features do produce — visibly break
    /// invariance. x/‖x‖ is ill-conditioned near 0 whatever ε is (it has degree 0), so entries that
    /// are rounding noise get normalised to O(1) vectors; the tests see ≤ 1e-4 nonetheless.
    public let epsilon: Float

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for L < 2 or C < 1.
    public init(channels: Int, architecture: FeedforwardArchitecture, kind: MonomialGroupKind,
                epsilon: Float = 1e-24) throws {
        guard channels > 0, architecture.layerCount >= 2 else {
            throw ModuleError.invalidConfiguration("MonomialInvariantPool needs C ≥ 1 and L ≥ 2, got C = \(channels), L = \(architecture.layerCount)")
        }
        let l = architecture.layerCount
        let f = (0..<l).map { architecture.filterFactor(layer: $0) }
        weightScales = f.map { Parameter(Tensor(ones: [channels * $0])) }
        weightShifts = f.map { Parameter(Tensor(zeros: [channels * $0])) }
        biasScales = (0..<(l - 1)).map { _ in Parameter(Tensor(ones: [channels])) }
        biasShifts = (0..<(l - 1)).map { _ in Parameter(Tensor(zeros: [channels])) }
        self.kind = kind
        self.channels = channels
        self.widths = architecture.widths
        self.kernels = architecture.layers.map(\.kernel)
        self.epsilon = epsilon
        super.init()
    }

    /// K, the pooled values per channel.
    public var valuesPerChannel: Int { Self.valuesPerChannel(widths: widths, kernels: kernels) }

    /// The output width C·K.
    public var outputCount: Int { channels * valuesPerChannel }

    /// K for the given widths and kernels.
    public static func valuesPerChannel(widths: [Int], kernels: [[Int]]) -> Int {
        let l = kernels.count
        let f = kernels.map { $0.reduce(1, *) }
        var k = widths[0] * f[0] + 1
        for i in 1..<(l - 1) { k += f[i] + 1 }
        return k + widths[l] * f[l - 1] + widths[l]
    }

    /// `[B, C·K]` pooled invariant features.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable {
        precondition(input.channelCount == channels && input.widths == widths,
                     "MonomialInvariantPool expects \(channels) channels and widths \(widths), got \(input.channelCount) and \(input.widths)")
        let tape = input.tape
        let b = input.batchSize, c = channels, l = widths.count - 1
        var parts: [Variable] = []
        for i in 0..<l {
            let f = kernels[i].reduce(1, *)
            let (rows, cols) = (widths[i + 1], widths[i])
            // [B, C, rows·cols, f] canonicalised and affinely mapped.
            let w = canonicalise(input.weights[i].reshaped([b, c, rows * cols, f]),
                                 scale: weightScales[i].variable(on: tape), shift: weightShifts[i].variable(on: tape))
                .reshaped([b, c, rows, cols, f])
            if i == 0 {
                parts.append(w.mean(alongAxes: [2]).reshaped([b, c, cols * f]))
            } else if i == l - 1 {
                parts.append(w.mean(alongAxes: [3]).reshaped([b, c, rows * f]))
            } else {
                parts.append(w.mean(alongAxes: [2, 3]).reshaped([b, c, f]))
            }
            if i == l - 1 {
                parts.append(input.biases[i])   // v⁽ᴸ⁾ is invariant as it is.
            } else {
                let v = canonicalise(input.biases[i].reshaped([b, c, rows, 1]),
                                     scale: biasScales[i].variable(on: tape), shift: biasShifts[i].variable(on: tape))
                parts.append(v.mean(alongAxes: [2]).reshaped([b, c, 1]))
            }
        }
        return Variable.concatenate(parts, alongAxis: 2).reshaped([b, outputCount])
    }

    /// x `[B, C, N, f]` → γ ⊙ x̂ + β with x̂ the per-entry canonical form (see the type), as one
    /// fused op (two passes forward, two backward) instead of eight broadcasting ones.
    ///
    /// Pullback, with r = 1/√(‖x‖² + ε) per entry and ĝ = γ ⊙ g:
    /// positive scaling dx = r·(ĝ − x̂·⟨ĝ, x̂⟩) (the Jacobian of x/‖x‖), sign dx = ĝ·sign(x);
    /// dγ = Σ_{b,n} g ⊙ x̂, dβ = Σ_{b,n} g.
    private func canonicalise(_ x: Variable, scale: Variable, shift: Variable) -> Variable {
        let (b, c, n, f) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cf = c * f
        let xv = x.value, gamma = scale.value, beta = shift.value
        let isScale = kind == .positiveScaling
        let eps = epsilon
        // r[b·N + n] = 1/√(Σ_{c,f} x² + ε) (positive scaling only).
        var r = [Float](repeating: 0, count: isScale ? b * n : 0)
        var out = Tensor(uninitializedShape: x.shape)
        xv.withUnsafeBufferPointer { p in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { bt in
                    out.withUnsafeMutableBufferPointer { o in
                        if isScale {
                            r.withUnsafeMutableBufferPointer { rr in
                                for m in 0..<b {
                                    let acc = rr.baseAddress! + m * n
                                    for ch in 0..<c {
                                        let base = (m * c + ch) * n * f
                                        for e in 0..<n {
                                            var s: Float = 0
                                            for t in 0..<f { let v = p[base + e * f + t]; s += v * v }
                                            acc[e] += s
                                        }
                                    }
                                    for e in 0..<n { acc[e] = 1 / (acc[e] + eps).squareRoot() }
                                }
                                for m in 0..<b {
                                    for ch in 0..<c {
                                        let base = (m * c + ch) * n * f
                                        for e in 0..<n {
                                            let re = rr[m * n + e]
                                            for t in 0..<f {
                                                let i = base + e * f + t, k = ch * f + t
                                                o[i] = g[k] * p[i] * re + bt[k]
                                            }
                                        }
                                    }
                                }
                            }
                        } else {
                            for m in 0..<b {
                                for ch in 0..<c {
                                    let base = (m * c + ch) * n * f
                                    for e in 0..<n {
                                        for t in 0..<f {
                                            let i = base + e * f + t, k = ch * f + t
                                            o[i] = g[k] * Swift.abs(p[i]) + bt[k]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let (needX, needScale, needShift) = (x.requiresGradient, scale.requiresGradient, shift.requiresGradient)
        return Variable.record(out, inputs: [x, scale, shift]) { grad in
            var dx = needX ? Tensor(zeros: xv.shape) : nil
            var dGamma = [Float](repeating: 0, count: cf), dBeta = [Float](repeating: 0, count: cf)
            var dot = [Float](repeating: 0, count: isScale ? n : 0)
            grad.withUnsafeBufferPointer { gp in
                xv.withUnsafeBufferPointer { p in
                    gamma.withUnsafeBufferPointer { g in
                        for m in 0..<b {
                            if isScale { for e in 0..<n { dot[e] = 0 } }
                            // Pass 1: dγ, dβ and ⟨γ ⊙ g, x̂⟩ per entry.
                            for ch in 0..<c {
                                let base = (m * c + ch) * n * f
                                for e in 0..<n {
                                    let re = isScale ? r[m * n + e] : 0
                                    var d: Float = 0
                                    for t in 0..<f {
                                        let i = base + e * f + t, k = ch * f + t
                                        let hat = isScale ? p[i] * re : Swift.abs(p[i])
                                        dGamma[k] += gp[i] * hat
                                        dBeta[k] += gp[i]
                                        d += g[k] * gp[i] * hat
                                    }
                                    if isScale { dot[e] += d }
                                }
                            }
                            guard needX else { continue }
                            // Pass 2: dx.
                            dx!.withUnsafeMutableBufferPointer { dp in
                                for ch in 0..<c {
                                    let base = (m * c + ch) * n * f
                                    for e in 0..<n {
                                        let re = isScale ? r[m * n + e] : 0
                                        for t in 0..<f {
                                            let i = base + e * f + t, k = ch * f + t
                                            let gh = g[k] * gp[i]
                                            if isScale {
                                                dp[i] = re * (gh - p[i] * re * dot[e])
                                            } else {
                                                dp[i] = p[i] > 0 ? gh : (p[i] < 0 ? -gh : 0)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [dx,
                    needScale ? Tensor(shape: [cf], scalars: dGamma) : nil,
                    needShift ? Tensor(shape: [cf], scalars: dBeta) : nil]
        }
    }
}
