import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// The graph-network baseline (Kofinas et al. 2024): graph construction, equivariance of one
/// message-passing layer, invariance of the predictor, gradients, parity with PyTorch, errors,
/// training.
@Suite struct GraphNNTests {
    typealias F = PermutationFixtures

    static func model(_ space: F.Space, channels: Int = 1, dimension: Int = 6, layers: Int = 2, outputs: Int = 1,
                      seed: UInt64 = 60) throws -> GraphNNPredictor {
        var rng = SeededGenerator(seed: seed)
        return try GraphNNPredictor(architecture: space.architecture, configuration: .init(
            dimension: dimension, layers: layers, headHidden: 8, outputs: outputs, inputChannels: channels), rng: &rng)
    }

    /// The graph moved by a neuron permutation, acting as ``NeuronGroupElement/apply(to:)`` acts on
    /// weights: node layer ℓ by σ_ℓ, edge layer ℓ by σ_{ℓ+1} on its targets and σ_ℓ on its sources.
    static func permute(_ g: NeuralGraph, _ element: NeuronGroupElement) -> NeuralGraph {
        let inv = element.inversePermutations
        return NeuralGraph(nodes: g.nodes.enumerated().map { $1.gathering(inv[$0], alongAxis: 1) },
                           edges: g.edges.enumerated().map { $1.gathering(inv[$0 + 1], alongAxis: 1).gathering(inv[$0], alongAxis: 2) })
    }

    static func deviation(_ a: NeuralGraph, _ b: NeuralGraph) -> Float {
        relativeDeviation((a.nodes + a.edges).map(\.value), (b.nodes + b.edges).map(\.value))
    }

    @Test func rawGraphHoldsBiasesAndWeightTaps() {
        let arch = F.tinyCNN.architecture        // kernels 2×2, 3×1, dense; two channels → D = 8
        let x = F.features(arch, batch: 2, channels: 2)
        let g = NeuralGraph.raw(WeightSpaceVariables(x), edgeDimension: 8)
        #expect(g.widths == arch.widths)
        #expect(g.nodes[0].value.scalars.allSatisfy { $0 == 0 })
        #expect(g.nodes[2].value[1, 3, 1] == x.biases[1][1, 1, 3])
        // Edge 2 → 1 of layer 1 (3×1 kernel), channel 1, tap 2: slot 1·3 + 2; then zero padding.
        #expect(g.edges[1].value[1, 1, 2, 5] == x.weights[1][1, 1, 1, 2, 2, 0])
        #expect(g.edges[1].value[1, 1, 2, 6] == 0 && g.edges[2].value[0, 2, 3, 1] == x.weights[2][0, 1, 2, 3])
        #expect(g.edges[2].value[0, 2, 3, 2] == 0)
    }

    @Test(arguments: [F.mlp3, F.tinyCNN])
    func messagePassingLayerIsEquivariant(_ space: F.Space) throws {
        let model = try Self.model(space, dimension: 5)
        let x = F.features(space.architecture, batch: 2)
        var rng = SeededGenerator(seed: 61)
        var encodingWorst: Float = 0, layerWorst: Float = 0, control: Float = 0
        for _ in 0..<5 {
            let g = NeuronGroupElement.random(widths: x.widths, kind: .hiddenPermutation, rng: &rng)
            let graph = model.encoding(WeightSpaceVariables(x))
            // Graph construction and encoding: encode(g·U) = g·encode(U).
            let moved = model.encoding(WeightSpaceVariables(try g.apply(to: x)))
            encodingWorst = max(encodingWorst, Self.deviation(moved, Self.permute(graph, g)))
            // One layer: layer(g·G) = g·layer(G).
            let layer = model.layers[0]
            layerWorst = max(layerWorst, Self.deviation(layer(Self.permute(graph, g)), Self.permute(layer(graph), g)))
            // Control: permuting input and output neurons too moves their positional embeddings.
            let all = NeuronGroupElement.random(widths: x.widths, kind: .allPermutation, rng: &rng)
            let movedAll = model.encoding(WeightSpaceVariables(try all.apply(to: x)))
            control = max(control, Self.deviation(movedAll, Self.permute(graph, all)))
        }
        print("GraphNN \(space): encoding \(encodingWorst), layer \(layerWorst), all-permutation control \(control)")
        #expect(encodingWorst <= 1e-5)
        #expect(layerWorst <= 1e-5)
        #expect(control >= 1e-2)
    }

    @Test(arguments: [F.mlp3, F.smallCNNZoo, F.tinyCNN])
    func predictorIsHiddenPermutationInvariant(_ space: F.Space) throws {
        let model = try Self.model(space, outputs: 2)
        let x = F.features(space.architecture, batch: 3)
        let hnp = try F.invarianceDeviation(x, kind: .hiddenPermutation) { model.predict($0) }
        let np = try F.invarianceDeviation(x, kind: .allPermutation) { model.predict($0) }
        let scaling = try F.invarianceDeviation(x, kind: .positiveScaling, scaleRange: (1, 10)) { model.predict($0) }
        print("GraphNNPredictor \(space): HNP \(hnp), NP (control) \(np), scaling (control) \(scaling)")
        #expect(hnp <= 1e-4)
        #expect(np >= 1e-3)
        #expect(scaling >= 1e-3)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let model = try Self.model(F.tinyCNN, dimension: 4, outputs: 2, seed: 62)
        let x = F.features(F.tinyCNN.architecture, batch: 2, seed: 5)
        // ε = 2e-3: larger steps let the central differences straddle the ReLU kinks.
        let parameters = F.parameterGradientError(model, epsilon: 2e-3, maxEntries: 10) { tape in
            model(WeightSpaceVariables(x, tape: tape))
        }
        let inputs = checkGradient(at: F.tensors(x), epsilon: 2e-3, maxEntries: 16) { v in model(F.variables(v)) }
        print("GraphNN gradients: parameters \(parameters), inputs \(inputs)")
        #expect(parameters < 2e-2)
        #expect(inputs.maxRelativeError < 2e-2)
    }

