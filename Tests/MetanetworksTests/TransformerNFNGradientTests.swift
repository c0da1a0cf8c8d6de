import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra
@testable import Metanetworks
import _TestSupport

/// Finite-difference gradient checks (D = 4, h = 2, D_k = D_v = 2, D_A = 6 for speed).
@Suite("Transformer-NFN gradients")
struct TransformerNFNGradientTests {
    static let d = TNFNFixture.Dims.small

    @Test("TransformerNFNLinear: gradient with respect to the inputs")
    func linearInputs() {
        var rng = SeededGenerator(seed: 30)
        let layer = TransformerNFNLinear(inChannels: 2, outChannels: 2, modelDimension: Self.d.model, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: 2, Self.d, rng: &rng)
        let r = checkGradient(at: u.tensors, maxEntries: 24) { v in
            TNFNFixture.flatten(layer(TransformerBlockVariables(variables: v)))
        }
        #expect(r.maxRelativeError <= 2e-2, "\(r)")
    }

    @Test("TransformerNFNLinear: gradient with respect to every parameter")
    func linearParameters() {
        var rng = SeededGenerator(seed: 31)
        let layer = TransformerNFNLinear(inChannels: 2, outChannels: 2, modelDimension: Self.d.model, rng: &rng)
        // Larger weights so that every term matters against the finite-difference noise.
        for p in layer.parameters { p.value = Tensor.normal(p.shape, std: 0.3, rng: &rng) }
        let u = TNFNFixture.block(batch: 2, channels: 2, Self.d, rng: &rng)
        let err = TNFNFixture.parameterGradientError(layer) { tape in
            TNFNFixture.flatten(layer(TransformerBlockVariables(u, tape: tape)))
        }
        #expect(err <= 2e-2, "max rel. error \(err)")
    }

    @Test("TransformerNFNInvariant: gradients with respect to inputs and parameters")
    func invariant() {
        var rng = SeededGenerator(seed: 32)
        let layer = TransformerNFNInvariant(inChannels: 2, outChannels: 3, modelDimension: Self.d.model, rng: &rng)
        for p in layer.parameters { p.value = Tensor.normal(p.shape, std: 0.3, rng: &rng) }
        let u = TNFNFixture.block(batch: 2, channels: 2, Self.d, rng: &rng)
        let r = checkGradient(at: u.tensors, maxEntries: 24) { v in layer(TransformerBlockVariables(variables: v)) }
        #expect(r.maxRelativeError <= 2e-2, "\(r)")
        let err = TNFNFixture.parameterGradientError(layer) { tape in layer(TransformerBlockVariables(u, tape: tape)) }
        #expect(err <= 2e-2, "max rel. error \(err)")
    }

    @Test("TransformerNFNPredictor: parameter gradients end to end")
    func predictor() throws {
        var rng = SeededGenerator(seed: 33)
        let arch = TNFNFixture.architecture(Self.d)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [3]                     // E ≥ 3: a LayerNorm over 2 values is constant (±1)
        cfg.sigmoidOutput = false
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 2, std: 0.5, rng: &rng)
        // ReLU kinks and LayerNorms: steps 1e-2 and 1e-3 (see parameterGradientError).
        let err = TNFNFixture.parameterGradientError(predictor, maxEntries: 6, epsilons: [1e-2, 1e-3]) { tape in
            predictor(TransformerWeightSpaceVariables(zoo, tape: tape))
        }
        #expect(err <= 2e-2, "max rel. error \(err)")
    }

    @Test("Variable.batchedInverse: gradient (dA = −A⁻ᵀ G A⁻ᵀ)")
    func inverseGradient() {
        let cases = [
            GradientCase("inverse 3×3", shapes: [[3, 3]], epsilon: 1e-3, transform: { _, t in t * 0.3 + Tensor.identity(3) * 2 }) { v in
                try! v[0].batchedInverse()
            },
            GradientCase("inverse batch [2, 3, 4, 4]", shapes: [[2, 3, 4, 4]], epsilon: 1e-3,
                         transform: { _, t in t * 0.3 + Tensor.identity(4) * 2 }) { v in
                try! v[0].batchedInverse(conditionLimit: 1e4)
            },
        ]
        for c in cases {
            let r = c.run(seed: 5)
            #expect(r.maxRelativeError <= c.tolerance, "\(c): \(r)")
        }
    }

    @Test("Variable.batchedInverse: value, and errors on singular or ill-conditioned input")
    func inverseErrors() throws {
        var rng = SeededGenerator(seed: 34)
        let a = Tensor.normal([3, 4, 4], rng: &rng) + Tensor.identity(4) * 3
        let inv = try Variable(a).batchedInverse().value
        let eye = Tensor.matmul(a, inv)
        for i in 0..<3 {
            #expect(eye.slice(axis: 0, i..<(i + 1)).reshaped([4, 4]).maxAbsDifference(Tensor.identity(4)) <= 1e-4)
        }
        #expect(throws: LinearAlgebraError.self) { try Variable(Tensor(zeros: [2, 3, 3])).batchedInverse() }
        let illConditioned = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1e-6])
        #expect(throws: LinearAlgebraError.self) { try Variable(illConditioned).batchedInverse(conditionLimit: 1e4) }
        #expect((try? Variable(illConditioned).batchedInverse()) != nil)
    }

    @Test("Doc example: batchedInverse")
    func docInverse() throws {
        let tape = Tape()
        let a = tape.variable(Tensor(shape: [2, 2], scalars: [2, 1, 1, 3]))
        let aInv = try a.batchedInverse(conditionLimit: 1e4)
        let grads = tape.gradients(of: aInv.sum())
        // d Σ(A⁻¹) / dA = −A⁻ᵀ 1 1ᵀ A⁻ᵀ; A⁻¹ = [[0.6, −0.2], [−0.2, 0.4]], column sums 0.4, 0.2.
        let expected = Tensor(shape: [2, 2], scalars: [-0.16, -0.08, -0.08, -0.04])
        #expect(grads[a].maxAbsDifference(expected) <= 1e-5)
    }
}
