import Testing
import Foundation
import Tensors

@Suite struct VectorExpTests {
    func exp(_ xs: [Float]) -> [Float] {
        var out = [Float](repeating: -1, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { VectorExp.exp(x.baseAddress!, into: $0.baseAddress!, count: xs.count) }
        }
        return out
    }

    /// Against Double-precision exp over the whole finite range, the ends and the specials.
    @Test func matchesDoublePrecisionExp() {
        var rng = SeededGenerator(seed: 8)
        var xs: [Float] = (0..<20_000).map { _ in Float.random(in: -87...88.7, using: &rng) }
        xs += (0..<5_000).map { _ in Float.random(in: -2...2, using: &rng) }
        xs += [0, -0, 1e-30, -1e-8, 1, -1, 0.346_5, -0.346_6, -86.9, -87, 88, 88.7]
        var relative: Double = 0
        for (x, got) in zip(xs, exp(xs)) {
            let exact = Foundation.exp(Double(x))
            relative = max(relative, abs(Double(got) - exact) / exact)
        }
        // Measured: 1.5e-7.
        #expect(relative <= 2e-7, "largest relative error \(relative)")
        let specials = exp([-87.5, -1e30, -.infinity, 88.8, 1e30, .infinity, .nan])
        #expect(specials[0..<3].allSatisfy { $0 == 0 })
        #expect(specials[3..<6].allSatisfy { $0 == .infinity })
        #expect(specials[6].isNaN)
    }

    /// A value's result does not depend on where it sits in the buffer (tails are padded lanes).
    @Test func resultIndependentOfPosition() {
        var rng = SeededGenerator(seed: 9)
        let values: [Float] = (0..<29).map { _ in Float.random(in: -20...20, using: &rng) }
        let whole = exp(values)
        for start in 0..<values.count {
            let part = exp(Array(values[start...]))
            for k in 0..<part.count { #expect(part[k].bitPattern == whole[start + k].bitPattern) }
        }
    }
}
