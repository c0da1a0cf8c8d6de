import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

@Suite struct QuasiMonomialTests {
    static func layer(_ a: MonomialTestArchitecture, inChannels: Int = 1, outChannels: Int = 3, gamma: Float = 0.5,
                      seed: UInt64 = 1) throws -> QuasiMonomialLayer {
        var rng = SeededGenerator(seed: seed)
        let e = try MonomialLinear(inChannels: inChannels, outChannels: outChannels, architecture: a.architecture,
                                   kind: .positiveScaling, rng: &rng)
        return try QuasiMonomialLayer(e, initialGamma: gamma, rng: &rng)
    }

    // MARK: Statistics

    @Test(arguments: MonomialTestArchitecture.allCases)
    func statisticsMatchLayerStatistics(_ a: MonomialTestArchitecture) {
        var rng = SeededGenerator(seed: 2)
        let u = monomialRandomFeatures(a.architecture, batch: 2, channels: 3, rng: &rng)
        let ours = QuasiMonomialStatistics.layerStatistics(WeightSpaceVariables(u)).value
        #expect(ours.shape == [2, 3, a.architecture.layerCount, 14])
        #expect(relativeDeviation([ours], [u.layerStatistics()]) <= 1e-5)
    }

    @Test func statisticsGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 3)
        let arch = MonomialTestArchitecture.mlp3.architecture
        let l = arch.layerCount
        let inputs = (0..<l).map { monomialSpacedTensor([2, 2] + arch.weightShape(layer: $0), rng: &rng) }
            + (0..<l).map { monomialSpacedTensor([2, 2] + arch.biasShape(layer: $0), rng: &rng) }
        let r = checkGradient(at: inputs, epsilon: 1e-3, maxEntries: 40) { vars in
            QuasiMonomialStatistics.layerStatistics(WeightSpaceVariables(weights: Array(vars[..<l]), biases: Array(vars[l...])))
        }
        #expect(r.maxRelativeError <= 2e-2, "\(r)")
    }

    // MARK: Quasi-equivariance: f(gU) = g′·f(U) with g′ = φ(gU)·g·φ(U)⁻¹

    @Test(arguments: MonomialTestArchitecture.allCases, [(Float(0.5), Float(2)), (1, 10)])
    func layerIsQuasiEquivariant(_ a: MonomialTestArchitecture, _ range: (Float, Float)) throws {
        let q = try Self.layer(a)
        var rng = SeededGenerator(seed: 4)
        let u = monomialRandomFeatures(a.architecture, batch: 2, channels: 1, rng: &rng)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = monomialRandomElement(a.architecture, kind: .positiveScaling, scaleRange: range, rng: &rng)
            for m in 0..<u.batchSize {
                let um = u.member(m), gum = try g.apply(to: um)
                let gPrime = q.groupElement(for: gum, member: 0)
                    .composed(after: g.composed(after: q.groupElement(for: um, member: 0).inverse))
                let moved = q(WeightSpaceVariables(gum)).value
                let expected = try gPrime.apply(to: q(WeightSpaceVariables(um)).value)
                worst = max(worst, relativeDeviation(moved.weights + moved.biases, expected.weights + expected.biases))
            }
        }
        #expect(worst <= 1e-4, "\(a) \(range): \(worst)")
    }

    /// Control: with γ = 0.5 the layer is *not* strictly equivariant (φ(gU) ≠ φ(U)).
    @Test(arguments: MonomialTestArchitecture.allCases)
    func layerIsNotStrictlyEquivariant(_ a: MonomialTestArchitecture) throws {
        let q = try Self.layer(a)
        var rng = SeededGenerator(seed: 5)
        let u = monomialRandomFeatures(a.architecture, batch: 2, channels: 1, rng: &rng)
        let dev = try monomialEquivarianceDeviation(a.architecture, input: u, kind: .positiveScaling) { q(WeightSpaceVariables($0)).value }
        #expect(dev >= 1e-2, "\(a): quasi layer looked strictly equivariant (\(dev))")
    }

    /// Prop. 3.3 (1): Q₂ ∘ ReLU ∘ Q₁ is quasi-equivariant with
    /// g″ = φ₂(Y(gU))·g′·φ₂(Y(U))⁻¹, Y = ReLU ∘ Q₁, g′ = φ₁(gU)·g·φ₁(U)⁻¹.
    @Test(arguments: MonomialTestArchitecture.allCases)
    func compositionIsQuasiEquivariant(_ a: MonomialTestArchitecture) throws {
        let q1 = try Self.layer(a, inChannels: 1, outChannels: 3, seed: 6)
        let q2 = try Self.layer(a, inChannels: 3, outChannels: 2, seed: 7)
        let relu = MonomialNonlinearity(.relu)
        func y(_ u: WeightSpaceFeatures) -> WeightSpaceFeatures { relu(q1(WeightSpaceVariables(u))).value }
        func f(_ u: WeightSpaceFeatures) -> WeightSpaceFeatures { q2(WeightSpaceVariables(y(u))).value }
        var rng = SeededGenerator(seed: 8)
        let u = monomialRandomFeatures(a.architecture, batch: 1, channels: 1, rng: &rng)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = monomialRandomElement(a.architecture, kind: .positiveScaling, scaleRange: (0.5, 2), rng: &rng)
            let gu = try g.apply(to: u)
            let g1 = q1.groupElement(for: gu, member: 0).composed(after: g.composed(after: q1.groupElement(for: u, member: 0).inverse))
            let g2 = q2.groupElement(for: y(gu), member: 0).composed(after: g1.composed(after: q2.groupElement(for: y(u), member: 0).inverse))
            #expect(g2.factors.allSatisfy { $0.allSatisfy { $0 > 0 } })
            let moved = f(gu), expected = try g2.apply(to: f(u))
            worst = max(worst, relativeDeviation(moved.weights + moved.biases, expected.weights + expected.biases))
        }
        #expect(worst <= 1e-4, "\(a): \(worst)")
    }

    // MARK: Prop. 3.3 (2): invariant ∘ quasi-equivariant is invariant

    @Test(arguments: MonomialTestArchitecture.allCases, [(Float(0.5), Float(2)), (1, 10)])
    func predictorIsInvariant(_ a: MonomialTestArchitecture, _ range: (Float, Float)) throws {
        var rng = SeededGenerator(seed: 9)
        let m = try QuasiMonomialPredictor(architecture: a.architecture,
                                           configuration: .init(hiddenChannels: [4, 5, 3], headWidth: 16, outputs: 2),
                                           placement: .allLayers, initialGamma: 0.5, rng: &rng)
        let u = monomialRandomFeatures(a.architecture, batch: 3, channels: 1, rng: &rng)
        let dev = try monomialInvarianceDeviation(a.architecture, input: u, kind: .positiveScaling, scaleRange: range) { m.predict($0) }
        #expect(dev <= 1e-4, "\(a) \(range): \(dev)")
    }

    /// Control: a φ that is *not* a group element (one scale per channel, from the statistics)
    /// breaks the invariance of the same head.
    @Test(arguments: MonomialTestArchitecture.allCases)
    func nonGroupScalesBreakInvariance(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 10)
        let base = try MonomialPredictor(architecture: a.architecture,
                                         configuration: .init(hiddenChannels: [4, 5, 3], headWidth: 16, outputs: 2), rng: &rng)
        let u = monomialRandomFeatures(a.architecture, batch: 3, channels: 1, rng: &rng)
        func perChannel(_ x: WeightSpaceFeatures) -> Tensor {
            var h = WeightSpaceVariables(x)
            for layer in base.layers { h = base.nonlinearity(layer(h)) }
            let stats = x.layerStatistics()                  // [B, 1, L, 14]; index 1 = variance of W⁽¹⁾
            let b = x.batchSize, c = h.channelCount
            let factors = Tensor(shape: [b, c], generating: { i in
                let (m, ch) = (i / c, i % c)
                return 1 + 0.5 * sin(10 * Float(ch + 1) * stats[m, 0, 0, 1])
            })
            h = h.map { v in v * Variable(factors.reshaped([b, c] + Array(repeating: 1, count: v.rank - 2))) }
            return base.head(base.pool(h)).value
        }
        let dev = try monomialInvarianceDeviation(a.architecture, input: u, kind: .positiveScaling, perChannel)
        #expect(dev >= 1e-2, "\(a): per-channel scales looked invariant (\(dev))")
    }

    /// φ(U) is a group element, so the invariant head cannot see it: the quasi predictor computes
    /// the same function as the predictor it wraps, although its layers' outputs differ.
    @Test(arguments: MonomialTestArchitecture.allCases)
    func quasiScalesCancelInTheInvariantHead(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 11)
        let base = try MonomialPredictor(architecture: a.architecture,
                                         configuration: .init(hiddenChannels: [4, 5, 3], headWidth: 16, outputs: 2), rng: &rng)
        let quasi = try QuasiMonomialPredictor(wrapping: base, placement: .allLayers, initialGamma: 0.5, rng: &rng)
        let u = monomialRandomFeatures(a.architecture, batch: 3, channels: 1, rng: &rng)
        let hq = quasi.equivariantFeatures(WeightSpaceVariables(u)).value
        var hb = WeightSpaceVariables(u)
        for layer in base.layers { hb = base.nonlinearity(layer(hb)) }
        #expect(relativeDeviation(hq.weights + hq.biases, hb.value.weights + hb.value.biases) >= 1e-2)
        #expect(relativeDeviation([quasi.predict(u)], [base.predict(u)]) <= 1e-4)
        #expect(quasi.parameterCount > base.parameterCount)
        // Hence φ's own parameters get (numerically) no gradient from any loss on the prediction.
        let tape = Tape()
        let grads = tape.gradients(of: quasi(WeightSpaceVariables(u, tape: tape)).squared().sum())
        let phi = quasi.layers.compactMap { $0 as? QuasiMonomialLayer }.flatMap { $0.scaleNetworks.flatMap(\.parameters) + [$0.gamma] }
        let phiMax = phi.map { grads[$0].abs().max() }.max()!
        let eMax = base.layers.flatMap(\.parameters).map { grads[$0].abs().max() }.max()!
        #expect(phiMax <= 1e-4 * eMax, "\(a): φ gradient \(phiMax) vs E gradient \(eMax)")
    }

    // MARK: Gradients

    @Test(arguments: [MonomialTestArchitecture.mlp2, .mlp4, .smallCNNZoo])
    func layerGradientsMatchFiniteDifferences(_ a: MonomialTestArchitecture) throws {
        let q = try Self.layer(a, inChannels: 2, outChannels: 2)
        var rng = SeededGenerator(seed: 12)
        let arch = a.architecture
        let l = arch.layerCount
        let inputs = (0..<l).map { monomialSpacedTensor([1, 2] + arch.weightShape(layer: $0), rng: &rng) }
            + (0..<l).map { monomialSpacedTensor([1, 2] + arch.biasShape(layer: $0), rng: &rng) }
        let r = checkGradient(at: inputs, epsilon: 1e-3, maxEntries: 24) { vars in
            monomialFlatten(q(WeightSpaceVariables(weights: Array(vars[..<l]), biases: Array(vars[l...]))))
        }
        #expect(r.maxRelativeError <= 2e-2, "\(a) inputs: \(r)")
        let u = WeightSpaceFeatures(unchecked: Array(inputs[..<l]), biases: Array(inputs[l...]))
        let p = monomialParameterGradientError(q.parameters, epsilon: 1e-3, maxEntries: 8) { tape in
            monomialFlatten(q(WeightSpaceVariables(u, tape: tape)))
        }
        #expect(p <= 2e-2, "\(a) parameters: \(p)")
    }

    // MARK: Configuration and examples

    @Test func rejectsTheSignGroupAndLargeGamma() throws {
        var rng = SeededGenerator(seed: 13)
        let sign = try MonomialLinear(inChannels: 1, outChannels: 2, architecture: .smallCNNZoo(), kind: .sign, rng: &rng)
        #expect(throws: ModuleError.self) { try QuasiMonomialLayer(sign, rng: &rng) }
        let pos = try MonomialLinear(inChannels: 1, outChannels: 2, architecture: .smallCNNZoo(), kind: .positiveScaling, rng: &rng)
        #expect(throws: ModuleError.self) { try QuasiMonomialLayer(pos, initialGamma: 1, rng: &rng) }
        #expect(throws: ModuleError.self) {
            try QuasiMonomialPredictor(architecture: .smallCNNZoo(), configuration: .init(kind: .sign), rng: &rng)
        }
    }

    @Test func initialScalesAreNearOneAndGammaIsAsRequested() throws {
        var rng = SeededGenerator(seed: 14)
        let e = try MonomialLinear(inChannels: 1, outChannels: 2, architecture: .smallCNNZoo(), kind: .positiveScaling, rng: &rng)
        let q = try QuasiMonomialLayer(e, rng: &rng)   // γ = 0.01
        let u = monomialRandomFeatures(.smallCNNZoo(), batch: 2, channels: 1, rng: &rng)
        for s in q.scales(WeightSpaceVariables(u)) {
            #expect(s.shape == [2, 16])
            #expect(s.value.scalars.allSatisfy { Swift.abs($0 - 1) <= 0.01 + 1e-6 })
        }
        #expect(q.gamma.value.shape == [3])
    }

    /// The doc-comment examples of ``QuasiMonomialLayer`` and ``QuasiMonomialPredictor``.
    @Test func docExamplesCompile() throws {
        var data = SeededGenerator(seed: 15)
        let features = monomialRandomFeatures(.smallCNNZoo(), batch: 2, channels: 1, rng: &data)
        do {
            var rng = SeededGenerator(seed: 0)
            let e = try MonomialLinear(inChannels: 1, outChannels: 16, architecture: .smallCNNZoo(),
                                       kind: .positiveScaling, rng: &rng)
            let quasi = try QuasiMonomialLayer(e, rng: &rng)
            let out = quasi(WeightSpaceVariables(features))     // φ(U) · E(U)
            #expect(out.channelCount == 16)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let model = try QuasiMonomialPredictor(architecture: .smallCNNZoo(),
                                                   configuration: .init(hiddenChannels: [16, 16, 5]), rng: &rng)
            let prediction = model(WeightSpaceVariables(features))   // [B, 1]
            #expect(prediction.shape == [2, 1])
        }
    }
}
