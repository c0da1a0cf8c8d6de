import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// INR2ARRAY (Zhou et al. 2023, *Neural Functional Transformers*, §4): an 𝒮_NP-invariant encoder
/// from SIREN weights to an M × d latent array, trained as an autoencoder through a patch-SIREN
/// hypernetwork decoder, and a transformer classifier on the frozen latent array.
///
/// ```
/// z = Enc(U) ∈ ℝ^{M×d}                      (INR2ArrayEncoder: NFT or NFN backbone, cross-attention pooling)
/// stage 1: min_{Enc, Dec} ‖Dec(z) − patches(render(U))‖²   (PatchSIRENDecoder, PatchGrid)
/// stage 2: min_{Cls} CE(Cls(stopgrad z), label)             (LatentArrayClassifier)
/// ```
///
/// `render(U)` is the input SIREN's own rendering on its pixel grid (``SIRENRenderer``), so the
/// reconstruction needs no image data. The two stages touch disjoint parameter sets: the
/// reconstruction loss does not reach the classifier, and ``logits(latents:)`` on constant latents
/// does not reach the encoder, so an optimizer step of either stage leaves the other's parameters
/// as they are.
///
/// **Group.** The logits and the latent array are invariant to every neuron permutation of the
/// SIREN (`.nft`, `.np` backbones; hidden-neuron permutations with `.hnp`). The reconstruction is
/// invariant too (and so is its target, the rendering). Not invariant to sign flips.
///
/// **Shapes.** Features `[B, 1, n_{i+1}, n_i]` / `[B, 1, n_{i+1}]` of the SIREN weight space it was
/// built for (2 inputs, 1 output); logits `[B, classes]`, latents `[B, M, d]`, patches `[B, M, ph·pw]`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let model = try INR2Array(architecture: .siren(widths: [2, 32, 32, 1]), imageHeight: 28, imageWidth: 28,
///                           configuration: .init(classes: 10), rng: &rng)
/// let loss = try model.reconstructionLoss(WeightSpaceVariables(features, tape: tape), targets: renderedImages)
/// ```
public final class INR2Array: Module, WeightSpaceModel {
    /// Hyper-parameters of the three parts.
    public struct Configuration: Sendable, Equatable, Codable {
        public var encoder: INR2ArrayEncoder.Configuration
        public var decoder: PatchSIRENDecoder.Configuration
        public var classifier: LatentArrayClassifier.Configuration

        public init(encoder: INR2ArrayEncoder.Configuration = .init(), decoder: PatchSIRENDecoder.Configuration = .init(),
                    classifier: LatentArrayClassifier.Configuration = .init()) {
            self.encoder = encoder; self.decoder = decoder; self.classifier = classifier
        }

        /// The catalog sizes: `.small` (C = 8, 1 block, M = 4 (2 × 2 patches), d = 16, patch SIREN
        /// 2→8→1, hypernetwork 32, classifier D = 16, 1 block) for tests and `--quick`, `.standard`
        /// (C = 16, 2 blocks, M = 16 (4 × 4 patches), d = 32, patch SIREN 2→16→1, hypernetwork 64,
        /// classifier D = 32, 2 blocks) otherwise.
        public static func catalog(backbone: INR2ArrayEncoder.Backbone, small: Bool, classes: Int) -> Configuration {
            small
                ? .init(encoder: .init(backbone: backbone, channels: 8, blocks: 1, heads: 2, latents: 4, latentDimension: 16),
                        decoder: .init(sirenHiddenWidths: [8], hypernetworkHidden: 32),
                        classifier: .init(width: 16, blocks: 1, heads: 2, classes: classes))
                : .init(encoder: .init(backbone: backbone, channels: 16, blocks: 2, heads: 2, latents: 16, latentDimension: 32),
                        decoder: .init(sirenHiddenWidths: [16], hypernetworkHidden: 64),
                        classifier: .init(width: 32, blocks: 2, heads: 2, classes: classes))
        }
    }

