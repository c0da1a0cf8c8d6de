import Foundation
import LinearAlgebra
import Testing

@Suite struct InverseTests {
    static let sizes = [1, 2, 3, 5, 8, 13, 16, 32]

    @Test(arguments: sizes)
    func inverseOfWellConditionedMatrixInDouble(size n: Int) throws {
        var rng = TestRNG(seed: UInt64(n))
        let a = try Matrix.randomWellConditioned(size: n, maxConditionNumber: 100, rng: &rng)
        let inv = try a.inverse()
        #expect((a * inv).maxAbsDifference(.identity(n)) < 1e-11)
        #expect((inv * a).maxAbsDifference(.identity(n)) < 1e-11)
    }

    /// A is rounded to `T`, inverted in Double, and the inverse rounded to `T`: A·A⁻¹ ≈ I in `T`.
    func checkInverse<T: BinaryFloatingPoint>(_: T.Type, size n: Int, tolerance: T) throws {
        var rng = TestRNG(seed: 100 + UInt64(n))
        let a = try Matrix.randomWellConditioned(size: n, maxConditionNumber: 100, rng: &rng).scalars.map { T($0) }
        let inv = try Matrix(rows: n, columns: n, scalars: a.map { Double($0) }).inverse().scalars.map { T($0) }
        #expect(distanceFromIdentity(a, times: inv, n: n) < tolerance)
        #expect(distanceFromIdentity(inv, times: a, n: n) < tolerance)
    }

    @Test(arguments: sizes)
    func inverseRoundTripsInFloatAndDouble(size n: Int) throws {
        try checkInverse(Float.self, size: n, tolerance: 1e-3)
        try checkInverse(Double.self, size: n, tolerance: 1e-11)
    }

    @Test(arguments: sizes)
    func solveHasSmallResidual(size n: Int) throws {
        var rng = TestRNG(seed: 200 + UInt64(n))
        let a = try Matrix.randomWellConditioned(size: n, maxConditionNumber: 1000, rng: &rng)
        let b = Matrix.randomNormal(rows: n, columns: 3, rng: &rng)
        let x = try a.solve(b)
        #expect(x.rows == n && x.columns == 3)
        #expect((a * x).maxAbsDifference(b) < 1e-10)
        #expect(x.maxAbsDifference(try a.inverse() * b) < 1e-9)
    }

    @Test func slogdetOfKnownMatrices() throws {
        let negative = try Matrix(rows: 2, columns: 2, scalars: [1, 2, 3, 4]).slogdet()  // det = −2
        #expect(negative.sign == -1)
        #expect(abs(negative.logAbsDet - log(2)) < 1e-14)
        let positive = try Matrix(rows: 2, columns: 2, scalars: [4, 7, 2, 6]).slogdet()  // det = 10
        #expect(positive.sign == 1)
        #expect(abs(positive.logAbsDet - log(10)) < 1e-14)
        // An odd permutation: det = −1 from row interchanges alone.
        let swap = try Matrix(rows: 3, columns: 3, scalars: [0, 1, 0, 1, 0, 0, 0, 0, 1]).slogdet()
        #expect(swap.sign == -1)
        #expect(abs(swap.logAbsDet) < 1e-15)
        // det = 100²⁰⁰ = 1e400 overflows Double; its logarithm does not.
        let huge = try Matrix(diagonal: [Double](repeating: 100, count: 200)).slogdet()
        #expect(huge.sign == 1)
        #expect(abs(huge.logAbsDet - 400 * log(10)) < 1e-10)
        let empty = try Matrix(rows: 0, columns: 0).slogdet()
        #expect(empty.sign == 1 && empty.logAbsDet == 0)
    }

    @Test(arguments: [false, true])
    func slogdetOfTriangularIsProductOfDiagonal(lower: Bool) throws {
        var rng = TestRNG(seed: lower ? 31 : 32)
        let n = 12
        var a = Matrix.randomNormal(rows: n, columns: n, rng: &rng)
        var expectedSign = 1.0, expectedLog = 0.0
        for i in 0..<n {
            for j in 0..<n where lower ? j > i : j < i { a[i, j] = 0 }
            if a[i, i] < 0 { expectedSign = -expectedSign }
            expectedLog += log(abs(a[i, i]))
        }
        let (sign, logAbsDet) = try a.slogdet()
        #expect(sign == expectedSign)
        #expect(abs(logAbsDet - expectedLog) < 1e-12)
    }

