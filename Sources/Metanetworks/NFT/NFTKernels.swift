import Foundation
import Tensors
import Autograd
import NeuralNetworks
import LinearAlgebra

// Fused operations for the NFT layers' hot paths. Each records one tape node with a closed-form
// pullback instead of a chain of generic broadcast ops: the pointwise MLPs, projections and layer
// norms run over every weight entry (millions of rows for a batch of CNN weight sets), where a
// broadcast bias add, a separate scale and shift, or a libm `erf` per element cost as much as the
// gemms themselves (measured with perf on the Small-CNN-Zoo benchmark).

/// `y = x Wᵀ + b` over the last axis for a ``Dense`` layer's parameters, with the bias added in
/// the same pass (no broadcast op on the tape).
///
/// Shapes: `[..., in] → [..., out]`. Pullback: dx = g W, dW = gᵀ x, db = Σ_rows g (one gemm each,
/// plus one row loop).
/// - Complexity: O(rows · in · out) in BLAS, O(rows · out) for the bias.
/// e^x for x ≤ 0, without a libm call so that loops calling it vectorise: Cody–Waite range
/// reduction x = n·ln 2 + r, |r| ≤ ln 2 / 2, Cephes' degree-6 polynomial for e^r (relative error
/// within about 2 ulp of `expf`), and 2^n assembled from its bits. Inputs below −87.3 (where e^x
/// is no longer a normal Float) return e^−87.3 ≈ 1.2e−38 instead of a subnormal or 0.
@inline(__always)
func nftExpNonPositive(_ x: Float) -> Float {
    let clamped = Swift.max(x, -87.3)
    // n = round(x / ln 2) through the 1.5·2²³ rounding constant: its low mantissa bits hold n.
    let shifted = clamped * 1.44269504 + 12582912
    let n = shifted - 12582912
    let r = (clamped - n * 0.693359375) - n * -2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    // 2^n: exponent field n + 127 (n ≥ −126 after the clamp).
    let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return er * scale
}

func nftLinear(_ x: Variable, _ dense: Dense) -> Variable {
    let inF = dense.inFeatures, outF = dense.outFeatures
    precondition(x.shape.last == inF, "linear expects last dimension \(inF), got shape \(x.shape)")
    let tape = x.tape
    let w = dense.weight.variable(on: tape)
    let b = dense.bias?.variable(on: tape)
    let xShape = x.shape
    let x2 = x.value.reshaped([-1, inF])
    let wv = w.value
    let rows = x2.shape[0]
    // C ← x Wᵀ + 1 bᵀ: the bias rows are written first and sgemm accumulates onto them (β = 1),
    // which replaces both BLAS's β = 0 pass and a separate bias pass.
    var y = Tensor(uninitializedShape: [rows, outF])
    if rows > 0 && outF > 0 { y.withUnsafeMutableBufferPointer { yp in
        if let b {
            b.value.withUnsafeBufferPointer { bp in
                for r in 0..<rows { (yp.baseAddress! + r * outF).update(from: bp.baseAddress!, count: outF) }
            }
        }
        x2.withUnsafeBufferPointer { xp in
            wv.withUnsafeBufferPointer { wp in
                BLAS.gemm(.none, .transpose, m: rows, n: outF, k: inF, a: xp.baseAddress!, lda: inF,
                          b: wp.baseAddress!, ldb: inF, beta: b == nil ? 0 : 1, c: yp.baseAddress!, ldc: outF)
            }
        }
    } }
    let (needX, needW, needB) = (x.requiresGradient, w.requiresGradient, b?.requiresGradient ?? false)
    let hasBias = b != nil                        // the pullback captures flags, never variables
    let out = y.reshaped(Array(xShape.dropLast()) + [outF])
    return Variable.record(out, inputs: b.map { [x, w, $0] } ?? [x, w]) { g in
        let g2 = g.reshaped([-1, outF])
        let dx = needX ? Tensor.matmul(g2, wv).reshaped(xShape) : nil        // [R, in]
        let dw = needW ? Tensor.matmul(g2, transposeA: true, x2) : nil       // [out, in]
        var grads: [Tensor?] = [dx, dw]
        if hasBias {
            var db: Tensor? = nil
            if needB {
                // db = G2ᵀ · 1: one gemv over all rows instead of a scalar loop per row.
                var acc = Tensor(zeros: [outF])
                let rows = g2.count / max(outF, 1)
                let ones = [Float](repeating: 1, count: rows)
                if rows > 0 && outF > 0 {
                    acc.withUnsafeMutableBufferPointer { ap in
                        g2.withUnsafeBufferPointer { gp in
                            ones.withUnsafeBufferPointer { op in
                                BLAS.gemv(.transpose, m: rows, n: outF, a: gp.baseAddress!, lda: outF,
                                          x: op.baseAddress!, y: ap.baseAddress!)
                            }
                        }
                    }
                }
                db = acc
            }
            grads.append(db)
        }
        return grads
    }
}

