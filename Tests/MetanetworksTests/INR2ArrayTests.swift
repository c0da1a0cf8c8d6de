import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// INR2ARRAY: invariance of the latent array, gradients of the decoder and the classifier, a
/// short reconstruction run, shape errors and parameter counts.
@Suite struct INR2ArrayTests {
    /// A tiny SIREN weight space rendering 8 × 8 images in 2 × 2 patches of 4 × 4.
    static let siren = try! FeedforwardArchitecture.siren(widths: [2, 6, 5, 1])

    static func tinyConfiguration(_ backbone: INR2ArrayEncoder.Backbone) -> INR2Array.Configuration {
        .init(encoder: .init(backbone: backbone, channels: 4, blocks: 1, heads: 2, latents: 4, latentDimension: 6),
              decoder: .init(sirenHiddenWidths: [5], hypernetworkHidden: 7),
              classifier: .init(width: 4, blocks: 1, heads: 2, classes: 3))
    }

    /// SIREN-like weights: first layer ~1, later layers ~√(6/n)/30 (what fitted zoos hold, normalised).
    static func sirens(batch: Int, rng: inout SeededGenerator) -> WeightSpaceFeatures {
        var ws: [Tensor] = [], bs: [Tensor] = []
        for i in 0..<siren.layerCount {
            let std: Float = i == 0 ? 0.5 : 0.05
            ws.append(Tensor.normal([batch, 1] + siren.weightShape(layer: i), std: std, rng: &rng))
            bs.append(Tensor.normal([batch, 1] + siren.biasShape(layer: i), std: std, rng: &rng))
        }
        return try! WeightSpaceFeatures(weights: ws, biases: bs)
    }

    static func deviation(_ model: INR2Array, _ u: WeightSpaceFeatures, kind: NeuronGroupElement.Kind,
                          rng: inout SeededGenerator) throws -> Float {
        let reference = try model.checkedLatents(u)
        var worst: Float = 0
        for _ in 0..<4 {
            let moved = try (0..<u.batchSize).map { i in
                try NeuronGroupElement.random(widths: u.widths, kind: kind, rng: &rng).apply(to: u.member(i))
            }
            worst = max(worst, FunctionalEquivalence.relativeDeviation(reference, try model.checkedLatents(try .batched(moved))))
        }
        return worst
    }

    @Test(arguments: INR2ArrayEncoder.Backbone.allCases)
    func theLatentArrayIsInvariantToNeuronPermutations(_ backbone: INR2ArrayEncoder.Backbone) throws {
        var rng = SeededGenerator(seed: 11)
        let model = try INR2Array(architecture: Self.siren, imageHeight: 8, imageWidth: 8,
                                  configuration: Self.tinyConfiguration(backbone), rng: &rng)
        let u = Self.sirens(batch: 3, rng: &rng)
        #expect(try model.checkedLatents(u).shape == [3, 4, 6])
        #expect(try Self.deviation(model, u, kind: .hiddenPermutation, rng: &rng) < 1e-4)
        if backbone != .hnp {
            #expect(try Self.deviation(model, u, kind: .allPermutation, rng: &rng) < 1e-4)
        }
        // Control: sign flips are a symmetry of the SIREN but not of the encoder; the array moves.
        #expect(try Self.deviation(model, u, kind: .signFlip, rng: &rng) > 1e-3)
    }

