import Foundation

// MARK: - Broadcasting

extension Tensor {
    /// The NumPy-style broadcast of two shapes, or `nil` when they are incompatible.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Strides of `shape` read as if broadcast to `target` (0 on broadcast axes).
    @usableFromInline
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = contiguousStrides(shape)
        let offset = target.count - shape.count
        var strides = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count { strides[i + offset] = shape[i] == 1 ? 0 : own[i] }
        return strides
    }

    /// Applies `op` elementwise over the broadcast of `lhs` and `rhs`.
    @inline(__always)
    @usableFromInline
    static func broadcastBinary(_ lhs: Tensor, _ rhs: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        if lhs.shape == rhs.shape {
            let out = Tensor(uninitializedShape: lhs.shape)
            let a = lhs.buffer.base, b = rhs.buffer.base, c = out.buffer.base
            for i in 0..<out.count { c[i] = op(a[i], b[i]) }
            return out
        }
        guard let shape = broadcastShape(lhs.shape, rhs.shape) else {
            preconditionFailure("cannot broadcast shapes \(lhs.shape) and \(rhs.shape)")
        }
        let out = Tensor(uninitializedShape: shape)
        let a = lhs.buffer.base, b = rhs.buffer.base, c = out.buffer.base
        if rhs.count == 1 {
            let s = b[0]
            if lhs.count == out.count { for i in 0..<out.count { c[i] = op(a[i], s) }; return out }
        }
        if lhs.count == 1 {
            let s = a[0]
            if rhs.count == out.count { for i in 0..<out.count { c[i] = op(s, b[i]) }; return out }
        }
        let sa = broadcastStrides(lhs.shape, to: shape), sb = broadcastStrides(rhs.shape, to: shape)
        let r = shape.count
        let inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1]
        let outer = out.count / Swift.max(inner, 1)
        var idx = [Int](repeating: 0, count: r)
        var offA = 0, offB = 0, offC = 0
        for _ in 0..<outer {
            for j in 0..<inner { c[offC + j] = op(a[offA + j * ia], b[offB + j * ib]) }
            offC += inner
            // Advance the multi-index over all axes but the last.
            var axis = r - 2
            while axis >= 0 {
                idx[axis] += 1
                offA += sa[axis]; offB += sb[axis]
                if idx[axis] < shape[axis] { break }
                offA -= sa[axis] * shape[axis]; offB -= sb[axis] * shape[axis]
                idx[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// Applies `op` to every element.
    @inline(__always)
    @usableFromInline
    func mapElements(_ op: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let a = buffer.base, c = out.buffer.base
        for i in 0..<count { c[i] = op(a[i]) }
        return out
    }

    /// A new tensor with `transform` applied to every element.
    public func map(_ transform: (Float) -> Float) -> Tensor { mapElements(transform) }

    /// Materialises this tensor broadcast to `shape`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.broadcastShape(shape, target) == target, "cannot broadcast \(shape) to \(target)")
        return Tensor.broadcastBinary(Tensor(zeros: target), self) { _, b in b }
    }

    /// Sums a broadcast result back down to `target` shape (the adjoint of broadcasting).
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        var result = self
        let offset = rank - target.count
        precondition(offset >= 0, "cannot reduce \(shape) to \(target)")
        if offset > 0 {
            result = result.reshaped([Tensor.elementCount(Array(shape[0..<offset]))] + Array(shape[offset...]))
                .sum(alongAxes: [0])
        }
        var axes: [Int] = []
        for i in 0..<target.count where target[i] == 1 && result.shape[i] != 1 { axes.append(i) }
        if !axes.isEmpty { result = result.sum(alongAxes: axes, keepingDimensions: true) }
        return result.reshaped(target)
    }
}

// MARK: - Arithmetic operators

extension Tensor {
    /// Elementwise sum with NumPy broadcasting; traps if the shapes cannot be broadcast.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, +) }
    /// Elementwise difference with NumPy broadcasting; traps if the shapes cannot be broadcast.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, -) }
    /// Elementwise (Hadamard) product with NumPy broadcasting; traps if the shapes cannot be broadcast.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, *) }
    /// Elementwise quotient with NumPy broadcasting; division by zero follows IEEE 754 (±∞ or NaN).
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { broadcastBinary(lhs, rhs, /) }

