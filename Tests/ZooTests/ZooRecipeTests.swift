import Foundation
import Testing
import Tensors
import NeuralNetworks
import Zoo
import _TestSupport

/// The transformer zoo's reference recipe and the labelling of zoos written before it.
@Suite struct ZooRecipeTests {
    @Test func transformerDefaultsToTheReferenceRecipe() {
        let spec = ZooSpec.defaults(for: .transformer)
        #expect(spec.effectiveRecipe == .reference && spec.training.sharedInitialization == true)
        #expect(ZooSpec.defaults(for: .cnn).effectiveRecipe == .swiftNFNv1)
    }

    @Test func referenceInitialisesEveryLayerWithTheTruncatedNormalAndZeroBiases() throws {
        var spec = tinySpec(.transformer, members: 2)
        spec.recipe = .reference
        let hp = ZooMemberTrainer.hyperparameters(spec: spec, member: 0)
        let std = Float(try #require(hp.initStd))
        var rng = SeededGenerator(seed: 1)
        let model = try ZooModels.make(spec: spec, hyperparameters: hp, imageShape: [1, 28, 28], classes: 10, rng: &rng)
        for (path, value) in model.parameterValues() {
            if path.hasSuffix("bias") || path.contains("Bias") {
                #expect(value.scalars.allSatisfy { $0 == 0 }, "\(path) is not zero")
            } else if !path.contains("norm") {
                // Truncated at ±2 std, and spread like it (not Glorot's bound).
                #expect(value.scalars.allSatisfy { abs($0) <= 2 * std + 1e-6 }, "\(path) exceeds 2·std")
                let rms = (value.scalars.map { $0 * $0 }.reduce(0, +) / Float(value.count)).squareRoot()
                #expect(rms > 0.6 * std && rms < 1.1 * std, "\(path): rms \(rms) for std \(std)")
            }
        }
        // v1 keeps Glorot uniform in the blocks.
        spec.recipe = nil
        var rng2 = SeededGenerator(seed: 1)
        let v1 = try ZooModels.make(spec: spec, hyperparameters: hp, imageShape: [1, 28, 28], classes: 10, rng: &rng2)
        let query = try #require(v1.parameterValues().first { $0.key.contains("attention.query") }?.value)
        let fan = Float(query.shape[1] + query.shape[0] * query.shape[2])
        #expect(query.scalars.allSatisfy { abs($0) <= (6 / fan).squareRoot() + 1e-6 })
    }

    @Test func zoosWithoutARecipeReadAsVersionOneAndDifferFromTheReference() throws {
        var spec = tinySpec(.transformer)
        spec.recipe = nil
        let json = try JSONEncoder().encode(spec)
        #expect(!String(decoding: json, as: UTF8.self).contains("recipe"))
        let decoded = try JSONDecoder().decode(ZooSpec.self, from: json)
        #expect(decoded.effectiveRecipe == .swiftNFNv1)
        var reference = decoded
        reference.recipe = .reference
        #expect(reference.differences(from: decoded).contains("recipe"))
        var cnn = tinySpec(.cnn)
        cnn.recipe = .reference
        #expect(throws: ZooError.self) { try cnn.validate() }
    }

    @Test func zooInfoNamesTheRecipe() throws {
        let dir = makeTemporaryDirectory("recipe-info")
        _ = try ZooGenerator.generate(spec: tinySpec(.transformer, members: 2), into: dir, options: .init(workers: 2))
        let summary = ZooSummary(try ZooReader(directory: dir))
        #expect(summary.recipe == .reference && summary.sharedInitialization)
        #expect(summary.text.contains("recipe: reference"))
    }
}
