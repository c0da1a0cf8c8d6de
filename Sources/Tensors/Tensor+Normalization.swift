import Foundation

// Layer normalisation over trailing axes, with its vector-Jacobian product.
//
// The trailing `trailingAxes` axes of a row-major tensor are contiguous, so the tensor is a stack of
// `rows` contiguous rows of `n` elements each; every kernel below is a plain loop per row.

extension Tensor {
    /// Layer normalisation without an affine transform: every row over the last `trailingAxes`
    /// axes is shifted and scaled to mean 0 and (population) variance 1:
    /// `y = (x − μ) / √(σ² + ε)`, with `μ` and `σ²` (divide by n) taken over those axes.
    ///
    /// `epsilon` keeps a constant row finite (its output is all zeros); the default `1e-5` matches
    /// the common convention, so a row's output variance is `σ² / (σ² + ε)`, slightly below 1 when
    /// σ² is small. Statistics are computed in two passes (mean, then centred squares), which stays
    /// accurate when |μ| ≫ σ. Shape is unchanged.
    /// - Parameters:
    ///   - trailingAxes: how many trailing axes form one normalised group, `1...rank`.
    ///   - epsilon: added to the variance before the square root; must be ≥ 0.
    /// - Complexity: O(count).
    public func layerNormalized(trailingAxes: Int = 1, epsilon: Float = 1e-5) -> Tensor {
        layerNormalizedWithStatistics(trailingAxes: trailingAxes, epsilon: epsilon).normalized
    }

    /// ``layerNormalized(trailingAxes:epsilon:)`` together with the per-row `1 / √(σ² + ε)` that its
    /// pullback needs.
    ///
    /// - Returns: `normalized` (the input's shape) and `inverseStandardDeviation`, whose shape is the
    ///   input's leading `rank − trailingAxes` axes (`[]` when every axis is normalised).
    public func layerNormalizedWithStatistics(trailingAxes: Int = 1, epsilon: Float = 1e-5)
        -> (normalized: Tensor, inverseStandardDeviation: Tensor)
    {
        precondition(trailingAxes >= 1 && trailingAxes <= rank,
                     "layerNormalized: trailingAxes \(trailingAxes) must be in 1...\(rank) for shape \(shape)")
        precondition(epsilon >= 0, "layerNormalized: epsilon must be ≥ 0, got \(epsilon)")
        let leading = Array(shape.dropLast(trailingAxes))
        let n = Tensor.elementCount(Array(shape.suffix(trailingAxes)))
        let rows = Tensor.elementCount(leading)
        let out = Tensor(uninitializedShape: shape)
        let inv = Tensor(uninitializedShape: leading)
        if n == 0 {
            inv.buffer.base.update(repeating: 1 / epsilon.squareRoot(), count: rows)
            return (out, inv)
        }
        let src = buffer.base, dst = out.buffer.base, ip = inv.buffer.base
        let scale = 1 / Float(n)
        for r in 0..<rows {
            let x = src + r * n, y = dst + r * n
            let mu = Tensor.rowSum(x, n) * scale
            let squares = Tensor.rowCentredSquares(x, n, mean: mu)
            let invStd = 1 / (squares * scale + epsilon).squareRoot()
            ip[r] = invStd
            for k in 0..<n { y[k] = (x[k] - mu) * invStd }
        }
        return (out, inv)
    }

    /// The vector-Jacobian product of ``layerNormalized(trailingAxes:epsilon:)``, in closed form:
    /// per row of n elements, `dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂))`, where `x̂` is the
    /// normalised output and `r = 1 / √(σ² + ε)`.
    ///
    /// - Parameters:
    ///   - normalized: the forward output `x̂`.
    ///   - inverseStandardDeviation: `r` per row, from ``layerNormalizedWithStatistics(trailingAxes:epsilon:)``.
    ///   - gradient: `g`, the gradient with respect to `x̂`; same shape as `normalized`.
    ///   - trailingAxes: the value used in the forward pass.
    /// - Complexity: O(count).
    public static func layerNormalizationPullback(normalized: Tensor, inverseStandardDeviation: Tensor,
                                                  gradient: Tensor, trailingAxes: Int) -> Tensor {
        precondition(normalized.shape == gradient.shape,
                     "layerNormalizationPullback: gradient shape \(gradient.shape) ≠ output shape \(normalized.shape)")
        precondition(trailingAxes >= 1 && trailingAxes <= normalized.rank,
                     "layerNormalizationPullback: trailingAxes \(trailingAxes) out of range for shape \(normalized.shape)")
        let n = Tensor.elementCount(Array(normalized.shape.suffix(trailingAxes)))
        let rows = Tensor.elementCount(Array(normalized.shape.dropLast(trailingAxes)))
        precondition(inverseStandardDeviation.count == rows,
                     "layerNormalizationPullback: \(inverseStandardDeviation.count) statistics for \(rows) rows")
        let out = Tensor(uninitializedShape: normalized.shape)
        if n == 0 { return out }
        let xp = normalized.buffer.base, gp = gradient.buffer.base, dp = out.buffer.base
        let ip = inverseStandardDeviation.buffer.base
        let scale = 1 / Float(n)
        for r in 0..<rows {
            let x = xp + r * n, g = gp + r * n, d = dp + r * n
            let sumG = Tensor.rowSum(g, n), sumGX = Tensor.rowDot(g, x, n)
            let meanG = sumG * scale, meanGX = sumGX * scale, invStd = ip[r]
            for k in 0..<n { d[k] = invStd * (g[k] - meanG - x[k] * meanGX) }
        }
        return out
    }

    // Row reductions with eight independent partial sums: the loop vectorises (a single running
    // Float sum is a serial dependency chain the compiler may not reorder), and the partial sums
    // also reduce rounding error on long rows.

    @inline(__always)
    static func rowSum(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), k = 0
        let raw = UnsafeRawPointer(p)
        while k + 8 <= n {
            acc += raw.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        var s = acc.sum()
        while k < n { s += p[k]; k += 1 }
        return s
    }

    @inline(__always)
    static func rowDot(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), k = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while k + 8 <= n {
            acc += ra.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        var s = acc.sum()
        while k < n { s += a[k] * b[k]; k += 1 }
        return s
    }

    @inline(__always)
    static func rowCentredSquares(_ p: UnsafeMutablePointer<Float>, _ n: Int, mean: Float) -> Float {
        var acc = SIMD8<Float>(), k = 0
        let raw = UnsafeRawPointer(p), m = SIMD8<Float>(repeating: mean)
        while k + 8 <= n {
            let c = raw.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self) - m
            acc += c * c
            k += 8
        }
        var s = acc.sum()
        while k < n {
            let c = p[k] - mean
            s += c * c
            k += 1
        }
        return s
    }
}
