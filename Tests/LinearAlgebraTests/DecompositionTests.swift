import LinearAlgebra
import Testing

@Suite struct DecompositionTests {
    static let shapes: [(rows: Int, columns: Int)] = [(1, 1), (3, 3), (5, 3), (3, 5), (16, 16), (32, 7), (1, 6)]

    @Test(arguments: shapes)
    func svdReconstructsAndSortsSingularValues(rows m: Int, columns n: Int) throws {
        var rng = TestRNG(seed: UInt64(m * 100 + n))
        let a = Matrix.randomNormal(rows: m, columns: n, rng: &rng)
        let svd = try a.svd()
        let k = min(m, n)
        #expect(svd.u.rows == m && svd.u.columns == k)
        #expect(svd.vt.rows == k && svd.vt.columns == n)
        #expect(svd.singularValues.count == k)
        #expect(zip(svd.singularValues, svd.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(svd.singularValues.allSatisfy { $0 >= 0 })
        let reconstructed = svd.u * Matrix(diagonal: svd.singularValues) * svd.vt
        #expect(reconstructed.maxAbsDifference(a) < 1e-12 * Double(max(m, n)) * svd.singularValues[0])
        #expect(Matrix.multiply(svd.u, transposeA: true, svd.u).maxAbsDifference(.identity(k)) < 1e-13)
        #expect(Matrix.multiply(svd.vt, svd.vt, transposeB: true).maxAbsDifference(.identity(k)) < 1e-13)
        let valuesOnly = try a.singularValues()
        #expect(zip(valuesOnly, svd.singularValues).allSatisfy { abs($0 - $1) <= 1e-13 * svd.singularValues[0] })
    }

    @Test func conditionNumberOfKnownMatrices() throws {
        #expect(try Matrix(diagonal: [1, -10, 0.5]).conditionNumber() == 20)
        #expect(try Matrix(rows: 2, columns: 2, scalars: [1, 2, 2, 4]).conditionNumber() > 1e15)
        #expect(try Matrix(rows: 2, columns: 2).conditionNumber() == .infinity)
        var rng = TestRNG(seed: 3)
        let q = Matrix.randomOrthogonal(size: 9, rng: &rng)
        #expect(abs(try q.conditionNumber() - 1) < 1e-12)
        // Rectangular: the ratio of extreme singular values.
        #expect(abs(try Matrix(rows: 3, columns: 2, scalars: [3, 0, 0, 0.5, 0, 0]).conditionNumber() - 6) < 1e-14)
    }

    @Test(arguments: shapes)
    func qrIsOrthogonalTimesUpperTriangular(rows m: Int, columns n: Int) throws {
        var rng = TestRNG(seed: UInt64(m * 1000 + n))
        let a = Matrix.randomNormal(rows: m, columns: n, rng: &rng)
        let (q, r) = try { let d = try a.qr(); return (d.q, d.r) }()
        let k = min(m, n)
        #expect(q.rows == m && q.columns == k && r.rows == k && r.columns == n)
        #expect(Matrix.multiply(q, transposeA: true, q).maxAbsDifference(.identity(k)) < 1e-13)
        #expect((q * r).maxAbsDifference(a) < 1e-12)
        for i in 0..<k { for j in 0..<min(i, n) { #expect(r[i, j] == 0) } }
    }

    @Test func emptyDecompositions() throws {
        let empty = Matrix(rows: 0, columns: 4)
        let svd = try empty.svd()
        #expect(svd.singularValues.isEmpty && svd.u.rows == 0 && svd.vt.columns == 4)
        let qr = try empty.qr()
        #expect(qr.q.rows == 0 && qr.r.columns == 4)
    }
}
