import LinearAlgebra
import Testing

@Suite struct RandomMatrixTests {
    @Test(arguments: [1, 2, 3, 7, 16, 32])
    func randomOrthogonalIsOrthogonal(size n: Int) {
        var rng = TestRNG(seed: UInt64(n))
        let q = Matrix.randomOrthogonal(size: n, rng: &rng)
        #expect(Matrix.multiply(q, transposeA: true, q).maxAbsDifference(.identity(n)) < 1e-13)
        #expect(Matrix.multiply(q, q, transposeB: true).maxAbsDifference(.identity(n)) < 1e-13)
    }

    /// Without the sign correction, LAPACK's Householder QR makes Q[0,0] negative every time;
    /// under the Haar measure it is symmetric about 0 (standard deviation 1/√n).
    @Test func randomOrthogonalIsSignSymmetric() {
        var rng = TestRNG(seed: 5)
        let samples = 400
        var mean = 0.0, negativeDeterminants = 0
        for _ in 0..<samples {
            let q = Matrix.randomOrthogonal(size: 4, rng: &rng)
            mean += q[0, 0] / Double(samples)
            if (try? q.slogdet().sign) == -1 { negativeDeterminants += 1 }
        }
        #expect(abs(mean) < 0.1)  // standard error 0.5/√400 = 0.025
        #expect((150...250).contains(negativeDeterminants))  // det = ±1 with probability 1/2 each
    }

    @Test(arguments: 0..<20)
    func randomWellConditionedRespectsBound(seed: Int) throws {
        var rng = TestRNG(seed: UInt64(seed))
        let n = 2 + seed % 15
        let kappa = 100.0
        let a = try Matrix.randomWellConditioned(size: n, maxConditionNumber: kappa, rng: &rng)
        let measured = try a.conditionNumber()
        // Both extreme singular values are used, so κ₂ equals κ up to rounding.
        #expect(measured <= kappa * (1 + 1e-12))
        #expect(measured >= kappa * (1 - 1e-12))
        #expect(measured >= 1)
        let s = try a.singularValues()
        #expect(s.allSatisfy { $0 >= 1 - 1e-12 && $0 <= kappa * (1 + 1e-12) })
    }

    @Test func randomWellConditionedEdgeCases() throws {
        var rng = TestRNG(seed: 9)
        let one = try Matrix.randomWellConditioned(size: 1, maxConditionNumber: 50, rng: &rng)
        #expect(abs(abs(one[0, 0]) - 1) < 1e-15)
        let isometry = try Matrix.randomWellConditioned(size: 5, maxConditionNumber: 1, rng: &rng)
        #expect(abs(try isometry.conditionNumber() - 1) < 1e-12)
        for bad in [0.5, 0, -3, .nan, .infinity] {
            expectLinearAlgebraError({ try Matrix.randomWellConditioned(size: 3, maxConditionNumber: bad, rng: &rng) }) {
                if case .invalidArgument = $0 { true } else { false }
            }
        }
    }

    @Test func samplersAreDeterministic() throws {
        func sample(_ seed: UInt64) throws -> [Matrix] {
            var rng = TestRNG(seed: seed)
            return [Matrix.randomNormal(rows: 3, columns: 5, rng: &rng),
                    Matrix.randomOrthogonal(size: 6, rng: &rng),
                    try Matrix.randomWellConditioned(size: 6, maxConditionNumber: 10, rng: &rng)]
        }
        let first = try sample(42), again = try sample(42), other = try sample(43)
        #expect(first == again)
        for (a, b) in zip(first, other) { #expect(a != b) }
    }

    @Test func randomNormalHasUnitMoments() {
        var rng = TestRNG(seed: 77)
        let m = Matrix.randomNormal(rows: 100, columns: 101, rng: &rng)  // odd count: last pair half used
        let n = Double(m.scalars.count)
        let mean = m.scalars.reduce(0, +) / n
        let variance = m.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        #expect(abs(mean) < 0.05)
        #expect(abs(variance - 1) < 0.05)
        #expect(!m.hasNonFinite)
    }
}
