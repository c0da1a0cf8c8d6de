import LinearAlgebra
import Testing

@Suite struct MatrixTests {
    /// The example in `Matrix`'s doc comment.
    @Test func documentationExample() throws {
        let a = Matrix(rows: 2, columns: 2, scalars: [4, 7, 2, 6])
        let x = try a.solve(Matrix(rows: 2, columns: 1, scalars: [1, 0]))
        #expect(x.maxAbsDifference(Matrix(rows: 2, columns: 1, scalars: [0.6, -0.2])) < 1e-15)
    }

    @Test func elementAccessIsRowMajor() {
        var m = Matrix(rows: 2, columns: 3, scalars: [1, 2, 3, 4, 5, 6])
        #expect(m[0, 2] == 3)
        #expect(m[1, 0] == 4)
        m[1, 2] = -1
        #expect(m.scalars == [1, 2, 3, 4, 5, -1])
        #expect(m.diagonal == [1, 5])
        #expect(!m.isSquare)
    }

    @Test func validatingInitRejectsBadShapes() {
        expectLinearAlgebraError({ try Matrix(rows: 2, columns: 2, validating: [1, 2, 3]) }) {
            if case .shapeMismatch = $0 { return true } else { return false }
        }
        expectLinearAlgebraError({ try Matrix(rows: -1, columns: 2, validating: []) }) {
            if case .shapeMismatch = $0 { return true } else { return false }
        }
        #expect((try? Matrix(rows: 1, columns: 2, validating: [1, 2])) == Matrix(rows: 1, columns: 2, scalars: [1, 2]))
    }

    @Test func floatConversionRoundTrips() {
        let floats: [Float] = [1.5, -0.1, 3e-5, 1e20]
        let m = Matrix(rows: 2, columns: 2, floats: floats)
        #expect(m.scalars == floats.map(Double.init))
        #expect(m.floats == floats)
        #expect(Matrix(rows: 1, columns: 1, scalars: [1e300]).floats == [.infinity])
    }

    @Test func identityDiagonalAndTranspose() {
        #expect(Matrix.identity(3) == Matrix(diagonal: [1, 1, 1]))
        let m = Matrix(rows: 2, columns: 3, scalars: [1, 2, 3, 4, 5, 6])
        #expect(m.transposed() == Matrix(rows: 3, columns: 2, scalars: [1, 4, 2, 5, 3, 6]))
        #expect(m.transposed().transposed() == m)
    }

    @Test(arguments: [false, true], [false, true])
    func multiplyMatchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
        var rng = TestRNG(seed: 11)
        let (m, k, n) = (4, 5, 3)
        let a = Matrix.randomNormal(rows: transposeA ? k : m, columns: transposeA ? m : k, rng: &rng)
        let b = Matrix.randomNormal(rows: transposeB ? n : k, columns: transposeB ? k : n, rng: &rng)
        let c = Matrix.multiply(a, transposeA: transposeA, b, transposeB: transposeB)
        let opA = transposeA ? a.transposed() : a, opB = transposeB ? b.transposed() : b
        let expected = naiveProduct(opA.scalars, opB.scalars, m: m, k: k, n: n)
        #expect(c.rows == m && c.columns == n)
        #expect(c.maxAbsDifference(Matrix(rows: m, columns: n, scalars: expected)) < 1e-12)
    }

    @Test func maxAbsDifferencePropagatesNaN() {
        let a = Matrix(rows: 1, columns: 2, scalars: [0, .nan])
        #expect(a.maxAbsDifference(Matrix(rows: 1, columns: 2)).isNaN)
    }
}
