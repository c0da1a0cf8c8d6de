import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import LinearAlgebra
@testable import Metanetworks
import _TestSupport

/// Quasi-equivariant Transformer-NFN (Tran et al. 2026, *Quasi-Equivariant Metanetworks*, §4.3):
/// f(U) = φ(U)·E(U).
@Suite("Quasi Transformer-NFN")
struct QuasiTransformerTests {
    static let d = TNFNFixture.Dims.small

    static func layer(gamma: Float, channels: (Int, Int) = (2, 3), _ d: TNFNFixture.Dims = d,
                      rng: inout SeededGenerator) -> QuasiTransformerNFN {
        QuasiTransformerNFN(inChannels: channels.0, outChannels: channels.1, modelDimension: d.model, heads: d.heads,
                            keyDimension: d.key, valueDimension: d.value, feedForwardDimension: d.feedForward,
                            statisticsCount: 56 * channels.0, gamma: gamma, rng: &rng)
    }

    static func stats(_ u: TransformerBlockFeatures) -> Variable {
        Variable(u.quasiStatistics().reshaped([u.query.shape[0], -1]))
    }

    /// The group element acting with per-head matrices only (τ, π_O, π_A = identity).
    static func glElement(_ m: Tensor, _ n: Tensor, _ d: TNFNFixture.Dims) throws -> AttentionGroupElement.Block {
        // `Block` has no public memberwise initialiser: draw any element and overwrite its fields.
        var rng = SeededGenerator(seed: 0)
        var g = try TNFNFixture.element(d, rng: &rng)
        g.headPermutation = Array(0..<d.heads)
        g.queryKey = (0..<d.heads).map { m.slice(axis: 1, $0..<($0 + 1)).reshaped([d.key, d.key]) }
        g.valueOutput = (0..<d.heads).map { n.slice(axis: 1, $0..<($0 + 1)).reshaped([d.value, d.value]) }
        g.outputPermutation = Array(0..<d.model)
        g.hiddenPermutation = Array(0..<d.feedForward)
        return g
    }

