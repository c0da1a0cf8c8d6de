import Foundation
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

/// The folded implementations against the formulations they replaced, so that parameters keep
/// their meaning (checkpoints stay valid) and outputs change only by Float32 rounding.
@Suite struct FoldedRegressionTests {
    typealias F = PermutationFixtures

    /// The previous MonomialLinear forward on canonical features, which folded the taps of every
    /// hidden layer itself and read the first/last coefficient matrices in (channel, neuron, tap)
    /// order (kept here verbatim as the reference).
    static func previousMonomialForward(_ layer: MonomialLinear, _ input: WeightSpaceVariables) -> WeightSpaceVariables {
        func mixChannels(_ x: Variable, _ t: Variable, taps: Int, outChannels co: Int) -> Variable {
            let b = x.shape[0], c = x.shape[1]
            let entries = x.shape[2...].reduce(1, *) / taps
            let outShape = [b, co] + Array(x.shape[2...])
            if taps == 1 { return Variable.matmul(t, x.reshaped([b, c, entries])).reshaped(outShape) }
            let folded = x.reshaped([b, c, entries, taps]).permuted([0, 1, 3, 2]).reshaped([b, c * taps, entries])
            return Variable.matmul(t, folded).reshaped([b, co, taps, entries]).permuted([0, 1, 3, 2]).reshaped(outShape)
        }
        let tape = input.tape, b = input.batchSize
        let (c, co) = (layer.inChannels, layer.outChannels)
        let l = layer.layerCount, n = layer.widths, kernels = layer.kernels
        var outW = [Variable](), outB = [Variable]()
        do {
            let f0 = layer.filterFactor(layer: 0), n0 = n[0], n1 = n[1]
            let rowW = input.weights[0].reshaped([b, c, n1, n0 * f0]).permuted([0, 2, 1, 3]).reshaped([b * n1, c * n0 * f0])
            let rowV = input.biases[0].permuted([0, 2, 1]).reshaped([b * n1, c])
            let y = Variable.concatenate([rowW, rowV], alongAxis: 1).matmul(layer.first.variable(on: tape))
            let wOut = co * n0 * f0
            outW.append(y.slice(axis: 1, 0..<wOut).reshaped([b, n1, co, n0 * f0]).permuted([0, 2, 1, 3])
                .reshaped([b, co, n1, n0] + kernels[0]))
            outB.append(y.slice(axis: 1, wOut..<(wOut + co)).reshaped([b, n1, co]).permuted([0, 2, 1]))
        }
        for i in 1..<(l - 1) {
            outW.append(mixChannels(input.weights[i], layer.hiddenWeights[i - 1].variable(on: tape),
                                    taps: layer.filterFactor(layer: i), outChannels: co))
            outB.append(mixChannels(input.biases[i], layer.hiddenBiases[i - 1].variable(on: tape), taps: 1, outChannels: co))
        }
        do {
            let fL = layer.filterFactor(layer: l - 1), nL = n[l], k = n[l - 1]
            let colW = input.weights[l - 1].reshaped([b, c, nL, k, fL]).permuted([0, 3, 1, 2, 4]).reshaped([b * k, c * nL * fL])
            var cols = colW
            if layer.kind == .sign {
                let prevBias = input.biases[l - 2].permuted([0, 2, 1]).reshaped([b * k, c])
                cols = Variable.concatenate([colW, prevBias], alongAxis: 1)
            }
            outW.append(cols.matmul(layer.last.variable(on: tape)).reshaped([b, k, co, nL, fL]).permuted([0, 2, 3, 1, 4])
                .reshaped([b, co, nL, k] + kernels[l - 1]))
            let bias = input.biases[l - 1].reshaped([b, c * nL]).matmul(layer.lastBias.variable(on: tape))
                + layer.outputBias.variable(on: tape)
            outB.append(bias.reshaped([b, co, nL]))
            if let omega = layer.signBias {
                let extra = colW.matmul(omega.variable(on: tape)).reshaped([b, k, co]).permuted([0, 2, 1])
                outB[l - 2] = outB[l - 2] + extra
            }
        }
        return WeightSpaceVariables(weights: outW, biases: outB)
    }

    @Test("MonomialLinear on folded features matches the previous canonical formulation",
          arguments: [F.smallCNNZoo, F.tinyCNN, F.convLast, F.mlp3], MonomialGroupKind.allCases)
    func monomialMatchesPrevious(space: F.Space, kind: MonomialGroupKind) throws {
        var rng = SeededGenerator(seed: 21)
        let layer = try MonomialLinear(inChannels: 2, outChannels: 3, architecture: space.architecture, kind: kind, rng: &rng)
        let x = F.features(space.architecture, batch: 2, channels: 2)
        let expected = Self.previousMonomialForward(layer, WeightSpaceVariables(x)).value
        #expect(layer(WeightSpaceVariables(x)).value.maxRelativeDeviation(from: expected) <= 1e-5)
        // And the gradients with respect to every parameter.
        let tape = Tape(), tape2 = Tape()
        let seedTensors = expected.weights + expected.biases
        func loss(_ y: WeightSpaceVariables, _ t: Tape) -> Variable {
            let terms = zip(y.weights + y.biases, seedTensors).map { ($0 * t.constant($1)).sum() }
            return terms.dropFirst().reduce(terms[0], +)
        }
        let new = tape.gradients(of: loss(layer(WeightSpaceVariables(x, tape: tape)), tape))
        let old = tape2.gradients(of: loss(Self.previousMonomialForward(layer, WeightSpaceVariables(x, tape: tape2)), tape2))
        for p in layer.parameters {
            let a = new[p], b = old[p]
            #expect(a.maxAbsDifference(b) <= 1e-4 * Swift.max(1, b.abs().max()))
        }
    }

