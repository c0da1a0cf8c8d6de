import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// Symmetry properties of the NFT layers (Zhou et al. 2023, *Neural Functional Transformers*):
/// equivariance to neuron permutations, invariance of the pooled outputs, and failing controls
/// (scalings, decoupled permutations, relabelled layers) that prove the checks can fail.
@Suite struct NFTEquivarianceTests {
    /// One weight space to test on.
    struct Space: CustomStringConvertible, Sendable {
        var name: String
        var architecture: FeedforwardArchitecture
        var description: String { name }
    }

    static let spaces: [Space] = [
        Space(name: "MLP [3, 5, 4, 2]", architecture: try! .mlp(widths: [3, 5, 4, 2])),
        Space(name: "CNN [2, 3, 4, 3] 3×3", architecture: nftSmallConvArchitecture()),
    ]

    static let groups: [NeuronGroupElement.Kind] = [.hiddenPermutation, .allPermutation]

    /// Draws a group element of `kind` and returns its action (same on input and output).
    static func sampler(_ x: WeightSpaceFeatures, _ kind: NeuronGroupElement.Kind, rng: inout SeededGenerator)
        -> (onInput: (WeightSpaceFeatures) throws -> WeightSpaceFeatures, onOutput: (WeightSpaceFeatures) throws -> WeightSpaceFeatures) {
        let g = NeuronGroupElement.random(widths: x.widths, kind: kind, scaleRange: (0.5, 2), rng: &rng)
        return ({ try g.apply(to: $0) }, { try g.apply(to: $0) })
    }

    static func equivarianceDeviation(_ layer: WeightSpaceLayer, _ x: WeightSpaceFeatures,
                                      _ kind: NeuronGroupElement.Kind, seed: UInt64) throws -> Float {
        var rng = SeededGenerator(seed: seed)
        return try checkEquivariance(input: x, trials: 10, sample: { sampler(x, kind, rng: &rng) },
                                     tensors: nftTensors) { nftApply(layer, $0) }
    }

    // MARK: Self-attention

    @Test(arguments: spaces, groups)
    func selfAttentionIsNeuronPermutationEquivariant(space: Space, kind: NeuronGroupElement.Kind) throws {
        var rng = SeededGenerator(seed: 11)
        let sa = try NFTSelfAttention(channels: 4, heads: 2, architecture: space.architecture, rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 2, channels: 4, rng: &rng)
        let dev = try Self.equivarianceDeviation(sa, x, kind, seed: 12)
        #expect(dev <= 1e-4, "\(space) \(kind): deviation \(dev)")
    }

    @Test(arguments: spaces, groups)
    func blockAndEncodedAttentionAreEquivariant(space: Space, kind: NeuronGroupElement.Kind) throws {
        var rng = SeededGenerator(seed: 13)
        let a = space.architecture
        let block = try NFTBlock(channels: 4, heads: 2, filterFactors: nftFilterFactors(a), rng: &rng)
        let encode = try LayerEncoding(channels: 4, architecture: a, rng: &rng)
        let sa = try NFTSelfAttention(channels: 4, heads: 2, architecture: a, rng: &rng)
        let norm = try NFTLayerNorm(channels: 4, filterFactors: nftFilterFactors(a))
        let mlp = try NFTPointwiseMLP(channels: 4, hidden: 6, filterFactors: nftFilterFactors(a), rng: &rng)
        let x = nftRandomFeatures(a, batch: 2, channels: 4, rng: &rng)
        final class Composite: WeightSpaceLayer {
            let f: (WeightSpaceVariables) -> WeightSpaceVariables
            init(_ f: @escaping (WeightSpaceVariables) -> WeightSpaceVariables) { self.f = f }
            func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables { f(input) }
        }
        let layers: [(String, WeightSpaceLayer)] = [
            ("block", block), ("SA∘LayerEnc", Composite { sa(encode($0)) }), ("LN", norm), ("MLP", mlp),
        ]
        for (name, layer) in layers {
            let dev = try Self.equivarianceDeviation(layer, x, kind, seed: 14)
            #expect(dev <= 1e-4, "\(name) on \(space) \(kind): deviation \(dev)")
        }
    }

