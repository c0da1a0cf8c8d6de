import Tensors
import NeuralNetworks
import WeightSpace

/// The weight-space editors (INR editing) that can be built by name.
public enum EditorKind: String, Codable, Sendable, CaseIterable {
    /// ``NFNEditor`` with NP layers (equivariant to all neuron permutations).
    case np
    /// ``NFNEditor`` with HNP layers (equivariant to hidden-neuron permutations).
    case hnp
    /// ``NFTEditor`` (equivariant to all neuron permutations).
    case nft
    /// ``FlatMLPEditor`` (not equivariant; the baseline).
    case mlp

    /// Whether the edit commutes with hidden-neuron permutations by construction.
    public var isEquivariant: Bool { self != .mlp }

    /// A freshly initialised editor for `architecture` (one-channel weights in and out), starting
    /// near the identity edit (α = 0.1, last layer scaled by 0.01).
    ///
    /// Sizes: `.small` uses 8 hidden channels (NP/HNP: two hidden layers; NFT: one block) and a
    /// 64-wide MLP; `.standard` 16 channels (NFT: two blocks) and a 256-wide MLP.
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` when the model does not fit the architecture.
    public func makeEditor(architecture: FeedforwardArchitecture, size: MetanetworkKind.Size = .standard,
                           rng: inout SeededGenerator) throws -> Module & WeightSpaceLayer {
        let channels = size == .small ? 8 : 16
        switch self {
        case .np:
            return try NFNEditor(kind: .np, architecture: architecture, hiddenChannels: [channels, channels], rng: &rng)
        case .hnp:
            return try NFNEditor(kind: .hnp, architecture: architecture, hiddenChannels: [channels, channels], rng: &rng)
        case .nft:
            return try NFTEditor(architecture: architecture, channels: channels, blocks: size == .small ? 1 : 2,
                                 heads: 2, rng: &rng)
        case .mlp:
            let h = size == .small ? 64 : 256
            return FlatMLPEditor(architecture: architecture, hidden: [h, h], rng: &rng)
        }
    }
}
