import Foundation

extension Tensor {
    /// Splits the shape around `axis` into (outer, axis length, inner) extents.
    @usableFromInline
    func extents(around axis: Int) -> (outer: Int, length: Int, inner: Int) {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    /// Reduces one axis with `combine`, starting from `initial` (keeps the axis with length 1).
    @inline(__always)
    @usableFromInline
    func reduceAxis(_ axis: Int, initial: Float, _ combine: (Float, Float) -> Float) -> Tensor {
        let (outer, length, inner) = extents(around: axis)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor(repeating: initial, shape: outShape)
        let src = buffer.base, dst = out.buffer.base
        for o in 0..<outer {
            let d = dst + o * inner
            var s = src + o * length * inner
            for _ in 0..<length {
                for i in 0..<inner { d[i] = combine(d[i], s[i]) }
                s += inner
            }
        }
        return out
    }

    private func normalisedAxes(_ axes: [Int]) -> [Int] {
        Array(Set(axes.map { axis($0) })).sorted()
    }

    private func dropping(_ axes: [Int], from reduced: Tensor, keepingDimensions: Bool) -> Tensor {
        if keepingDimensions { return reduced }
        let kept = shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return reduced.reshaped(kept)
    }

    /// The sum over the given axes (all axes when empty is not intended: pass every axis, or use ``sum()``).
    /// - Complexity: O(count) per reduced axis.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes)
        var r = self
        for a in axes { r = r.reduceAxis(a, initial: 0, +) }
        return dropping(axes, from: r, keepingDimensions: keepingDimensions)
    }

    /// The mean over the given axes.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes)
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Float(Swift.max(n, 1)))
    }

    /// The maximum over the given axes.
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes)
        var r = self
        for a in axes { r = r.reduceAxis(a, initial: -.infinity) { Swift.max($0, $1) } }
        return dropping(axes, from: r, keepingDimensions: keepingDimensions)
    }

    /// The minimum over the given axes.
    public func min(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes)
        var r = self
        for a in axes { r = r.reduceAxis(a, initial: .infinity) { Swift.min($0, $1) } }
        return dropping(axes, from: r, keepingDimensions: keepingDimensions)
    }

    /// The population variance (divide by n) over the given axes.
    public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let mu = mean(alongAxes: axes, keepingDimensions: true)
        return (self - mu).squared().mean(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// The sum of every element, accumulated in Double for accuracy.
    public func sum() -> Float {
        var acc: Double = 0
        let p = buffer.base
        for i in 0..<count { acc += Double(p[i]) }
        return Float(acc)
    }

    /// The mean of every element.
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }

    /// The largest element.
    public func max() -> Float {
        var m = -Float.infinity
        let p = buffer.base
        for i in 0..<count { m = Swift.max(m, p[i]) }
        return m
    }

    /// The smallest element.
    public func min() -> Float {
        var m = Float.infinity
        let p = buffer.base
        for i in 0..<count { m = Swift.min(m, p[i]) }
        return m
    }

    /// The index of the largest element along `axis` (first on ties), as `Int`s; the axis is removed.
    public func argmax(alongAxis axisIn: Int) -> [Int] {
        let a = axis(axisIn)
        let (outer, length, inner) = extents(around: a)
        var result = [Int](repeating: 0, count: outer * inner)
        let p = buffer.base
        for o in 0..<outer {
            for i in 0..<inner {
                var best = -Float.infinity, bestIndex = 0
                for k in 0..<length {
                    let v = p[(o * length + k) * inner + i]
                    if v > best { best = v; bestIndex = k }
                }
                result[o * inner + i] = bestIndex
            }
        }
        return result
    }

    /// The q-quantile (0…1) of all elements, with linear interpolation between order statistics
    /// (NumPy's default "linear" method).
    public func quantile(_ q: Double) -> Float {
        precondition(count > 0, "quantile of an empty tensor")
        let sorted = scalars.sorted()
        let pos = q * Double(count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, count - 1)
        let frac = Float(pos - Double(lo))
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}
