import Foundation
import Testing
import _TestSupport
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks
import Experiments

/// Library entry points fed a weight space other than the one a model was built for: every
/// metanetwork kind × 5 kinds of mismatch gives ``ModuleError/invalidInput(_:)`` (or, for models
/// that do not depend on what differs, a correct `[B, 1]` prediction), never a trap.
@Suite struct APIFaultTests {
    static let base = FeedforwardArchitecture.smallCNNZoo(filters: 4, classes: 3)
    static let mismatches: [(name: String, architecture: FeedforwardArchitecture, channels: Int)] = [
        ("same", base, 1),
        ("two feature channels", base, 2),
        ("other hidden width", .smallCNNZoo(filters: 5, classes: 3), 1),
        ("other input channels", .smallCNNZoo(inputChannels: 3, filters: 4, classes: 3), 1),
        ("dense layers instead of convolutions", try! .mlp(widths: [1, 4, 4, 4, 3]), 1),
        ("two layers", try! .mlp(widths: [1, 4, 3]), 1),
    ]

    static func features(_ a: FeedforwardArchitecture, channels: Int, batch: Int = 2) throws -> WeightSpaceFeatures {
        var seed: UInt32 = 7
        func next() -> Float {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return Float(seed >> 8) / Float(1 << 24) - 0.5
        }
        let weights = (0..<a.layerCount).map { i in Tensor(shape: [batch, channels] + a.weightShape(layer: i)) { _ in next() } }
        let biases = (0..<a.layerCount).map { i in Tensor(shape: [batch, channels] + a.biasShape(layer: i)) { _ in next() } }
        return try WeightSpaceFeatures(weights: weights, biases: biases)
    }

    /// Whether `kind` depends on what `mismatch` changes (NFT attends over neurons of any width;
    /// STATNN reads per-layer statistics of any shape; the graph network takes hidden layers of
    /// any width).
    static func mustReject(_ kind: MetanetworkKind, _ mismatch: String) -> Bool {
        switch mismatch {
        case "same": return false
        case "two feature channels", "two layers": return true
        case "other hidden width": return ![.nft, .nftReference, .statnn, .graphNN].contains(kind)
        case "other input channels": return ![.nft, .nftReference, .statnn].contains(kind)
        default: return kind != .statnn   // dense layers: other filter taps
        }
    }

    @Test(arguments: MetanetworkKind.allCases, 0..<mismatches.count)
    func predictorRejectsAnotherWeightSpace(_ kind: MetanetworkKind, _ index: Int) throws {
        let (name, architecture, channels) = Self.mismatches[index]
        var rng = SeededGenerator(seed: 1)
        let tanh = FeedforwardArchitecture.smallCNNZoo(activation: .tanh, filters: 4, classes: 3)
        let model = try (try? kind.makePredictor(architecture: Self.base, size: .small, rng: &rng))
            ?? kind.makePredictor(architecture: tanh, size: .small, rng: &rng)
        let x = try Self.features(architecture, channels: channels)
        if Self.mustReject(kind, name) {
            expectError(ModuleError.self, mentioning: ["invalid input"], "\(kind) on \(name)") { try model.validateInput(x) }
            expectError(ModuleError.self, mentioning: ["invalid input"], "\(kind) on \(name)") { _ = try model.checkedPredict(x) }
            // The experiments' entry point refuses them the same way.
            expectError(ModuleError.self, mentioning: ["invalid input"], "\(kind) logits on \(name)") {
                _ = try FeedforwardZooWeights.logits(of: model, on: x, tape: nil)
            }
            expectError(ModuleError.self, mentioning: ["invalid input"], "\(kind) INR logits on \(name)") {
                _ = try INRClassificationExperiment.logits(model: model, features: x, indices: [0, 1])
            }
        } else {
            let y = try model.checkedPredict(x)
            #expect(y.shape == [2, 1] && y.scalars.allSatisfy(\.isFinite), "\(kind) on \(name): \(y.shape)")
        }
    }

    @Test func requirementNamesWhatDiffers() throws {
        let r = WeightSpaceInputRequirement(channels: 1, architecture: Self.base)
        expectError(ModuleError.self, mentioning: ["M: built for networks of 4 layers, the features have 2"]) {
            try r.check(weightShapes: [[1, 1, 4, 1, 3, 3], [1, 1, 3, 4]], biasShapes: [[1, 1, 4], [1, 1, 3]], model: "M")
        }
        expectError(ModuleError.self, mentioning: ["one bias per weight"]) {
            try r.check(weightShapes: [[1, 1, 4, 1, 3, 3]], biasShapes: [], model: "M")
        }
        expectError(ModuleError.self, mentioning: ["layer 0: weight must be"]) {
            try WeightSpaceInputRequirement(channels: 1, layerCount: 1).check(weightShapes: [[1]], biasShapes: [[1]], model: "M")
        }
    }
}
