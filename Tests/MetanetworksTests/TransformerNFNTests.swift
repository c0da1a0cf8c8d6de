import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
@testable import Metanetworks
import _TestSupport

/// Symmetry properties of the Transformer-NFN layers under the attention group
/// (heads × GL(D_k)ʰ × GL(D_v)ʰ × π_O × π_A, κ ≤ 100).
@Suite("Transformer-NFN symmetry")
struct TransformerNFNSymmetryTests {
    static let dims: [TNFNFixture.Dims] = [.small, .uneven, .zoo]

    @Test("TransformerNFNLinear is equivariant: f(gU) = g·f(U)", arguments: dims)
    func linearEquivariant(_ d: TNFNFixture.Dims) throws {
        var rng = SeededGenerator(seed: 11)
        let (c, e) = d.model > 8 ? (1, 2) : (2, 3)
        let layer = TransformerNFNLinear(inChannels: c, outChannels: e, modelDimension: d.model, heads: d.heads,
                                         feedForwardDimension: d.feedForward, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: c, d, rng: &rng)
        let f = { (x: TransformerBlockFeatures) in layer(TransformerBlockVariables(x)).features }
        let fu = f(u)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = try TNFNFixture.element(d, rng: &rng)
            let moved = f(try AttentionGroupElement.apply(g, to: u))
            let expected = try AttentionGroupElement.apply(g, to: fu)
            worst = max(worst, TNFNFixture.perTensorDeviation(moved.tensors, expected.tensors))
        }
        print("TransformerNFNLinear equivariance \(d): max per-tensor relative deviation \(worst)")
        #expect(worst <= 1e-4, "\(d): deviation \(worst)")
    }

    @Test("Control: ReLU on Q, K, V, O too breaks equivariance (why the reference masks them)")
    func unmaskedReLUIsNotEquivariant() throws {
        var rng = SeededGenerator(seed: 12)
        let d = TNFNFixture.Dims.small
        let layer = TransformerNFNLinear(inChannels: 2, outChannels: 3, modelDimension: d.model, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: 2, d, rng: &rng)
        let f = { (x: TransformerBlockFeatures) in layer(TransformerBlockVariables(x)).map { $0.relu() }.features }
        let fu = f(u)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = try TNFNFixture.element(d, rng: &rng)
            let moved = f(try AttentionGroupElement.apply(g, to: u))
            worst = max(worst, TNFNFixture.perTensorDeviation(moved.tensors, try AttentionGroupElement.apply(g, to: fu).tensors))
        }
        print("control (unmasked ReLU) deviation \(worst)")
        #expect(worst >= 1e-2)
    }

    @Test("Masked ReLU (W_A, b_A, W_B, b_B only) keeps equivariance")
    func maskedReLUEquivariant() throws {
        var rng = SeededGenerator(seed: 13)
        let d = TNFNFixture.Dims.uneven
        let layer = TransformerNFNLinear(inChannels: 2, outChannels: 2, modelDimension: d.model, rng: &rng)
        let u = TNFNFixture.block(batch: 1, channels: 2, d, rng: &rng)
        let f = { (x: TransformerBlockFeatures) in layer(TransformerBlockVariables(x)).mapFeedForward { $0.relu() }.features }
        let fu = f(u)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = try TNFNFixture.element(d, rng: &rng)
            worst = max(worst, TNFNFixture.perTensorDeviation(f(try AttentionGroupElement.apply(g, to: u)).tensors,
                                                              try AttentionGroupElement.apply(g, to: fu).tensors))
        }
        #expect(worst <= 1e-4, "deviation \(worst)")
    }

    @Test("TransformerNFNInvariant is invariant", arguments: dims)
    func invariantLayerInvariant(_ d: TNFNFixture.Dims) throws {
        var rng = SeededGenerator(seed: 14)
        for layerNorm in [false, true] {
            let layer = TransformerNFNInvariant(inChannels: 2, outChannels: 4, modelDimension: d.model, heads: d.heads,
                                                feedForwardDimension: d.feedForward, layerNorm: layerNorm, rng: &rng)
            let u = TNFNFixture.block(batch: 3, channels: 2, d, rng: &rng)
            let dev = try checkInvariance(input: u, trials: 10, sample: {
                let g = try TNFNFixture.element(d, rng: &rng)
                return { try AttentionGroupElement.apply(g, to: $0) }
            }) { layer(TransformerBlockVariables($0)).value }
            print("TransformerNFNInvariant \(d) layerNorm=\(layerNorm): deviation \(dev)")
            #expect(dev <= 1e-4, "\(d): deviation \(dev)")
        }
    }

    @Test("TransformerNFNPredictor is invariant to the group on every block", arguments: [TNFNFixture.Dims.small, .zoo])
    func predictorInvariant(_ d: TNFNFixture.Dims) throws {
        var rng = SeededGenerator(seed: 15)
        let arch = TNFNFixture.architecture(d)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = d.model > 8 ? [3] : [4, 3]
        cfg.outputs = 3
        cfg.sigmoidOutput = false                    // compare logits, not squashed values
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 3, rng: &rng)
        let dev = try checkInvariance(input: zoo, trials: 10, sample: {
            let g = try AttentionGroupElement.random(
                blockCount: 2, heads: d.heads, modelDimension: d.model, keyDimension: d.key, valueDimension: d.value,
                feedForwardDimension: d.feedForward, rng: &rng)
            return { try g.apply(to: $0) }
        }) { try predictor.predict($0) }
        print("TransformerNFNPredictor invariance \(d): deviation \(dev)")
        #expect(dev <= 1e-4, "deviation \(dev)")
    }

    @Test("Control: a flat MLP on the block weights is not invariant")
    func flatMLPNotInvariant() throws {
        var rng = SeededGenerator(seed: 16)
        let d = TNFNFixture.Dims.small
        let u = TNFNFixture.block(batch: 2, channels: 1, d, rng: &rng)
        let n = u.tensors.reduce(0) { $0 + $1.count } / 2
        let mlp = MLP(widths: [n, 16, 4], rng: &rng)
        let dev = try checkInvariance(input: u, trials: 10, sample: {
            let g = try TNFNFixture.element(d, rng: &rng)
            return { try AttentionGroupElement.apply(g, to: $0) }
        }) { x in mlp(Variable(Tensor.concatenate(x.tensors.map { $0.reshaped([2, -1]) }, alongAxis: 1))).value }
        print("control (flat MLP) deviation \(dev)")
        #expect(dev >= 1e-2)
    }

    @Test("Each member of a batch is processed independently")
    func batchIndependence() throws {
        var rng = SeededGenerator(seed: 17)
        let arch = TNFNFixture.architecture(.small)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [3]
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let members = (0..<3).map { _ in TransformerWeightSpaceFeatures(model: SmallTransformer(arch, initStandardDeviation: 0.3, rng: &rng)) }
        let batched = try predictor.predict(try TransformerWeightSpaceFeatures.batched(members))
        for (i, m) in members.enumerated() {
            let single = try predictor.predict(m)
            #expect(abs(single[0, 0] - batched[i, 0]) <= 1e-5)
        }
    }
}

