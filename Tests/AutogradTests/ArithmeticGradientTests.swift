import Testing
import Tensors
import Autograd
import _TestSupport

@Suite struct ArithmeticGradientSmokeTests {
    @Test func matmulAndBroadcastAddGradients() {
        let cases = [
            GradientCase("add broadcast", shapes: [[3, 4], [4]]) { $0[0] + $0[1] },
            GradientCase("mul broadcast", shapes: [[2, 3, 4], [3, 1]]) { $0[0] * $0[1] },
            GradientCase("matmul", shapes: [[3, 5], [5, 2]]) { Variable.matmul($0[0], $0[1]) },
            GradientCase("matmul batched×2D transposeB", shapes: [[2, 3, 5], [4, 5]]) {
                Variable.matmul($0[0], $0[1], transposeB: true)
            },
            GradientCase("matmul transposeA batched", shapes: [[2, 5, 3], [2, 5, 4]]) {
                Variable.matmul($0[0], transposeA: true, $0[1])
            },
        ]
        for c in cases {
            let r = c.run()
            #expect(r.maxRelativeError < c.tolerance, "\(c.name): \(r)")
        }
    }

    @Test func wrongDerivativeIsDetected() {
        // A deliberately wrong pullback must fail the checker: proof the check can fail.
        let r = checkGradient(at: [Tensor([1, 2, 3])]) { v in
            Variable.record(v[0].value * v[0].value, inputs: [v[0]]) { g in [g] }   // should be 2x·g
        }
        #expect(r.maxRelativeError > 0.5)
    }
}
