import Tensors

// Each operation computes its value with the Tensor op and records a pullback (its vector-Jacobian
// product) right next to it. Broadcast operands get their gradient summed back to their shape.

extension Variable {
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record(lhs.value + rhs.value, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? g.sumToShape(sa) : nil, rhs.requiresGradient ? g.sumToShape(sb) : nil]
        }
    }

    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record(lhs.value - rhs.value, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? g.sumToShape(sa) : nil, rhs.requiresGradient ? (-g).sumToShape(sb) : nil]
        }
    }

    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        return record(a * b, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? (g * b).sumToShape(a.shape) : nil,
             rhs.requiresGradient ? (g * a).sumToShape(b.shape) : nil]
        }
    }

    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        return record(a / b, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? (g / b).sumToShape(a.shape) : nil,
             rhs.requiresGradient ? (-(g * a) / (b * b)).sumToShape(b.shape) : nil]
        }
    }

    public static func + (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value + rhs, inputs: [lhs]) { g in [g] }
    }
    public static func - (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value - rhs, inputs: [lhs]) { g in [g] }
    }
    public static func * (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value * rhs, inputs: [lhs]) { g in [g * rhs] }
    }
    public static func / (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value / rhs, inputs: [lhs]) { g in [g / rhs] }
    }
    public static func + (lhs: Float, rhs: Variable) -> Variable { rhs + lhs }
    public static func * (lhs: Float, rhs: Variable) -> Variable { rhs * lhs }
    public static func - (lhs: Float, rhs: Variable) -> Variable {
        record(lhs - rhs.value, inputs: [rhs]) { g in [-g] }
    }
    public static prefix func - (x: Variable) -> Variable {
        record(-x.value, inputs: [x]) { g in [-g] }
    }

    /// The matrix product (see `Tensor.matmul`), with optional transposes of either operand.
    ///
    /// Pullback: dA = G·Bᵀ, dB = Aᵀ·G (transposes adjusted), with batch broadcasting of a rank-2
    /// right operand summed back.
    public static func matmul(_ a: Variable, transposeA: Bool = false,
                              _ b: Variable, transposeB: Bool = false) -> Variable {
        let (av, bv) = (a.value, b.value)
        let out = Tensor.matmul(av, transposeA: transposeA, bv, transposeB: transposeB)
        return record(out, inputs: [a, b]) { g in
            var da: Tensor? = nil, db: Tensor? = nil
            if a.requiresGradient {
                // d(op(A)) = G·op(B)ᵀ; dA = that, or its transpose when A was used transposed.
                da = transposeA
                    ? Tensor.matmul(bv, transposeA: transposeB, g, transposeB: true)
                    : Tensor.matmul(g, bv, transposeB: !transposeB)
                if da!.shape != av.shape { da = da!.sumToShape(av.shape) }
            }
            if b.requiresGradient {
                if bv.rank == 2 && av.rank > 2 {
                    // Fold the batch: dB = Σ_batch op(A)ᵀ·G.
                    let k = transposeA ? av.shape[av.rank - 2] : av.shape[av.rank - 1]
                    let m = transposeA ? av.shape[av.rank - 1] : av.shape[av.rank - 2]
                    let n = g.shape[g.rank - 1]
                    let g2 = g.reshaped([-1, n])
                    let a2 = transposeA ? av.transposed().reshaped([-1, k]) : av.reshaped([-1, k])
                    _ = m
                    let dOpB = Tensor.matmul(a2, transposeA: true, g2)       // [k, n]
                    db = transposeB ? dOpB.transposed() : dOpB
                } else {
                    db = transposeB
                        ? Tensor.matmul(g, transposeA: true, av, transposeB: transposeA)
                        : Tensor.matmul(av, transposeA: !transposeA, g)
                    if db!.shape != bv.shape { db = db!.sumToShape(bv.shape) }
                }
            }
            return [da, db]
        }
    }

    /// `self` × `other`.
    public func matmul(_ other: Variable) -> Variable { Variable.matmul(self, other) }
}
