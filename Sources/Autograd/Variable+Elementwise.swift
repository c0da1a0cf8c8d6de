import Foundation
import Tensors

// Elementwise functions. Each pullback is one fused loop over the incoming gradient and the tensor
// it needs (the input `x` or the output `y`, whichever makes the derivative cheaper), so a backward
// step allocates exactly one tensor.

/// `op(a[i], b[i])` for two tensors of the same shape, in one loop.
@inline(__always)
func zipElements(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "zipElements needs equal shapes, got \(a.shape) and \(b.shape)")
    var out = Tensor(uninitializedShape: a.shape)
    out.withUnsafeMutableBufferPointer { c in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<c.count { c[i] = op(pa[i], pb[i]) }
            }
        }
    }
    return out
}

extension Variable {
    /// `eˣ` elementwise. Pullback (`_vjpExp`): `g · y`.
    public func exp() -> Variable {
        let y = value.exp()
        return Variable.record(y, inputs: [self]) { g in [g * y] }
    }

    /// The natural logarithm elementwise (`x > 0`; 0 gives −∞, negatives NaN). Pullback: `g / x`.
    public func log() -> Variable {
        let x = value
        return Variable.record(x.log(), inputs: [self]) { g in [g / x] }
    }

    /// `sin x` elementwise. Pullback: `g · cos x`.
    public func sin() -> Variable {
        let x = value
        return Variable.record(x.sin(), inputs: [self]) { g in [g.multipliedByCosine(of: x)] }
    }

    /// `cos x` elementwise. Pullback: `−g · sin x`.
    public func cos() -> Variable {
        let x = value
        return Variable.record(x.cos(), inputs: [self]) { g in [g.multipliedByNegativeSine(of: x)] }
    }

    /// `tanh x` elementwise. Pullback: `g · (1 − y²)`.
    public func tanh() -> Variable {
        let y = value.tanh()
        return Variable.record(y, inputs: [self]) { g in [zipElements(g, y) { $0 * (1 - $1 * $1) }] }
    }

    /// `max(x, 0)` elementwise. Pullback: `g` where `x > 0`, else 0 (the subgradient 0 at `x = 0`).
    public func relu() -> Variable {
        let x = value
        return Variable.record(x.relu(), inputs: [self]) { g in [zipElements(g, x) { $1 > 0 ? $0 : 0 }] }
    }

    /// The logistic sigmoid `σ(x) = 1 / (1 + e^(−x))` elementwise, without overflow for large |x|.
    /// Pullback: `g · y · (1 − y)`.
    public func sigmoid() -> Variable {
        let y = value.sigmoid()
        return Variable.record(y, inputs: [self]) { g in [zipElements(g, y) { $0 * $1 * (1 - $1) }] }
    }

    /// `|x|` elementwise. Pullback: `g · sign(x)` (0 at `x = 0`).
    public func abs() -> Variable {
        let x = value
        return Variable.record(x.abs(), inputs: [self]) { g in
            [zipElements(g, x) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }]
        }
    }

    /// `√x` elementwise (`x ≥ 0`). Pullback: `g / (2y)`, which is infinite at `x = 0`.
    public func sqrt() -> Variable {
        let y = value.sqrt()
        return Variable.record(y, inputs: [self]) { g in [zipElements(g, y) { $0 / (2 * $1) }] }
    }

    /// `x²` elementwise. Pullback: `2x · g`.
    public func squared() -> Variable {
        let x = value
        return Variable.record(x.squared(), inputs: [self]) { g in [zipElements(g, x) { 2 * $1 * $0 }] }
    }

    /// `xᵖ` elementwise for a constant exponent `p`. Non-integer `p` needs `x > 0` (negative `x`
    /// gives NaN, as `Foundation.pow` does). Pullback: `g · p · x^(p−1)`.
    public func pow(_ exponent: Float) -> Variable {
        let x = value
        return Variable.record(x.pow(exponent), inputs: [self]) { g in
            if exponent == 0 { return [Tensor(zeros: x.shape)] }
            if exponent == 1 { return [g] }
            let p1 = exponent - 1
            return [zipElements(g, x) { g, x in g * exponent * Foundation.pow(x, p1) }]
        }
    }

    /// Elements clamped into `[low, high]` (`low ≤ high`).
    ///
    /// Pullback: `g` where `low ≤ x ≤ high` (boundaries inclusive, so a value sitting exactly on a
    /// bound still learns), 0 where the clamp is active.
    public func clamped(min low: Float, max high: Float) -> Variable {
        precondition(low <= high, "clamped: min \(low) > max \(high)")
        let x = value
        return Variable.record(x.clamped(min: low, max: high), inputs: [self]) { g in
            [zipElements(g, x) { g, x in x >= low && x <= high ? g : 0 }]
        }
    }

    /// The elementwise maximum with NumPy broadcasting.
    ///
    /// Pullback: the gradient goes to whichever operand is larger; on ties (`a == b`) it goes
    /// entirely to the left operand `a` (so `maximum(x, x)` passes `g` once, not twice or halved).
    /// Each operand's share is summed back to its own shape.
    public static func maximum(_ lhs: Variable, _ rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
        let out = Tensor.maximum(a, b)
        return record(out, inputs: [lhs, rhs]) { g in
            let ab = a.broadcast(to: g.shape), bb = b.broadcast(to: g.shape)
            // Mask 1 where the left operand wins (ties included).
            let leftWins = zipElements(ab, bb) { $0 >= $1 ? 1 : 0 }
            return [needA ? zipElements(g, leftWins) { $0 * $1 }.sumToShape(a.shape) : nil,
                    needB ? zipElements(g, leftWins) { $0 * (1 - $1) }.sumToShape(b.shape) : nil]
        }
    }
}
