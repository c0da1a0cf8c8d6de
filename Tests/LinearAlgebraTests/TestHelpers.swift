import LinearAlgebra
import Testing

/// A small deterministic generator (SplitMix64) so these tests need nothing outside LinearAlgebra.
struct TestRNG: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Row-major product by the definition, in any floating-point type: the reference for BLAS.
func naiveProduct<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], m: Int, k: Int, n: Int) -> [T] {
    var c = [T](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum: T = 0
            for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
            c[i * n + j] = sum
        }
    }
    return c
}

/// max |(A·B)ᵢⱼ − δᵢⱼ| for square row-major A and B of size n.
func distanceFromIdentity<T: BinaryFloatingPoint>(_ a: [T], times b: [T], n: Int) -> T {
    let p = naiveProduct(a, b, m: n, k: n, n: n)
    var worst: T = 0
    for i in 0..<n { for j in 0..<n { worst = max(worst, abs(p[i * n + j] - (i == j ? 1 : 0))) } }
    return worst
}

/// Runs `body`, expecting it to throw a `LinearAlgebraError` for which `matches` is true.
func expectLinearAlgebraError<R>(
    _ body: () throws -> R,
    sourceLocation: SourceLocation = #_sourceLocation,
    matches: (LinearAlgebraError) -> Bool
) {
    do {
        _ = try body()
        Issue.record("expected a LinearAlgebraError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as LinearAlgebraError {
        #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a LinearAlgebraError, got \(error)", sourceLocation: sourceLocation)
    }
}
