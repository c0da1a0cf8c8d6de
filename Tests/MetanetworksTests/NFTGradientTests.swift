import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// Finite-difference gradient checks for the NFT layers, with respect to inputs and parameters.
@Suite struct NFTGradientTests {
    static let mlp = try! FeedforwardArchitecture.mlp(widths: [2, 3, 2])
    static let conv: FeedforwardArchitecture = {
        let c = FeedforwardArchitecture.LayerKind.conv2d(kernel: [2, 2], stride: [1, 1], padding: [0, 0])
        return try! FeedforwardArchitecture(family: .cnn, widths: [1, 2, 2], layers: [c, .dense], activation: .relu)
    }()

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var architecture: FeedforwardArchitecture
        var description: String { name }
    }
    static let cases = [Case(name: "MLP", architecture: mlp), Case(name: "CNN", architecture: conv)]

    /// Checks ∂/∂input and ∂/∂parameters of a canonical → canonical layer.
    func check(_ name: String, _ module: Module & WeightSpaceLayer, _ a: FeedforwardArchitecture, channels: Int) {
        var rng = SeededGenerator(seed: 31)
        let x = nftRandomFeatures(a, batch: 1, channels: channels, rng: &rng)
        let inputs = checkGradient(at: nftTensors(x), maxEntries: 24) { vars in nftFlatten(module(nftVariables(vars))) }
        #expect(inputs.maxRelativeError <= 2e-2, "\(name) wrt inputs: \(inputs)")
        let params = nftCheckParameterGradients(module, input: x) { nftFlatten(module($0)) }
        #expect(params.checked > 0)
        #expect(params.error <= 2e-2, "\(name) wrt parameters: \(params.error) over \(params.checked)")
    }

    @Test(arguments: cases)
    func selfAttention(c: Case) throws {
        var rng = SeededGenerator(seed: 32)
        let sa = try NFTSelfAttention(channels: 4, heads: 2, architecture: c.architecture, rng: &rng)
        check("SA \(c)", sa, c.architecture, channels: 4)
    }

    @Test func selfAttentionSharedAndTerms() throws {
        var rng = SeededGenerator(seed: 33)
        for terms in [NFTSelfAttention.Terms.neuron, .layer, .all] {
            let sa = try NFTSelfAttention(channels: 4, heads: 2, filterFactors: [1, 1], sharing: .perLayer, terms: terms, rng: &rng)
            check("SA per-layer \(terms.rawValue)", sa, Self.mlp, channels: 4)
        }
    }

    @Test(arguments: cases)
    func block(c: Case) throws {
        var rng = SeededGenerator(seed: 34)
        let block = try NFTBlock(channels: 4, heads: 2, filterFactors: nftFilterFactors(c.architecture), rng: &rng)
        check("block \(c)", block, c.architecture, channels: 4)
    }

    @Test(arguments: cases)
    func layerEncodingAndProjection(c: Case) throws {
        var rng = SeededGenerator(seed: 35)
        let enc = try LayerEncoding(channels: 3, architecture: c.architecture, rng: &rng)
        check("LayerEncoding \(c)", enc, c.architecture, channels: 3)
        let linear = try NFTInputProjection(inputChannels: 2, channels: 3, kind: .linear, rng: &rng)
        check("linear projection \(c)", linear, c.architecture, channels: 2)
        let fourier = try NFTInputProjection(inputChannels: 2, channels: 5, kind: .fourier(features: 2, scale: 0.5), rng: &rng)
        check("Fourier projection \(c)", fourier, c.architecture, channels: 2)
    }

    @Test(arguments: cases)
    func crossAttentionPooling(c: Case) throws {
        var rng = SeededGenerator(seed: 36)
        let pool = try CrossAttentionPooling(channels: 3, queries: 2, dimension: 4,
                                             filterFactors: nftFilterFactors(c.architecture), rng: &rng)
        let x = nftRandomFeatures(c.architecture, batch: 2, channels: 3, rng: &rng)
        let inputs = checkGradient(at: nftTensors(x), maxEntries: 24) { vars in pool(nftVariables(vars)) }
        #expect(inputs.maxRelativeError <= 2e-2, "CA \(c) wrt inputs: \(inputs)")
        let params = nftCheckParameterGradients(pool, input: x) { pool($0) }
        #expect(params.error <= 2e-2, "CA \(c) wrt parameters: \(params.error) over \(params.checked)")
    }

    @Test func predictorParameters() throws {
        var rng = SeededGenerator(seed: 37)
        let model = try NFTPredictor(architecture: Self.conv,
                                     configuration: .init(channels: 4, blocks: 1, heads: 2, poolQueries: 2, headHidden: 5, outputs: 2),
                                     rng: &rng)
        let x = nftRandomFeatures(Self.conv, batch: 2, channels: 1, std: 0.2, rng: &rng)
        let params = nftCheckParameterGradients(model, input: x, maxEntries: 4) { model($0) }
        #expect(params.error <= 2e-2, "predictor wrt parameters: \(params.error) over \(params.checked)")
    }

    /// The pointwise MLP (and through it the fused GELU) and the layer norm.
    @Test(arguments: cases)
    func pointwiseLayers(c: Case) throws {
        var rng = SeededGenerator(seed: 38)
        let ff = nftFilterFactors(c.architecture)
        check("MLP \(c)", try NFTPointwiseMLP(channels: 3, hidden: 4, filterFactors: ff, rng: &rng), c.architecture, channels: 3)
        check("LN \(c)", try NFTLayerNorm(channels: 3, filterFactors: ff), c.architecture, channels: 3)
    }
}
