import Foundation
import LinearAlgebra
import Tensors
import Testing

@Suite struct TensorLinearAlgebraTests {
    /// max |(A·B)ᵢⱼ − δᵢⱼ| over every matrix of a `[..., n, n]` product.
    func distanceFromIdentity(_ product: Tensor) -> Float {
        let n = product.shape[product.rank - 1]
        var worst: Float = 0
        for (i, x) in product.scalars.enumerated() {
            let (row, column) = ((i / n) % n, i % n)
            worst = max(worst, abs(x - (row == column ? 1 : 0)))
        }
        return worst
    }

    func expectError<R>(_ body: () throws -> R, sourceLocation: SourceLocation = #_sourceLocation,
                        matches: (LinearAlgebraError) -> Bool) {
        do {
            _ = try body()
            Issue.record("expected a LinearAlgebraError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as LinearAlgebraError {
            #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a LinearAlgebraError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [1, 2, 3, 5, 8, 16, 32])
    func inverseTimesMatrixIsIdentity(size n: Int) throws {
        var rng = SeededGenerator(seed: UInt64(n))
        let a = try Tensor.randomWellConditioned(n, maxConditionNumber: 100, rng: &rng)
        #expect(a.shape == [n, n])
        let inv = try a.inverse()
        #expect(inv.shape == [n, n])
        #expect(distanceFromIdentity(a.matmul(inv)) < 1e-4)
        #expect(distanceFromIdentity(inv.matmul(a)) < 1e-4)
    }

    @Test func batchedInverseInvertsEachMatrix() throws {
        var rng = SeededGenerator(seed: 3)
        let n = 4
        var scalars: [Float] = []
        for _ in 0..<6 { scalars += try Tensor.randomWellConditioned(n, maxConditionNumber: 20, rng: &rng).scalars }
        let a = Tensor(shape: [2, 3, n, n], scalars: scalars)
        let inv = try a.inverse()
        #expect(inv.shape == [2, 3, n, n])
        #expect(distanceFromIdentity(Tensor.matmul(a, inv)) < 1e-4)
        // Each slice is inverted on its own, exactly as the unbatched call does it.
        let flat = a.reshaped([6, n, n]), flatInverse = inv.reshaped([6, n, n])
        for i in 0..<6 {
            let single = try flat.slice(axis: 0, i..<(i + 1)).reshaped([n, n]).inverse()
            #expect(flatInverse.slice(axis: 0, i..<(i + 1)).reshaped([n, n]) == single)
        }
    }

    @Test func solveWithMatrixAndVectorRightHandSides() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 7
        let a = try Tensor.randomWellConditioned(n, maxConditionNumber: 100, rng: &rng)
        let b = Tensor.normal([n, 3], rng: &rng)
        let x = try a.solve(b)
        #expect(x.shape == [n, 3])
        #expect(a.matmul(x).maxAbsDifference(b) < 1e-4)
        let v = Tensor.normal([n], rng: &rng)
        let y = try a.solve(v)
        #expect(y.shape == [n])
        #expect(a.matmul(y.reshaped([n, 1])).reshaped([n]).maxAbsDifference(v) < 1e-4)
        // Batched: [2, n, n] with [2, n, 2].
        let batchA = Tensor(shape: [2, n, n], scalars: a.scalars + (a * 2).scalars)
        let batchB = Tensor.normal([2, n, 2], rng: &rng)
        let batchX = try batchA.solve(batchB)
        #expect(Tensor.matmul(batchA, batchX).maxAbsDifference(batchB) < 1e-4)
    }

    @Test func slogdetOfKnownMatrix() throws {
        let (sign, logAbsDet) = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).slogdet()
        #expect(sign == -1)
        #expect(abs(logAbsDet - Float(log(2.0))) < 1e-6)
        let scaled = try (Tensor(shape: [3, 3], scalars: [2, 0, 0, 0, 3, 0, 0, 0, 0.5])).slogdet()
        #expect(scaled.sign == 1)
        #expect(abs(scaled.logAbsDet - Float(log(3.0))) < 1e-6)
    }

    @Test(arguments: 0..<20)
    func randomWellConditionedRespectsBound(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(seed))
        let n = 2 + seed % 15
        let a = try Tensor.randomWellConditioned(n, maxConditionNumber: 100, rng: &rng)
        let measured = try a.conditionNumber()
        // Float rounding moves the singular values by about n·6e-8·κ (see the doc comment).
        #expect(measured <= 100 * (1 + 1e-3))
        #expect(measured >= 1)
    }

