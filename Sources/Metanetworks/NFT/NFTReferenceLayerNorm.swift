import Tensors
import Autograd
import NeuralNetworks

/// The reference's channel layer norm over the last axis (AllanYangZhou/nfn, `ChannelLayerNorm`),
/// fused with a ``LayerNorm``'s γ and β: y = x̂ γ + β, x̂ = (x − μ)/D, D = s + ε with s the
/// *unbiased* standard deviation √(Σ(x − μ)²/(n − 1)).
///
/// Pullback, with g = ∂L/∂x̂ = γ·∂L/∂y per row: ∂L/∂x_k = (g_k − ḡ)/D − x̂_k·(Σ_j g_j x̂_j)/((n − 1)s)
/// (the second term from ∂s/∂x_k = (x_k − μ)/((n − 1)s); left out where s = 0, a constant row,
/// where s is not differentiable). dγ = Σ_rows ∂L/∂y·x̂, dβ = Σ_rows ∂L/∂y.
/// - Precondition: n ≥ 2 (``NFTLayerNorm`` checks it when it is built).
/// - Complexity: O(count), a few passes over the rows; no allocation per row.
func nftReferenceLayerNorm(_ x: Variable, _ norm: LayerNorm) -> Variable {
    guard let scale = norm.scale, let offset = norm.offset else { preconditionFailure("the NFT layer norm is affine") }
    let n = norm.features
    precondition(n >= 2 && x.shape.last == n, "reference layer norm expects last dimension \(n) ≥ 2, got \(x.shape)")
    let tape = x.tape
    let gamma = scale.variable(on: tape), beta = offset.variable(on: tape)
    let rows = x.value.count / n
    var xhat = Tensor(uninitializedShape: x.shape)
    var y = Tensor(uninitializedShape: x.shape)
    var denominators = Tensor(uninitializedShape: [rows]), deviations = Tensor(uninitializedShape: [rows])
    let eps = norm.epsilon
    x.value.withUnsafeBufferPointer { xp in
        xhat.withUnsafeMutableBufferPointer { hp in
            y.withUnsafeMutableBufferPointer { yp in
                denominators.withUnsafeMutableBufferPointer { dp in
                    deviations.withUnsafeMutableBufferPointer { sp in
                        gamma.value.withUnsafeBufferPointer { gp in
                            beta.value.withUnsafeBufferPointer { bp in
                                for r in 0..<rows {
                                    let base = r * n
                                    var mean: Float = 0
                                    for j in 0..<n { mean += xp[base + j] }
                                    mean /= Float(n)
                                    var ss: Float = 0
                                    for j in 0..<n { let d = xp[base + j] - mean; ss += d * d }
                                    let s = (ss / Float(n - 1)).squareRoot()
                                    let inv = 1 / (s + eps)
                                    sp[r] = s; dp[r] = s + eps
                                    for j in 0..<n {
                                        let h = (xp[base + j] - mean) * inv
                                        hp[base + j] = h
                                        yp[base + j] = h * gp[j] + bp[j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let (needX, needG, needB) = (x.requiresGradient, gamma.requiresGradient, beta.requiresGradient)
    let gv = gamma.value
    return Variable.record(y, inputs: [x, gamma, beta]) { [xhat, denominators, deviations] gy in
        var dx = Tensor(zeros: gy.shape)
        var dgamma = Tensor(zeros: [n]), dbeta = Tensor(zeros: [n])
        gy.withUnsafeBufferPointer { gyp in
            xhat.withUnsafeBufferPointer { hp in
                gv.withUnsafeBufferPointer { gammap in
                    denominators.withUnsafeBufferPointer { dp in
                        deviations.withUnsafeBufferPointer { sp in
                            dx.withUnsafeMutableBufferPointer { dxp in
                                dgamma.withUnsafeMutableBufferPointer { dgp in
                                    dbeta.withUnsafeMutableBufferPointer { dbp in
                                        for r in 0..<rows {
                                            let base = r * n
                                            var gMean: Float = 0, gDotH: Float = 0
                                            for j in 0..<n {
                                                let g = gyp[base + j] * gammap[j]
                                                gMean += g; gDotH += g * hp[base + j]
                                                dgp[j] += gyp[base + j] * hp[base + j]
                                                dbp[j] += gyp[base + j]
                                            }
                                            gMean /= Float(n)
                                            let inv = 1 / dp[r]
                                            let second: Float = sp[r] > 0 ? gDotH / (Float(n - 1) * sp[r]) : 0
                                            for j in 0..<n {
                                                let g = gyp[base + j] * gammap[j]
                                                dxp[base + j] = (g - gMean) * inv - hp[base + j] * second
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [needX ? dx : nil, needG ? dgamma : nil, needB ? dbeta : nil]
    }
}
