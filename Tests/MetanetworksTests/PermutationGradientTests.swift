import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import _TestSupport
import Metanetworks

/// Finite-difference checks of the permutation-family layers: gradients with respect to the input
/// features and to every parameter (GradientCase's tolerance, 2e-2).
@Suite struct PermutationGradientTests {
    typealias F = PermutationFixtures
    static let tolerance: Float = 2e-2

    /// A named layer factory for table-driven gradient checks.
    struct LayerCase: CustomStringConvertible, Sendable {
        var name: String
        var space: F.Space
        var channels: Int
        var make: @Sendable (inout SeededGenerator) -> Module & WeightSpaceLayer
        var description: String { name }
    }

    static let cases: [LayerCase] = [
        LayerCase(name: "NPLinear MLP L=3", space: F.mlp3, channels: 2) {
            NPLinear(inChannels: 2, outChannels: 2, architecture: F.mlp3.architecture, rng: &$0)
        },
        LayerCase(name: "NPLinear+IO tiny CNN", space: F.tinyCNN, channels: 2) {
            NPLinear(inChannels: 2, outChannels: 2, architecture: F.tinyCNN.architecture, ioEmbedding: true, rng: &$0)
        },
        LayerCase(name: "HNPLinear MLP L=2", space: F.mlp2, channels: 2) {
            HNPLinear(inChannels: 2, outChannels: 2, architecture: F.mlp2.architecture, rng: &$0)
        },
        LayerCase(name: "HNPLinear MLP L=4", space: F.mlp4, channels: 1) {
            HNPLinear(inChannels: 1, outChannels: 2, architecture: F.mlp4.architecture, rng: &$0)
        },
        LayerCase(name: "HNPLinear tiny CNN", space: F.tinyCNN, channels: 2) {
            HNPLinear(inChannels: 2, outChannels: 2, architecture: F.tinyCNN.architecture, rng: &$0)
        },
        LayerCase(name: "HNPLinear conv-last", space: F.convLast, channels: 1) {
            HNPLinear(inChannels: 1, outChannels: 2, architecture: F.convLast.architecture, rng: &$0)
        },
        LayerCase(name: "ChannelLayerNorm tiny CNN", space: F.tinyCNN, channels: 3) { rng in
            let norm = ChannelLayerNorm(channels: 3, architecture: F.tinyCNN.architecture)
            for p in norm.parameters { p.value = p.value + Tensor.normal(p.shape, std: 0.5, rng: &rng) }
            return norm
        },
        LayerCase(name: "GaussianFourierFeatures", space: F.mlp2, channels: 2) {
            GaussianFourierFeatures(inChannels: 2, features: 3, scale: 0.5, rng: &$0)
        },
        LayerCase(name: "SinusoidalIOEncoding", space: F.tinyCNN, channels: 1) { _ in
            SinusoidalIOEncoding(architecture: F.tinyCNN.architecture)
        },
    ]

    @Test(arguments: cases)
    func layerGradients(_ c: LayerCase) {
        var rng = SeededGenerator(seed: 30)
        let layer = c.make(&rng)
        let x = F.features(c.space.architecture, batch: 2, channels: c.channels, seed: 31)
        let inputs = checkGradient(at: F.tensors(x)) { vars in F.flatten(layer(F.variables(vars))) }
        let params = F.parameterGradientError(layer) { tape in
            F.flatten(layer(WeightSpaceVariables(x, tape: tape)))
        }
        print("\(c.name): inputs \(inputs); parameters max rel. error \(params)")
        #expect(inputs.maxRelativeError <= Self.tolerance)
        #expect(params <= Self.tolerance)
    }

    @Test func poolGradients() {
        let x = F.features(F.tinyCNN.architecture, batch: 2, channels: 2, seed: 32)
        for reduction in [NeuronPoolReduction.mean, .sum] {
            let np = checkGradient(at: F.tensors(x)) { NPPool(reduction: reduction)(F.variables($0)) }
            let hnp = checkGradient(at: F.tensors(x)) { HNPPool(reduction: reduction)(F.variables($0)) }
            #expect(np.maxRelativeError <= Self.tolerance)
            #expect(hnp.maxRelativeError <= Self.tolerance)
        }
    }

    @Test(arguments: NFNPredictor.Kind.allCases)
    func predictorGradients(_ kind: NFNPredictor.Kind) throws {
        var rng = SeededGenerator(seed: 33)
        let arch = F.tinyCNN.architecture
        // Four channels: a layer norm over two channels is ±1 almost everywhere, whose
        // finite differences are meaningless.
        let model = try NFNPredictor(kind: kind, architecture: arch, hiddenChannels: [4], headHidden: 4,
                                     outputs: 2, ioEmbedding: kind == .np, layerNorm: true, sigmoid: true, rng: &rng)
        let x = F.features(arch, batch: 2, seed: 34)
        let inputs = checkGradient(at: F.tensors(x)) { model(F.variables($0)) }
        let params = F.parameterGradientError(model, maxEntries: 6) { tape in model(WeightSpaceVariables(x, tape: tape)) }
        print("NFNPredictor(.\(kind)) gradients: inputs \(inputs); parameters \(params)")
        #expect(inputs.maxRelativeError <= Self.tolerance)
        #expect(params <= Self.tolerance)
    }
}