/// Affine layer normalisation over the last axis with a ``LayerNorm``'s γ and β, fused:
/// `y = x̂ γ + β`, `x̂ = (x − μ)/√(σ² + ε)`.
///
/// Pullback: dγ = Σ_rows g x̂, dβ = Σ_rows g, dx = LN-pullback(g γ) (closed form per row).
/// - Complexity: O(count), a few passes over the rows.
func nftLayerNorm(_ x: Variable, _ norm: LayerNorm) -> Variable {
    guard let scale = norm.scale, let offset = norm.offset else { return norm(x) }
    let n = norm.features
    precondition(x.shape.last == n, "layer norm expects last dimension \(n), got \(x.shape)")
    let tape = x.tape
    let gamma = scale.variable(on: tape), beta = offset.variable(on: tape)
    let (xhat, inv) = x.value.layerNormalizedWithStatistics(trailingAxes: 1, epsilon: norm.epsilon)
    let gv = gamma.value, bv = beta.value
    var y = Tensor(uninitializedShape: xhat.shape)
    y.withUnsafeMutableBufferPointer { yp in
        xhat.withUnsafeBufferPointer { hp in
            gv.withUnsafeBufferPointer { gp in
                bv.withUnsafeBufferPointer { bp in
                    for r in 0..<(yp.count / max(n, 1)) {
                        let base = r * n
                        for j in 0..<n { yp[base + j] = hp[base + j] * gp[j] + bp[j] }
                    }
                }
            }
        }
    }
    let (needX, needG, needB) = (x.requiresGradient, gamma.requiresGradient, beta.requiresGradient)
    return Variable.record(y, inputs: [x, gamma, beta]) { g in
        var dxhat = Tensor(uninitializedShape: g.shape)
        var dgamma = Tensor(zeros: [n]), dbeta = Tensor(zeros: [n])
        dxhat.withUnsafeMutableBufferPointer { dp in
            dgamma.withUnsafeMutableBufferPointer { dgp in
                dbeta.withUnsafeMutableBufferPointer { dbp in
                    g.withUnsafeBufferPointer { gp in
                        xhat.withUnsafeBufferPointer { hp in
                            gv.withUnsafeBufferPointer { gammap in
                                for r in 0..<(gp.count / max(n, 1)) {
                                    let base = r * n
                                    for j in 0..<n {
                                        let gj = gp[base + j]
                                        dp[base + j] = gj * gammap[j]
                                        dgp[j] += gj * hp[base + j]
                                        dbp[j] += gj
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let dx = needX ? Tensor.layerNormalizationPullback(normalized: xhat, inverseStandardDeviation: inv,
                                                           gradient: dxhat, trailingAxes: 1) : nil
        return [dx, needG ? dgamma : nil, needB ? dbeta : nil]
    }
}

extension Variable {
    /// GELU, `y = x Φ(x)` with Φ the standard normal CDF — PyTorch's exact `nn.GELU()`.
    ///
    /// Φ(x) = ½(1 + erf(x/√2)) is evaluated with Abramowitz & Stegun 7.1.26,
    /// erf(z) ≈ 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵) e^{−z²}, t = 1/(1 + p|z|) (|error| ≤ 1.5·10⁻⁷,
    /// below Float32 resolution near 1), whose e^{−z²} = e^{−x²/2} is also the Gaussian density φ
    /// up to 1/√(2π): one `exp` per element gives both Φ and φ. The forward pass stores
    /// y′ = Φ(x) + x φ(x), so the pullback is a single multiply `g y′`.
    /// - Complexity: O(count), one exp per element.
    func nftGELU() -> Variable {
        let x = value
        var y = Tensor(uninitializedShape: x.shape)
        var slope = Tensor(uninitializedShape: x.shape)
        y.withUnsafeMutableBufferPointer { yp in
            slope.withUnsafeMutableBufferPointer { sp in
                x.withUnsafeBufferPointer { xp in
                    // Call-free arithmetic only (e^{−z²} from nftExpNonPositive, not libm), so the
                    // compiler vectorises the loop.
                    for i in 0..<xp.count {
                        let v = xp[i], e = nftExpNonPositive(-0.5 * v * v)            // e^{−z²}, z = x/√2
                        let t = 1 / (1 + 0.23164190 * Swift.abs(v))                 // p/√2, p = 0.3275911
                        let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                        let erfAbs = 1 - poly * e
                        let cdf = 0.5 + (v < 0 ? -0.5 * erfAbs : 0.5 * erfAbs)
                        yp[i] = v * cdf
                        sp[i] = cdf + v * 0.39894228 * e
                    }
                }
            }
        }
        return Variable.record(y, inputs: [self]) { [slope] g in [g * slope] }
    }
}
