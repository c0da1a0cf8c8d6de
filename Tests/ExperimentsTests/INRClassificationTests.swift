import Foundation
import Testing
import _TestSupport
import SwiftNFN

@Suite(.serialized) struct INRClassificationTests {
    @Test func invariantClassifierBeatsChanceAndKeepsItUnderPermutations() throws {
        let data = try INRClassificationExperiment.load(zoo: try INRZooFixture.zoo())
        #expect(data.count == INRZooFixture.members && data.skipped == 0)
        #expect(data.classCount == 10)
        let split = try DataSplit(count: data.count, trainFraction: 0.6, validationFraction: 0.1, seed: 1)
        let config = MetanetworkTrainingConfiguration(epochs: 30, batchSize: 12, learningRate: 3e-3, patience: 0, seed: 2)
        let result = try INRClassificationExperiment.run(model: "statnn", data: data, split: split,
                                                         configuration: config, size: .small)
        let accuracy = try #require(result.metrics["accuracy"])
        print("INR classification (statnn, small): test accuracy \(accuracy) on \(split.test.count) members; chance \(result.metrics["chance"] ?? .nan); robustness \(result.robustness)")
        #expect(result.task == "inr-classification" && result.configuration["classes"] == "10")
        #expect(accuracy > 0.1, "accuracy \(accuracy) should beat 10-class chance")
        #expect(result.metrics["loss"]?.isFinite == true)
        // STATNN sees per-layer statistics of multisets: invariant to hidden-neuron permutations.
        #expect(result.robustness["permutation"] == accuracy, "\(result.robustness)")
    }

    @Test(arguments: ["np", "hnp", "nft", "monomial-sign", "mlp", "graph-nn"])
    func everyModelTrainsAndEvaluates(_ name: String) throws {
        let data = try INRClassificationExperiment.load(zoo: try INRZooFixture.zoo())
        let split = try DataSplit(count: data.count, seed: 3)
        let config = MetanetworkTrainingConfiguration(epochs: 1, batchSize: 16, seed: 4)
        let result = try INRClassificationExperiment.run(model: name, data: data, split: split, configuration: config, size: .small)
        #expect(result.epochs == 1 && result.parameters > 0)
        #expect(result.metrics["accuracy"].map { (0...1).contains($0) } == true)
        // The model can be rebuilt from the configuration and evaluated on its own.
        let rebuilt = try INRClassificationExperiment.makeModel(name: name, data: data, size: .small, seed: config.seed)
        #expect(rebuilt.parameterCount == result.parameters)
        let m = try INRClassificationExperiment.evaluate(model: rebuilt, data: data, indices: split.test)
        #expect(m["loss"]?.isFinite == true)
        if name != "mlp" {
            // Invariant models keep their accuracy on permuted test sets.
            #expect(result.robustness["permutation"] == result.metrics["accuracy"], "\(result.robustness)")
        }
    }

    @Test func nonSIRENZoosAndUnknownModelsAreErrors() throws {
        let mlp = try INRZooFixture.mlpZoo.get()
        let error = #expect(throws: ExperimentError.self) { try INRClassificationExperiment.load(zoo: mlp) }
        if case .incompatibleZoo(let m)? = error {
            #expect(m.contains("SIREN"), "\(m)")
        } else {
            Issue.record("expected incompatibleZoo, got \(String(describing: error))")
        }
        let data = try INRClassificationExperiment.load(zoo: try INRZooFixture.zoo())
        #expect(throws: ExperimentError.self) {
            try INRClassificationExperiment.makeModel(name: "monomial", data: data, seed: 0)
        }
        #expect(throws: ExperimentError.self) { try SIRENZooData.load(zoo: try INRZooFixture.zoo(), epoch: 3) }
    }
}
