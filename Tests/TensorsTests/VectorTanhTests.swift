import Testing
import Foundation
@testable import Tensors

@Suite struct VectorTanhTests {
    /// Against Double-precision tanh: absolute error everywhere, relative error where the
    /// polynomial branch runs (|x| < 0.625), both sides of the branch point and far out.
    @Test func matchesDoublePrecisionTanh() {
        var rng = SeededGenerator(seed: 4)
        var xs: [Float] = (0..<20_000).map { _ in Float.random(in: -12...12, using: &rng) }
        xs += (0..<5_000).map { _ in Float.random(in: -0.7...0.7, using: &rng) }
        xs += [0, -0, 1e-30, -1e-30, 1e-8, 0.624_999_9, 0.625, -0.625, 9, 20, 44, 45, 88, 1e10, -1e30, .greatestFiniteMagnitude]
        let t = Tensor(xs).tanh()
        var absolute: Double = 0, relative: Double = 0
        for (i, v) in xs.enumerated() {
            let exact = Foundation.tanh(Double(v)), got = Double(t[flat: i])
            absolute = max(absolute, abs(got - exact))
            if abs(v) < 0.625, exact != 0 { relative = max(relative, abs(got - exact) / abs(exact)) }
            #expect(abs(got) <= 1)
        }
        #expect(absolute <= 3e-7, "largest absolute error \(absolute)")
        #expect(relative <= 3e-7, "largest relative error below 0.625: \(relative)")
    }

    /// tanh(−x) = −tanh(x) bit for bit (sign-flip symmetry of tanh networks is checked exactly).
    @Test func exactlyOdd() {
        var rng = SeededGenerator(seed: 6)
        let values: [Float] = (0..<4_001).map { _ in Float.random(in: -30...30, using: &rng) }
        let plus = Tensor(values).tanh(), minus = Tensor(values.map { -$0 }).tanh()
        for i in values.indices { #expect(minus[flat: i].bitPattern == (-plus[flat: i]).bitPattern) }
    }

    /// A value's result does not depend on where it sits in the buffer.
    @Test func resultIndependentOfPosition() {
        var rng = SeededGenerator(seed: 7)
        let values: [Float] = (0..<29).map { _ in Float.random(in: -3...3, using: &rng) }
        let whole = Tensor(values).tanh()
        for start in 0..<values.count {
            let part = Tensor(Array(values[start...])).tanh()
            for k in 0..<part.count { #expect(part[flat: k].bitPattern == whole[flat: start + k].bitPattern) }
        }
    }

    @Test func nonFiniteInputs() {
        let t = Tensor([.nan, .infinity, -.infinity, -.nan]).tanh()
        #expect(t[flat: 0].isNaN && t[flat: 3].isNaN)
        #expect(t[flat: 1] == 1 && t[flat: 2] == -1)
    }
}