    /// Control: attention is nonlinear, so positive per-neuron scalings (a symmetry of ReLU
    /// networks, but not one SA is built for) move the output.
    @Test(arguments: spaces)
    func selfAttentionIsNotScalingEquivariant(space: Space) throws {
        var rng = SeededGenerator(seed: 15)
        let sa = try NFTSelfAttention(channels: 4, heads: 2, architecture: space.architecture, rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 2, channels: 4, rng: &rng)
        let dev = try Self.equivarianceDeviation(sa, x, .positiveScaling, seed: 16)
        #expect(dev >= 1e-2, "\(space): deviation \(dev) under scalings should be large")
    }

    /// Control (Zhou et al. 2023, *Neural Functional Transformers*, App. A.1, case 3): permuting
    /// the rows of W⁽¹⁾ differently from the columns of W⁽²⁾ is a false symmetry; the neuron term
    /// sees it. (Pointwise layers cannot: they respect every permutation that keeps the layer
    /// index.)
    @Test(arguments: spaces)
    func selfAttentionSeesDecoupledPermutations(space: Space) throws {
        var rng = SeededGenerator(seed: 17)
        let sa = try NFTSelfAttention(channels: 4, heads: 2, architecture: space.architecture, rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 2, channels: 4, rng: &rng)
        let n = x.widths[1]
        var worstSA: Float = 0, worstNorm: Float = 0
        let norm = try NFTLayerNorm(channels: 4, filterFactors: nftFilterFactors(space.architecture))
        for _ in 0..<10 {
            var sigma = rng.permutation(n), tau = rng.permutation(n)
            while sigma == tau { sigma = rng.permutation(n); tau = rng.permutation(n) }
            let g = { (u: WeightSpaceFeatures) in nftDecoupledPermutation(u, layer: 0, rows: sigma, columns: tau) }
            worstSA = max(worstSA, relativeDeviation(nftTensors(nftApply(sa, g(x))), nftTensors(g(nftApply(sa, x)))))
            worstNorm = max(worstNorm, relativeDeviation(nftTensors(nftApply(norm, g(x))), nftTensors(g(nftApply(norm, x)))))
        }
        #expect(worstSA >= 1e-2, "\(space): SA deviation \(worstSA) under a decoupled permutation should be large")
        #expect(worstNorm <= 1e-4, "\(space): pointwise LN deviation \(worstNorm) should be tiny")
    }

    // MARK: False symmetry across layers (Thm. 3.1)

    /// Relabelling two equally shaped layers of an MLP with equal widths [6, 6, 6, 6].
    ///
    /// - The layer term alone (2L mean tokens as an unordered set) respects the swap.
    /// - LayerEncoding before it breaks that: the output moves.
    /// - Full SA with LayerEncoding (the paper's layer) is not swap-equivariant either.
    /// - Full SA *without* LayerEncoding is not swap-equivariant either: the neuron term couples
    ///   adjacent layers through shared neurons, and the swap changes which matrices share them.
    @Test(arguments: [(0, 1), (0, 2), (1, 2)])
    func layerEncodingBreaksTheLayerSwapFalseSymmetry(a: Int, b: Int) throws {
        var rng = SeededGenerator(seed: 19)
        let arch = try FeedforwardArchitecture.mlp(widths: [6, 6, 6, 6])
        let ff = nftFilterFactors(arch)
        let layerTerm = try NFTSelfAttention(channels: 4, heads: 2, filterFactors: ff, terms: .layer, rng: &rng)
        let full = try NFTSelfAttention(channels: 4, heads: 2, filterFactors: ff, rng: &rng)
        let encode = try LayerEncoding(channels: 4, filterFactors: ff, rng: &rng)
        let swap = { (u: WeightSpaceFeatures) in nftSwapLayers(u, a, b) }
        func deviation(_ f: (WeightSpaceFeatures) -> WeightSpaceFeatures) -> Float {
            var worst: Float = 0
            for _ in 0..<10 {
                let x = nftRandomFeatures(arch, batch: 2, channels: 4, rng: &rng)
                worst = max(worst, relativeDeviation(nftTensors(f(swap(x))), nftTensors(swap(f(x)))))
            }
            return worst
        }
        let layerOnly = deviation { nftApply(layerTerm, $0) }
        let layerEncoded = deviation { layerTerm(encode(WeightSpaceVariables($0))).value }
        let fullEncoded = deviation { full(encode(WeightSpaceVariables($0))).value }
        let fullAlone = deviation { nftApply(full, $0) }
        #expect(layerOnly <= 1e-4, "layer term alone should respect the swap (\(a)↔\(b)): \(layerOnly)")
        #expect(layerEncoded >= 1e-2, "layer term ∘ LayerEncoding should move under the swap (\(a)↔\(b)): \(layerEncoded)")
        #expect(fullEncoded >= 1e-2, "SA ∘ LayerEncoding should move under the swap (\(a)↔\(b)): \(fullEncoded)")
        #expect(fullAlone >= 1e-2, "full SA alone is not swap-equivariant (\(a)↔\(b)): \(fullAlone)")
    }

