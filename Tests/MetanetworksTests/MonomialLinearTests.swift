import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

struct MonomialEquivarianceCase: CustomStringConvertible, Sendable {
    var architecture: MonomialTestArchitecture
    var kind: MonomialGroupKind
    var group: NeuronGroupElement.Kind
    var scaleRange: (Float, Float)
    var description: String { "\(architecture) \(kind.rawValue) under \(group.rawValue) \(scaleRange)" }
}

let monomialEquivarianceCases: [MonomialEquivarianceCase] = MonomialTestArchitecture.allCases.flatMap { a in
    [MonomialEquivarianceCase(architecture: a, kind: .positiveScaling, group: .positiveScaling, scaleRange: (0.5, 2)),
     MonomialEquivarianceCase(architecture: a, kind: .positiveScaling, group: .positiveScaling, scaleRange: (1, 10)),
     MonomialEquivarianceCase(architecture: a, kind: .sign, group: .signFlip, scaleRange: (1, 1)),
     // Both groups contain the hidden permutations.
     MonomialEquivarianceCase(architecture: a, kind: .sign, group: .hiddenPermutation, scaleRange: (1, 1))]
}

/// A tiny HNP-style layer (the control): W̃_{jk} = W_{jk} + mean_k W_{jk} + mean_j W_{jk} and
/// ṽ_j = v_j + mean_j v_j, per layer and channel. Hidden-permutation equivariant, but the row and
/// column means mix entries that carry different scale factors.
func monomialHNPStyleControl(_ u: WeightSpaceFeatures) -> WeightSpaceFeatures {
    WeightSpaceFeatures(
        unchecked: u.weights.map { w in w + w.mean(alongAxes: [3], keepingDimensions: true) + w.mean(alongAxes: [2], keepingDimensions: true) },
        biases: u.biases.enumerated().map { i, v in i == u.layerCount - 1 ? v : v + v.mean(alongAxes: [2], keepingDimensions: true) })
}

@Suite struct MonomialLinearTests {
    @Test(arguments: monomialEquivarianceCases)
    func layerIsEquivariant(_ c: MonomialEquivarianceCase) throws {
        var rng = SeededGenerator(seed: 1)
        let arch = c.architecture.architecture
        let layer = try MonomialLinear(inChannels: 3, outChannels: 4, architecture: arch, kind: c.kind, rng: &rng)
        let u = monomialRandomFeatures(arch, batch: 2, channels: 3, rng: &rng)
        let dev = try monomialEquivarianceDeviation(arch, input: u, kind: c.group, scaleRange: c.scaleRange) {
            layer(WeightSpaceVariables($0)).value
        }
        #expect(dev <= 1e-4, "\(c): \(dev)")
    }

