import Tensors
import NeuralNetworks
import WeightSpace

/// The metanetworks the command line and the main job can build by name.
public enum MetanetworkKind: String, Codable, Sendable, CaseIterable {
    case np, hnp, nft, monomial
    case monomialSign = "monomial-sign"
    case quasiMonomial = "quasi-monomial"
    case statnn, mlp
    case graphNN = "graph-nn"
    /// The reference code's NP predictor for generalization (AllanYangZhou/nfn, `np_inv` with its
    /// `MlpHead`): NP layers with learned input/output embeddings, channels [16, 16, 5], HNP
    /// pooling and a 1000-wide head. It leaves out the reference's per-entry input
    /// standardisation (a statistic of the training split per weight position).
    case npReference = "np-reference"
    /// ``nft`` with the reference code's three NFT choices (``NFTRecipe/reference``: layer norm by
    /// the unbiased standard deviation, the unprojection bias once per attention term, one layer
    /// encoding shared by a filter's taps).
    case nftReference = "nft-reference"

    /// The group under which the model's output is invariant by construction (nil: none).
    public var invariantTo: [NeuronGroupElement.Kind] {
        switch self {
        case .np: return [.hiddenPermutation, .allPermutation]
        case .hnp, .npReference: return [.hiddenPermutation]   // IO embeddings tell the IO neurons apart
        case .nft, .nftReference: return [.hiddenPermutation, .allPermutation]
        case .monomial, .quasiMonomial: return [.hiddenPermutation, .positiveScaling]
        case .monomialSign: return [.hiddenPermutation, .signFlip]
        case .statnn: return [.hiddenPermutation, .allPermutation]   // statistics of a whole layer
        case .graphNN: return [.hiddenPermutation]                   // input/output neurons have their own embeddings
        case .mlp: return []
        }
    }

    /// Model sizes: `.small` for tests and `--quick`, `.standard` for the main job.
    public enum Size: String, Codable, Sendable, CaseIterable { case small, standard }

    /// A freshly initialised predictor for feed-forward weight spaces of `architecture`.
    ///
    /// - Parameter outputs: outputs per network: 1 (default) for the generalization task's logit
    ///   (it applies the sigmoid), the class count for INR classification (logits for a softmax).
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the model does not fit the
    ///   architecture or `outputs` < 1.
    public func makePredictor(architecture: FeedforwardArchitecture, size: Size = .standard, outputs: Int = 1,
                              rng: inout SeededGenerator) throws -> Module & WeightSpaceModel {
        guard outputs >= 1 else { throw ModuleError.invalidConfiguration("a predictor needs at least one output, got \(outputs)") }
        let channels = size == .small ? 8 : 16
        let head = size == .small ? 64 : 256
        switch self {
        case .np:
            return try NFNPredictor(kind: .np, architecture: architecture, hiddenChannels: [channels, channels, channels],
                                    headHidden: head, outputs: outputs, rng: &rng)
        case .hnp:
            return try NFNPredictor(kind: .hnp, architecture: architecture, hiddenChannels: [channels, channels, channels],
                                    headHidden: head, outputs: outputs, rng: &rng)
        case .npReference:
            return try NFNPredictor(kind: .np, architecture: architecture, hiddenChannels: [channels, channels, 5],
                                    headHidden: size == .small ? head : 1000, outputs: outputs, ioEmbedding: true,
                                    pooling: .hnp, rng: &rng)
        case .nft, .nftReference:
            var configuration = NFTPredictor.Configuration(
                channels: channels, blocks: size == .small ? 1 : 2, heads: 2, poolQueries: 4, headHidden: 64, outputs: outputs)
            if self == .nftReference { configuration.recipe = .reference }
            return try NFTPredictor(architecture: architecture, configuration: configuration, rng: &rng)
        case .monomial, .monomialSign:
            return try MonomialPredictor(architecture: architecture, configuration: .init(
                kind: self == .monomial ? .positiveScaling : .sign, hiddenChannels: [channels, channels, 5],
                headWidth: size == .small ? 64 : 200, outputs: outputs), rng: &rng)
        case .quasiMonomial:
            return try QuasiMonomialPredictor(architecture: architecture, configuration: .init(
                kind: .positiveScaling, hiddenChannels: [channels, channels, 5], headWidth: size == .small ? 64 : 200,
                outputs: outputs),
                placement: .allLayers, rng: &rng)
        case .statnn:
            return STATNNPredictor(architecture: architecture, hidden: head, outputs: outputs, rng: &rng)
        case .graphNN:
            return try GraphNNPredictor(architecture: architecture, configuration: .init(
                dimension: size == .small ? 16 : 32, layers: size == .small ? 2 : 4, headHidden: head, outputs: outputs),
                rng: &rng)
        case .mlp:
            return FlatMLPPredictor(architecture: architecture, hidden: [head, head], outputs: outputs, rng: &rng)
        }
    }
}
