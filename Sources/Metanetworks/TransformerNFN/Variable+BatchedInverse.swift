import Tensors
import Autograd
import LinearAlgebra

extension Variable {
    /// The inverse of a square matrix `[n, n]`, or of every matrix of a batch `[..., n, n]`, as a
    /// differentiable operation.
    ///
    /// Forward: `Tensor.inverse()` (LAPACK getrf + getri in double precision, rounded to Float),
    /// or `Tensor.inverse(checkingConditionBelow:)` when `conditionLimit` is given, which also
    /// refuses matrices whose 2-norm condition number exceeds the limit (an SVD each).
    /// Pullback (from d(A⁻¹) = −A⁻¹ dA A⁻¹): dA = −A⁻ᵀ · G · A⁻ᵀ per matrix, two batched GEMMs on
    /// the stored inverse.
    ///
    /// - Parameter conditionLimit: refuse matrices with κ₂ above this (1e4…1e6 keeps Float useful);
    ///   nil checks exact singularity only.
    /// - Throws: `LinearAlgebraError.singular` (naming the batch position),
    ///   `.illConditioned(conditionNumber:limit:)`, `.nonFinite`, `.overflow`, `.shapeMismatch` —
    ///   the forward never returns a silently wrong inverse.
    /// - Complexity: O(batch·n³) forward (about ×3 with the condition check) and backward.
    ///
    /// ```swift
    /// let tape = Tape()
    /// let a = tape.variable(Tensor(shape: [2, 2], scalars: [2, 1, 1, 3]))
    /// let aInv = try a.batchedInverse(conditionLimit: 1e4)
    /// let grads = tape.gradients(of: aInv.sum())
    /// ```
    public func batchedInverse(conditionLimit: Float? = nil) throws -> Variable {
        let inv = try conditionLimit.map { try value.inverse(checkingConditionBelow: $0) } ?? value.inverse()
        return Variable.record(inv, inputs: [self]) { g in
            // −A⁻ᵀ G A⁻ᵀ, with the transposes folded into the GEMM flags.
            let left = Tensor.matmul(inv, transposeA: true, g)
            return [-Tensor.matmul(left, inv, transposeB: true)]
        }
    }
}
