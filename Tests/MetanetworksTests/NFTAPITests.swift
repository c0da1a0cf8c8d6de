import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// Parameter counts, configuration errors, the doc-comment examples, and a training smoke test.
@Suite struct NFTAPITests {
    static func saCount(c: Int, f: [Int], shared: Bool) -> Int {
        shared ? 3 * c * c + 3 * c
               : f.reduce(0) { $0 + (c * $1 + 1) * 3 * c + (c + 1) * 3 * c + (c + 1) * c * $1 }
    }
    static func normCount(c: Int, f: [Int]) -> Int { f.reduce(0) { $0 + 2 * c * ($1 + 1) } }
    static func mlpCount(c: Int, h: Int, f: [Int]) -> Int {
        f.reduce(0) { $0 + 2 * c * h * $1 * $1 + (c + h) * $1 + 2 * c * h + c + h }
    }
    static func poolCount(c: Int, m: Int, d: Int, f: [Int], shared: Bool) -> Int {
        m * d + (shared ? (c + 1) * 2 * d : f.reduce(0) { $0 + (c * $1 + 1) * 2 * d + (c + 1) * 2 * d })
    }

    @Test func parameterCountsMatchTheDocumentedFormulas() throws {
        var rng = SeededGenerator(seed: 41)
        let zoo = FeedforwardArchitecture.smallCNNZoo()
        let f = nftFilterFactors(zoo)
        #expect(f == [9, 9, 9, 1])
        let sa = try NFTSelfAttention(channels: 16, heads: 2, architecture: zoo, rng: &rng)
        #expect(sa.sharing == .perLayer)
        #expect(sa.parameterCount == Self.saCount(c: 16, f: f, shared: false))
        let saShared = try NFTSelfAttention(channels: 16, heads: 2, filterFactors: [1, 1, 1], rng: &rng)
        #expect(saShared.sharing == .shared)
        #expect(saShared.parameterCount == Self.saCount(c: 16, f: [1, 1, 1], shared: true))
        #expect(try LayerEncoding(channels: 16, architecture: zoo, rng: &rng).parameterCount == f.reduce(0) { $0 + 16 * ($1 + 1) })
        #expect(try NFTLayerNorm(channels: 16, filterFactors: f).parameterCount == Self.normCount(c: 16, f: f))
        #expect(try NFTPointwiseMLP(channels: 16, hidden: 32, filterFactors: f, rng: &rng).parameterCount
                == Self.mlpCount(c: 16, h: 32, f: f))
        #expect(try CrossAttentionPooling(channels: 16, queries: 4, dimension: 16, filterFactors: f, rng: &rng).parameterCount
                == Self.poolCount(c: 16, m: 4, d: 16, f: f, shared: false))

        // The benchmark model: 16 channels, 2 blocks, 2 heads on the Small CNN Zoo.
        let model = try NFTPredictor(architecture: zoo, configuration: .init(channels: 16, blocks: 2, heads: 2), rng: &rng)
        let block = Self.saCount(c: 16, f: f, shared: false) + 2 * Self.normCount(c: 16, f: f) + Self.mlpCount(c: 16, h: 32, f: f)
        let expected = f.reduce(0) { $0 + 16 * ($1 + 1) }                // layer encoding (Fourier projection has none)
            + 2 * block
            + Self.poolCount(c: 16, m: 4, d: 16, f: f, shared: false)
            + (64 + 1) * 64 + (64 + 1) * 1                                 // head 64 → 64 → 1
        #expect(model.projection.parameterCount == 0)
        #expect(model.parameterCount == expected)
    }

    @Test func invalidConfigurationsThrow() {
        var rng = SeededGenerator(seed: 42)
        #expect(throws: ModuleError.self) { try NFTSelfAttention(channels: 6, heads: 4, filterFactors: [1], rng: &rng) }
        #expect(throws: ModuleError.self) { try NFTSelfAttention(channels: 4, heads: 2, filterFactors: [9, 1], sharing: .shared, rng: &rng) }
        #expect(throws: ModuleError.self) { try NFTSelfAttention(channels: 4, heads: 2, filterFactors: [1], terms: [], rng: &rng) }
        #expect(throws: ModuleError.self) { try CrossAttentionPooling(channels: 4, queries: 0, dimension: 2, filterFactors: [1], rng: &rng) }
        #expect(throws: ModuleError.self) { try NFTInputProjection(inputChannels: 1, channels: 4, kind: .fourier(features: 2, scale: 0), rng: &rng) }
        #expect(throws: ModuleError.self) { try NFTBlock(channels: 4, heads: 2, filterFactors: [1], dropout: 1, rng: &rng) }
        #expect(throws: ModuleError.self) { try LayerEncoding(channels: 0, filterFactors: [1], rng: &rng) }
    }

    /// Same seed, same model; shared attention accepts any depth and widths.
    @Test func deterministicAndWidthFree() throws {
        var r1 = SeededGenerator(seed: 43), r2 = SeededGenerator(seed: 43)
        let zoo = FeedforwardArchitecture.smallCNNZoo()
        let a = try NFTPredictor(architecture: zoo, configuration: .init(channels: 8, heads: 2), rng: &r1)
        let b = try NFTPredictor(architecture: zoo, configuration: .init(channels: 8, heads: 2), rng: &r2)
        #expect(a.parameterValues() == b.parameterValues())
        var rng = SeededGenerator(seed: 44)
        let x = nftRandomFeatures(zoo, batch: 2, channels: 1, std: 0.3, rng: &rng)
        #expect(a.predict(x) == b.predict(x))

        let sa = try NFTSelfAttention(channels: 4, heads: 2, filterFactors: [1], rng: &rng)
        for widths in [[2, 3], [4, 5, 6], [3, 3, 3, 3, 3]] {
            let y = nftRandomFeatures(try .mlp(widths: widths), batch: 1, channels: 4, rng: &rng)
            let out = nftApply(sa, y)
            #expect(out.widths == widths && out.channelCount == 4)
        }
    }

    /// The examples in the doc comments, verbatim apart from the inputs they assume.
    @Test func docExamplesCompileAndRun() throws {
        var data = SeededGenerator(seed: 45)
        let input = nftRandomFeatures(try .mlp(widths: [3, 4, 2]), batch: 2, channels: 8, rng: &data)
        let features = WeightSpaceVariables(input)
        do {
            var rng = SeededGenerator(seed: 0)
            let attention = try NFTSelfAttention(channels: 8, heads: 2, filterFactors: [1, 1, 1], rng: &rng)
            let features = WeightSpaceVariables(input)          // [B, 8, …] weight-space features
            let output = attention(features)                    // same shapes
            #expect(output.value.widths == input.widths)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let conv = nftRandomFeatures(.smallCNNZoo(), batch: 1, channels: 8, rng: &data)
            let features = WeightSpaceVariables(conv)
            let encode = try LayerEncoding(channels: 8, filterFactors: [9, 9, 9, 1], rng: &rng)
            let encoded = encode(features)      // features: WeightSpaceVariables with 8 channels
            #expect(encoded.weights[0].shape == conv.weights[0].shape)
        }
        do {
            let norm = try NFTLayerNorm(channels: 8, filterFactors: [1, 1])
            let normalised = norm(features)
            #expect(normalised.layerCount == 2)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let mlp = try NFTPointwiseMLP(channels: 8, hidden: 16, filterFactors: [1, 1], rng: &rng)
            let y = mlp(features)
            #expect(y.channelCount == 8)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let pool = try CrossAttentionPooling(channels: 8, queries: 4, dimension: 16, filterFactors: [1, 1], rng: &rng)
            let pooled = pool(features)         // [B, 64]
            #expect(pooled.shape == [2, 64])
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let raw = WeightSpaceVariables(nftRandomFeatures(try .mlp(widths: [3, 4, 2]), batch: 2, channels: 1, rng: &data))
            let project = try NFTInputProjection(inputChannels: 1, channels: 16, kind: .fourier(features: 8, scale: 3), rng: &rng)
            let lifted = project(raw)           // 1 channel → 16 channels
            #expect(lifted.channelCount == 16)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let block = try NFTBlock(channels: 8, heads: 2, filterFactors: [1, 1], rng: &rng)
            let y = block(features)             // same shapes as features
            #expect(y.value.widths == input.widths)
        }
        do {
            var rng = SeededGenerator(seed: 0)
            let zooBatch = nftRandomFeatures(.smallCNNZoo(), batch: 3, channels: 1, std: 0.3, rng: &data)
            let model = try NFTPredictor(architecture: .smallCNNZoo(),
                                         configuration: .init(channels: 16, blocks: 2, heads: 2), rng: &rng)
            let accuracy = model(WeightSpaceVariables(zooBatch))     // [B, 1]
            #expect(accuracy.shape == [3, 1])
        }
    }

    /// A few Adam steps fit a simple invariant target (the mean weight of each network): the
    /// model trains with the tape end to end.
    @Test func predictorTrains() throws {
        var rng = SeededGenerator(seed: 46)
        let arch = try FeedforwardArchitecture.mlp(widths: [3, 4, 2])
        let model = try NFTPredictor(architecture: arch, configuration: .init(channels: 8, blocks: 1, heads: 2, headHidden: 16), rng: &rng)
        let x = nftRandomFeatures(arch, batch: 8, channels: 1, std: 0.5, rng: &rng)
        let target = x.weights[1].mean(alongAxes: [1, 2, 3], keepingDimensions: false).reshaped([8, 1]) * 10
        let optimizer = Adam(learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<40 {
            let tape = Tape()
            let loss = Variable.meanSquaredError(model(WeightSpaceVariables(x, tape: tape)), target)
            losses.append(loss.value.scalar)
            optimizer.step(model, gradients: tape.gradients(of: loss))
        }
        #expect(losses.last! < 0.5 * losses.first!, "loss \(losses.first!) → \(losses.last!)")
    }
}

extension NFTAPITests {
    /// Pullbacks capture tensors only: a tape dropped without a backward pass is freed.
    @Test func tapeIsReleasedWithoutBackward() throws {
        var rng = SeededGenerator(seed: 47)
        let zoo = FeedforwardArchitecture.smallCNNZoo()
        let model = try NFTPredictor(architecture: zoo, configuration: .init(channels: 4, blocks: 1, heads: 2), rng: &rng)
        let x = nftRandomFeatures(zoo, batch: 1, channels: 1, rng: &rng)
        weak var weakTape: Tape?
        do {
            let tape = Tape()
            weakTape = tape
            _ = model(WeightSpaceVariables(x, tape: tape))
        }
        #expect(weakTape == nil)
    }
}
