import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// The usage examples of the metanetwork family articles (`Docs/Metanetworks/`), verbatim
/// between the `// doc:` markers: each must compile, run on Small CNN Zoo weight spaces, give one
/// prediction per network and a finite loss. The parameter counts the articles quote are checked
/// here too, so the articles cannot drift from the code.
@Suite struct MetanetworkDocExampleTests {
    /// Docs/Metanetworks/PermutationFamily.md, "Usage".
    @Test func permutationFamilyExample() throws {
        // doc: PermutationFamily.md
        var rng = SeededGenerator(seed: 0)
        let arch = FeedforwardArchitecture.smallCNNZoo()            // 3 × conv 3×3 (16) + dense, 4,970 weights
        // Four randomly initialised members stand in for zoo checkpoints; targets are accuracies.
        let zoo = try WeightSpaceFeatures(models: (0..<4).map { _ in SmallCNN(rng: &rng) })
        let accuracy = Tensor.uniform([4, 1], rng: &rng)

        let model = try NFNPredictor(kind: .hnp, architecture: arch, hiddenChannels: [16, 16, 16],
                                     headHidden: 1000, rng: &rng)
        let prediction = model.predict(zoo)                          // [4, 1], HNP-invariant

        model.train()
        let optimizer = Adam(learningRate: 1e-3)
        let (loss, gradients) = model.lossAndGradients { tape in
            Loss.meanSquaredError(model(WeightSpaceVariables(zoo, tape: tape)), accuracy)
        }
        optimizer.step(model, gradients: gradients)
        // end doc

        #expect(prediction.shape == [4, 1])
        #expect(loss.isFinite)
        #expect(optimizer.stepCount == 1)
        #expect(model.parameterCount == 4_141_801)
        #expect(model.equivariantParameterCount == 2_338_800)
        let np = try NFNPredictor(kind: .np, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, rng: &rng)
        #expect(np.parameterCount == 2_676_025 && np.equivariantParameterCount == 1_161_024)
        #expect(STATNNPredictor(architecture: arch, hidden: 1000, rng: &rng).parameterCount == 1_059_001)
        #expect(FlatMLPPredictor(architecture: arch, hidden: [1000, 1000], rng: &rng).parameterCount == 5_973_001)
    }

    /// Docs/Metanetworks/NeuralFunctionalTransformer.md, "Usage".
    @Test func neuralFunctionalTransformerExample() throws {
        // doc: NeuralFunctionalTransformer.md
        var rng = SeededGenerator(seed: 0)
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let zoo = try WeightSpaceFeatures(models: (0..<4).map { _ in SmallCNN(rng: &rng) })
        let accuracy = Tensor.uniform([4, 1], rng: &rng)

        // Fourier projection → layer encoding → 2 NFT blocks → cross-attention pooling → MLP.
        let model = try NFTPredictor(architecture: arch,
                                     configuration: .init(channels: 16, blocks: 2, heads: 2), rng: &rng)
        let prediction = model.predict(zoo)                          // [4, 1], NP-invariant

        model.train()
        let optimizer = Adam(learningRate: 1e-3)
        let (loss, gradients) = model.lossAndGradients { tape in
            Loss.meanSquaredError(model(WeightSpaceVariables(zoo, tape: tape)), accuracy)
        }
        optimizer.step(model, gradients: gradients)
        // end doc

        #expect(prediction.shape == [4, 1])
        #expect(loss.isFinite)
        #expect(optimizer.stepCount == 1)
        #expect(model.parameterCount == 601_665)
        #expect(model.blocks[0].parameterCount == 290_112)
    }