@Suite("Transformer-NFN API")
struct TransformerNFNAPITests {
    @Test("Parameter count matches the reference's per-term tensors")
    func parameterCounts() {
        var rng = SeededGenerator(seed: 20)
        let (c, e, d) = (3, 5, 6)
        let layer = TransformerNFNLinear(inChannels: c, outChannels: e, modelDimension: d, rng: &rng)
        // Reference (TransformersLinear): Q, K, V [e,d,D,D]; O 2×[e,d];
        // W_A: C(D²+5D+6)+1 per e; b_A: C(D²+4D+4)+1; W_B: (C(D²+4D+4)+1)·D; b_B: (C(D²+3D+2)+1)·D.
        let expected = 3 * e * c * d * d + 2 * e * c
            + e * (c * (d * d + 5 * d + 6) + 1) + e * (c * (d * d + 4 * d + 4) + 1)
            + e * d * (c * (d * d + 4 * d + 4) + 1) + e * d * (c * (d * d + 3 * d + 2) + 1)
        #expect(layer.parameterCount == expected)
        let inv = TransformerNFNInvariant(inChannels: c, outChannels: e, modelDimension: d, layerNorm: false, rng: &rng)
        #expect(inv.parameterCount == e * (c * (d * d + 3 * d + 2) + 1))
    }

