import LinearAlgebra

// The bridge from Float tensors to the LAPACK wrappers in LinearAlgebra.
//
// Each matrix is widened to a `Matrix` of Double, factorised there, and rounded back to Float, so
// results are as accurate as Float storage allows even when the factorisation loses digits.
//
// Errors: every method here throws `LinearAlgebraError` (import LinearAlgebra to match on it), never
// `TensorError.linearAlgebra`: callers can match `.singular`, `.illConditioned(conditionNumber:limit:)`
// and so on without unpacking strings. Shape problems are `LinearAlgebraError.shapeMismatch`. For a
// batch, errors about one matrix name its position in the batch.

extension Tensor {
    /// The inverse of a square matrix `[n, n]`, or of each matrix in a batch `[..., n, n]`.
    ///
    /// Computed in double precision (LAPACK getrf + getri); only exact singularity is detected.
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` unless rank ≥ 2 with equal last two
    ///   dimensions; ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞;
    ///   ``LinearAlgebraError/singular(operation:detail:)``; ``LinearAlgebraError/overflow(operation:)``
    ///   if an entry of the inverse exceeds `Float`'s range.
    /// - Complexity: O(batch·n³).
    public func inverse() throws -> Tensor {
        try mapMatrices(operation: "inverse") { try $0.inverse() }
    }

    /// The inverse, refusing any matrix whose 2-norm condition number exceeds `limit`
    /// (see `Matrix.inverse(checkingConditionBelow:)`). `limit` = 1e4…1e6 keeps `Float` results useful.
    /// - Throws: ``LinearAlgebraError/illConditioned(conditionNumber:limit:)`` and everything
    ///   ``inverse()`` throws.
    /// - Complexity: O(batch·n³), about three times ``inverse()``.
    public func inverse(checkingConditionBelow limit: Float) throws -> Tensor {
        try mapMatrices(operation: "inverse") { try $0.inverse(checkingConditionBelow: Double(limit)) }
    }

    /// The solution X of A·X = B, with `self` as A.
    ///
    /// Shapes: A `[..., n, n]` with B `[..., n, k]` (same leading dimensions, result like B), or
    /// B `[..., n]` (one right-hand-side vector per matrix, result like B). Computed in double
    /// precision by LU with partial pivoting (LAPACK gesv).
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` for incompatible shapes, and as
    ///   ``inverse()`` for non-finite input, singular A, or a `Float` overflow.
    /// - Complexity: O(batch·(n³ + n²·k)).
    public func solve(_ b: Tensor) throws -> Tensor {
        let n = try squareSize(operation: "solve")
        let batchShape = Array(shape.dropLast(2))
        let vectors: Bool
        if b.rank == rank, Array(b.shape.dropLast(2)) == batchShape, b.shape[rank - 2] == n {
            vectors = false
        } else if b.rank == rank - 1, Array(b.shape.dropLast()) == batchShape, b.shape[rank - 2] == n {
            vectors = true
        } else {
            throw LinearAlgebraError.shapeMismatch(
                "solve: A is \(shape), B must be \(batchShape + [n, -1]) or \(batchShape + [n]), got \(b.shape)")
        }
        let k = vectors ? 1 : b.shape[b.rank - 1]
        let batch = Tensor.elementCount(batchShape)
        var out = Tensor(uninitializedShape: b.shape)
        try withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try out.withUnsafeMutableBufferPointer { po in
                    for i in 0..<batch {
                        let a = Matrix(rows: n, columns: n, floats: pa[(i * n * n)..<((i + 1) * n * n)])
                        let rhs = Matrix(rows: n, columns: k, floats: pb[(i * n * k)..<((i + 1) * n * k)])
                        let x = try Tensor.labelled(i, batch: batch) { try a.solve(rhs) }
                        try Tensor.store(x, into: po, at: i * n * k, operation: "solve")
                    }
                }
            }
        }
        return out
    }

    /// The sign (±1) and natural log of |det A| of a square matrix `[n, n]`, in double precision.
    ///
    /// det A = sign · exp(logAbsDet) without overflow. The log is rounded to `Float` at the end.
    /// - Throws: ``LinearAlgebraError/singular(operation:detail:)`` when det A is exactly 0,
    ///   ``LinearAlgebraError/shapeMismatch(_:)`` unless the shape is `[n, n]`,
    ///   ``LinearAlgebraError/nonFinite(operation:)`` for NaN/∞.
    /// - Complexity: O(n³).
    public func slogdet() throws -> (sign: Float, logAbsDet: Float) {
        let (s, l) = try matrix(operation: "slogdet").slogdet()
        return (Float(s), Float(l))
    }

    /// The 2-norm condition number σmax/σmin of a matrix `[m, n]` (+∞ when singular), from an
    /// SVD in double precision. Measured on the `Float` entries exactly as stored.
    /// - Throws: ``LinearAlgebraError/shapeMismatch(_:)`` unless rank is 2,
    ///   ``LinearAlgebraError/nonFinite(operation:)``, ``LinearAlgebraError/noConvergence(operation:)``.
    /// - Complexity: O(m·n·min(m, n)).
    public func conditionNumber() throws -> Float {
        Float(try matrix(operation: "conditionNumber").conditionNumber())
    }

    /// A Haar-random n×n orthogonal matrix (see `Matrix.randomOrthogonal(size:rng:)`), rounded to
    /// `Float`: QᵀQ = I to about 1e-6.
    /// - Complexity: O(n³).
    public static func randomOrthogonal(_ n: Int, rng: inout SeededGenerator) -> Tensor {
        Tensor(Matrix.randomOrthogonal(size: n, rng: &rng))
    }

    /// A random n×n matrix with singular values in [1, κ], κ = `maxConditionNumber`
    /// (see `Matrix.randomWellConditioned(size:maxConditionNumber:rng:)`).
    ///
    /// Rounding to `Float` perturbs the singular values by about n·6e-8·κ, so the condition number
    /// measured on the result can exceed κ by a relative ~n·6e-8·κ.
    /// - Throws: ``LinearAlgebraError/invalidArgument(_:)`` if κ < 1, NaN or infinite.
    /// - Complexity: O(n³).
    public static func randomWellConditioned(_ n: Int, maxConditionNumber: Float,
                                             rng: inout SeededGenerator) throws -> Tensor {
        Tensor(try Matrix.randomWellConditioned(size: n, maxConditionNumber: Double(maxConditionNumber), rng: &rng))
    }

    /// A `[rows, columns]` tensor holding `matrix` rounded to `Float` (values beyond `Float`'s range
    /// become ±∞).
    /// - Complexity: O(rows·columns).
    public init(_ matrix: Matrix) {
        self.init(shape: [matrix.rows, matrix.columns], scalars: matrix.floats)
    }

    // MARK: Helpers

    /// n for a tensor of shape `[..., n, n]`; throws otherwise.
    private func squareSize(operation: String) throws -> Int {
        guard rank >= 2, shape[rank - 1] == shape[rank - 2] else {
            throw LinearAlgebraError.shapeMismatch("\(operation) needs shape [..., n, n], got \(shape)")
        }
        return shape[rank - 1]
    }

    /// The rank-2 tensor as a `Matrix`; throws for other ranks.
    private func matrix(operation: String) throws -> Matrix {
        guard rank == 2 else {
            throw LinearAlgebraError.shapeMismatch("\(operation) needs a matrix of shape [m, n], got \(shape)")
        }
        return withUnsafeBufferPointer { Matrix(rows: shape[0], columns: shape[1], floats: $0) }
    }

    /// Applies `body` to each n×n matrix of a `[..., n, n]` tensor, giving a tensor of the same shape.
    private func mapMatrices(operation: String, _ body: (Matrix) throws -> Matrix) throws -> Tensor {
        let n = try squareSize(operation: operation)
        let batch = count / Swift.max(1, n * n)
        var out = Tensor(uninitializedShape: shape)
        if count == 0 { return out }
        try withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<batch {
                    let m = Matrix(rows: n, columns: n, floats: src[(i * n * n)..<((i + 1) * n * n)])
                    let r = try Tensor.labelled(i, batch: batch) { try body(m) }
                    try Tensor.store(r, into: dst, at: i * n * n, operation: operation)
                }
            }
        }
        return out
    }

    /// Rounds `m` to `Float` into `dst[offset...]`, throwing `.overflow` if a finite entry does not fit.
    private static func store(_ m: Matrix, into dst: UnsafeMutableBufferPointer<Float>, at offset: Int,
                              operation: String) throws {
        try m.withUnsafeBufferPointer { src in
            for j in 0..<src.count {
                let f = Float(src[j])
                guard f.isFinite else { throw LinearAlgebraError.overflow(operation: operation) }
                dst[offset + j] = f
            }
        }
    }

    /// Runs `body`; for a batch of more than one matrix, prefixes a singular-matrix detail with
    /// the matrix's position so the caller can find it.
    private static func labelled<R>(_ index: Int, batch: Int, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch LinearAlgebraError.singular(let operation, let detail) where batch > 1 {
            throw LinearAlgebraError.singular(operation: operation, detail: "batch matrix \(index): \(detail)")
        }
    }
}
