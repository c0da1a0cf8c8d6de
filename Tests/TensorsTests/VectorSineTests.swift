import XCTest
import Foundation
@testable import Tensors

final class VectorSineTests: XCTestCase {
    /// Against Double-precision sin/cos over the range SIREN pre-activations use and beyond the
    /// reduction limit (where the kernel falls back to Foundation).
    func testMatchesDoublePrecisionSineAndCosine() {
        var rng = SeededGenerator(seed: 3)
        var xs: [Float] = (0..<20_000).map { _ in Float.random(in: -200...200, using: &rng) }
        xs += (0..<2_000).map { _ in Float.random(in: -8192...8192, using: &rng) }
        xs += [0, -0, .pi, -.pi, .pi / 2, 1e-30, 8191.9, 8192.5, 1e6, -3e7]
        let x = Tensor(xs)
        let s = x.sin(), c = x.cos()
        var worst: Double = 0
        for (i, v) in xs.enumerated() {
            worst = max(worst, abs(Double(s[flat: i]) - Foundation.sin(Double(v))), abs(Double(c[flat: i]) - Foundation.cos(Double(v))))
        }
        XCTAssertLessThan(worst, 4e-7, "largest absolute error \(worst)")
    }

    /// A value's result does not depend on where it sits in the buffer (tail padding, lane position).
    func testResultIndependentOfPosition() {
        var rng = SeededGenerator(seed: 5)
        let values: [Float] = (0..<37).map { _ in Float.random(in: -60...60, using: &rng) }
        let whole = Tensor(values).sin()
        for start in 0..<values.count {
            let part = Tensor(Array(values[start...])).sin()
            for k in 0..<part.count { XCTAssertEqual(part[flat: k].bitPattern, whole[flat: start + k].bitPattern) }
        }
    }

    /// The fused bias + ω₀ + sincos pass against the tensor operations it replaces (add the bias,
    /// scale, sin, cos): the same bits, for widths that do and do not fill the eight lanes, with
    /// elements beyond the reduction limit and NaN (recomputed from the input).
    func testRowsWithBiasAndScaleMatchTheSeparateOperations() {
        var rng = SeededGenerator(seed: 13)
        for width in [1, 5, 8, 13, 32] {
            let rows = 7
            var x = Tensor.normal([rows, width], rng: &rng) * 3
            let b = Tensor.normal([width], rng: &rng)
            x[flat: 0] = 400          // ω₀·(x + b) beyond the reduction limit
            x[flat: x.count - 1] = .nan
            let pre = (x + b) * Float(30)
            let sine = pre.sin(), cosine = pre.cos()
            var s = Tensor(zeros: [rows, width]), c = Tensor(zeros: [rows, width])
            x.withUnsafeBufferPointer { xp in
                b.withUnsafeBufferPointer { bp in
                    s.withUnsafeMutableBufferPointer { sp in
                        c.withUnsafeMutableBufferPointer { cp in
                            VectorSine.sincos(rows: xp.baseAddress!, bias: bp.baseAddress!, scale: 30, rowCount: rows,
                                              width: width, sine: sp.baseAddress!, cosine: cp.baseAddress!)
                        }
                    }
                }
            }
            XCTAssertEqual(s.scalars.map(\.bitPattern), sine.scalars.map(\.bitPattern), "width \(width)")
            XCTAssertEqual(c.scalars.map(\.bitPattern), cosine.scalars.map(\.bitPattern), "width \(width)")
            XCTAssertTrue(s[flat: x.count - 1].isNaN)
            // The Swift lanes (what a CPU without AVX2 runs; the call above ran the C lanes on
            // one with it): the same bits in range, and the two elements out of range reported.
            var ps = Tensor(zeros: [rows, width]), pc = Tensor(zeros: [rows, width])
            let allInRange = x.withUnsafeBufferPointer { xp in
                b.withUnsafeBufferPointer { bp in
                    ps.withUnsafeMutableBufferPointer { sp in
                        pc.withUnsafeMutableBufferPointer { cp in
                            VectorSine.portableLanes(rows: xp.baseAddress!, bias: bp.baseAddress!, scale: 30, rowCount: rows,
                                                     width: width, sine: sp.baseAddress!, cosine: cp.baseAddress!)
                        }
                    }
                }
            }
            XCTAssertFalse(allInRange)
            for i in 1..<(x.count - 1) {
                XCTAssertEqual(ps[flat: i].bitPattern, sine[flat: i].bitPattern, "width \(width), element \(i)")
                XCTAssertEqual(pc[flat: i].bitPattern, cosine[flat: i].bitPattern, "width \(width), element \(i)")
            }
        }
    }

    func testNonFiniteInputs() {
        let s = Tensor([.nan, .infinity, -.infinity]).sin()
        for i in 0..<3 { XCTAssertTrue(s[flat: i].isNaN) }
    }

    func testPullbackKernelsMatchProducts() {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.normal([3, 11], rng: &rng) * 20
        let g = Tensor.normal([3, 11], rng: &rng)
        XCTAssertEqual(g.multipliedByCosine(of: x).scalars, (g * x.cos()).scalars)
        XCTAssertEqual(g.multipliedByNegativeSine(of: x).scalars, (-(g * x.sin())).scalars)
    }
}