    /// Adds the scalar `rhs` to every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapElements { $0 + rhs } }
    /// Subtracts the scalar `rhs` from every element.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapElements { $0 - rhs } }
    /// Multiplies every element by the scalar `rhs`.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapElements { $0 * rhs } }
    /// Divides every element by the scalar `rhs` (IEEE 754 semantics when `rhs` is 0).
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.mapElements { $0 / rhs } }
    /// Adds every element to the scalar `lhs`.
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs.mapElements { lhs + $0 } }
    /// `lhs − x` for every element `x` of `rhs`.
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { rhs.mapElements { lhs - $0 } }
    /// Multiplies the scalar `lhs` by every element.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.mapElements { lhs * $0 } }
    /// `lhs / x` for every element `x` of `rhs` (IEEE 754 semantics where `x` is 0).
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { rhs.mapElements { lhs / $0 } }
    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor { x.mapElements { -$0 } }

    /// In-place `self += other` (same shape, or `other` broadcastable to `self`), via BLAS axpy
    /// when shapes match.
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        if lhs.shape == rhs.shape {
            lhs.withUnsafeMutableBufferPointer { y in
                BLAS.axpy(count: y.count, alpha: 1, x: rhs.buffer.base, y: y.baseAddress!)
            }
        } else {
            lhs = lhs + rhs
        }
    }
    /// Elementwise `lhs = lhs - rhs` with broadcasting, so `lhs` may take the broadcast shape; always
    /// allocates a new tensor (unlike `+=` on equal shapes).
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    /// Scales every element by `rhs` in place.
    public static func *= (lhs: inout Tensor, rhs: Float) {
        lhs.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] *= rhs } }
    }

    /// `self += alpha * x` in place (BLAS axpy); shapes must match.
    public mutating func addScaled(_ x: Tensor, alpha: Float) {
        precondition(shape == x.shape, "addScaled needs equal shapes, got \(shape) and \(x.shape)")
        withUnsafeMutableBufferPointer { y in
            BLAS.axpy(count: y.count, alpha: alpha, x: x.buffer.base, y: y.baseAddress!)
        }
    }
}

// MARK: - Elementwise functions

extension Tensor {
    /// Elementwise natural exponential eˣ; overflows to +∞ for x ≳ 88.7.
    public func exp() -> Tensor { mapElements { Foundation.exp($0) } }
    /// Elementwise natural logarithm; −∞ at 0 and NaN for negative elements.
    public func log() -> Tensor { mapElements { Foundation.log($0) } }
    /// Elementwise sine (radians), vectorised (``VectorSine``).
    public func sin() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        VectorSine.sincos(buffer.base, sine: out.buffer.base, cosine: nil, count: count)
        return out
    }
    /// Elementwise cosine (radians), vectorised (``VectorSine``).
    public func cos() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        VectorSine.sincos(buffer.base, sine: nil, cosine: out.buffer.base, count: count)
        return out
    }
    /// `self · cos(x)` elementwise (the sine's pullback); shapes must match.
    public func multipliedByCosine(of x: Tensor) -> Tensor {
        precondition(shape == x.shape, "multipliedByCosine needs equal shapes, got \(shape) and \(x.shape)")
        let out = Tensor(uninitializedShape: shape)
        VectorSine.multiplyByCosine(buffer.base, x.buffer.base, into: out.buffer.base, count: count)
        return out
    }
    /// `−self · sin(x)` elementwise (the cosine's pullback); shapes must match.
    public func multipliedByNegativeSine(of x: Tensor) -> Tensor {
        precondition(shape == x.shape, "multipliedByNegativeSine needs equal shapes, got \(shape) and \(x.shape)")
        let out = Tensor(uninitializedShape: shape)
        VectorSine.multiplyByNegativeSine(buffer.base, x.buffer.base, into: out.buffer.base, count: count)
        return out
    }
    /// Elementwise hyperbolic tangent, in [−1, 1], vectorised (``VectorTanh``).
    public func tanh() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        VectorTanh.tanh(buffer.base, into: out.buffer.base, count: count)
        return out
    }
    /// Elementwise square root; NaN for negative elements.
    public func sqrt() -> Tensor { mapElements { $0.squareRoot() } }
    /// Elementwise absolute value.
    public func abs() -> Tensor { mapElements { Swift.abs($0) } }
    /// Elementwise rectified linear unit max(x, 0).
    public func relu() -> Tensor { mapElements { $0 > 0 ? $0 : 0 } }
    /// Elementwise square x².
    public func squared() -> Tensor { mapElements { $0 * $0 } }
    /// The logistic sigmoid 1 / (1 + e^(−x)), computed without overflow for large |x|.
    public func sigmoid() -> Tensor {
        mapElements { x in
            if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
            let e = Foundation.exp(x)
            return e / (1 + e)
        }
    }
    /// Elementwise power with a scalar exponent.
    public func pow(_ exponent: Float) -> Tensor {
        if exponent == 2 { return squared() }
        return mapElements { Foundation.pow($0, exponent) }
    }
    /// The sign (−1, 0, or 1) of every element.
    public func sign() -> Tensor { mapElements { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    /// Elements clamped into [`low`, `high`].
    public func clamped(min low: Float, max high: Float) -> Tensor {
        mapElements { Swift.min(Swift.max($0, low), high) }
    }
    /// Elementwise maximum with broadcasting.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b) { Swift.max($0, $1) } }
    /// Elementwise minimum with broadcasting.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b) { Swift.min($0, $1) } }
    /// 1 where `self > other` elementwise, else 0.
    public func greater(than other: Float) -> Tensor { mapElements { $0 > other ? 1 : 0 } }

    /// Whether every element is within `atol + rtol·|other|` of `other`'s.
    public func isApproximatelyEqual(to other: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
        guard shape == other.shape else { return false }
        let a = buffer.base, b = other.buffer.base
        for i in 0..<count where !(Swift.abs(a[i] - b[i]) <= atol + rtol * Swift.abs(b[i])) { return false }
        return true
    }

    /// The largest |self − other| over all elements.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference needs equal shapes, got \(shape) and \(other.shape)")
        var m: Float = 0
        let a = buffer.base, b = other.buffer.base
        for i in 0..<count { m = Swift.max(m, Swift.abs(a[i] - b[i])) }
        return m
    }
}

import LinearAlgebra