    @Test("Small Transformer Zoo predictor sizes")
    func zooParameterCount() {
        var rng = SeededGenerator(seed: 21)
        let arch = SmallTransformer.Configuration()
        for channels in [[10, 10], [10], [8]] {
            var cfg = TransformerNFNConfiguration()
            cfg.hiddenChannels = channels
            let p = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
            print("TransformerNFNPredictor channels \(channels) on the Small Transformer Zoo: \(p.parameterCount) parameters")
            #expect(p.embeddingParameterCount == 544 && p.classifierParameterCount == 1386)
            #expect(p.parameterCount > 0)
        }
    }

    @Test("validate reports wrong inputs")
    func validation() throws {
        var rng = SeededGenerator(seed: 22)
        let arch = TNFNFixture.architecture(.small)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [2]
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 2, rng: &rng)
        try predictor.validate(zoo)
        var oneBlock = zoo
        oneBlock.blocks.removeLast()
        #expect(throws: ModuleError.self) { try predictor.validate(oneBlock) }
        var nan = zoo
        nan.blocks[1].feedForwardOutBias[0, 0, 1] = .nan
        #expect(throws: ModuleError.self) { try predictor.predict(nan) }
        var wrongD = TNFNFixture.architecture(.uneven)
        wrongD.heads = 2
        wrongD.keyDimension = 2
        let other = try TNFNFixture.zoo(wrongD, members: 2, rng: &rng)
        #expect(throws: ModuleError.self) { try predictor.validate(other) }
    }

    @Test("Doc example: TransformerNFNLinear")
    func docLinear() {
        var rng = SeededGenerator(seed: 0)
        let layer = TransformerNFNLinear(inChannels: 1, outChannels: 4, modelDimension: 8, rng: &rng)
        let block = TransformerBlockFeatures(
            query: Tensor.normal([2, 1, 2, 8, 4], rng: &rng), key: Tensor.normal([2, 1, 2, 8, 4], rng: &rng),
            value: Tensor.normal([2, 1, 2, 8, 4], rng: &rng), output: Tensor.normal([2, 1, 2, 4, 8], rng: &rng),
            feedForwardInWeight: Tensor.normal([2, 1, 8, 16], rng: &rng), feedForwardInBias: Tensor.normal([2, 1, 16], rng: &rng),
            feedForwardOutWeight: Tensor.normal([2, 1, 16, 8], rng: &rng), feedForwardOutBias: Tensor.normal([2, 1, 8], rng: &rng))
        let y = layer(TransformerBlockVariables(block))
        #expect(y.query.shape == [2, 4, 2, 8, 4])
        #expect(y.output.shape == [2, 4, 2, 4, 8])
        #expect(y.feedForwardInWeight.shape == [2, 4, 8, 16])
        #expect(y.feedForwardOutWeight.shape == [2, 4, 16, 8])
        #expect(y.feedForwardOutBias.shape == [2, 4, 8])
        let invariant = TransformerNFNInvariant(inChannels: 4, outChannels: 4, modelDimension: 8, rng: &rng)
        #expect(invariant(y).shape == [2, 4])
    }

    @Test("Doc example: TransformerNFNPredictor")
    func docPredictor() throws {
        var rng = SeededGenerator(seed: 0)
        var arch = SmallTransformer.Configuration()
        arch.modelDimension = 8; arch.keyDimension = 4; arch.valueDimension = 4; arch.feedForwardDimension = 16
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [4]
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = try TransformerWeightSpaceFeatures.batched((0..<3).map { _ in
            TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng)) })
        let accuracy = try predictor.predict(zoo)            // [3, 1]
        #expect(accuracy.shape == [3, 1])
        #expect(accuracy.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("Trains: loss decreases on a tiny regression")
    func trains() throws {
        var rng = SeededGenerator(seed: 23)
        let arch = TNFNFixture.architecture(.small)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [3]
        let predictor = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 8, rng: &rng)
        let targets = Tensor.uniform([8, 1], low: 0.2, high: 0.8, rng: &rng)
        let optimizer = Adam(learningRate: 1e-2)
        var losses: [Float] = []
        for _ in 0..<30 {
            let tape = Tape()
            let loss = Variable.meanSquaredError(predictor(TransformerWeightSpaceVariables(zoo, tape: tape)), targets)
            losses.append(loss.value.scalar)
            optimizer.step(predictor, gradients: tape.gradients(of: loss))
        }
        #expect(losses.last! < 0.5 * losses.first!, "losses \(losses.first!) → \(losses.last!)")
    }
}
