import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// NFNPredictor invariance, configuration errors, parameter counts, training, and the doc examples.
@Suite struct PermutationModelTests {
    typealias F = PermutationFixtures

    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func hnpPredictorIsHNPInvariantButNotNP(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 20)
        let model = try NFNPredictor(kind: .hnp, architecture: space.architecture, hiddenChannels: [4, 4],
                                     headHidden: 16, outputs: 2, rng: &rng)
        let x = F.features(space.architecture, batch: 3)
        let dev = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.predict($0) }
        // The control is measured on the pooled representation: at random initialisation the
        // head's biases dominate the output, which hides how much the features move.
        let control = try F.invarianceDeviation(x, kind: .allPermutation) { model.invariantFeatures(WeightSpaceVariables($0)).value }
        let outputControl = try F.invarianceDeviation(x, kind: .allPermutation) { model.predict($0) }
        print("NFNPredictor(.hnp) \(space) under HNP: \(dev); under NP (control): pooled \(control), output \(outputControl)")
        #expect(dev <= 1e-4)
        #expect(control >= 1e-2)
        #expect(outputControl > 1e-4)
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func npPredictorIsNPInvariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 21)
        let model = try NFNPredictor(kind: .np, architecture: space.architecture, hiddenChannels: [4, 4],
                                     headHidden: 16, rng: &rng)
        let x = F.features(space.architecture, batch: 3)
        let dev = try F.invarianceDeviation(x, kind: .allPermutation) { model.predict($0) }
        print("NFNPredictor(.np) \(space) under NP: \(dev)")
        #expect(dev <= 1e-4)
    }

    /// Learned IO embeddings, sinusoidal IO encodings (with Fourier features, layer norm, dropout in
    /// eval mode) each make the NP predictor HNP-invariant only.
    @Test(arguments: [F.mlp3, F.smallCNNZoo])
    func npPredictorWithIOSymmetryBreakingIsOnlyHNPInvariant(_ space: F.Space) throws {
        var rng = SeededGenerator(seed: 22)
        let embedded = try NFNPredictor(kind: .np, architecture: space.architecture, hiddenChannels: [4, 4],
                                        headHidden: 16, ioEmbedding: true, rng: &rng)
        let encoded = try NFNPredictor(kind: .np, architecture: space.architecture, hiddenChannels: [4, 4],
                                       headHidden: 16, ioEncoding: true,
                                       fourierFeatures: .init(features: 4, scale: 1), layerNorm: true,
                                       featureDropout: 0.1, headDropout: 0.1, rng: &rng)
        let x = F.features(space.architecture, batch: 3)
        for (name, model) in [("IO embedding", embedded), ("IO encoding + Fourier + LN", encoded)] {
            model.eval()
            let dev = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.predict($0) }
            let pooledDev = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.invariantFeatures(WeightSpaceVariables($0)).value }
            let control = try F.invarianceDeviation(x, kind: .allPermutation) { model.invariantFeatures(WeightSpaceVariables($0)).value }
            let outputControl = try F.invarianceDeviation(x, kind: .allPermutation) { model.predict($0) }
            print("NFNPredictor(.np, \(name)) \(space) under HNP: output \(dev), pooled \(pooledDev); under NP (control): pooled \(control), output \(outputControl)")
            #expect(dev <= 1e-4, "\(name)")
            #expect(pooledDev <= 1e-4, "\(name)")
            #expect(control >= 1e-2, "\(name)")
            #expect(outputControl > 1e-4, "\(name)")
        }
    }

    @Test func invalidConfigurationsThrow() throws {
        var rng = SeededGenerator(seed: 23)
        let oneLayer = try FeedforwardArchitecture.mlp(widths: [3, 2])
        #expect(throws: ModuleError.self) { try NFNPredictor(kind: .hnp, architecture: oneLayer, rng: &rng) }
        #expect(throws: ModuleError.self) {
            try NFNPredictor(kind: .hnp, architecture: F.mlp3.architecture, ioEmbedding: true, rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try NFNPredictor(kind: .np, architecture: F.mlp3.architecture, hiddenChannels: [0], rng: &rng)
        }
        #expect(throws: ModuleError.self) {
            try NFNPredictor(kind: .np, architecture: F.mlp3.architecture, featureDropout: 1, rng: &rng)
        }
        // NP works for a single layer.
        let single = try NFNPredictor(kind: .np, architecture: oneLayer, hiddenChannels: [2], headHidden: 4, rng: &rng)
        #expect(single.predict(F.features(oneLayer, batch: 2)).shape == [2, 1])
    }

    /// Parameter counts for the Small CNN Zoo with 3 × 16 hidden channels, checked against the
    /// closed forms.
    @Test func smallCNNZooParameterCounts() throws {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let f = FilterFolding.filterFactors(arch)       // [9, 9, 9, 1]
        let L = f.count, n0 = arch.widths[0], nL = arch.widths[L]
        func npLayer(_ c: Int, _ o: Int) -> Int {
            let g = (f.reduce(0, +) + L) * c
            var total = 0
            for i in 0..<L {
                let col = f[i] * c + (i > 0 ? (f[i - 1] + 1) * c : 0)
                let row = (f[i] + 1) * c + (i < L - 1 ? f[i + 1] * c : 0)
                total += f[i] * o * (f[i] * c + g + 1 + col + row) + o * (row + g + 1)
            }
            return total
        }
        func hnpLayer(_ c: Int, _ o: Int) -> Int {
            let g = HNPLinear.globalVectorLength(filterFactors: f, inputWidth: n0, outputWidth: nL) * c
            let inRow = f[0] * n0 * c, outCol = f[L - 1] * nL * c
            var total = 0
            for i in 0..<L {
                if i == 0 {
                    let row = inRow + f[1] * c + c
                    total += n0 * f[0] * o * (g + 1 + row) + o * (row + g + 1)
                } else if i == L - 1 {
                    let col = outCol + f[L - 2] * c + c
                    total += nL * f[i] * o * (g + 1 + col) + nL * o * (g + 1)
                } else {
                    let col = (f[i] + f[i - 1] + 1) * c + (i == 1 ? inRow : 0)
                    let row = (f[i] + 1 + f[i + 1]) * c + (i == L - 2 ? outCol : 0)
                    total += f[i] * o * (f[i] * c + g + 1 + col + row) + o * (row + g + 1)
                }
            }
            return total
        }
        var rng = SeededGenerator(seed: 24)
        for kind in NFNPredictor.Kind.allCases {
            let model = try NFNPredictor(kind: kind, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, rng: &rng)
            let layerFormula = kind == .np ? npLayer(1, 16) + 2 * npLayer(16, 16) : hnpLayer(1, 16) + 2 * hnpLayer(16, 16)
            let pooled = kind == .np ? 16 * 32 : 16 * 50
            let headFormula = (pooled + 1) * 1000 + 1001 * 1000 + 1001
            print("NFNPredictor(.\(kind)) Small CNN Zoo, hidden [16, 16, 16], head 1000: total \(model.parameterCount), equivariant layers \(model.equivariantParameterCount), head \(model.head.parameterCount)")
            #expect(model.equivariantParameterCount == layerFormula)
            #expect(model.head.parameterCount == headFormula)
            #expect(model.parameterCount == layerFormula + headFormula)
        }
        let npIO = try NFNPredictor(kind: .np, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, ioEmbedding: true, rng: &rng)
        print("NFNPredictor(.np, IO embedding) Small CNN Zoo: total \(npIO.parameterCount), equivariant layers \(npIO.equivariantParameterCount)")
        let statnn = STATNNPredictor(architecture: arch, hidden: 1000, rng: &rng)
        let flat = FlatMLPPredictor(architecture: arch, hidden: [1000, 1000], rng: &rng)
        print("STATNNPredictor Small CNN Zoo, h 1000: \(statnn.parameterCount); FlatMLPPredictor [1000, 1000]: \(flat.parameterCount)")
        #expect(statnn.parameterCount == (56 + 1) * 1000 + 1001 * 1000 + 1001)
        #expect(flat.parameterCount == (4970 + 1) * 1000 + 1001 * 1000 + 1001)
    }

    @Test func modelsAreDeterministicGivenTheSeed() throws {
        var a = SeededGenerator(seed: 25), b = SeededGenerator(seed: 25)
        let m1 = try NFNPredictor(kind: .hnp, architecture: F.mlp3.architecture, hiddenChannels: [3], headHidden: 8, rng: &a)
        let m2 = try NFNPredictor(kind: .hnp, architecture: F.mlp3.architecture, hiddenChannels: [3], headHidden: 8, rng: &b)
        #expect(m1.parameterValues() == m2.parameterValues())
        #expect(m1.namedParameters().map(\.path).contains("layers.0.terms.0.global"))
    }

    /// A few Adam steps on a fixed batch reduce a regression loss: the model trains with the tape.
    @Test(arguments: NFNPredictor.Kind.allCases)
    func predictorTrains(_ kind: NFNPredictor.Kind) throws {
        var rng = SeededGenerator(seed: 26)
        let arch = F.smallCNNZoo.architecture
        let model = try NFNPredictor(kind: kind, architecture: arch, hiddenChannels: [4, 4], headHidden: 32,
                                     layerNorm: true, rng: &rng)
        let x = F.features(arch, batch: 8)
        let target = Tensor.uniform([8, 1], rng: &rng)
        let optimizer = Adam(learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<30 {
            let tape = Tape()
            let loss = Variable.meanSquaredError(model(WeightSpaceVariables(x, tape: tape)), target)
            losses.append(loss.value.scalar)
            optimizer.step(model, gradients: tape.gradients(of: loss))
        }
        print("NFNPredictor(.\(kind)) training loss \(losses.first!) → \(losses.last!)")
        #expect(losses.last! < 0.5 * losses.first!)
    }

    // MARK: Doc examples (they must compile and run)

    @Test func docExamples() throws {
        // FilterFolding
        let w = Variable(Tensor(zeros: [2, 3, 16, 8, 3, 3]))
        let folded = FilterFolding.fold(w)
        let back = FilterFolding.unfold(folded, kernel: [3, 3])
        #expect(folded.shape == [2, 27, 16, 8] && back.shape == [2, 3, 16, 8, 3, 3])

        // NPLinear
        var rng = SeededGenerator(seed: 0)
        let arch = FeedforwardArchitecture.smallCNNZoo()
        let layer = NPLinear(inChannels: 1, outChannels: 16, architecture: arch, rng: &rng)
        let x = try WeightSpaceFeatures(
            weights: (0..<arch.layerCount).map { Tensor.normal([2, 1] + arch.weightShape(layer: $0), rng: &rng) },
            biases: (0..<arch.layerCount).map { Tensor.normal([2, 1] + arch.biasShape(layer: $0), rng: &rng) })
        let y = layer(WeightSpaceVariables(x))
        #expect(y.channelCount == 16)

        // HNPLinear
        let hnp = HNPLinear(inChannels: 1, outChannels: 8, architecture: try .mlp(widths: [5, 7, 6, 3]), rng: &rng)
        #expect(hnp.parameterCount > 0)

        // Pools, activation
        let features = WeightSpaceVariables(x)
        let pooled = NPPool()(features)
        #expect(pooled.shape == [2, 32])
        let relu = WeightSpaceActivation(.relu)
        _ = relu(features)
        let norm = ChannelLayerNorm(channels: 16, filterFactors: [9, 9, 9, 1])
        _ = norm(y)

        // Encodings
        let encode = SinusoidalIOEncoding(widths: [1, 16, 16, 16, 10], layerCount: 4)
        #expect(encode.outputChannels(forInput: 1) == 14)
        var rng3 = SeededGenerator(seed: 3)
        let fourier = GaussianFourierFeatures(inChannels: 1, features: 64, scale: 3, rng: &rng3)
        #expect(fourier.outChannels == 128)

        // Models
        var rng0 = SeededGenerator(seed: 0)
        let model = try NFNPredictor(kind: .hnp, architecture: .smallCNNZoo(), hiddenChannels: [16, 16, 16],
                                     headHidden: 1000, rng: &rng0)
        #expect(model.predict(x).shape == [2, 1])
        let head = PredictionMLP(inputs: 64, hidden: [1000, 1000], outputs: 1, rng: &rng0)
        #expect(head.layers.count == 3)
        let statnn = STATNNPredictor(layerCount: 4, hidden: 64, rng: &rng0)
        #expect(statnn.predict(x).shape == [2, 1])
        let flat = FlatMLPPredictor(architecture: .smallCNNZoo(), hidden: [256, 256], rng: &rng0)
        #expect(flat.predict(x).shape == [2, 1])
    }
}
