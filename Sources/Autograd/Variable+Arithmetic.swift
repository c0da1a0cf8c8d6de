import Tensors

// Each operation computes its value with the Tensor op and records a pullback (its vector-Jacobian
// product) right next to it. Broadcast operands get their gradient summed back to their shape.
//
// Pullbacks capture tensors and flags, never `Variable`s: a variable holds its tape, and a tape
// holds its pullbacks, so capturing a variable would make a cycle that keeps the whole graph alive
// when a tape is dropped without a backward pass.

extension Variable {
    /// Elementwise sum with NumPy broadcasting. Pullback: `g`, summed back to each operand's shape.
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
        return record(lhs.value + rhs.value, inputs: [lhs, rhs]) { g in
            [needA ? g.sumToShape(sa) : nil, needB ? g.sumToShape(sb) : nil]
        }
    }

    /// Elementwise difference with broadcasting. Pullback: `g` and `−g`, summed to each shape.
    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
        return record(lhs.value - rhs.value, inputs: [lhs, rhs]) { g in
            [needA ? g.sumToShape(sa) : nil, needB ? (-g).sumToShape(sb) : nil]
        }
    }

    /// Elementwise product with broadcasting. Pullback: `g·b` and `g·a`, summed to each shape.
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
        return record(a * b, inputs: [lhs, rhs]) { g in
            [needA ? (g * b).sumToShape(a.shape) : nil,
             needB ? (g * a).sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting. Pullback: `g/b` and `−g·a/b²`, summed to each shape.
    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
        return record(a / b, inputs: [lhs, rhs]) { g in
            [needA ? (g / b).sumToShape(a.shape) : nil,
             needB ? (-(g * a) / (b * b)).sumToShape(b.shape) : nil]
        }
    }

    /// `x + c` for a constant scalar `c`. Pullback: `g`.
    public static func + (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value + rhs, inputs: [lhs]) { g in [g] }
    }
    /// `x − c` for a constant scalar `c`. Pullback: `g`.
    public static func - (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value - rhs, inputs: [lhs]) { g in [g] }
    }
    /// `x · c` for a constant scalar `c`. Pullback: `g·c`.
    public static func * (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value * rhs, inputs: [lhs]) { g in [g * rhs] }
    }
    /// `x / c` for a constant scalar `c`. Pullback: `g/c`.
    public static func / (lhs: Variable, rhs: Float) -> Variable {
        record(lhs.value / rhs, inputs: [lhs]) { g in [g / rhs] }
    }
    /// `c + x` for a constant scalar `c`. Pullback: `g`.
    public static func + (lhs: Float, rhs: Variable) -> Variable { rhs + lhs }
    /// `c · x` for a constant scalar `c`. Pullback: `g·c`.
    public static func * (lhs: Float, rhs: Variable) -> Variable { rhs * lhs }
    /// `c − x` for a constant scalar `c`. Pullback: `−g`.
    public static func - (lhs: Float, rhs: Variable) -> Variable {
        record(lhs - rhs.value, inputs: [rhs]) { g in [-g] }
    }
    /// Negation `−x`. Pullback: `−g`.
    public static prefix func - (x: Variable) -> Variable {
        record(-x.value, inputs: [x]) { g in [-g] }
    }

    /// The matrix product (see `Tensor.matmul`), with optional transposes of either operand.
    ///
    /// Shapes: `[m, k] × [k, n] → [m, n]`, batched `[..., m, k] × [..., k, n]`, or a batch against
    /// a single matrix on either side. Pullback: dA = G·Bᵀ, dB = Aᵀ·G (transposes adjusted), with
    /// the batch of a broadcast rank-2 operand summed back.
    public static func matmul(_ a: Variable, transposeA: Bool = false,
                              _ b: Variable, transposeB: Bool = false) -> Variable {
        let (av, bv) = (a.value, b.value)
        let (needA, needB) = (a.requiresGradient, b.requiresGradient)
        let out = Tensor.matmul(av, transposeA: transposeA, bv, transposeB: transposeB)
        return record(out, inputs: [a, b]) { g in
            var da: Tensor? = nil, db: Tensor? = nil
            if needA {
                // d(op(A)) = G·op(B)ᵀ; dA = that, or its transpose when A was used transposed.
                da = transposeA
                    ? Tensor.matmul(bv, transposeA: transposeB, g, transposeB: true)
                    : Tensor.matmul(g, bv, transposeB: !transposeB)
                if da!.shape != av.shape { da = da!.sumToShape(av.shape) }
            }
            if needB {
                if bv.rank == 2 && av.rank > 2 {
                    // Fold the batch: dB = Σ_batch op(A)ᵀ·G.
                    let k = transposeA ? av.shape[av.rank - 2] : av.shape[av.rank - 1]
                    let n = g.shape[g.rank - 1]
                    let g2 = g.reshaped([-1, n])
                    let a2 = transposeA ? av.transposed().reshaped([-1, k]) : av.reshaped([-1, k])
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

    /// `self` × `other` (see ``matmul(_:transposeA:_:transposeB:)``).
    public func matmul(_ other: Variable) -> Variable { Variable.matmul(self, other) }
}
