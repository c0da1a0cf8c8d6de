import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// The reference-recipe switches of the NFT (``NFTRecipe``): each against a direct formulation,
/// the new backward pass against finite differences, and the reference NFT block still
/// equivariant.
@Suite struct NFTRecipeTests {
    static let conv = nftSmallConvArchitecture()

    /// The element of `t` at a full multi-index given as an array (row-major).
    static func element(_ t: Tensor, _ index: [Int]) -> Float {
        var flat = 0
        for (i, n) in zip(index, t.shape) { flat = flat * n + i }
        return t[flat: flat]
    }

    @Test func referenceLayerNormDividesByTheUnbiasedStandardDeviation() throws {
        var rng = SeededGenerator(seed: 41)
        let a = Self.conv
        let norm = try NFTLayerNorm(channels: 4, filterFactors: nftFilterFactors(a), normalization: .unbiasedStandardDeviation)
        // Non-trivial affine parameters so that γ and β are part of the check.
        for p in norm.parameters { p.value = Tensor.normal(p.value.shape, rng: &rng) }
        let x = nftRandomFeatures(a, batch: 2, channels: 4, std: 2, rng: &rng)
        let y = nftApply(norm, x)
        // Direct: for each weight entry, its C·f folded channels (index c·f + tap) normalised with
        // the unbiased standard deviation plus ε, in Double.
        for i in 0..<a.layerCount {
            let f = a.filterFactor(layer: i), w = x.weights[i], out = y.weights[i]
            let gamma = norm.weightNorms[i].scale!.value, beta = norm.weightNorms[i].offset!.value
            let kernel = Array(w.shape.dropFirst(4))
            for b in 0..<2 {
                for r in 0..<w.shape[2] {
                    for k in 0..<w.shape[3] {
                        func index(_ c: Int, _ t: Int) -> [Int] {
                            kernel.isEmpty ? [b, c, r, k] : [b, c, r, k, t / kernel[1], t % kernel[1]]
                        }
                        let values = (0..<(4 * f)).map { Double(Self.element(w, index($0 / f, $0 % f))) }
                        let mean = values.reduce(0, +) / Double(values.count)
                        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
                        for j in 0..<values.count {
                            let expected = (values[j] - mean) / (sd + 1e-5) * Double(gamma[flat: j]) + Double(beta[flat: j])
                            #expect(abs(Double(Self.element(out, index(j / f, j % f))) - expected) <= 1e-4 * max(1, abs(expected)))
                        }
                    }
                }
            }
        }
        // The default is the biased-variance form, which differs (by √((n−1)/n) in the scale).
        let ours = try NFTLayerNorm(channels: 4, filterFactors: nftFilterFactors(a))
        for (p, q) in zip(ours.parameters, norm.parameters) { p.value = q.value }
        #expect(relativeDeviation(nftTensors(nftApply(ours, x)), nftTensors(y)) > 1e-3)
        #expect(throws: ModuleError.self) { try NFTLayerNorm(channels: 1, filterFactors: [1], normalization: .unbiasedStandardDeviation) }
    }

    @Test func referenceLayerNormGradientMatchesFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 42)
        for a in [Self.conv, try FeedforwardArchitecture.mlp(widths: [2, 3, 2])] {
            let norm = try NFTLayerNorm(channels: 3, filterFactors: nftFilterFactors(a), normalization: .unbiasedStandardDeviation)
            for p in norm.parameters { p.value = Tensor.normal(p.value.shape, rng: &rng) }
            let x = nftRandomFeatures(a, batch: 1, channels: 3, rng: &rng)
            let inputs = checkGradient(at: nftTensors(x), maxEntries: 24) { vars in nftFlatten(norm(nftVariables(vars))) }
            #expect(inputs.maxRelativeError <= 2e-2, "wrt inputs: \(inputs)")
            let params = nftCheckParameterGradients(norm, input: x) { nftFlatten(norm($0)) }
            #expect(params.checked > 0 && params.error <= 2e-2, "wrt parameters: \(params.error)")
        }
    }

    @Test func perTermUnprojectionAddsTheBiasOncePerAttentionTerm() throws {
        let a = Self.conv
        var r1 = SeededGenerator(seed: 43), r2 = SeededGenerator(seed: 43)
        let ours = try NFTSelfAttention(channels: 4, heads: 2, architecture: a, rng: &r1)
        let reference = try NFTSelfAttention(channels: 4, heads: 2, architecture: a, unprojectionBias: .perTerm, rng: &r2)
        var rng = SeededGenerator(seed: 44)
        for p in ours.parameters { p.value = Tensor.normal(p.value.shape, std: 0.5, rng: &rng) }
        for (p, q) in zip(reference.parameters, ours.parameters) { p.value = q.value }
        let x = nftRandomFeatures(a, batch: 2, channels: 4, rng: &rng)
        let y = nftApply(ours, x), z = nftApply(reference, x)
        // Direct: unproject(column) + unproject(row) + unproject(layer mean) = unproject(sum) + 2·bias.
        for i in 0..<a.layerCount {
            let bias = ours.unprojection[i].bias!.value                  // [C·f], folded index c·f + tap
            let f = a.filterFactor(layer: i), w = y.weights[i], v = z.weights[i]
            for c in 0..<4 {
                for t in 0..<f {
                    let idx = [1, c, 0, 0] + (f == 1 ? [] : [t / 3, t % 3])
                    #expect(abs(Self.element(v, idx) - Self.element(w, idx) - 2 * bias[flat: c * f + t]) <= 1e-4)
                }
            }
            #expect(z.biases[i] == y.biases[i])
        }
        // The gradient of the extra bias terms flows (finite differences on the reference layer).
        let params = nftCheckParameterGradients(reference, input: x) { nftFlatten(reference($0)) }
        #expect(params.checked > 0 && params.error <= 2e-2, "\(params.error)")
    }

    @Test func sharedLayerEncodingAddsOneVectorToEveryTap() throws {
        let a = Self.conv
        var rng = SeededGenerator(seed: 45)
        let shared = try LayerEncoding(channels: 4, architecture: a, taps: .shared, rng: &rng)
        #expect(shared.parameterCount == 2 * 4 * a.layerCount)
        let x = nftRandomFeatures(a, batch: 1, channels: 4, rng: &rng)
        let y = nftApply(shared, x)
        for i in 0..<a.layerCount {
            let phi = shared.weightEncodings[i].value
            let kernel = Array(x.weights[i].shape.dropFirst(4))
            for c in 0..<4 {
                for t in 0..<a.filterFactor(layer: i) {
                    let idx = [0, c, 1, 0] + (kernel.isEmpty ? [] : [t / kernel[1], t % kernel[1]])
                    #expect(abs(Self.element(y.weights[i], idx) - Self.element(x.weights[i], idx) - phi[flat: c]) <= 1e-5)
                }
            }
        }
        // Inside a predictor (the folded path) the encoding is the same, so the reference NFT is
        // still invariant to hidden-neuron permutations.
        var config = NFTPredictor.Configuration(channels: 4, blocks: 1, heads: 2, poolQueries: 2, headHidden: 8)
        config.recipe = .reference
        let predictor = try NFTPredictor(architecture: a, configuration: config, rng: &rng)
        let batch = nftRandomFeatures(a, batch: 2, channels: 1, rng: &rng)
        var grng = SeededGenerator(seed: 46)
        let dev = try checkInvariance(input: batch, trials: 4, sample: {
            let g = NeuronGroupElement.random(widths: batch.widths, kind: .hiddenPermutation, rng: &grng)
            return { try g.apply(to: $0) }
        }) { predictor(WeightSpaceVariables($0)).value }
        #expect(dev <= 1e-4, "reference NFT under hidden permutations: \(dev)")
        // Control: the reference recipe changes the model (fewer encoding parameters, other outputs).
        var rng2 = SeededGenerator(seed: 47)
        config.recipe = nil
        let ours = try NFTPredictor(architecture: a, configuration: config, rng: &rng2)
        #expect(ours.parameterCount > predictor.parameterCount)
    }

    /// The catalog's reference recipes by name: `nft-reference` is `nft` with every switch flipped
    /// (same seed, fewer encoding parameters, other outputs), `np-reference` the reference NP
    /// predictor (IO embeddings: invariant to hidden permutations, not to all neuron permutations).
    @Test func referenceRecipesByName() throws {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        #expect(MetanetworkKind(rawValue: "nft-reference") == .nftReference)
        #expect(MetanetworkKind(rawValue: "np-reference") == .npReference)
        var r1 = SeededGenerator(seed: 48), r2 = SeededGenerator(seed: 48)
        let reference = try MetanetworkKind.nftReference.makePredictor(architecture: arch, size: .small, rng: &r1)
        let ours = try MetanetworkKind.nft.makePredictor(architecture: arch, size: .small, rng: &r2)
        #expect((reference as? NFTPredictor)?.configuration.recipe == .reference)
        #expect((ours as? NFTPredictor)?.configuration.recipe == nil)
        #expect(ours.parameterCount > reference.parameterCount)

        var rng = SeededGenerator(seed: 49)
        let np = try MetanetworkKind.npReference.makePredictor(architecture: arch, size: .standard, rng: &rng)
        let nfn = try #require(np as? NFNPredictor)
        #expect(nfn.kind == .np && nfn.hiddenChannels == [16, 16, 5])
        #expect(nfn.head.parameterCount > 1000 * 1000, "the reference head is 1000 wide")
        let a = Self.conv
        let small = try MetanetworkKind.npReference.makePredictor(architecture: a, size: .small, rng: &rng)
        let batch = nftRandomFeatures(a, batch: 2, channels: 1, rng: &rng)
        for kind in [NeuronGroupElement.Kind.hiddenPermutation, .allPermutation] {
            var grng = SeededGenerator(seed: 50)
            let dev = try checkInvariance(input: batch, trials: 4, sample: {
                let g = NeuronGroupElement.random(widths: batch.widths, kind: kind, rng: &grng)
                return { try g.apply(to: $0) }
            }) { try small.checkedPredict($0) }
            if kind == .hiddenPermutation {
                #expect(dev <= 1e-4, "np-reference under hidden permutations: \(dev)")
            } else {
                #expect(dev > 1e-3, "the IO embeddings tell input and output neurons apart: \(dev)")
            }
        }
        #expect(MetanetworkKind.npReference.invariantTo == [.hiddenPermutation])
    }
}
