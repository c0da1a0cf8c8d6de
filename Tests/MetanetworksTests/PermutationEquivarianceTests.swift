import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// Equivariance / invariance properties of the NP/HNP layers, pools, pointwise layers and
/// encodings, each with a control that must fail.
@Suite struct PermutationEquivarianceTests {
    typealias F = PermutationFixtures

    // MARK: Filter folding

    @Test func foldingRoundTripsAndPutsTapsAfterChannels() {
        var rng = SeededGenerator(seed: 1)
        let w = Tensor.normal([2, 3, 4, 5, 2, 3], rng: &rng)
        let folded = FilterFolding.fold(w)
        #expect(folded.shape == [2, 18, 4, 5])
        // Folded channel c·6 + (p·3 + q) holds tap (p, q) of channel c.
        #expect(folded[1, 2 * 6 + 1 * 3 + 2, 3, 4] == w[1, 2, 3, 4, 1, 2])
        #expect(FilterFolding.unfold(folded, kernel: [2, 3]) == w)
        let dense = Tensor.normal([2, 3, 4, 5], rng: &rng)
        #expect(FilterFolding.fold(dense) == dense)
        // Variable versions agree and the pullback unfolds.
        let tape = Tape()
        let v = tape.variable(w)
        let y = FilterFolding.fold(v)
        #expect(y.value == folded)
        let g = tape.gradients(of: y, seed: folded)
        #expect(g[v] == w)
    }

    // MARK: Equivariant layers