    @Test("Quasi-equivariant: f(gU) = g′·f(U) with g′ = φ(gU)·g·φ(U)⁻¹", arguments: [TNFNFixture.Dims.small, .zoo])
    func quasiEquivariant(_ d: TNFNFixture.Dims) throws {
        var rng = SeededGenerator(seed: 40)
        let channels = d.model > 8 ? (1, 2) : (2, 3)
        let layer = Self.layer(gamma: 0.02, channels: channels, d, rng: &rng)
        let u = TNFNFixture.block(batch: 1, channels: channels.0, d, rng: &rng)
        let fu = try layer(TransformerBlockVariables(u), statistics: Self.stats(u)).features
        let (m, n) = layer.groupElement(Self.stats(u))
        let phiInverse = try Self.glElement(try m.value.inverse(), try n.value.inverse(), d)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = try TNFNFixture.element(d, rng: &rng)
            let gu = try AttentionGroupElement.apply(g, to: u)
            let moved = try layer(TransformerBlockVariables(gu), statistics: Self.stats(gu)).features
            let (mg, ng) = layer.groupElement(Self.stats(gu))
            let expected = try AttentionGroupElement.apply(
                try Self.glElement(mg.value, ng.value, d),
                to: try AttentionGroupElement.apply(g, to: try AttentionGroupElement.apply(phiInverse, to: fu)))
            worst = max(worst, TNFNFixture.perTensorDeviation(moved.tensors, expected.tensors))
        }
        print("QuasiTransformerNFN quasi-equivariance \(d): deviation \(worst)")
        #expect(worst <= 1e-4, "deviation \(worst)")
    }

    @Test("Control: the quasi layer is not strictly equivariant (φ(gU) ≠ φ(U))")
    func notStrictlyEquivariant() throws {
        var rng = SeededGenerator(seed: 41)
        let layer = Self.layer(gamma: 0.2, rng: &rng)
        let u = TNFNFixture.block(batch: 1, channels: 2, Self.d, rng: &rng)
        let f = { (x: TransformerBlockFeatures) in try layer(TransformerBlockVariables(x), statistics: Self.stats(x)).features }
        let fu = try f(u)
        var worst: Float = 0
        for _ in 0..<10 {
            let g = try TNFNFixture.element(Self.d, rng: &rng)
            worst = max(worst, TNFNFixture.perTensorDeviation(try f(try AttentionGroupElement.apply(g, to: u)).tensors,
                                                              try AttentionGroupElement.apply(g, to: fu).tensors))
        }
        print("control (quasi layer vs strict equivariance) deviation \(worst)")
        #expect(worst >= 1e-2)
    }

    @Test("Prop. 3.3: the invariant head on quasi-equivariant layers is invariant", arguments: [TNFNFixture.Dims.small, .zoo])
    func predictorInvariant(_ d: TNFNFixture.Dims) throws {
        var rng = SeededGenerator(seed: 42)
        let arch = TNFNFixture.architecture(d)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = d.model > 8 ? [3] : [4, 3]
        cfg.outputs = 3
        cfg.sigmoidOutput = false
        let predictor = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, gamma: 0.05, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 3, rng: &rng)
        let dev = try checkInvariance(input: zoo, trials: 10, sample: {
            let g = try AttentionGroupElement.random(
                blockCount: 2, heads: d.heads, modelDimension: d.model, keyDimension: d.key, valueDimension: d.value,
                feedForwardDimension: d.feedForward, rng: &rng)
            return { try g.apply(to: $0) }
        }) { try predictor.predict($0) }
        print("QuasiTransformerNFNPredictor invariance \(d): deviation \(dev)")
        #expect(dev <= 1e-4, "deviation \(dev)")
    }

    @Test("Control: a flat MLP over all transformer weights is not invariant")
    func flatMLPControl() throws {
        var rng = SeededGenerator(seed: 43)
        let arch = TNFNFixture.architecture(.small)
        let zoo = try TNFNFixture.zoo(arch, members: 3, rng: &rng)
        let n = zoo.allTensors.reduce(0) { $0 + $1.count } / 3
        let mlp = MLP(widths: [n, 16, 3], rng: &rng)
        let dev = try checkInvariance(input: zoo, trials: 10, sample: {
            let g = try AttentionGroupElement.random(blockCount: 2, heads: 2, modelDimension: 4, keyDimension: 2,
                                                     valueDimension: 2, feedForwardDimension: 6, rng: &rng)
            return { try g.apply(to: $0) }
        }) { x in mlp(Variable(Tensor.concatenate(x.allTensors.map { $0.reshaped([3, -1]) }, alongAxis: 1))).value }
        print("control (flat MLP, whole transformer) deviation \(dev)")
        #expect(dev >= 1e-2)
    }

    @Test("φ cancels in the invariant predictor: same output as the plain predictor, zero gradient for γ")
    func phiCancels() throws {
        var rng = SeededGenerator(seed: 44)
        let arch = TNFNFixture.architecture(.small)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [3, 4]                  // E ≥ 3, else the invariant LayerNorm is constant
        cfg.sigmoidOutput = false
        let quasi = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, gamma: 0.2, rng: &rng)
        let plain = TransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        var values: [String: Tensor] = [:]
        for (path, p) in quasi.namedParameters() {
            if path.hasPrefix("readout.") { values[path] = p.value }
            if path.hasPrefix("quasiLayers."), path.contains(".linear.") {
                values[path.replacingOccurrences(of: "quasiLayers.", with: "equivariantLayers.")
                    .replacingOccurrences(of: ".linear.", with: ".")] = p.value
            }
        }
        try plain.loadParameterValues(values)
        let zoo = try TNFNFixture.zoo(arch, members: 4, rng: &rng)
        let a = try quasi.predict(zoo), b = try plain.predict(zoo)
        let dev = relativeDeviation([a], [b])
        print("quasi vs plain predictor with shared E/readout parameters: deviation \(dev)")
        #expect(dev <= 1e-5)

        let tape = Tape()
        let out = try quasi(TransformerWeightSpaceVariables(zoo, tape: tape)).sum()
        let grads = tape.gradients(of: out)
        let gammaGrad = quasi.quasiLayers.map { grads[$0.gamma].abs().max() }.max()!
        let phiGrad = quasi.quasiLayers.flatMap(\.groupLayers).flatMap(\.parameters).map { grads[$0].abs().max() }.max()!
        let eGrad = quasi.quasiLayers.map(\.linear).flatMap(\.parameters).map { grads[$0].abs().max() }.max()!
        print("max |∂/∂γ| = \(gammaGrad), max |∂/∂φ-MLP| = \(phiGrad), max |∂/∂E| = \(eGrad)")
        #expect(gammaGrad <= 1e-4 * eGrad && phiGrad <= 1e-4 * eGrad)
    }

    @Test("Gradients of the quasi layer (inputs, statistics and parameters)")
    func gradients() {
        var rng = SeededGenerator(seed: 45)
        let layer = Self.layer(gamma: 0.1, rng: &rng)
        let u = TNFNFixture.block(batch: 2, channels: 2, Self.d, rng: &rng)
        let s = Self.stats(u).value
        let r = checkGradient(at: u.tensors + [s], maxEntries: 16) { v in
            TNFNFixture.flatten(try! layer(TransformerBlockVariables(variables: Array(v.prefix(8))), statistics: v[8]))
        }
        #expect(r.maxRelativeError <= 2e-2, "\(r)")
        let err = TNFNFixture.parameterGradientError(layer, maxEntries: 8) { tape in
            TNFNFixture.flatten(try! layer(TransformerBlockVariables(u, tape: tape), statistics: tape?.constant(s) ?? Variable(s)))
        }
        #expect(err <= 2e-2, "max rel. error \(err)")
    }

    @Test("An ill-conditioned learned element is reported, not used")
    func illConditionedReported() throws {
        var rng = SeededGenerator(seed: 46)
        let arch = TNFNFixture.architecture(.small)
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [2]
        let predictor = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, gamma: 0.5,
                                                     conditionLimit: 1.0001, rng: &rng)
        let zoo = try TNFNFixture.zoo(arch, members: 2, rng: &rng)
        #expect(throws: ModuleError.self) { try predictor.predict(zoo) }
    }

    @Test("Statistics: 56 per block and channel, matching direct computation")
    func statistics() throws {
        var rng = SeededGenerator(seed: 47)
        let u = TNFNFixture.block(batch: 2, channels: 3, Self.d, rng: &rng)
        let s = u.quasiStatistics()
        #expect(s.shape == [2, 3, 56])
        // W_O (4th tensor) of member 1, channel 2: mean, min, max.
        let o = u.output.slice(axis: 0, 1..<2).slice(axis: 1, 2..<3)
        #expect(abs(s[1, 2, 21] - o.mean()) <= 1e-5)
        #expect(abs(s[1, 2, 23] - o.min()) <= 1e-6)
        #expect(abs(s[1, 2, 27] - o.max()) <= 1e-6)
        let zoo = try TNFNFixture.zoo(TNFNFixture.architecture(.small), members: 2, rng: &rng)
        #expect(zoo.quasiStatistics().shape == [2, 2 * 56])
    }

    @Test("Doc examples: QuasiTransformerNFN and QuasiTransformerNFNPredictor")
    func docExamples() throws {
        var rng = SeededGenerator(seed: 0)
        let layer = QuasiTransformerNFN(inChannels: 1, outChannels: 4, modelDimension: 8, heads: 2,
                                        keyDimension: 4, valueDimension: 4, statisticsCount: 56, rng: &rng)
        let block = TNFNFixture.block(batch: 2, channels: 1, .init(heads: 2, model: 8, key: 4, value: 4, feedForward: 16), rng: &rng)
        let y = try layer(TransformerBlockVariables(block), statistics: Variable(block.quasiStatistics().reshaped([2, 56])))
        #expect(y.query.shape == [2, 4, 2, 8, 4])

        var arch = SmallTransformer.Configuration()
        arch.modelDimension = 8; arch.keyDimension = 4; arch.valueDimension = 4; arch.feedForwardDimension = 16
        var cfg = TransformerNFNConfiguration()
        cfg.hiddenChannels = [4]
        let predictor = QuasiTransformerNFNPredictor(architecture: arch, configuration: cfg, rng: &rng)
        let zoo = TransformerWeightSpaceFeatures(model: SmallTransformer(arch, rng: &rng))
        let accuracy = try predictor.predict(zoo)            // [1, 1]
        #expect(accuracy.shape == [1, 1])
    }
}
