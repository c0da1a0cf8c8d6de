import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// The numbers the metanetwork family articles (`Docs/Metanetworks/`) quote, recomputed from the
/// models their usage examples build. The examples themselves are compiled and run verbatim by
/// `DocSnippetTests` (generated from the articles), so this suite holds only what those runs do not
/// check: parameter counts, and the quasi wrapper's identity at γ = 0.5 with the base model.
@Suite struct MetanetworkDocExampleTests {
    let arch = FeedforwardArchitecture.smallCNNZoo()

    /// Docs/Metanetworks/PermutationFamily.md.
    @Test func permutationFamilyCounts() throws {
        var rng = SeededGenerator(seed: 0)
        let hnp = try NFNPredictor(kind: .hnp, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, rng: &rng)
        #expect(hnp.parameterCount == 4_141_801 && hnp.equivariantParameterCount == 2_338_800)
        let np = try NFNPredictor(kind: .np, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, rng: &rng)
        #expect(np.parameterCount == 2_676_025 && np.equivariantParameterCount == 1_161_024)
        #expect(STATNNPredictor(architecture: arch, hidden: 1000, rng: &rng).parameterCount == 1_059_001)
        #expect(FlatMLPPredictor(architecture: arch, hidden: [1000, 1000], rng: &rng).parameterCount == 5_973_001)
    }

    /// Docs/Metanetworks/NeuralFunctionalTransformer.md.
    @Test func neuralFunctionalTransformerCounts() throws {
        var rng = SeededGenerator(seed: 0)
        let model = try NFTPredictor(architecture: arch, configuration: .init(channels: 16, blocks: 2, heads: 2), rng: &rng)
        #expect(model.parameterCount == 601_665)
        #expect(model.blocks[0].parameterCount == 290_112)
    }

    /// Docs/Metanetworks/GraphNN.md: the catalog's two sizes.
    @Test func graphNNCounts() throws {
        var rng = SeededGenerator(seed: 0)
        #expect(try MetanetworkKind.graphNN.makePredictor(architecture: arch, size: .small, rng: &rng).parameterCount == 21_729)
        #expect(try MetanetworkKind.graphNN.makePredictor(architecture: arch, size: .standard, rng: &rng).parameterCount == 202_817)
    }

    /// Docs/Metanetworks/MonomialNFN.md.
    @Test func monomialNFNCounts() throws {
        var rng = SeededGenerator(seed: 0)
        let model = try MonomialPredictor(architecture: arch,
                                          configuration: .init(kind: .positiveScaling, hiddenChannels: [16, 16, 5], headWidth: 200),
                                          rng: &rng)
        #expect(model.parameterCount == 254_609)
        for (c, co, mono, sign, hnp) in [(1, 16, 7_584, 7_904, 72_656), (16, 16, 118_944, 124_064, 1_132_256),
                                         (16, 5, 37_170, 38_770, 353_830)] {
            #expect(MonomialLinear.parameterCount(inChannels: c, outChannels: co, architecture: arch, kind: .positiveScaling) == mono)
            #expect(MonomialLinear.parameterCount(inChannels: c, outChannels: co, architecture: arch, kind: .sign) == sign)
            #expect(MonomialLinear.hnpParameterCount(inChannels: c, outChannels: co, architecture: arch) == hnp)
        }
        #expect(HNPLinear(inChannels: 16, outChannels: 16, architecture: arch, rng: &rng).parameterCount == 1_133_600)
    }

    /// Docs/Metanetworks/MonomialNFN.md, the quasi wrapper: it starts as the base model.
    @Test func quasiMonomialStartsAsItsBase() throws {
        var rng = SeededGenerator(seed: 0)
        let zoo = try WeightSpaceFeatures(models: (0..<4).map { _ in SmallCNN(rng: &rng) })
        let base = try MonomialPredictor(architecture: arch, configuration: .init(hiddenChannels: [16, 16, 5]), rng: &rng)
        let quasi = try QuasiMonomialPredictor(wrapping: base, placement: .allLayers, initialGamma: 0.5, rng: &rng)
        let reference = base.predict(zoo)
        #expect(quasi.parameterCount > base.parameterCount)
        let scale = Swift.max(reference.abs().max(), 1e-6)
        #expect((quasi.predict(zoo) - reference).abs().max() <= 1e-4 * scale)
    }

    /// Docs/Metanetworks/TransformerNFN.md.
    @Test func transformerNFNCounts() {
        var rng = SeededGenerator(seed: 0)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [10]
        let config = SmallTransformer.Configuration()
        #expect(TransformerNFNPredictor(architecture: config, configuration: cfg, rng: &rng).parameterCount == 1_812_121)
        #expect(QuasiTransformerNFNPredictor(architecture: config, configuration: cfg, rng: &rng).parameterCount == 1_886_939)
    }
}