    @Test(arguments: F.equivarianceSpaces)
    func npLinearIsNPEquivariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 2)
        let layer = NPLinear(inChannels: 2, outChannels: 3, architecture: space.architecture, rng: &rng)
        let x = F.features(space.architecture, batch: 3, channels: 2)
        let dev = try F.equivarianceDeviation(x, kind: .allPermutation) { F.apply(layer, $0) }
        print("NPLinear \(space) under NP: \(dev)")
        #expect(dev <= 1e-4)
    }

    @Test(arguments: F.equivarianceSpaces)
    func hnpLinearIsHNPEquivariantButNotNP(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 3)
        let layer = HNPLinear(inChannels: 2, outChannels: 3, architecture: space.architecture, rng: &rng)
        let x = F.features(space.architecture, batch: 3, channels: 2)
        let dev = try F.equivarianceDeviation(x, kind: .hiddenPermutation) { F.apply(layer, $0) }
        let control = try F.equivarianceDeviation(x, kind: .allPermutation) { F.apply(layer, $0) }
        print("HNPLinear \(space) under HNP: \(dev); under NP (control): \(control)")
        #expect(dev <= 1e-4)
        #expect(control >= 1e-2)
    }

    @Test(arguments: [F.mlp3, F.mlp2, F.smallCNNZoo])
    func hnpLinearReferenceVariantIsHNPEquivariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 4)
        let layer = HNPLinear(inChannels: 1, outChannels: 2, architecture: space.architecture,
                              lastLayerUsesPreviousBias: false, rng: &rng)
        let x = F.features(space.architecture, batch: 2)
        let dev = try F.equivarianceDeviation(x, kind: .hiddenPermutation) { F.apply(layer, $0) }
        #expect(dev <= 1e-4)
    }

    /// The Table 9 term: with it, W̃⁽ᴸ⁾ changes when v⁽ᴸ⁻¹⁾ changes at fixed mean; without it
    /// (reference code), v⁽ᴸ⁻¹⁾ only reaches W̃⁽ᴸ⁾ through its mean in the global vector.
    @Test(arguments: [F.mlp3, F.mlp2, F.smallCNNZoo])
    func lastLayerReadsThePreviousBias(_ space: F.Space) throws {
        let x = F.features(space.architecture, batch: 2)
        var y = x
        let L = x.layerCount
        // A zero-mean perturbation of v⁽ᴸ⁻¹⁾.
        let n = x.biases[L - 2].shape[2]
        let bump = Tensor(shape: [1, 1, n], scalars: (0..<n).map { Float($0) - Float(n - 1) / 2 })
        y.biases[L - 2] = y.biases[L - 2] + bump
        for includes in [true, false] {
            var rng = SeededGenerator(seed: 5)
            let layer = HNPLinear(inChannels: 1, outChannels: 2, architecture: space.architecture,
                                  lastLayerUsesPreviousBias: includes, rng: &rng)
            let change = F.apply(layer, y).weights[L - 1].maxAbsDifference(F.apply(layer, x).weights[L - 1])
            if includes { #expect(change > 1e-2) } else { #expect(change < 1e-5) }
        }
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo, F.convLast])
    func npLinearWithIOEmbeddingIsOnlyHNPEquivariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 6)
        let layer = NPLinear(inChannels: 2, outChannels: 3, architecture: space.architecture, ioEmbedding: true, rng: &rng)
        let x = F.features(space.architecture, batch: 2, channels: 2)
        let dev = try F.equivarianceDeviation(x, kind: .hiddenPermutation) { F.apply(layer, $0) }
        let control = try F.equivarianceDeviation(x, kind: .allPermutation) { F.apply(layer, $0) }
        print("NPLinear+IO embedding \(space) under HNP: \(dev); under NP (control): \(control)")
        #expect(dev <= 1e-4)
        #expect(control >= 1e-2)
    }

    @Test func npLinearHandlesOtherWidthsWithTheSameParameters() throws {
        // No IO embedding: the parameter shapes do not depend on the widths.
        var rng = SeededGenerator(seed: 7)
        let layer = NPLinear(inChannels: 1, outChannels: 2, architecture: F.mlp3.architecture, rng: &rng)
        let other = try FeedforwardArchitecture.mlp(widths: [9, 2, 11, 4])
        let y = F.apply(layer, F.features(other, batch: 2))
        #expect(y.widths == [9, 2, 11, 4])
        #expect(y.channelCount == 2)
    }

    // MARK: Pooling

    @Test(arguments: F.equivarianceSpaces)
    func poolsAreInvariantToTheirGroups(_ space: F.Space) throws {
        let x = F.features(space.architecture, batch: 3, channels: 2)
        let factors = FilterFolding.filterFactors(space.architecture)
        for reduction in NeuronPoolReduction.allCases {
            let np = NPPool(reduction: reduction), hnp = HNPPool(reduction: reduction)
            let npOut = np(WeightSpaceVariables(x)).value
            let hnpOut = hnp(WeightSpaceVariables(x)).value
            #expect(npOut.shape == [3, NPPool.outputCount(filterFactors: factors, channels: 2)])
            #expect(hnpOut.shape == [3, HNPPool.outputCount(widths: space.architecture.widths, filterFactors: factors, channels: 2)])
            let npDev = try F.invarianceDeviation(x, kind: .allPermutation) { np(WeightSpaceVariables($0)).value }
            let hnpDev = try F.invarianceDeviation(x, kind: .hiddenPermutation) { hnp(WeightSpaceVariables($0)).value }
            let control = try F.invarianceDeviation(x, kind: .allPermutation) { hnp(WeightSpaceVariables($0)).value }
            #expect(npDev <= 1e-4)
            #expect(hnpDev <= 1e-4)
            #expect(control >= 1e-2)
        }
    }

    @Test func smallCNNZooPoolSizesMatchTheReference() {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let factors = FilterFolding.filterFactors(arch)
        // NPPool.get_num_outs: Σ (f_i + 1) = 10 + 10 + 10 + 2.
        #expect(NPPool.outputCount(filterFactors: factors, channels: 1) == 32)
        // HNPPool.get_num_outs: (1·9 + 1) + (9 + 1) + (9 + 1) + (10·1 + 10).
        #expect(HNPPool.outputCount(widths: arch.widths, filterFactors: factors, channels: 1) == 50)
    }

    // MARK: Pointwise layers and encodings

    @Test(arguments: [F.mlp3, F.smallCNNZoo, F.convLast])
    func pointwiseLayersAreNPEquivariant(_ space: F.Space) throws {
        let arch = space.architecture
        let x = F.features(arch, batch: 2, channels: 3)
        var rng = SeededGenerator(seed: 8)
        let norm = ChannelLayerNorm(channels: 3, architecture: arch)
        // Non-trivial affine parameters.
        for p in norm.parameters { p.value = p.value + Tensor.normal(p.shape, std: 0.5, rng: &rng) }
        let fourier = GaussianFourierFeatures(inChannels: 3, features: 4, scale: 1, rng: &rng)
        let layers: [(String, WeightSpaceLayer)] = [
            ("relu", WeightSpaceActivation(.relu)), ("tanh", WeightSpaceActivation(.tanh)),
            ("channel layer norm", norm), ("Fourier features", fourier),
        ]
        for (name, layer) in layers {
            let dev = try F.equivarianceDeviation(x, kind: .allPermutation) { F.apply(layer, $0) }
            print("\(name) \(space) under NP: \(dev)")
            #expect(dev <= 1e-4, "\(name)")
        }
    }

    @Test func channelLayerNormNormalisesEveryEntry() {
        let x = F.features(F.smallCNNZoo.architecture, batch: 2, channels: 4)
        let y = F.apply(ChannelLayerNorm(channels: 4, architecture: F.smallCNNZoo.architecture), x)
        // In the folded view every entry's 36 channel values have mean 0 and variance ≈ 1.
        let folded = FilterFolding.fold(y.weights[1])
        let mean = folded.mean(alongAxes: [1]), variance = folded.variance(alongAxes: [1])
        #expect(mean.abs().max() < 1e-5)
        #expect((variance - 1).abs().max() < 1e-3)
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func channelDropoutIsEquivariantForAFixedMask(_ space: F.Space) throws {
        let x = F.features(space.architecture, batch: 3, channels: 4)
        var rng = SeededGenerator(seed: 9)
        var worst: Float = 0
        for trial in 0..<10 {
            let g = NeuronGroupElement.random(widths: x.widths, kind: .allPermutation, rng: &rng)
            // Two layers with the same seed draw the same masks.
            let a = ChannelDropout(rate: 0.5, seed: UInt64(trial)), b = ChannelDropout(rate: 0.5, seed: UInt64(trial))
            let moved = F.apply(b, try g.apply(to: x)), expected = try g.apply(to: F.apply(a, x))
            worst = max(worst, relativeDeviation(moved.weights + moved.biases, expected.weights + expected.biases))
        }
        #expect(worst <= 1e-6)
        // Something was dropped, and evaluation mode is the identity.
        let d = ChannelDropout(rate: 0.5, seed: 1)
        #expect(F.apply(d, x) != x)
        d.eval()
        #expect(F.apply(d, x) == x)
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo, F.convLast])
    func sinusoidalEncodingIsHNPButNotNPEquivariant(_ space: F.Space) throws {
        let encode = SinusoidalIOEncoding(architecture: space.architecture)
        let x = F.features(space.architecture, batch: 2, channels: 1)
        let y = F.apply(encode, x)
        #expect(y.channelCount == 14)
        let dev = try F.equivarianceDeviation(x, kind: .hiddenPermutation) { F.apply(encode, $0) }
        let control = try F.equivarianceDeviation(x, kind: .allPermutation) { F.apply(encode, $0) }
        #expect(dev <= 1e-6)
        #expect(control >= 1e-2)
    }

    @Test func sinusoidalEncodingValues() {
        // enc(p) = [sin(π s p)…, cos(π s p)…, p], s ∈ linspace(1, 5, 6).
        let e = SinusoidalIOEncoding.encode(0.5)
        #expect(e.count == 13)
        #expect(abs(e[0] - 1) < 1e-6)                                // sin(π/2)
        #expect(abs(e[1] - Foundation.sin(Float.pi * 1.8 * 0.5)) < 1e-6)  // s = 1.8
        #expect(abs(e[6] - 0) < 1e-6)                                // cos(π/2)
        #expect(e[12] == 0.5)
        // The conv-last output encoding varies along the rows of W⁽ᴸ⁾ only (not the reference quirk).
        let arch = F.convLast.architecture
        let y = F.apply(SinusoidalIOEncoding(architecture: arch), F.features(arch, batch: 1))
        let code = y.weights[1]                     // [1, 14, n_L = 3, 4, 1, 2]
        let expected = SinusoidalIOEncoding.encode(1)[12] + SinusoidalIOEncoding.encode(1)[12]   // layer 2 of 2 (p = 1) + output 3 of 3 (p = 1)
        #expect(code[0, 13, 2, 0, 0, 0] == expected)
        #expect(code[0, 13, 2, 3, 0, 1] == expected)
        #expect(code[0, 13, 0, 1, 0, 0] == SinusoidalIOEncoding.encode(1)[12] + SinusoidalIOEncoding.encode(-1)[12])
    }

    @Test func fourierFeaturesAreFixedAndSeeded() {
        var a = SeededGenerator(seed: 4), b = SeededGenerator(seed: 4)
        let f1 = GaussianFourierFeatures(inChannels: 2, features: 8, scale: 3, rng: &a)
        let f2 = GaussianFourierFeatures(inChannels: 2, features: 8, scale: 3, rng: &b)
        #expect(f1.projection == f2.projection)
        #expect(f1.parameterCount == 0)
        let x = F.features(F.mlp2.architecture, batch: 2, channels: 2)
        let y = F.apply(f1, x)
        #expect(y.channelCount == 16)
        // sin² + cos² = 1 per feature.
        let s = y.biases[0].slice(axis: 1, 0..<8), c = y.biases[0].slice(axis: 1, 8..<16)
        #expect(((s * s + c * c) - 1).abs().max() < 1e-5)
    }
}
