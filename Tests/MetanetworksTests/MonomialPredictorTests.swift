import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

struct MonomialInvarianceCase: CustomStringConvertible, Sendable {
    var architecture: MonomialTestArchitecture
    var kind: MonomialGroupKind
    var activation: MonomialNonlinearity.Function
    var scaleRange: (Float, Float)
    var description: String { "\(architecture) \(kind.rawValue)/\(activation.rawValue) \(scaleRange)" }
}

let monomialInvarianceCases: [MonomialInvarianceCase] = MonomialTestArchitecture.allCases.flatMap { a in
    [MonomialInvarianceCase(architecture: a, kind: .positiveScaling, activation: .relu, scaleRange: (0.5, 2)),
     MonomialInvarianceCase(architecture: a, kind: .positiveScaling, activation: .relu, scaleRange: (1, 10)),
     MonomialInvarianceCase(architecture: a, kind: .sign, activation: .tanh, scaleRange: (1, 1)),
     MonomialInvarianceCase(architecture: a, kind: .sign, activation: .sine, scaleRange: (1, 1))]
}

@Suite struct MonomialPredictorTests {
    static func model(_ a: MonomialTestArchitecture, _ kind: MonomialGroupKind, _ f: MonomialNonlinearity.Function,
                      seed: UInt64 = 1) throws -> MonomialPredictor {
        var rng = SeededGenerator(seed: seed)
        return try MonomialPredictor(architecture: a.architecture,
                                     configuration: .init(kind: kind, inputChannels: 1, hiddenChannels: [4, 5, 3],
                                                          activation: f, headWidth: 16, outputs: 2),
                                     rng: &rng)
    }

    @Test(arguments: monomialInvarianceCases)
    func predictorIsInvariant(_ c: MonomialInvarianceCase) throws {
        let m = try Self.model(c.architecture, c.kind, c.activation)
        var rng = SeededGenerator(seed: 2)
        let u = monomialRandomFeatures(c.architecture.architecture, batch: 3, channels: 1, rng: &rng)
        let dev = try monomialInvarianceDeviation(c.architecture.architecture, input: u, kind: c.kind.neuronGroupKind,
                                                  scaleRange: c.scaleRange) { m.predict($0) }
        #expect(dev <= 1e-4, "\(c): \(dev)")
        // The pooled features themselves are invariant too (not only after the MLP).
        let pooled = try monomialInvarianceDeviation(c.architecture.architecture, input: u, kind: c.kind.neuronGroupKind,
                                                     scaleRange: c.scaleRange) { m.pooledFeatures(WeightSpaceVariables($0)).value }
        #expect(pooled <= 1e-4, "\(c) pooled: \(pooled)")
    }

