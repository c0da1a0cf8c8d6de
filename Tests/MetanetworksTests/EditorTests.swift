import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// Weight-space editors (INR editing): equivariance, a failing control, gradients, identity start.
@Suite struct EditorTests {
    static let arch = try! FeedforwardArchitecture.siren(widths: [2, 6, 5, 1])

    /// Editors with visible (not near-zero) edits, so equivariance is tested on the edit itself.
    static func editor(_ name: String, seed: UInt64 = 3) throws -> Module & WeightSpaceLayer {
        var rng = SeededGenerator(seed: seed)
        switch name {
        case "np": return try NFNEditor(kind: .np, architecture: arch, hiddenChannels: [4, 4], scale: 1, finalLayerGain: 1, rng: &rng)
        case "hnp": return try NFNEditor(kind: .hnp, architecture: arch, hiddenChannels: [4, 4], scale: 1, finalLayerGain: 1, rng: &rng)
        case "nft": return try NFTEditor(architecture: arch, channels: 4, blocks: 1, heads: 2, scale: 1, finalLayerGain: 1, rng: &rng)
        default: return FlatMLPEditor(architecture: arch, hidden: [16], scale: 1, finalLayerGain: 1, rng: &rng)
        }
    }

    static func deviation(_ editor: Module & WeightSpaceLayer, kind: NeuronGroupElement.Kind) throws -> Float {
        let x = PermutationFixtures.features(arch, batch: 2)
        var rng = SeededGenerator(seed: 11)
        return try checkEquivariance(
            input: x, trials: 5,
            sample: {
                let g = NeuronGroupElement.random(widths: x.widths, kind: kind, rng: &rng)
                return ({ try g.apply(to: $0) }, { try g.apply(to: $0) })
            },
            tensors: { $0.weights + $0.biases },
            { editor(WeightSpaceVariables($0)).value })
    }

    @Test(arguments: [("np", NeuronGroupElement.Kind.hiddenPermutation), ("np", .allPermutation),
                      ("hnp", .hiddenPermutation), ("nft", .hiddenPermutation), ("nft", .allPermutation)])
    func equivariantEditorsCommuteWithPermutations(_ name: String, _ kind: NeuronGroupElement.Kind) throws {
        let e = try Self.editor(name)
        let dev = try Self.deviation(e, kind: kind)
        #expect(dev < 1e-4, "\(name) under \(kind): \(dev)")
        // The edit is not trivial: the output differs from the input by O(1).
        let x = PermutationFixtures.features(Self.arch, batch: 2)
        #expect(e(WeightSpaceVariables(x)).value.maxRelativeDeviation(from: x) > 1e-2)
    }

    @Test func flatMLPEditorIsNotEquivariant() throws {
        let dev = try Self.deviation(try Self.editor("mlp"), kind: .hiddenPermutation)
        #expect(dev > 1e-2, "the flat MLP editor should not commute with permutations, deviation \(dev)")
        // HNP layers do not commute with input/output permutations either.
        #expect(try Self.deviation(try Self.editor("hnp"), kind: .allPermutation) > 1e-2)
    }

    @Test func editorsStartNearTheIdentityEdit() throws {
        var rng = SeededGenerator(seed: 5)
        let x = PermutationFixtures.features(Self.arch, batch: 2)
        let editors: [Module & WeightSpaceLayer] = [
            try NFNEditor(kind: .np, architecture: Self.arch, rng: &rng),
            try NFNEditor(kind: .hnp, architecture: Self.arch, rng: &rng),
            try NFTEditor(architecture: Self.arch, channels: 4, rng: &rng),
            FlatMLPEditor(architecture: Self.arch, hidden: [16], rng: &rng),
        ]
        for e in editors {
            let dev = e(WeightSpaceVariables(x)).value.maxRelativeDeviation(from: x)
            #expect(dev < 1e-2, "\(type(of: e)) moved the weights by \(dev) at initialisation")
        }
    }

    @Test(arguments: ["np", "hnp", "nft", "mlp"])
    func editorGradientsMatchFiniteDifferences(_ name: String) throws {
        // NP/HNP: the equivariant layers without the ReLUs in between (hiddenChannels: []); finite
        // differences of a parameter that moves every entry at once straddle ReLU kinks. The
        // ReLU and the layers are each gradient-checked in PermutationGradientTests.
        var rng = SeededGenerator(seed: 9)
        let e: Module & WeightSpaceLayer = switch name {
        case "np": try NFNEditor(kind: .np, architecture: Self.arch, hiddenChannels: [], scale: 1, finalLayerGain: 1, rng: &rng)
        case "hnp": try NFNEditor(kind: .hnp, architecture: Self.arch, hiddenChannels: [], scale: 1, finalLayerGain: 1, rng: &rng)
        default: try Self.editor(name, seed: 9)
        }
        let x = PermutationFixtures.features(Self.arch, batch: 2, seed: 4)
        // ε = 2e-3: with ε = 1e-2 the central differences of the ReLU layers straddle kinks.
        let err = PermutationFixtures.parameterGradientError(e, epsilon: 2e-3, maxEntries: 12) { tape in
            PermutationFixtures.flatten(e(WeightSpaceVariables(x, tape: tape)))
        }
        print("\(name) editor gradients: parameters \(err)")
        #expect(err < 2e-2, "\(name): parameter gradient error \(err)")
        let r = checkGradient(at: PermutationFixtures.tensors(x), epsilon: 2e-3, maxEntries: 24) { v in
            PermutationFixtures.flatten(e(PermutationFixtures.variables(v)))
        }
        #expect(r.maxRelativeError < 2e-2, "\(name): input gradient \(r)")
    }
}
