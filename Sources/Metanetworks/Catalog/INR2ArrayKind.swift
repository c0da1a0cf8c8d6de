import Tensors
import NeuralNetworks
import WeightSpace

/// The INR2ARRAY models the command line and the INR classification task build by name
/// (Zhou et al. 2023, *Neural Functional Transformers*, §4 and §5.1): the encoder's backbone is
/// NFT blocks (`inr2array-nft`) or NP layers (`inr2array-nfn`).
public enum INR2ArrayKind: String, Codable, Sendable, CaseIterable {
    case nft = "inr2array-nft"
    case nfn = "inr2array-nfn"

    /// The encoder backbone.
    public var backbone: INR2ArrayEncoder.Backbone { self == .nft ? .nft : .np }

    /// The groups its latent array and logits are invariant to by construction.
    public var invariantTo: [NeuronGroupElement.Kind] { [.hiddenPermutation, .allPermutation] }

    /// A freshly initialised model for SIRENs of `architecture` rendering `imageHeight` × `imageWidth`
    /// images, with `classes` logits, at the catalog size (``INR2Array/Configuration/catalog(backbone:small:classes:)``).
    ///
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the SIRENs or the image do not fit
    ///   (e.g. the size's patch grid does not divide the image).
    public func make(architecture: FeedforwardArchitecture, imageHeight: Int, imageWidth: Int, classes: Int,
                     size: MetanetworkKind.Size = .standard, rng: inout SeededGenerator) throws -> INR2Array {
        try INR2Array(architecture: architecture, imageHeight: imageHeight, imageWidth: imageWidth,
                      configuration: .catalog(backbone: backbone, small: size == .small, classes: classes), rng: &rng)
    }
}