    @Test func decoderGradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 12)
        let grid = try PatchGrid(height: 4, width: 6, patches: 1)
        let decoder = try PatchSIRENDecoder(latentDimension: 3, grid: grid,
                                            configuration: .init(sirenHiddenWidths: [4], frequency: 3, hypernetworkHidden: 5), rng: &rng)
        // Larger hypernetwork outputs than the 1/100 initialisation, so the SIREN part is not near-linear.
        decoder.output.weight.value = decoder.output.weight.value * 30
        let z = Tensor.normal([2, 1, 3], rng: &rng)
        let paramError = checkParameterGradients(decoder.parameters, seed: 1) { tape in
            decoder(tape.map { $0.constant(z) } ?? Variable(z))
        }
        #expect(paramError < 2e-2, "decoder parameters: \(paramError)")
        let inputError = checkGradient(at: [z]) { decoder($0[0]) }
        #expect(inputError.maxRelativeError < 2e-2, "\(inputError)")
    }

    @Test func classifierGradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 13)
        let classifier = try LatentArrayClassifier(rows: 3, latentDimension: 4,
                                                   configuration: .init(width: 4, blocks: 1, heads: 2, classes: 3), rng: &rng)
        let z = Tensor.normal([2, 3, 4], rng: &rng)
        let paramError = checkParameterGradients(classifier.parameters, seed: 2) { tape in
            classifier(tape.map { $0.constant(z) } ?? Variable(z))
        }
        #expect(paramError < 2e-2, "classifier parameters: \(paramError)")
        #expect(checkGradient(at: [z]) { classifier($0[0]) }.maxRelativeError < 2e-2)
    }

    @Test func theReconstructionLossFallsInAShortRun() throws {
        var rng = SeededGenerator(seed: 14)
        let model = try INR2Array(architecture: Self.siren, imageHeight: 8, imageWidth: 8,
                                  configuration: Self.tinyConfiguration(.nft), rng: &rng)
        let u = Self.sirens(batch: 4, rng: &rng)
        let targets = SIRENRenderer.images(WeightSpaceVariables(u), height: 8, width: 8, frequency: 30).value
        let optimizer = Adam(learningRate: 3e-3)
        let classifierBefore = model.classifier.parameterValues()
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            let (loss, grads) = try model.lossAndGradients { tape in
                try model.reconstructionLoss(WeightSpaceVariables(u, tape: tape), targets: targets)
            }
            optimizer.step(model, gradients: grads)
            if step == 0 { first = loss }
            last = loss
        }
        #expect(last < 0.5 * first, "reconstruction MSE \(first) → \(last)")
        // The reconstruction objective never reaches the classifier.
        #expect(model.classifier.parameterValues() == classifierBefore)
    }

    @Test func shapeErrorsThrow() throws {
        var rng = SeededGenerator(seed: 15)
        #expect(throws: ModuleError.self) { try PatchGrid(height: 28, width: 28, patches: 8) }      // not a square
        #expect(throws: ModuleError.self) { try PatchGrid(height: 28, width: 28, patches: 9) }      // 3 ∤ 28
        #expect(throws: ModuleError.self) { try PatchGrid(height: 0, width: 28, patches: 4) }
        #expect(throws: ModuleError.self) {
            try INR2Array(architecture: try .siren(widths: [3, 4, 1]), imageHeight: 8, imageWidth: 8,
                          configuration: Self.tinyConfiguration(.nft), rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try INR2Array(architecture: Self.siren, imageHeight: 9, imageWidth: 8, configuration: Self.tinyConfiguration(.nft), rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try INR2ArrayEncoder(architecture: Self.siren, configuration: .init(channels: 5), rng: &rng)
        }
        let model = try INR2Array(architecture: Self.siren, imageHeight: 8, imageWidth: 8,
                                  configuration: Self.tinyConfiguration(.np), rng: &rng)
        let u = Self.sirens(batch: 2, rng: &rng)
        #expect(throws: ModuleError.self) {                                                        // wrong image size
            try model.reconstructionLoss(WeightSpaceVariables(u), targets: Tensor(zeros: [2, 8, 6]))
        }
        #expect(throws: ModuleError.self) {                                                        // wrong count
            try model.reconstructionLoss(WeightSpaceVariables(u), targets: Tensor(zeros: [3, 8, 8]))
        }
        #expect(throws: ModuleError.self) {
            try model.reconstructionLoss(WeightSpaceVariables(u), targets: Tensor(shape: [2, 8, 8]) { _ in .nan })
        }
        var other = SeededGenerator(seed: 1)
        let wider = nftRandomFeatures(try .siren(widths: [2, 7, 5, 1]), batch: 2, channels: 1, rng: &other)
        #expect(throws: ModuleError.self) { try model.checkedLatents(wider) }
        #expect(throws: ModuleError.self) { try model.reconstructionLoss(WeightSpaceVariables(wider), targets: Tensor(zeros: [2, 8, 8])) }
        #expect(throws: ModuleError.self) { try model.grid.patches(of: Tensor(zeros: [2, 64])) }
    }

    @Test func patchesRoundTripThroughTheGrid() throws {
        let grid = try PatchGrid(height: 4, width: 6, patches: 4)
        let images = Tensor(shape: [1, 4, 6]) { Float($0) }
        let patches = try grid.patches(of: images)
        #expect(patches.shape == [1, 4, 6])
        // Patch 1 (top right) holds rows 0–1, columns 3–5.
        #expect((0..<6).map { patches[flat: 6 + $0] } == [3, 4, 5, 9, 10, 11])
        #expect(try grid.image(fromPatches: patches) == images)
    }

    static func blockCount(_ d: Int) -> Int { 4 * d * d + 4 * d + (d + 1) * 2 * d + (2 * d + 1) * d }

    @Test(arguments: [MetanetworkKind.Size.small, .standard])
    func parameterCountsMatchTheDocumentedFormulas(_ size: MetanetworkKind.Size) throws {
        var rng = SeededGenerator(seed: 16)
        let arch = try FeedforwardArchitecture.siren(widths: [2, 32, 32, 1])
        let model = try INR2ArrayKind.nft.make(architecture: arch, imageHeight: 28, imageWidth: 28, classes: 10, size: size, rng: &rng)
        let c = model.configuration
        let (ch, m, d) = (c.encoder.channels, c.encoder.latents, c.encoder.latentDimension)
        #expect(model.encoder.encoding.parameterCount == 3 * 2 * ch)
        #expect(model.encoder.pooling.parameterCount == m * d + (ch + 1) * 2 * d)
        let p = model.decoder.sirenParameterCount
        #expect(p == c.decoder.sirenHiddenWidths[0] * 4 + 1)                                   // 2→h→1: 3h + h + 1
        let h = c.decoder.hypernetworkHidden
        #expect(model.decoder.parameterCount == (d + 1) * h + (h + 1) * p)
        let w = c.classifier.width
        #expect(model.classifier.parameterCount
                == (d + 1) * w + m * w + c.classifier.blocks * Self.blockCount(w) + 2 * w + (w + 1) * 10)
        let totals: [MetanetworkKind.Size: (nft: Int, nfn: Int)] = [.small: (6_819, 8_747), .standard: (42_091, 58_763)]
        let nfn = try INR2ArrayKind.nfn.make(architecture: arch, imageHeight: 28, imageWidth: 28, classes: 10, size: size, rng: &rng)
        #expect(model.parameterCount == totals[size]!.nft, "nft \(size): \(model.parameterCount)")
        #expect(nfn.parameterCount == totals[size]!.nfn, "nfn \(size): \(nfn.parameterCount)")
    }
}
