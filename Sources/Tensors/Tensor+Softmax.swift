import Foundation

// Softmax and log-softmax along one axis, with their vector-Jacobian products.
//
// Every kernel walks the tensor as `outer × length × inner` (see `extents(around:)`). When the axis
// is the last one (`inner == 1`, the usual case) each lane is a contiguous row; otherwise the
// kernels sweep whole `inner`-wide rows at a time with a small scratch row per call, so the loops
// stay contiguous (and vectorisable) for any axis. Nothing is allocated per element.

extension Tensor {
    /// The softmax along `axis`: `y_k = exp(x_k − m) / Σ_j exp(x_j − m)` with `m = max_j x_j`.
    ///
    /// Subtracting the lane maximum makes the result exact for large inputs (a lane of 1000s does
    /// not overflow), and every lane sums to 1 up to rounding. Shape is unchanged.
    /// Inputs must be finite: a lane containing +∞, or consisting only of −∞, gives NaN.
    /// - Parameter axis: the axis to normalise over; negative values count from the end.
    /// - Complexity: O(count), one `exp` per element.
    public func softmax(alongAxis axisIn: Int = -1) -> Tensor {
        let a = axis(axisIn)
        let (outer, length, inner) = extents(around: a)
        let out = Tensor(uninitializedShape: shape)
        if count == 0 { return out }
        let src = buffer.base, dst = out.buffer.base
        if inner == 1 {
            for o in 0..<outer {
                let x = src + o * length, y = dst + o * length
                var m = -Float.infinity
                for k in 0..<length { m = Swift.max(m, x[k]) }
                var s: Float = 0
                for k in 0..<length {
                    let e = Foundation.exp(x[k] - m)
                    y[k] = e
                    s += e
                }
                let r = 1 / s
                for k in 0..<length { y[k] *= r }
            }
            return out
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * inner)
        defer { scratch.deallocate() }
        let m = scratch, s = scratch + inner
        for o in 0..<outer {
            let x = src + o * length * inner, y = dst + o * length * inner
            Tensor.laneMaxima(x, length: length, inner: inner, into: m)
            s.update(repeating: 0, count: inner)
            for k in 0..<length {
                let xr = x + k * inner, yr = y + k * inner
                for i in 0..<inner {
                    let e = Foundation.exp(xr[i] - m[i])
                    yr[i] = e
                    s[i] += e
                }
            }
            for i in 0..<inner { s[i] = 1 / s[i] }
            for k in 0..<length {
                let yr = y + k * inner
                for i in 0..<inner { yr[i] *= s[i] }
            }
        }
        return out
    }

    /// The log-softmax along `axis`: `y_k = x_k − m − log Σ_j exp(x_j − m)` with `m = max_j x_j`.
    ///
    /// Computed directly (not as `log(softmax)`), so it stays finite where softmax underflows to 0:
    /// a lane `[0, −200]` gives `[0, −200]`, not `[0, −∞]`. Shape is unchanged. Inputs must be
    /// finite (see ``softmax(alongAxis:)``).
    /// - Complexity: O(count), one `exp` per element and one `log` per lane.
    public func logSoftmax(alongAxis axisIn: Int = -1) -> Tensor {
        let a = axis(axisIn)
        let (outer, length, inner) = extents(around: a)
        let out = Tensor(uninitializedShape: shape)
        if count == 0 { return out }
        let src = buffer.base, dst = out.buffer.base
        if inner == 1 {
            for o in 0..<outer { Tensor.logSoftmax(lane: src + o * length, into: dst + o * length, length: length) }
            return out
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * inner)
        defer { scratch.deallocate() }
        let m = scratch, s = scratch + inner
        for o in 0..<outer {
            let x = src + o * length * inner, y = dst + o * length * inner
            Tensor.laneMaxima(x, length: length, inner: inner, into: m)
            s.update(repeating: 0, count: inner)
            for k in 0..<length {
                let xr = x + k * inner
                for i in 0..<inner { s[i] += Foundation.exp(xr[i] - m[i]) }
            }
            for i in 0..<inner { s[i] = m[i] + Foundation.log(s[i]) }
            for k in 0..<length {
                let xr = x + k * inner, yr = y + k * inner
                for i in 0..<inner { yr[i] = xr[i] - s[i] }
            }
        }
        return out
    }

