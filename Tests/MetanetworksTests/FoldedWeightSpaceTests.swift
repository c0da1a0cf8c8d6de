import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
@testable import Metanetworks

/// The one folding type (``FoldedWeightSpace``) and the fold-once policy: folding is lossless in
/// both layouts, a folded layer stack computes what the layers compute one by one on canonical
/// features, stays equivariant, and differentiates correctly.
@Suite struct FoldedWeightSpaceTests {
    typealias F = PermutationFixtures

    static let spaces = [F.mlp3, F.smallCNNZoo, F.tinyCNN, F.convLast]

    @Test("unfold ∘ fold is the identity", arguments: spaces, [FoldedWeightSpace.Layout.channelsFirst, .channelsLast])
    func foldUnfoldIdentity(space: F.Space, layout: FoldedWeightSpace.Layout) {
        let x = F.features(space.architecture, batch: 2, channels: 3)
        let folded = FoldedWeightSpace(folding: WeightSpaceVariables(x), layout: layout)
        #expect(folded.channels == 3)
        #expect(folded.widths == x.widths)
        #expect(folded.filterFactors == FilterFolding.filterFactors(space.architecture))
        #expect(folded.unfolded().value == x)
        // Changing layout goes through the canonical form and back, losslessly.
        let other: FoldedWeightSpace.Layout = layout == .channelsFirst ? .channelsLast : .channelsFirst
        #expect(folded.relaid(other).relaid(layout).unfolded().value == x)
    }

    @Test("channels-first folding matches FilterFolding, index c·f + tap")
    func channelsFirstMatchesFilterFolding() {
        let x = F.features(F.tinyCNN.architecture, batch: 2, channels: 2)
        let folded = FoldedWeightSpace(folding: WeightSpaceVariables(x), layout: .channelsFirst)
        for (w, fw) in zip(x.weights, folded.weights) { #expect(FilterFolding.fold(w) == fw.value) }
        // Entry [b, c, j, k, tap] of the 2×2 first-layer kernel sits at folded channel c·4 + tap.
        let w = x.weights[0], fw = folded.weights[0].value
        #expect(w[1, 1, 2, 1, 1, 0] == fw[1, 1 * 4 + 2, 2, 1])
    }

    /// A stack with every channels-first folded layer kind of the permutation family.
    static func stack(_ architecture: FeedforwardArchitecture, rng: inout SeededGenerator) -> [any Module & WeightSpaceLayer] {
        [HNPLinear(inChannels: 2, outChannels: 3, architecture: architecture, rng: &rng),
         ChannelLayerNorm(channels: 3, architecture: architecture),
         WeightSpaceActivation(.tanh),
         NPLinear(inChannels: 3, outChannels: 2, architecture: architecture, ioEmbedding: true, rng: &rng),
         WeightSpaceActivation(.relu),
         HNPLinear(inChannels: 2, outChannels: 2, architecture: architecture, rng: &rng)]
    }

    @Test("a folded stack equals its layers applied one by one", arguments: [F.mlp3, F.smallCNNZoo, F.tinyCNN, F.convLast])
    func foldedStackMatchesLayerByLayer(space: F.Space) {
        var rng = SeededGenerator(seed: 3)
        let layers = Self.stack(space.architecture, rng: &rng)
        let x = F.features(space.architecture, batch: 2, channels: 2)
        var canonical = WeightSpaceVariables(x)
        for layer in layers { canonical = layer(canonical) }
        let state = WeightSpaceStackState.run(layers, on: WeightSpaceVariables(x), layout: .channelsFirst)
        guard case .folded(let folded) = state else {
            Issue.record("the stack should end folded")
            return
        }
        #expect(folded.unfolded().value.maxRelativeDeviation(from: canonical.value) <= 1e-5)
        // The pools read the folded features exactly as the canonical ones.
        for pool in [NPPool(), HNPPool()] as [any FoldedWeightSpaceModel] {
            let a = pool(folded).value, b = pool(canonical).value
            #expect(a.maxAbsDifference(b) <= 1e-5 * Swift.max(1, b.abs().max()))
        }
    }

    @Test("a folded stack is equivariant to hidden-neuron permutations", arguments: [F.smallCNNZoo, F.tinyCNN, F.convLast])
    func foldedStackEquivariance(space: F.Space) throws {
        var rng = SeededGenerator(seed: 5)
        let layers = Self.stack(space.architecture, rng: &rng)
        for layer in layers { layer.eval() }
        let x = F.features(space.architecture, batch: 2, channels: 2)
        let deviation = try F.equivarianceDeviation(x, kind: .hiddenPermutation) { u in
            WeightSpaceStackState.run(layers, on: WeightSpaceVariables(u), layout: .channelsFirst).canonical.value
        }
        #expect(deviation <= 1e-4)
    }

    /// A smooth stack (tanh, no normalisation) for finite differences: ReLU kinks and a layer norm
    /// over a few channels make central differences unreliable for the composite, while each of
    /// those layers is checked on its own in ``PermutationGradientTests``.
    static func smoothStack(_ architecture: FeedforwardArchitecture, rng: inout SeededGenerator) throws -> [any Module & WeightSpaceLayer] {
        [HNPLinear(inChannels: 2, outChannels: 3, architecture: architecture, rng: &rng),
         WeightSpaceActivation(.tanh),
         NPLinear(inChannels: 3, outChannels: 2, architecture: architecture, ioEmbedding: true, rng: &rng),
         WeightSpaceActivation(.tanh),
         try MonomialLinear(inChannels: 2, outChannels: 2, architecture: architecture, kind: .sign, rng: &rng),
         MonomialNonlinearity(.tanh)]
    }

    @Test("gradients through a folded stack match finite differences", arguments: [F.tinyCNN, F.convLast])
    func foldedStackGradient(space: F.Space) throws {
        var rng = SeededGenerator(seed: 9)
        let layers = try Self.smoothStack(space.architecture, rng: &rng)
        let x = F.features(space.architecture, batch: 2, channels: 2)
        func run(_ input: WeightSpaceVariables) -> Variable {
            let state = WeightSpaceStackState.run(layers, on: input, layout: .channelsFirst)
            if case .canonical = state { Issue.record("the stack should end folded") }
            return F.flatten(state.canonical)
        }
        let inputs = checkGradient(at: F.tensors(x)) { vars in run(F.variables(vars)) }
        #expect(inputs.maxRelativeError <= 2e-2, "\(inputs)")
        let error = checkParameterGradients(layers.flatMap(\.parameters), seed: 4) { tape in
            run(WeightSpaceVariables(x, tape: tape))
        }
        #expect(error <= 2e-2)
    }

    @Test("channels-last fold and unfold differentiate correctly")
    func channelsLastGradient() {
        let x = F.features(F.tinyCNN.architecture, batch: 2, channels: 2)
        let result = checkGradient(at: F.tensors(x)) { vars in
            let folded = FoldedWeightSpace(folding: F.variables(vars), layout: .channelsLast)
            // Scale each folded entry differently so a mis-ordered pullback would show.
            let scaled = folded.map { $0 * $0 }
            return F.flatten(scaled.unfolded())
        }
        #expect(result.maxRelativeError <= 2e-2, "\(result)")
    }
}