    // MARK: Invariant outputs

    @Test(arguments: spaces, groups)
    func crossAttentionPoolingIsInvariant(space: Space, kind: NeuronGroupElement.Kind) throws {
        var rng = SeededGenerator(seed: 21)
        let pool = try CrossAttentionPooling(channels: 4, queries: 3, dimension: 5,
                                             filterFactors: nftFilterFactors(space.architecture), rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 2, channels: 4, rng: &rng)
        let dev = try checkInvariance(input: x, trials: 10, sample: {
            let g = NeuronGroupElement.random(widths: x.widths, kind: kind, rng: &rng)
            return { try g.apply(to: $0) }
        }) { pool(WeightSpaceVariables($0)).value }
        #expect(dev <= 1e-4, "\(space) \(kind): deviation \(dev)")
        #expect(pool(WeightSpaceVariables(x)).shape == [2, 15])
    }

    static let predictorSpaces: [Space] = spaces + [Space(name: "Small CNN Zoo", architecture: .smallCNNZoo())]

    @Test(arguments: predictorSpaces)
    func predictorIsInvariantToHiddenPermutations(space: Space) throws {
        var rng = SeededGenerator(seed: 23)
        let model = try NFTPredictor(architecture: space.architecture,
                                     configuration: .init(channels: 8, blocks: 2, heads: 2, poolQueries: 2, headHidden: 16, outputs: 3),
                                     rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 2, channels: 1, std: 0.3, rng: &rng)
        for kind in Self.groups {
            let dev = try checkInvariance(input: x, trials: 10, sample: {
                let g = NeuronGroupElement.random(widths: x.widths, kind: kind, rng: &rng)
                return { try g.apply(to: $0) }
            }) { model.predict($0) }
            #expect(dev <= 1e-4, "\(space) \(kind): deviation \(dev)")
        }
        // Control: positive scalings change ReLU networks' weights but not their function; the
        // NFT is not built to be invariant to them, and its prediction moves.
        let control = try checkInvariance(input: x, trials: 10, sample: {
            let g = NeuronGroupElement.random(widths: x.widths, kind: .positiveScaling, scaleRange: (0.2, 5), rng: &rng)
            return { try g.apply(to: $0) }
        }) { model.predict($0) }
        #expect(control >= 1e-2, "\(space): deviation \(control) under scalings should be large")
        #expect(model.predict(x).shape == [2, 3])
    }

    // MARK: Batching

    /// Batch members never mix: a batch's outputs equal the members' outputs.
    @Test(arguments: spaces)
    func batchMembersAreIndependent(space: Space) throws {
        var rng = SeededGenerator(seed: 25)
        let block = try NFTBlock(channels: 4, heads: 2, filterFactors: nftFilterFactors(space.architecture), rng: &rng)
        let pool = try CrossAttentionPooling(channels: 4, queries: 2, dimension: 3,
                                             filterFactors: nftFilterFactors(space.architecture), rng: &rng)
        let x = nftRandomFeatures(space.architecture, batch: 3, channels: 4, rng: &rng)
        let whole = nftApply(block, x)
        let pooled = pool(WeightSpaceVariables(x)).value
        for m in 0..<3 {
            let single = nftApply(block, x.member(m))
            #expect(whole.member(m).maxRelativeDeviation(from: single) <= 1e-5)
            let p = pool(WeightSpaceVariables(x.member(m))).value
            #expect(relativeDeviation([pooled.slice(axis: 0, m..<(m + 1))], [p]) <= 1e-5)
        }
    }
}