    /// The vector-Jacobian product of ``softmax(alongAxis:)``: `dx = y ⊙ (g − Σ_k g_k y_k)` per lane.
    ///
    /// - Parameters:
    ///   - output: the softmax result `y` (the forward value, so the pullback needs no `exp`).
    ///   - gradient: `g`, the gradient with respect to `y`; same shape as `output`.
    ///   - axis: the axis the softmax was taken along.
    /// - Complexity: O(count).
    public static func softmaxPullback(output: Tensor, gradient: Tensor, alongAxis axisIn: Int) -> Tensor {
        precondition(output.shape == gradient.shape,
                     "softmaxPullback: gradient shape \(gradient.shape) ≠ output shape \(output.shape)")
        let a = output.axis(axisIn)
        let (outer, length, inner) = output.extents(around: a)
        let out = Tensor(uninitializedShape: output.shape)
        if output.count == 0 { return out }
        let yp = output.buffer.base, gp = gradient.buffer.base, dp = out.buffer.base
        if inner == 1 {
            for o in 0..<outer {
                let y = yp + o * length, g = gp + o * length, d = dp + o * length
                var dot: Float = 0
                for k in 0..<length { dot += g[k] * y[k] }
                for k in 0..<length { d[k] = y[k] * (g[k] - dot) }
            }
            return out
        }
        let dot = UnsafeMutablePointer<Float>.allocate(capacity: inner)
        defer { dot.deallocate() }
        for o in 0..<outer {
            let base = o * length * inner
            dot.update(repeating: 0, count: inner)
            for k in 0..<length {
                let y = yp + base + k * inner, g = gp + base + k * inner
                for i in 0..<inner { dot[i] += g[i] * y[i] }
            }
            for k in 0..<length {
                let y = yp + base + k * inner, g = gp + base + k * inner, d = dp + base + k * inner
                for i in 0..<inner { d[i] = y[i] * (g[i] - dot[i]) }
            }
        }
        return out
    }

    /// The vector-Jacobian product of ``logSoftmax(alongAxis:)``: `dx = g − exp(y) · Σ_k g_k` per
    /// lane, where `y` is the log-softmax output (so `exp(y)` is the softmax).
    ///
    /// - Parameters:
    ///   - output: the log-softmax result `y`.
    ///   - gradient: `g`, the gradient with respect to `y`; same shape as `output`.
    ///   - axis: the axis the log-softmax was taken along.
    /// - Complexity: O(count), one `exp` per element.
    public static func logSoftmaxPullback(output: Tensor, gradient: Tensor, alongAxis axisIn: Int) -> Tensor {
        precondition(output.shape == gradient.shape,
                     "logSoftmaxPullback: gradient shape \(gradient.shape) ≠ output shape \(output.shape)")
        let a = output.axis(axisIn)
        let (outer, length, inner) = output.extents(around: a)
        let out = Tensor(uninitializedShape: output.shape)
        if output.count == 0 { return out }
        let yp = output.buffer.base, gp = gradient.buffer.base, dp = out.buffer.base
        if inner == 1 {
            for o in 0..<outer {
                let y = yp + o * length, g = gp + o * length, d = dp + o * length
                var s: Float = 0
                for k in 0..<length { s += g[k] }
                for k in 0..<length { d[k] = g[k] - Foundation.exp(y[k]) * s }
            }
            return out
        }
        let s = UnsafeMutablePointer<Float>.allocate(capacity: inner)
        defer { s.deallocate() }
        for o in 0..<outer {
            let base = o * length * inner
            s.update(repeating: 0, count: inner)
            for k in 0..<length {
                let g = gp + base + k * inner
                for i in 0..<inner { s[i] += g[i] }
            }
            for k in 0..<length {
                let y = yp + base + k * inner, g = gp + base + k * inner, d = dp + base + k * inner
                for i in 0..<inner { d[i] = g[i] - Foundation.exp(y[i]) * s[i] }
            }
        }
        return out
    }

    /// Writes the maximum over `length` rows of width `inner` starting at `x` into `m[0..<inner]`.
    @inline(__always)
    static func laneMaxima(_ x: UnsafeMutablePointer<Float>, length: Int, inner: Int,
                           into m: UnsafeMutablePointer<Float>) {
        m.update(from: x, count: inner)
        for k in 1..<Swift.max(length, 1) {
            let row = x + k * inner
            for i in 0..<inner { m[i] = Swift.max(m[i], row[i]) }
        }
    }
}

extension Tensor {
    /// The log-softmax of one contiguous lane of `length` values, `y = x − (max + log Σ exp(x − max))`,
    /// exactly as ``logSoftmax(alongAxis:)`` computes each lane (callers that keep their own buffers,
    /// such as the member-batched zoo trainers, get the same bits).
    @inlinable
    public static func logSoftmax(lane x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, length: Int) {
        var m = -Float.infinity
        for k in 0..<length { m = Swift.max(m, x[k]) }
        var s: Float = 0
        for k in 0..<length { s += Foundation.exp(x[k] - m) }
        let shift = m + Foundation.log(s)
        for k in 0..<length { y[k] = x[k] - shift }
    }
}