    @Test(arguments: MonomialTestArchitecture.allCases)
    func controlsAreNotInvariant(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 3)
        let u = monomialRandomFeatures(a.architecture, batch: 3, channels: 1, rng: &rng)
        // The sign model (|x| canonicalisation) is not scale invariant.
        let sign = try Self.model(a, .sign, .tanh)
        let d1 = try monomialInvarianceDeviation(a.architecture, input: u, kind: .positiveScaling, scaleRange: (0.5, 2)) { sign.predict($0) }
        #expect(d1 >= 1e-2, "\(a): sign model looked scale invariant (\(d1))")
        // The positive-scaling model (ReLU) is not sign invariant.
        let pos = try Self.model(a, .positiveScaling, .relu)
        let d2 = try monomialInvarianceDeviation(a.architecture, input: u, kind: .signFlip) { pos.predict($0) }
        #expect(d2 >= 1e-2, "\(a): ReLU model looked sign invariant (\(d2))")
        // Neither is invariant to permuting input/output neurons (NP): the IO indices are kept.
        let d3 = try monomialInvarianceDeviation(a.architecture, input: u, kind: .allPermutation) { pos.predict($0) }
        #expect(d3 >= 1e-2, "\(a): model looked NP invariant (\(d3))")
    }

    @Test func rejectsActivationsThatBreakTheGroup() {
        var rng = SeededGenerator(seed: 4)
        #expect(throws: ModuleError.self) {
            try MonomialPredictor(architecture: .smallCNNZoo(), configuration: .init(kind: .positiveScaling, activation: .tanh), rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try MonomialPredictor(architecture: .smallCNNZoo(), configuration: .init(kind: .sign, activation: .relu), rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try MonomialPredictor(architecture: .smallCNNZoo(), configuration: .init(hiddenChannels: []), rng: &rng)
        }
    }

    @Test(arguments: [MonomialTestArchitecture.smallCNNZoo, .mlp2, .mlp4], MonomialGroupKind.allCases)
    func gradientsMatchFiniteDifferences(_ a: MonomialTestArchitecture, _ kind: MonomialGroupKind) throws {
        let m = try Self.model(a, kind, .default(for: kind))
        var rng = SeededGenerator(seed: 5)
        let u = monomialRandomFeatures(a.architecture, batch: 2, channels: 1, rng: &rng)
        let l = a.architecture.layerCount
        // ε = 1e-3: the features have many small entries near ReLU kinks and near the norm's
        // steep region, which a 1e-2 step crosses.
        let inputs = checkGradient(at: u.weights + u.biases, epsilon: 1e-3, maxEntries: 16) { vars in
            m(WeightSpaceVariables(weights: Array(vars[..<l]), biases: Array(vars[l...])))
        }
        #expect(inputs.maxRelativeError <= 2e-2, "\(a) \(kind) inputs: \(inputs)")
        // Every parameter tensor: the first layer, the pool's affine maps, the head.
        let params = monomialParameterGradientError(m.parameters, epsilon: 1e-4, maxEntries: 6) { tape in
            m(WeightSpaceVariables(u, tape: tape))
        }
        #expect(params <= 2e-2, "\(a) \(kind) parameters: \(params)")
    }

    @Test func poolWidthMatchesTheReference() throws {
        // HNPSPool.get_num_outs for the Small CNN Zoo: (1·9 + 1) + 2·(9 + 1) + (10·1 + 10) = 50.
        let pool = try MonomialInvariantPool(channels: 5, architecture: .smallCNNZoo(), kind: .positiveScaling)
        #expect(pool.valuesPerChannel == 50)
        #expect(pool.outputCount == 250)
    }

    @Test func trainsOnTheTape() throws {
        // One Adam-free SGD step on a toy target lowers the loss: parameters are discoverable and
        // get gradients through the whole model.
        let m = try Self.model(.mlp3, .positiveScaling, .relu)
        var rng = SeededGenerator(seed: 6)
        let u = monomialRandomFeatures(MonomialTestArchitecture.mlp3.architecture, batch: 4, channels: 1, rng: &rng)
        let target = Tensor.normal([4, 2], rng: &rng)
        func loss(_ tape: Tape?) -> Variable { (m(WeightSpaceVariables(u, tape: tape)) - Variable(target)).squared().mean() }
        let before = loss(nil).value.scalar
        let tape = Tape()
        let grads = tape.gradients(of: loss(tape))
        for p in m.parameters { p.value.addScaled(grads[p], alpha: -0.05) }
        #expect(loss(nil).value.scalar < before)
        #expect(m.parameters.allSatisfy { grads.contains($0) })
    }

    /// The doc-comment example of ``MonomialPredictor``.
    @Test func docExampleCompiles() throws {
        var data = SeededGenerator(seed: 8)
        let features = monomialRandomFeatures(.smallCNNZoo(), batch: 2, channels: 1, rng: &data)
        var rng = SeededGenerator(seed: 0)
        let model = try MonomialPredictor(architecture: .smallCNNZoo(),
                                          configuration: .init(kind: .positiveScaling, hiddenChannels: [16, 16, 16]),
                                          rng: &rng)
        let accuracy = model(WeightSpaceVariables(features)).sigmoid()   // [B, 1]
        #expect(accuracy.shape == [2, 1])
    }
}