    @Test("mixCombine equals channel mixing followed by the broadcast sum, values and gradients")
    func mixCombineMatchesComposition() {
        var rng = SeededGenerator(seed: 2)
        let (b, i, o, n, m) = (3, 5, 4, 6, 7)
        let w = Tensor.normal([o, i], rng: &rng), x = Tensor.normal([b, i, n, m], rng: &rng)
        let g = Tensor.normal([b, o], rng: &rng), c = Tensor.normal([b, o, m], rng: &rng), r = Tensor.normal([b, o, n], rng: &rng)
        let seed = Tensor.normal([b, o, n, m], rng: &rng)
        func run(fused: Bool) -> (Tensor, [Tensor]) {
            let tape = Tape()
            let vs = [w, x, g, c, r].map { tape.variable($0) }
            let y = fused
                ? PermutationOps.mixCombine(vs[0], vs[1], global: vs[2], columnTerm: vs[3], rowTerm: vs[4])
                : PermutationOps.broadcastCombine(pointwise: Variable.matmul(vs[0], vs[1].reshaped([b, i, n * m])).reshaped([b, o, n, m]),
                                                  global: vs[2], columnTerm: vs[3], rowTerm: vs[4],
                                                  batch: b, channels: o, rows: n, columns: m)
            let grads = tape.gradients(of: y, seed: seed)
            return (y.value, vs.map { grads[$0] })
        }
        let (fusedValue, fusedGrads) = run(fused: true), (value, grads) = run(fused: false)
        #expect(fusedValue.maxAbsDifference(value) <= 1e-5)
        for (a, e) in zip(fusedGrads, grads) { #expect(a.maxAbsDifference(e) <= 1e-4) }
    }

    @Test("channelMix equals a broadcast matmul, batched and gathered gemm paths, values and gradients",
          arguments: [(4, 3), (4, 40), (1, 5)])
    func channelMixMatchesMatmul(batch: Int, entries: Int) {
        var rng = SeededGenerator(seed: 8)
        let (i, o) = (6, 5)
        let w = Tensor.normal([o, i], rng: &rng), x = Tensor.normal([batch, i, entries], rng: &rng)
        let seed = Tensor.normal([batch, o, entries], rng: &rng)
        func run(_ mix: (Variable, Variable) -> Variable) -> [Tensor] {
            let tape = Tape()
            let (wv, xv) = (tape.variable(w), tape.variable(x))
            let y = mix(wv, xv)
            let grads = tape.gradients(of: y, seed: seed)
            return [y.value, grads[wv], grads[xv]]
        }
        let fused = run { PermutationOps.channelMix($0, $1) }, reference = run { Variable.matmul($0, $1) }
        for (a, e) in zip(fused, reference) { #expect(a.maxAbsDifference(e) <= 1e-4) }
    }

    @Test("the NFT GELU's call-free exponential agrees with expf to a few ulp on (−∞, 0]")
    func nftExponentialMatchesLibm() {
        var worst: Float = 0
        var x: Float = 0
        while x > -87 {
            let e = Foundation.expf(x)
            worst = Swift.max(worst, Swift.abs(nftExpNonPositive(x) - e) / e)
            x -= 0.0137
        }
        #expect(worst <= 4e-7, "worst relative error \(worst)")
        #expect(nftExpNonPositive(0) == 1)
        #expect(nftExpNonPositive(-1000) < 1e-37)
    }

    @Test("typed layer stacks keep their parameter paths (checkpoints store them)")
    func typedStacksKeepParameterPaths() throws {
        var rng = SeededGenerator(seed: 1)
        let model = try NFNPredictor(kind: .hnp, architecture: F.mlp3.architecture, hiddenChannels: [2, 2], headHidden: 4, rng: &rng)
        let paths = model.namedParameters().map(\.path)
        // layers: HNPLinear, ReLU, HNPLinear, ReLU.
        #expect(paths.contains { $0.hasPrefix("layers.0.terms.0.") })
        #expect(paths.contains { $0.hasPrefix("layers.2.terms.") })
        #expect(paths.contains { $0.hasPrefix("head.") })
        #expect(model.equivariantParameterCount > 0)
        #expect(model.parameterCount == model.equivariantParameterCount + model.head.parameterCount)
        // Reflection is cached per instance: a second call lists the same parameters in the same order.
        #expect(model.namedParameters().map(\.path) == paths)
        #expect(zip(model.parameters, model.namedParameters().map(\.parameter)).allSatisfy { $0 === $1 })
        let editor = try NFNEditor(kind: .np, architecture: F.mlp3.architecture, hiddenChannels: [2], rng: &rng)
        #expect(editor.namedParameters().map(\.path).contains { $0.hasPrefix("layers.0.terms.") })
        let quasi = try QuasiMonomialPredictor(architecture: F.mlp3.architecture,
                                               configuration: .init(kind: .positiveScaling, hiddenChannels: [2, 2]), rng: &rng)
        #expect(quasi.namedParameters().map(\.path).contains { $0.hasPrefix("layers.1.equivariant.") })
    }

    @Test("the fused ReLU equals Variable.relu, values and gradients")
    func fusedReLUMatchesVariableReLU() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal([3, 7, 5], rng: &rng), seed = Tensor.normal([3, 7, 5], rng: &rng)
        func run(_ f: (Variable) -> Variable) -> [Tensor] {
            let tape = Tape()
            let v = tape.variable(x)
            let y = f(v)
            return [y.value, tape.gradients(of: y, seed: seed)[v]]
        }
        #expect(run(PermutationOps.relu) == run { $0.relu() })
    }
}
