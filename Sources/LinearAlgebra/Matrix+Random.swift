import Foundation

// Random matrices for tests and for sampling group elements (GL(d) actions on attention weights).
// Every sampler takes its generator explicitly, so a seed fixes the result.

extension Matrix {
    /// A matrix of independent standard normal entries (Box–Muller on 53-bit uniforms).
    ///
    /// Deterministic for a given generator state: the same seed gives the same matrix.
    /// - Complexity: O(rows·columns).
    public static func randomNormal<G: RandomNumberGenerator>(rows: Int, columns: Int, rng: inout G) -> Matrix {
        var m = Matrix(rows: rows, columns: columns)
        let count = rows * columns
        var i = 0
        while i < count {
            // Uniforms in (0, 1] and [0, 1): the first is never 0, so its log is finite.
            let u1 = Double((rng.next() >> 11) + 1) * 0x1p-53
            let u2 = Double(rng.next() >> 11) * 0x1p-53
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            m.scalars[i] = radius * Foundation.cos(angle)
            if i + 1 < count { m.scalars[i + 1] = radius * Foundation.sin(angle) }
            i += 2
        }
        return m
    }

    /// A Haar-distributed (uniformly random) n×n orthogonal matrix: QᵀQ = I to working precision.
    ///
    /// Q comes from the QR decomposition of a Gaussian matrix, with each column multiplied by the
    /// sign of R's matching diagonal entry; without that correction the distribution is not uniform.
    /// Its determinant is +1 or −1 with equal probability. Traps if `size` is negative.
    /// - Complexity: O(n³).
    public static func randomOrthogonal<G: RandomNumberGenerator>(size n: Int, rng: inout G) -> Matrix {
        precondition(n >= 0, "randomOrthogonal: size must be non-negative, got \(n)")
        let qr = randomNormal(rows: n, columns: n, rng: &rng).householderQR()
        var q = qr.q
        for j in 0..<n where qr.r.scalars[j * n + j] < 0 {
            for i in 0..<n { q.scalars[i * n + j].negate() }
        }
        return q
    }

    /// A random n×n matrix U·diag(s)·Vᵀ whose 2-norm condition number is at most `maxConditionNumber`.
    ///
    /// U and V are independent Haar-random orthogonal matrices. The singular values s lie in
    /// [1, κ] with κ = `maxConditionNumber`: for n ≥ 2 they include both endpoints (so κ₂ = κ up
    /// to rounding, about n·ε relative) and the rest are log-uniform in between; for n = 1 the
    /// matrix is ±1. Its 2-norm is κ (1 when n = 1) and σmin is 1, so its inverse has 2-norm ≤ 1.
    /// - Throws: ``LinearAlgebraError/invalidArgument(_:)`` if κ < 1, NaN or infinite.
    /// - Complexity: O(n³).
    public static func randomWellConditioned<G: RandomNumberGenerator>(
        size n: Int, maxConditionNumber kappa: Double, rng: inout G
    ) throws -> Matrix {
        guard kappa >= 1, kappa.isFinite else {
            throw LinearAlgebraError.invalidArgument("maxConditionNumber must be finite and ≥ 1, got \(kappa)")
        }
        precondition(n >= 0, "randomWellConditioned: size must be non-negative, got \(n)")
        let logKappa = Foundation.log(kappa)
        var s = [Double](repeating: 1, count: n)
        if n >= 2 {
            s[0] = kappa
            for i in 2..<n { s[i] = Foundation.exp(logKappa * Double.random(in: 0...1, using: &rng)) }
        }
        var u = randomOrthogonal(size: n, rng: &rng)
        let v = randomOrthogonal(size: n, rng: &rng)
        for i in 0..<n { for j in 0..<n { u.scalars[i * n + j] *= s[j] } }
        return multiply(u, v, transposeB: true)
    }
}