    @Test func randomOrthogonalIsOrthogonalAndDeterministic() {
        var rng = SeededGenerator(seed: 8)
        let q = Tensor.randomOrthogonal(12, rng: &rng)
        #expect(distanceFromIdentity(Tensor.matmul(q, transposeA: true, q)) < 1e-5)
        var again = SeededGenerator(seed: 8)
        #expect(Tensor.randomOrthogonal(12, rng: &again) == q)
        var other = SeededGenerator(seed: 9)
        #expect(Tensor.randomOrthogonal(12, rng: &other) != q)
    }

    @Test func randomWellConditionedIsDeterministic() throws {
        var first = SeededGenerator(seed: 21), second = SeededGenerator(seed: 21)
        let a = try Tensor.randomWellConditioned(9, maxConditionNumber: 50, rng: &first)
        let b = try Tensor.randomWellConditioned(9, maxConditionNumber: 50, rng: &second)
        #expect(a == b)
        expectError({ try Tensor.randomWellConditioned(3, maxConditionNumber: 0.5, rng: &first) }) {
            if case .invalidArgument = $0 { true } else { false }
        }
    }

    @Test func conditionNumberThroughTensor() throws {
        #expect(try Tensor(shape: [2, 2], scalars: [4, 0, 0, -0.5]).conditionNumber() == 8)
        #expect(try Tensor(zeros: [3, 3]).conditionNumber() == .infinity)
        expectError({ try Tensor(zeros: [2, 2, 2]).conditionNumber() }) {
            if case .shapeMismatch = $0 { true } else { false }
        }
    }

    @Test func errorsPropagateAsLinearAlgebraError() {
        let singular = Tensor(shape: [2, 2], scalars: [1, 2, 2, 4])
        expectError({ try singular.inverse() }) { if case .singular = $0 { true } else { false } }
        expectError({ try singular.slogdet() }) { if case .singular = $0 { true } else { false } }
        // In a batch, the failing matrix is named.
        let batch = Tensor(shape: [2, 2, 2], scalars: [1, 0, 0, 1] + singular.scalars)
        expectError({ try batch.inverse() }) {
            if case .singular(_, let detail) = $0 { detail.contains("batch matrix 1") } else { false }
        }
        let withNaN = Tensor(shape: [2, 2], scalars: [1, .nan, 0, 1])
        #expect(throws: LinearAlgebraError.nonFinite(operation: "inverse")) { try withNaN.inverse() }
        #expect(throws: LinearAlgebraError.nonFinite(operation: "slogdet")) { try withNaN.slogdet() }
        #expect(throws: LinearAlgebraError.nonFinite(operation: "solve")) { try withNaN.solve(Tensor([1, 1])) }
        let isShape: (LinearAlgebraError) -> Bool = { if case .shapeMismatch = $0 { true } else { false } }
        expectError({ try Tensor(zeros: [2, 3]).inverse() }, matches: isShape)
        expectError({ try Tensor(zeros: [3]).inverse() }, matches: isShape)
        expectError({ try Tensor(zeros: [2, 2, 2]).slogdet() }, matches: isShape)
        expectError({ try Tensor(ones: [2, 2]).solve(Tensor(zeros: [3, 1])) }, matches: isShape)
        expectError({ try Tensor(ones: [2, 2, 2]).solve(Tensor(zeros: [3, 2, 1])) }, matches: isShape)
    }

    @Test func inverseWithConditionLimitThroughTensor() throws {
        let nearlySingular = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1e-7])
        expectError({ try nearlySingular.inverse(checkingConditionBelow: 1e4) }) {
            if case .illConditioned(let kappa, let limit) = $0 { kappa > 1e6 && limit == 1e4 } else { false }
        }
        let inverse = try nearlySingular.inverse(checkingConditionBelow: 1e8)
        #expect(abs(inverse[1, 1] - 1e7) < 1)
    }

    @Test func inverseThatOverflowsFloatThrows() {
        // A Float subnormal (2⁻¹³⁰): its inverse, 2¹³⁰, is finite in Double but not in Float.
        expectError({ try Tensor(shape: [1, 1], scalars: [Float.leastNormalMagnitude / 16]).inverse() }) { $0 == .overflow(operation: "inverse") }
    }

    @Test func tensorFromMatrix() {
        let t = Tensor(Matrix(rows: 2, columns: 3, scalars: [1, 2, 3, 4, 5, 6]))
        #expect(t.shape == [2, 3])
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
    }
}