    @Test(arguments: MonomialTestArchitecture.allCases)
    func nonlinearitiesAreEquivariantOnlyForTheirGroup(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 2)
        let arch = a.architecture
        let u = monomialRandomFeatures(arch, batch: 2, channels: 2, rng: &rng)
        for f in MonomialNonlinearity.Function.allCases {
            let sigma = MonomialNonlinearity(f)
            for kind in MonomialGroupKind.allCases {
                let dev = try monomialEquivarianceDeviation(arch, input: u, kind: kind.neuronGroupKind, scaleRange: (0.5, 2)) {
                    sigma(WeightSpaceVariables($0)).value
                }
                if f.isEquivariant(under: kind) {
                    #expect(dev <= 1e-5, "\(a) \(f) \(kind): \(dev)")
                } else {
                    #expect(dev >= 1e-2, "\(a) \(f) should not commute with \(kind): \(dev)")
                }
            }
        }
    }

    // MARK: Controls: each of these checks must be able to fail.

    @Test(arguments: MonomialTestArchitecture.allCases)
    func hnpStyleMeansAreNotScaleEquivariant(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 3)
        let arch = a.architecture
        let u = monomialRandomFeatures(arch, batch: 2, channels: 2, rng: &rng)
        // Fair control: it is permutation equivariant…
        let perm = try monomialEquivarianceDeviation(arch, input: u, kind: .hiddenPermutation, monomialHNPStyleControl)
        #expect(perm <= 1e-5, "\(a): \(perm)")
        // …but not scale equivariant.
        let scale = try monomialEquivarianceDeviation(arch, input: u, kind: .positiveScaling, scaleRange: (0.5, 2), monomialHNPStyleControl)
        #expect(scale >= 1e-2, "\(a): HNP-style means moved only \(scale)")
    }

    @Test(arguments: MonomialTestArchitecture.allCases)
    func layerIsNotInvariantNorEquivariantToWrongGroups(_ a: MonomialTestArchitecture) throws {
        var rng = SeededGenerator(seed: 4)
        let arch = a.architecture
        let u = monomialRandomFeatures(arch, batch: 2, channels: 3, rng: &rng)
        let pos = try MonomialLinear(inChannels: 3, outChannels: 4, architecture: arch, kind: .positiveScaling, rng: &rng)
        let sign = try MonomialLinear(inChannels: 3, outChannels: 4, architecture: arch, kind: .sign, rng: &rng)
        // Equivariant is not invariant.
        let inv = try monomialInvarianceDeviation(arch, input: u, kind: .positiveScaling) { x in
            let y = pos(WeightSpaceVariables(x)).value
            return Tensor.concatenate((y.weights + y.biases).map { $0.reshaped([-1]) }, alongAxis: 0)
        }
        #expect(inv >= 1e-2, "\(a): positive-scaling layer looked invariant (\(inv))")
        // The sign-only terms Z, Ω are not positive-scale equivariant.
        let signUnderScale = try monomialEquivarianceDeviation(arch, input: u, kind: .positiveScaling) {
            sign(WeightSpaceVariables($0)).value
        }
        #expect(signUnderScale >= 1e-2, "\(a): sign layer looked scale equivariant (\(signUnderScale))")
        // Input/output neurons are not symmetries: mixing over them breaks NP permutations.
        let np = try monomialEquivarianceDeviation(arch, input: u, kind: .allPermutation) {
            pos(WeightSpaceVariables($0)).value
        }
        #expect(np >= 1e-2, "\(a): layer looked NP equivariant (\(np))")
    }

    // MARK: Gradients

    @Test(arguments: MonomialTestArchitecture.allCases, MonomialGroupKind.allCases)
    func gradientsMatchFiniteDifferences(_ a: MonomialTestArchitecture, _ kind: MonomialGroupKind) throws {
        var rng = SeededGenerator(seed: 5)
        let arch = a.architecture
        let layer = try MonomialLinear(inChannels: 2, outChannels: 3, architecture: arch, kind: kind, rng: &rng)
        let u = monomialRandomFeatures(arch, batch: 2, channels: 2, rng: &rng)
        let l = arch.layerCount
        let inputs = checkGradient(at: u.weights + u.biases, maxEntries: 24) { vars in
            monomialFlatten(layer(WeightSpaceVariables(weights: Array(vars[..<l]), biases: Array(vars[l...]))))
        }
        #expect(inputs.maxRelativeError <= 2e-2, "\(a) \(kind) inputs: \(inputs)")
        let params = monomialParameterGradientError(layer.parameters) { tape in
            monomialFlatten(layer(WeightSpaceVariables(u, tape: tape)))
        }
        #expect(params <= 2e-2, "\(a) \(kind) parameters: \(params)")
    }

    // MARK: Configuration

    @Test func rejectsSingleLayerNetworksAndBadChannels() throws {
        var rng = SeededGenerator(seed: 6)
        #expect(throws: ModuleError.self) {
            try MonomialLinear(inChannels: 1, outChannels: 2, architecture: try .mlp(widths: [3, 2]), kind: .positiveScaling, rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try MonomialLinear(inChannels: 0, outChannels: 2, architecture: .smallCNNZoo(), kind: .sign, rng: &rng)
        }
        let layer = try MonomialLinear(inChannels: 2, outChannels: 2, architecture: .smallCNNZoo(), kind: .sign, rng: &rng)
        let wrong = monomialRandomFeatures(try .mlp(widths: [3, 5, 2]), batch: 1, channels: 2, rng: &rng)
        #expect(throws: ModuleError.self) { try layer.validate(WeightSpaceVariables(wrong)) }
    }

    @Test func isDeterministicGivenTheSeed() throws {
        var r1 = SeededGenerator(seed: 42), r2 = SeededGenerator(seed: 42)
        let a = try MonomialLinear(inChannels: 2, outChannels: 3, architecture: .smallCNNZoo(), kind: .positiveScaling, rng: &r1)
        let b = try MonomialLinear(inChannels: 2, outChannels: 3, architecture: .smallCNNZoo(), kind: .positiveScaling, rng: &r2)
        #expect(a.parameterValues() == b.parameterValues())
    }

    /// The doc-comment example of ``MonomialLinear``.
    @Test func docExampleCompiles() throws {
        var data = SeededGenerator(seed: 8)
        let features = monomialRandomFeatures(.smallCNNZoo(), batch: 2, channels: 1, rng: &data)
        var rng = SeededGenerator(seed: 0)
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let layer = try MonomialLinear(inChannels: 1, outChannels: 16, architecture: arch,
                                       kind: .positiveScaling, rng: &rng)
        let out = layer(WeightSpaceVariables(features))
        #expect(out.channelCount == 16 && out.widths == arch.widths && out.batchSize == 2)
        #expect(out.weights[0].shape == [2, 16, 16, 1, 3, 3])
    }
}
