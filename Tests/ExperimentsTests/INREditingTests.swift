import Foundation
import Testing
import _TestSupport
import SwiftNFN

@Suite(.serialized) struct INREditingTests {
    @Test func renderedZooMembersReproduceTheirFittedImages() throws {
        let zoo = try SIRENZooData.load(zoo: try INRZooFixture.zoo())
        let images = try zoo.fittedImages()
        let rendered = SIRENRenderer.images(WeightSpaceVariables(zoo.features), height: 28, width: 28,
                                            frequency: zoo.frequency).value
        for i in 0..<zoo.count {
            let d = rendered[i] - images[i]
            let mse = (d * d).mean()
            let recorded = zoo.fitMSE[i]
            #expect(abs(mse - recorded) <= 1e-4 + 1e-3 * recorded, "member \(i): rendered MSE \(mse) vs recorded \(recorded)")
        }
        // The transposed grid does not reproduce them (the convention matters).
        let transposed = Tensor(shape: [28 * 28, 2]) { flat in
            let p = flat / 2
            let idx = flat % 2 == 0 ? p / 28 : p % 28
            return -1 + 2 * Float(idx) / 27
        }
        let wrong = SIRENRenderer.render(WeightSpaceVariables(zoo.features.member(0)), coordinates: transposed,
                                         frequency: zoo.frequency).value.reshaped([28, 28])
        let d = wrong - images[0]
        #expect((d * d).mean() > 4 * zoo.fitMSE[0])
    }

    @Test func equivariantEditorLearnsToDilate() throws {
        let data = try INREditingExperiment.load(zoo: try INRZooFixture.zoo(), edit: .dilate)
        let split = try DataSplit(count: data.count, trainFraction: 0.6, validationFraction: 0.15, seed: 1)
        let config = MetanetworkTrainingConfiguration(epochs: 8, batchSize: 12, learningRate: 3e-3, patience: 0, seed: 2)
        let trained = try INREditingExperiment.train(model: "hnp", data: data, split: split, configuration: config, size: .small)
        let result = try INREditingExperiment.result(of: trained, data: data, split: split, configuration: config, size: .small)
        let mse = try #require(result.metrics["mse"]), reference = try #require(result.metrics["no_edit_mse"])
        print("INR editing (hnp, small, dilate): test MSE \(mse), no-edit \(reference), permuted \(result.robustness)")
        #expect(result.task == "inr-editing" && result.configuration["edit"] == "dilate")
        #expect(mse < 0.9 * reference, "edited \(mse) vs unedited \(reference)")
        // Equivariant: permuting the test SIRENs' hidden neurons does not change the edited images.
        let permuted = try #require(result.robustness["permutation"])
        #expect(abs(permuted - mse) <= 1e-4 * mse)
        let editor = trained.model
        let svg = INREditingExperiment.gallerySVG(model: editor, data: data, indices: Array(split.test.prefix(3)))
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<rect").count > 4 * 3 * 784)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("inr-gallery-\(UUID().uuidString).svg")
        try INREditingExperiment.writeGallery(model: editor, data: data, indices: [split.test[0]], to: url)
        #expect(FileManager.default.fileExists(atPath: url.path))
        try? FileManager.default.removeItem(at: url)
        // Evaluate rebuilds the same numbers from the trained model.
        #expect(INREditingExperiment.evaluate(model: editor, data: data, indices: split.test)["mse"] == mse)
    }

    @Test(arguments: ["np", "nft", "mlp"])
    func everyEditorTrains(_ name: String) throws {
        let data = try INREditingExperiment.load(zoo: try INRZooFixture.zoo(), edit: .contrast)
        let split = try DataSplit(count: data.count, seed: 3)
        let config = MetanetworkTrainingConfiguration(epochs: 1, batchSize: 16, seed: 4)
        let result = try INREditingExperiment.run(model: name, data: data, split: split, configuration: config, size: .small)
        #expect(result.metrics["mse"]?.isFinite == true && result.parameters > 0)
        let rebuilt = try INREditingExperiment.makeModel(name: name, data: data, size: .small, seed: config.seed)
        #expect(rebuilt.parameterCount == result.parameters)
    }

    @Test func nonSIRENZoosAndUnknownEditorsAreErrors() throws {
        let mlp = try INRZooFixture.mlpZoo.get()
        let error = #expect(throws: ExperimentError.self) { try INREditingExperiment.load(zoo: mlp, edit: .dilate) }
        if case .incompatibleZoo(let m)? = error {
            #expect(m.contains("SIREN"), "\(m)")
        } else {
            Issue.record("expected incompatibleZoo, got \(String(describing: error))")
        }
        let data = try INREditingExperiment.load(zoo: try INRZooFixture.zoo(), edit: .erode)
        #expect(throws: ExperimentError.self) { try INREditingExperiment.makeModel(name: "statnn", data: data, seed: 0) }
    }
}
