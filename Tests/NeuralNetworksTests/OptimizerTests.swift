import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks

/// A module with one parameter, for checking update rules against hand-computed values.
final class Scalar: Module {
    let w: Parameter
    init(_ v: Float) { w = Parameter(Tensor([v])); super.init() }
}

@Suite struct OptimizerTests {
    func step(_ opt: Optimizer, _ m: Scalar, grad: Float) {
        opt.step(m, gradients: ["w": Tensor([grad])])
    }

    @Test func sgdWithMomentumMatchesHandComputation() {
        let m = Scalar(1)
        let opt = SGD(learningRate: 0.1, momentum: 0.9)
        step(opt, m, grad: 1)          // v = 1, w = 1 − 0.1
        #expect(abs(m.w.value.scalar - 0.9) < 1e-6)
        step(opt, m, grad: 1)          // v = 1.9, w = 0.9 − 0.19
        #expect(abs(m.w.value.scalar - 0.71) < 1e-6)
    }

    @Test func adamFirstStepMovesByLearningRate() {
        // With bias correction, Adam's first step is −η·sign(g) (up to ε).
        let m = Scalar(0)
        let opt = Adam(learningRate: 0.01)
        step(opt, m, grad: 123)
        #expect(abs(m.w.value.scalar + 0.01) < 1e-6)
    }

    @Test func adamWDecaysWeightsWithoutGradient() {
        let m = Scalar(2)
        let opt = AdamW(learningRate: 0.1, weightDecay: 0.5)
        step(opt, m, grad: 0)          // w ← w − ηλw = 2 − 0.1 (m̂ = 0)
        #expect(abs(m.w.value.scalar - 1.9) < 1e-6)
    }

    @Test func rmspropMatchesHandComputation() {
        let m = Scalar(1)
        let opt = RMSProp(learningRate: 0.01, alpha: 0.9, epsilon: 0)
        step(opt, m, grad: 2)          // s = 0.1·4 = 0.4, w = 1 − 0.01·2/√0.4
        let expected: Float = 1 - 0.02 / Float(0.4).squareRoot()
        #expect(abs(m.w.value.scalar - expected) < 1e-6)
    }

    @Test func everyOptimizerMinimisesAQuadratic() {
        // Minimise ‖w − t‖² from the tape's gradients; each optimizer must get close.
        let target = Tensor([1, -2, 3])
        let makers: [(String, () -> Optimizer)] = [
            ("sgd", { SGD(learningRate: 0.1) }), ("momentum", { SGD(learningRate: 0.05, momentum: 0.9) }),
            ("adam", { Adam(learningRate: 0.1) }), ("adamw", { AdamW(learningRate: 0.1, weightDecay: 0) }),
            ("rmsprop", { RMSProp(learningRate: 0.05) }),
        ]
        for (name, make) in makers {
            let m = Scalar(0)
            m.w.value = Tensor(zeros: [3])
            let opt = make()
            for _ in 0..<300 {
                let (_, g) = m.lossAndGradients { tape in
                    let d = tape.watch(m.w) - tape.constant(target)
                    return (d * d).sum()
                }
                opt.step(m, gradients: g)
            }
            #expect(m.w.value.maxAbsDifference(target) < 0.05, "\(name) ended at \(m.w.value)")
        }
    }

    @Test func warmupCosineScheduleShape() {
        let s = WarmupCosineSchedule(base: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.01, warmupStartFactor: 0.1)
        #expect(abs(s.learningRate(at: 0) - 0.1) < 1e-6)
        #expect(abs(s.learningRate(at: 10) - 1) < 1e-6)
        #expect(abs(s.learningRate(at: 60) - 0.505) < 1e-4)
        #expect(abs(s.learningRate(at: 110) - 0.01) < 1e-6)
        #expect(abs(s.learningRate(at: 500) - 0.01) < 1e-6)
        for k in 10..<110 { #expect(s.learningRate(at: k + 1) <= s.learningRate(at: k) + 1e-7) }
    }

    @Test func optimizerStateRoundTrips() {
        let m = Scalar(1), opt = Adam(learningRate: 0.1)
        step(opt, m, grad: 1); step(opt, m, grad: -2)
        let saved = opt.stateTensors, steps = opt.stepCount, w = m.w.value
        let m2 = Scalar(0); m2.w.value = w
        let opt2 = Adam(learningRate: 0.1)
        opt2.restore(stateTensors: saved, stepCount: steps)
        step(opt, m, grad: 0.5); step(opt2, m2, grad: 0.5)
        #expect(m.w.value == m2.w.value)
    }
}