    @Test func matchesThePyTorchFormulation() throws {
        let fixture = GraphNNParityFixture.self
        var rng = SeededGenerator(seed: 0)
        let reference = try GraphNNPredictor(architecture: F.tinyCNN.architecture, configuration: .init(
            dimension: 4, layers: 2, headHidden: 5, outputs: 2, inputChannels: 2), rng: &rng)
        // Strict: every parameter name and shape of the PyTorch model matches one Swift parameter.
        try reference.loadParameterValues(fixture.parameters.mapValues { Tensor(shape: $0.shape, scalars: $0.values) })
        let x = try WeightSpaceFeatures(weights: fixture.weights.map { Tensor(shape: $0.shape, scalars: $0.values) },
                                        biases: fixture.biases.map { Tensor(shape: $0.shape, scalars: $0.values) })
        let y = try reference.checkedPredict(x)
        let expected = Tensor(shape: fixture.outputs.shape, scalars: fixture.outputs.values)
        let diff = y.maxAbsDifference(expected) / max(1, expected.abs().max())
        print("GraphNN vs PyTorch: max rel. difference \(diff)")
        #expect(diff < 1e-4)
    }

    @Test func parameterCountFollowsTheFormula() throws {
        // d(C + 1) + d(D + 1) + d(n₀ + L − 1 + n_L) + layers · (7d² + 4d) + head.
        let arch = FeedforwardArchitecture.smallCNNZoo()
        var rng = SeededGenerator(seed: 63)
        let model = try GraphNNPredictor(architecture: arch, configuration: .init(dimension: 16, layers: 2, headHidden: 64),
                                         rng: &rng)
        let d = 16, readout = (10 + 3) * d
        let head = readout * 64 + 64 + 64 * 64 + 64 + 64 + 1
        #expect(model.parameterCount == d * 2 + d * 10 + d * (1 + 3 + 10) + 2 * (7 * d * d + 4 * d) + head)
    }

    @Test func foreignWeightSpacesAndBadSizesAreErrors() throws {
        let model = try Self.model(F.tinyCNN)
        let arch = F.tinyCNN.architecture
        let wider = try FeedforwardArchitecture(family: .cnn, widths: [2, 5, 4, 3], layers: arch.layers, activation: .relu)
        #expect(try model.checkedPredict(F.features(wider, batch: 2)).shape == [2, 1])    // hidden widths are free
        let foreign: [(String, FeedforwardArchitecture, Int)] = [
            ("input neurons", try FeedforwardArchitecture(family: .cnn, widths: [3, 3, 4, 3], layers: arch.layers, activation: .relu), 1),
            ("output neurons", try FeedforwardArchitecture(family: .cnn, widths: [2, 3, 4, 5], layers: arch.layers, activation: .relu), 1),
            ("filter taps", try .mlp(widths: [2, 3, 4, 3]), 1),
            ("feature channels", arch, 2),
            ("layers", try .mlp(widths: [2, 3, 3]), 1),
        ]
        for (name, other, channels) in foreign {
            do {
                _ = try model.checkedPredict(F.features(other, batch: 2, channels: channels))
                Issue.record("\(name): no error")
            } catch let error as ModuleError {
                #expect("\(error)".contains("GraphNNPredictor"), "\(name): \(error)")
            }
        }
        var rng = SeededGenerator(seed: 64)
        #expect(throws: ModuleError.self) {
            try GraphNNPredictor(architecture: arch, configuration: .init(dimension: 0), rng: &rng)
        }
        #expect(MetanetworkKind(rawValue: "graph-nn") == .graphNN)
        #expect(MetanetworkKind(rawValue: "graph_nn") == nil)
    }

    @Test func catalogSizes() throws {
        let arch = FeedforwardArchitecture.smallCNNZoo()
        var rng = SeededGenerator(seed: 65)
        let small = try MetanetworkKind.graphNN.makePredictor(architecture: arch, size: .small, rng: &rng)
        let standard = try MetanetworkKind.graphNN.makePredictor(architecture: arch, size: .standard, outputs: 10, rng: &rng)
        print("graph-nn parameters on the Small CNN Zoo: small \(small.parameterCount), standard \(standard.parameterCount)")
        #expect(small.parameterCount < standard.parameterCount)
        let u = F.features(arch, batch: 2)
        #expect(try standard.checkedPredict(u).shape == [2, 10])
    }

    @Test func trainingLowersTheLoss() throws {
        let arch = F.mlp3.architecture
        let model = try Self.model(F.mlp3, dimension: 8, seed: 66)
        let x = F.features(arch, batch: 8, seed: 9)
        var rng = SeededGenerator(seed: 67)
        let target = Tensor.uniform([8, 1], rng: &rng)
        let optimizer = Adam(learningRate: 3e-3)
        var first: Float = 0, last: Float = 0
        for step in 0..<40 {
            let tape = Tape()
            let loss = Variable.meanSquaredError(model(WeightSpaceVariables(x, tape: tape)), target)
            if step == 0 { first = loss.value.scalar }
            last = loss.value.scalar
            optimizer.step(model, gradients: tape.gradients(of: loss))
        }
        #expect(last < 0.5 * first, "\(first) → \(last)")
    }
}