    public let encoder: INR2ArrayEncoder
    public let decoder: PatchSIRENDecoder
    public let classifier: LatentArrayClassifier
    public let configuration: Configuration

    /// - Parameters:
    ///   - architecture: the SIRENs' weight space (dense, 2 inputs, 1 output).
    ///   - imageHeight, imageWidth: the pixel grid the SIRENs render on (split into M patches).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for another weight space, a patch count
    ///   that does not tile the image, or sizes the parts refuse.
    public init(architecture: FeedforwardArchitecture, imageHeight: Int, imageWidth: Int,
                configuration c: Configuration = .init(), rng: inout SeededGenerator) throws {
        guard architecture.widths.first == 2, architecture.widths.last == 1 else {
            throw ModuleError.invalidConfiguration("INR2Array: encodes SIRENs of 2 inputs and 1 output (greyscale images), got widths \(architecture.widths)")
        }
        let grid = try PatchGrid(height: imageHeight, width: imageWidth, patches: c.encoder.latents)
        configuration = c
        encoder = try INR2ArrayEncoder(architecture: architecture, configuration: c.encoder, rng: &rng)
        decoder = try PatchSIRENDecoder(latentDimension: c.encoder.latentDimension, grid: grid, configuration: c.decoder, rng: &rng)
        classifier = try LatentArrayClassifier(rows: c.encoder.latents, latentDimension: c.encoder.latentDimension,
                                               configuration: c.classifier, rng: &rng)
        super.init()
    }

    /// The patch grid of the reconstruction.
    public var grid: PatchGrid { decoder.grid }
    /// The SIREN weight space it was built for.
    public var architecture: FeedforwardArchitecture { encoder.architecture }

    /// The latent array `[B, M, d]`.
    public func latents(_ input: WeightSpaceVariables) -> Variable { encoder(input) }

    /// Rendered patches `[B, M, ph·pw]` of the decoded latent array.
    public func reconstruct(_ input: WeightSpaceVariables) -> Variable { decoder(encoder(input)) }

    /// The class logits of latent arrays `[B, M, d]` (pass constants to train the classifier on a
    /// frozen encoder).
    public func logits(latents: Variable) -> Variable { classifier(latents) }

    /// Logits `[B, classes]`: encoder then classifier.
    public func callAsFunction(_ input: WeightSpaceVariables) -> Variable { classifier(encoder(input)) }

    /// The reconstruction objective: mean squared error of the decoded patches against `targets`,
    /// the images `[B, H, W]` the input SIRENs render.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` when the features are not of this weight space or
    ///   the targets not `[B, H, W]` of the grid.
    public func reconstructionLoss(_ input: WeightSpaceVariables, targets: Tensor) throws -> Variable {
        try inputRequirement.check(weightShapes: input.weights.map(\.shape), biasShapes: input.biases.map(\.shape), model: "INR2Array")
        let patches = try grid.patches(of: targets)
        guard patches.shape[0] == input.batchSize else {
            throw ModuleError.invalidInput("INR2Array: \(input.batchSize) SIRENs but \(patches.shape[0]) target images")
        }
        guard !targets.hasNonFinite else { throw ModuleError.invalidInput("INR2Array: the target images contain NaN or infinity") }
        return Variable.meanSquaredError(reconstruct(input), patches)
    }

    /// ``latents(_:)`` without a tape, after checking the features: `[B, M, d]`.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` for features of another weight space.
    public func checkedLatents(_ features: WeightSpaceFeatures) throws -> Tensor {
        try validateInput(features)
        eval()
        return encoder(WeightSpaceVariables(features)).value
    }
}

extension INR2Array: WeightSpaceInputConstrained {
    /// One channel and the SIREN widths it was built for (the NP/HNP backbones and the decoder's
    /// target grid depend on them).
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: 1, architecture: encoder.architecture)
    }
}
