import Foundation
import Testing
import Tensors
import NeuralNetworks
import Training
import _TestSupport
import SwiftNFN

/// INR2ARRAY in the INR classification task: two-stage training through `ExperimentRunner`, a
/// frozen encoder in the second stage, `nfn evaluate` reproducing the numbers, and the
/// `reconstruction_epochs` key.
@Suite(.serialized) struct INR2ArrayTaskTests {
    @Test func twoStageTrainingFreezesTheEncoderAndEvaluateReproducesIt() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("swiftnfn-inr2array-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        var c = ExperimentConfiguration(task: .inrClassification, model: "inr2array-nft", zoo: try INRZooFixture.zoo().path, out: out.path)
        c.training.epochs = 2
        c.training.reconstructionEpochs = 2
        c.training.batchSize = 12
        c.training.learningRate = 3e-3
        c.training.seed = 3
        c.size = .small
        var records: [MetanetworkEpoch] = []
        let trained = try #require(try ExperimentRunner.train(c, progress: { records.append($0) }).results.first)
        #expect(records.count == 4)                                   // 2 reconstruction + 2 classification epochs
        #expect(records.prefix(2).allSatisfy { $0.validationMetric < 0 && $0.stage == "reconstruction" })  // −MSE
        #expect(records.suffix(2).allSatisfy { $0.stage == nil })
        #expect(trained.metrics["reconstruction_mse"].map { $0.isFinite && $0 > 0 } == true, "\(trained.metrics)")
        #expect(trained.metrics["accuracy"].map { (0...1).contains($0) } == true)
        // Invariant: permuted test SIRENs give the same latents, so the same accuracy (up to argmax ties).
        #expect(trained.robustness["permutation"].map { abs($0 - trained.metrics["accuracy"]!) < 0.1 } == true,
                "\(trained.robustness) vs \(trained.metrics)")

        // The second stage left the encoder and decoder at the first stage's best weights.
        let stage1 = out.appendingPathComponent("reconstruction-" + ExperimentRunner.checkpointFileName)
        let data = try INRClassificationExperiment.load(zoo: try INRZooFixture.zoo())
        let model = try #require(try INRClassificationExperiment.makeModel(name: "inr2array-nft", data: data, size: .small, seed: 3) as? INR2Array)
        let final = try #require(try INRClassificationExperiment.makeModel(name: "inr2array-nft", data: data, size: .small, seed: 3) as? INR2Array)
        try MetanetworkTrainer.loadBestWeights(from: stage1, into: model)
        try MetanetworkTrainer.loadBestWeights(from: out.appendingPathComponent(ExperimentRunner.checkpointFileName), into: final)
        #expect(model.encoder.parameterValues() == final.encoder.parameterValues())
        #expect(model.decoder.parameterValues() == final.decoder.parameterValues())
        #expect(model.classifier.parameterValues() != final.classifier.parameterValues())

        let evaluated = try #require(try ExperimentRunner.evaluate(run: out).results.first)
        #expect(evaluated.metrics == trained.metrics)
        #expect(evaluated.robustness == trained.robustness)
    }

    @Test func reconstructionEpochsAreForTheTwoStageModelsOnly() throws {
        var c = ExperimentConfiguration(task: .inrClassification, model: "hnp", zoo: "z", out: "o")
        c.training.reconstructionEpochs = 3
        #expect(configurationError { try c.validate() }?.contains("reconstruction_epochs") == true)
        c.model = "inr2array-nfn"
        #expect(configurationError { try c.validate() } == nil)
        c.training.reconstructionEpochs = 0
        #expect(configurationError { try c.validate() }?.contains("reconstruction_epochs must be") == true)
        let yaml = try ExperimentConfiguration(yaml: "task: inr-classification\nmodel: inr2array-nft\nzoo: z\nreconstruction_epochs: 7\n")
        #expect(yaml.training.reconstructionEpochs == 7)
        #expect(try ExperimentConfiguration(yaml: yaml.yaml).training.reconstructionEpochs == 7)
        #expect(INRClassificationExperiment.modelNames.contains("inr2array-nft"))
    }

    @Test func theInvarianceCheckReportsBothModelsInvariantToPermutations() throws {
        for name in INR2ArrayKind.allCases.map(\.rawValue) {
            let report = try INR2ArrayInvarianceRunner.run(name, trials: 2, seed: 1)
            #expect(report.invariance_max_rel_dev["hnp"]! < 1e-4 && report.invariance_max_rel_dev["np"]! < 1e-4, "\(report)")
            #expect(report.invariance_max_rel_dev["sign"]! > 1e-3)
            #expect(report.expected_invariant["np"] == true && report.expected_invariant["sign"] == false)
        }
    }
}