    @Test func slogdetMatchesSingularValues() throws {
        var rng = TestRNG(seed: 41)
        let a = Matrix.randomNormal(rows: 20, columns: 20, rng: &rng)
        let fromSVD = try a.singularValues().reduce(0) { $0 + log($1) }
        #expect(abs(try a.slogdet().logAbsDet - fromSVD) < 1e-10)
    }

    @Test func singularMatrixThrowsSingular() {
        let rankOne = Matrix(rows: 2, columns: 2, scalars: [1, 2, 2, 4])
        let isSingular: (LinearAlgebraError) -> Bool = { if case .singular = $0 { true } else { false } }
        expectLinearAlgebraError({ try rankOne.inverse() }, matches: isSingular)
        expectLinearAlgebraError({ try rankOne.solve(.identity(2)) }, matches: isSingular)
        expectLinearAlgebraError({ try rankOne.slogdet() }, matches: isSingular)
        expectLinearAlgebraError({ try Matrix(rows: 3, columns: 3).inverse() }, matches: isSingular)
    }

    @Test func nonFiniteInputThrowsBeforeLAPACK() {
        for bad in [Double.nan, .infinity, -.infinity] {
            let a = Matrix(rows: 2, columns: 2, scalars: [1, 0, bad, 1])
            #expect(throws: LinearAlgebraError.nonFinite(operation: "inverse")) { try a.inverse() }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "slogdet")) { try a.slogdet() }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "solve")) { try a.solve(.identity(2)) }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "solve")) { try Matrix.identity(2).solve(a) }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "svd")) { try a.svd() }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "conditionNumber")) { try a.conditionNumber() }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "singularValues")) { try a.singularValues() }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "inverse")) { try a.inverse(checkingConditionBelow: 10) }
            #expect(throws: LinearAlgebraError.nonFinite(operation: "qr")) { try a.qr() }
        }
    }

    @Test func nonSquareInputThrowsShapeMismatch() {
        let wide = Matrix(rows: 2, columns: 3)
        let isShape: (LinearAlgebraError) -> Bool = { if case .shapeMismatch = $0 { true } else { false } }
        expectLinearAlgebraError({ try wide.inverse() }, matches: isShape)
        expectLinearAlgebraError({ try wide.inverse(checkingConditionBelow: 10) }, matches: isShape)
        expectLinearAlgebraError({ try wide.slogdet() }, matches: isShape)
        expectLinearAlgebraError({ try wide.solve(Matrix(rows: 2, columns: 1)) }, matches: isShape)
        expectLinearAlgebraError({ try Matrix.identity(2).solve(Matrix(rows: 3, columns: 1)) }, matches: isShape)
    }

    @Test func inverseWithConditionLimit() throws {
        let nearlySingular = Matrix(diagonal: [1, 1e-8])
        #expect(throws: LinearAlgebraError.self) { try nearlySingular.inverse(checkingConditionBelow: 1e6) }
        expectLinearAlgebraError({ try nearlySingular.inverse(checkingConditionBelow: 1e6) }) {
            guard case .illConditioned(let kappa, let limit) = $0 else { return false }
            return abs(kappa / 1e8 - 1) < 1e-12 && limit == 1e6
        }
        expectLinearAlgebraError({ try Matrix(rows: 2, columns: 2).inverse(checkingConditionBelow: 1e6) }) {
            $0 == .illConditioned(conditionNumber: .infinity, limit: 1e6)
        }
        #expect(throws: LinearAlgebraError.invalidArgument("condition-number limit is NaN")) {
            try Matrix.identity(2).inverse(checkingConditionBelow: .nan)
        }
        // Below the limit, it is the plain inverse.
        var rng = TestRNG(seed: 51)
        let a = try Matrix.randomWellConditioned(size: 6, maxConditionNumber: 50, rng: &rng)
        #expect(try a.inverse(checkingConditionBelow: 51) == a.inverse())
        #expect(try nearlySingular.inverse(checkingConditionBelow: 1e9) == nearlySingular.inverse())
    }

    @Test func emptyMatrix() throws {
        let empty = Matrix(rows: 0, columns: 0)
        #expect(try empty.inverse() == empty)
        #expect(try empty.conditionNumber() == 1)
        #expect(try empty.solve(Matrix(rows: 0, columns: 2)) == Matrix(rows: 0, columns: 2))
    }
}
