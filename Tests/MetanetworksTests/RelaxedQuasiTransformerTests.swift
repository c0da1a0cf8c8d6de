import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra
@testable import Metanetworks
import _TestSupport

/// The relaxed quasi-equivariant Transformer-NFN (Tran et al. 2026, §4.3): φ̃(U) leaves the
/// attention group, so the predictor is *not* exactly invariant — unlike the strict one, which is.
@Suite("Relaxed quasi Transformer-NFN")
struct RelaxedQuasiTransformerTests {
    static func configuration(_ d: TNFNFixture.Dims) -> TransformerNFNConfiguration {
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [3]
        cfg.outputs = 2
        cfg.sigmoidOutput = false
        return cfg
    }

    static func invarianceDeviation(_ model: TransformerWeightSpaceModel, _ zoo: TransformerWeightSpaceFeatures,
                                    _ d: TNFNFixture.Dims, seed: UInt64) throws -> Float {
        var rng = SeededGenerator(seed: seed)
        return try checkInvariance(input: zoo, trials: 6, sample: {
            let g = try AttentionGroupElement.random(
                blockCount: 2, heads: d.heads, modelDimension: d.model, keyDimension: d.key, valueDimension: d.value,
                feedForwardDimension: d.feedForward, rng: &rng)
            return { try g.apply(to: $0) }
        }) { try model.predict($0) }
    }

    @Test("The relaxed model is not exactly invariant; the strict one is")
    func relaxedIsNotInvariantStrictIs() throws {
        let d = TNFNFixture.Dims.small
        var rng = SeededGenerator(seed: 50)
        let arch = TNFNFixture.architecture(d)
        let relaxed = QuasiTransformerNFNPredictor(architecture: arch, configuration: Self.configuration(d),
                                                   gamma: 0.05, relaxedNoiseScale: 0.2, rng: &rng)
        let strict = QuasiTransformerNFNPredictor(architecture: arch, configuration: Self.configuration(d), gamma: 0.05, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 3, rng: &rng)
        let relaxedDeviation = try Self.invarianceDeviation(relaxed, zoo, d, seed: 51)
        let strictDeviation = try Self.invarianceDeviation(strict, zoo, d, seed: 51)
        print("invariance deviation: relaxed \(relaxedDeviation), strict \(strictDeviation)")
        #expect(strictDeviation <= 1e-4)
        #expect(relaxedDeviation >= 1e-3)
        // With β = 0 the relaxed layer is the strict one: invariant again.
        for layer in relaxed.relaxedLayers { layer.noiseScale.value = Tensor([0]) }
        #expect(try Self.invarianceDeviation(relaxed, zoo, d, seed: 51) <= 1e-4)
    }

    @Test("φ̃'s noise leaves the group: cross-head blocks are non-zero, diagonal blocks are the strict φ")
    func noiseIsOffDiagonal() throws {
        let d = TNFNFixture.Dims.small
        var rng = SeededGenerator(seed: 52)
        let layer = RelaxedQuasiTransformerNFN(inChannels: 2, outChannels: 3, modelDimension: d.model, heads: d.heads,
                                               keyDimension: d.key, valueDimension: d.value, feedForwardDimension: d.feedForward,
                                               statisticsCount: 112, gamma: 0.05, noiseScale: 0.1, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: 2, d, rng: &rng)
        let s = Variable(u.quasiStatistics().reshaped([2, -1]))
        let (m, _) = layer.groupElement(s)
        let (strictM, _) = layer.strict.groupElement(s)
        let k = d.key, hk = d.heads * k
        var offDiagonal: Float = 0, diagonalError: Float = 0
        for b in 0..<2 {
            for r in 0..<hk {
                for c in 0..<hk {
                    let v = m.value[b, r, c]
                    if r / k == c / k {
                        diagonalError = max(diagonalError, abs(v - strictM.value[b, r / k, r % k, c % k]))
                    } else {
                        offDiagonal = max(offDiagonal, abs(v))
                    }
                }
            }
        }
        #expect(diagonalError <= 1e-6)
        #expect(offDiagonal > 1e-3)
    }

    @Test("Gradients of the relaxed layer (inputs, statistics and parameters, β included)")
    func gradients() {
        let d = TNFNFixture.Dims.small
        var rng = SeededGenerator(seed: 53)
        let layer = RelaxedQuasiTransformerNFN(inChannels: 2, outChannels: 3, modelDimension: d.model, heads: d.heads,
                                               keyDimension: d.key, valueDimension: d.value, feedForwardDimension: d.feedForward,
                                               statisticsCount: 112, gamma: 0.1, noiseScale: 0.1, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: 2, d, rng: &rng)
        let s = Variable(u.quasiStatistics().reshaped([2, -1])).value
        let r = checkGradient(at: u.tensors + [s], maxEntries: 16) { v in
            TNFNFixture.flatten(try! layer(TransformerBlockVariables(variables: Array(v.prefix(8))), statistics: v[8]))
        }
        #expect(r.maxRelativeError <= 2e-2, "\(r)")
        let err = TNFNFixture.parameterGradientError(layer, maxEntries: 8) { tape in
            TNFNFixture.flatten(try! layer(TransformerBlockVariables(u, tape: tape), statistics: tape?.constant(s) ?? Variable(s)))
        }
        #expect(err <= 2e-2, "max rel. error \(err)")
    }

    @Test("Unlike the strict model, φ̃'s parameters get a gradient through the invariant head")
    func phiLearns() throws {
        let d = TNFNFixture.Dims.small
        var rng = SeededGenerator(seed: 54)
        let arch = TNFNFixture.architecture(d)
        var cfg = Self.configuration(d)
        cfg.hiddenChannels = [3, 4]
        let relaxed = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, gamma: 0.1, relaxedNoiseScale: 0.1, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 4, rng: &rng)
        let tape = Tape()
        let out = try relaxed(TransformerWeightSpaceVariables(zoo, tape: tape)).sum()
        let grads = tape.gradients(of: out)
        let betaGrad = relaxed.relaxedLayers.map { grads[$0.noiseScale].abs().max() }.max()!
        let eGrad = relaxed.relaxedLayers.map(\.strict.linear).flatMap(\.parameters).map { grads[$0].abs().max() }.max()!
        print("max |∂/∂β| = \(betaGrad), max |∂/∂E| = \(eGrad)")
        #expect(betaGrad > 1e-4 * eGrad)
    }
}