    /// Docs/Metanetworks/MonomialNFN.md, "Usage".
    @Test func monomialNFNExample() throws {
        // doc: MonomialNFN.md
        var rng = SeededGenerator(seed: 0)
        let arch = FeedforwardArchitecture.smallCNNZoo()            // ReLU CNNs: positive scaling applies
        let zoo = try WeightSpaceFeatures(models: (0..<4).map { _ in SmallCNN(rng: &rng) })
        let accuracy = Tensor.uniform([4, 1], rng: &rng)

        // The CNN setting of Tran et al. 2024 (Monomial-NFN): 3 MonomialLinear layers (1 → 16 → 16 → 5), ReLU, pool, MLP(200).
        let model = try MonomialPredictor(architecture: arch,
                                          configuration: .init(kind: .positiveScaling, hiddenChannels: [16, 16, 5],
                                                               headWidth: 200),
                                          rng: &rng)
        let logits = model.predict(zoo)                              // [4, 1]; sigmoid → accuracy

        model.train()
        let optimizer = Adam(learningRate: 1e-3)
        let (loss, gradients) = model.lossAndGradients { tape in
            Loss.binaryCrossEntropyWithLogits(model(WeightSpaceVariables(zoo, tape: tape)), accuracy)
        }
        optimizer.step(model, gradients: gradients)
        // end doc

        #expect(logits.shape == [4, 1])
        #expect(loss.isFinite)
        #expect(optimizer.stepCount == 1)
        #expect(model.parameterCount == 254_609)
        // The per-layer comparison the article's table quotes (Small CNN Zoo).
        for (c, co, mono, sign, hnp) in [(1, 16, 7_584, 7_904, 72_656), (16, 16, 118_944, 124_064, 1_132_256),
                                         (16, 5, 37_170, 38_770, 353_830)] {
            #expect(MonomialLinear.parameterCount(inChannels: c, outChannels: co, architecture: arch, kind: .positiveScaling) == mono)
            #expect(MonomialLinear.parameterCount(inChannels: c, outChannels: co, architecture: arch, kind: .sign) == sign)
            #expect(MonomialLinear.hnpParameterCount(inChannels: c, outChannels: co, architecture: arch) == hnp)
        }
        #expect(HNPLinear(inChannels: 16, outChannels: 16, architecture: arch, rng: &rng).parameterCount == 1_133_600)
    }

    /// Docs/Metanetworks/MonomialNFN.md, "Quasi-equivariant wrapper".
    @Test func quasiMonomialExample() throws {
        var rng = SeededGenerator(seed: 0)
        let zoo = try WeightSpaceFeatures(models: (0..<4).map { _ in SmallCNN(rng: &rng) })
        // doc: MonomialNFN.md (quasi)
        let base = try MonomialPredictor(architecture: .smallCNNZoo(),
                                         configuration: .init(hiddenChannels: [16, 16, 5]), rng: &rng)
        let quasi = try QuasiMonomialPredictor(wrapping: base, placement: .allLayers, initialGamma: 0.5, rng: &rng)
        let same = quasi.predict(zoo)                                // equals base.predict(zoo)
        // end doc

        let reference = base.predict(zoo)
        #expect(same.shape == [4, 1])
        #expect(quasi.parameterCount > base.parameterCount)
        let scale = Swift.max(reference.abs().max(), 1e-6)
        #expect((same - reference).abs().max() <= 1e-4 * scale)
    }

    @Test func transformerNFNExample() throws {
        // doc: TransformerNFN.md
        var rng = SeededGenerator(seed: 0)
        let arch = SmallTransformer.Configuration()                  // D 32, h 2, D_k = D_v 16, D_A 64, 2 blocks
        // Four randomly initialised members stand in for zoo checkpoints; targets are accuracies.
        let zoo = try TransformerWeightSpaceFeatures.batched((0..<4).map { _ in
            TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng)) })
        let accuracy = Tensor.uniform([4, 1], rng: &rng)

        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [10]                                    // the Tran et al. 2025 model: 1,812,121 parameters
        let model = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let prediction = try model.predict(zoo)                      // [4, 1], in (0, 1)

        model.train()
        let optimizer = Adam(learningRate: 1e-3)
        let (loss, gradients) = model.lossAndGradients { tape in
            Loss.meanSquaredError(model(TransformerWeightSpaceVariables(zoo, tape: tape)), accuracy)
        }
        optimizer.step(model, gradients: gradients)

        // Quasi-equivariant variant: same interface; φ cancels in its invariant readout.
        let quasi = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let quasiPrediction = try quasi.predict(zoo)                 // [4, 1]
        // end doc
        #expect(prediction.shape == [4, 1] && quasiPrediction.shape == [4, 1])
        #expect(loss.isFinite)
        #expect(model.parameterCount == 1_812_121)
        #expect(quasi.parameterCount == 1_886_939)
    }
}
