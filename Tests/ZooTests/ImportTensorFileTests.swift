import Foundation
import Testing
import _TestSupport
import Zoo
import Tensors
import TensorIO
import Autograd
import NeuralNetworks

@Suite struct ImportTensorFileTests {
    /// The fake Small CNN Zoo, imported.
    func importedCNNZoo() throws -> URL {
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        _ = try SmallCNNZooImporter.importZoo(from: try FakeSmallCNNZoo.standard().write(), to: out,
                                              options: .init(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        return out
    }

    @Test func exportThenImportRoundTrips() throws {
        let original = try ZooReader(directory: try importedCNNZoo())
        let dir = makeTemporaryDirectory("export")
        let st = dir.appendingPathComponent("cnn.safetensors"), csv = dir.appendingPathComponent("cnn.csv")
        _ = try original.export(safetensors: st, csv: csv)
        let out = dir.appendingPathComponent("zoo")
        let report = try TensorFileZooImporter.importZoo(
            from: st, format: .safetensors, to: out,
            options: .init(family: .cnn, metrics: csv, data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        #expect(report.members == 2 && report.checkpoints == 3 && report.epochs == [0, 86] && report.skippedOther == 0)
        let copy = try ZooReader(directory: out)
        #expect(copy.checkpoints.map { [$0.member, $0.epoch] } == original.checkpoints.map { [$0.member, $0.epoch] })
        #expect(try copy.parameters(of: copy.checkpoints) == original.parameters(of: original.checkpoints))
        #expect(copy.checkpoints.map(\.testAccuracy) == original.checkpoints.map(\.testAccuracy))
        for (a, b) in zip(copy.checkpoints, original.checkpoints) {
            var typed = a.hyperparameters
            typed.sourceConfig = nil
            var expected = b.hyperparameters
            expected.sourceConfig = nil
            #expect(typed == expected)
        }
        #expect(copy.manifest.dataFingerprint == original.manifest.dataFingerprint)
        #expect(try ZooVerifier.verify(directory: out, options: .init(workers: 2)).mismatches == 0)
    }

    @Test func stackedNpzOfMLPs() throws {
        let dir = makeTemporaryDirectory("npz")
        let npz = dir.appendingPathComponent(ImportFixtures.stackedMLP.file)
        try ImportFixtures.stackedMLP.bytes.write(to: npz)
        let out = dir.appendingPathComponent("zoo")
        let report = try TensorFileZooImporter.importZoo(from: npz, format: .npz, to: out,
                                                         options: .init(family: .mlp, activation: .tanh))
        #expect(report.members == 2 && report.skippedNonFinite == 1 && report.rows == 3 && balanced(report))
        let zoo = try ZooReader(directory: out)
        #expect(zoo.spec.architecture.hiddenWidths == [3])
        #expect(zoo.manifest.imageShape == [1, 1, 4] && zoo.manifest.classes == 2)
        #expect(zoo.checkpoints.map(\.origin) == ["mlp.npz row 0", "mlp.npz row 2"])
        #expect(zoo.checkpoints.allSatisfy { $0.hyperparameters.activation == .tanh && $0.epoch == 0 })
        let archive = try NumpyArchive(contentsOf: npz)
        for (c, row) in zip(zoo.checkpoints, [0, 2]) {
            let values = try zoo.parameters(of: c)
            for name in archive.names { #expect(values[name] == (try archive[name]!.row(row)), "\(name)") }
        }
        // Without an activation the MLPs cannot be rebuilt: nothing is imported.
        let out2 = dir.appendingPathComponent("zoo2")
        #expect(throws: ZooError.self) {
            try TensorFileZooImporter.importZoo(from: npz, format: .npz, to: out2, options: .init(family: .mlp))
        }
        #expect(leftNothing(at: out2))
        // The wrong family is an error naming the missing tensor.
        do {
            _ = try TensorFileZooImporter.importZoo(from: npz, format: .npz, to: out2, options: .init(family: .cnn, activation: .relu))
            Issue.record("imported MLP weights as a cnn zoo")
        } catch {
            #expect("\(error)".contains("conv1.weight"), "\(error)")
        }
        #expect(leftNothing(at: out2))
    }

    @Test func folderOfSafetensorsFiles() throws {
        let dir = makeTemporaryDirectory("st-folder")
        let models = [FakeSmallCNNZoo.model(seed: 1, activation: .relu), FakeSmallCNNZoo.model(seed: 2, activation: .tanh)]
        try SafetensorsFile(tensors: models[0].parameterValues()).write(to: dir.appendingPathComponent("a.safetensors"))
        try SafetensorsFile(tensors: models[1].parameterValues()).write(to: dir.appendingPathComponent("b.safetensors"))
        var bad = models[0].parameterValues()
        bad["classifier.weight"] = Tensor(zeros: [5, 16])
        try SafetensorsFile(tensors: bad).write(to: dir.appendingPathComponent("c.safetensors"))
        var nan = models[1].parameterValues()
        nan["conv2.bias"] = Tensor(repeating: .nan, shape: [16])
        try SafetensorsFile(tensors: nan).write(to: dir.appendingPathComponent("d.safetensors"))
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("e.safetensors"))
        let metrics = makeTemporaryDirectory("metrics").appendingPathComponent("m.json")
        try Data("""
            [{"file": "a.safetensors", "activation": "relu", "test_accuracy": 0.5, "epoch": 3},
             {"file": "b.safetensors", "activation": "tanh", "test_accuracy": 0.25, "epoch": 3, "optimizer": "adam"},
             {"file": "c.safetensors", "activation": "relu"}, {"file": "d.safetensors", "activation": "tanh"}]
            """.utf8).write(to: metrics)
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try TensorFileZooImporter.importZoo(
            from: dir, format: .safetensors, to: out,
            options: .init(family: .cnn, metrics: metrics, data: ZooImportDataOptions(data: FakeSmallCNNZoo.data)))
        #expect(report.members == 2 && report.skippedNonFinite == 1 && report.skippedOther == 2, "\(report.skipReasons)")
        #expect(report.skipReasons["architecture differs from the first checkpoint's"] == 1)
        #expect(balanced(report))
        let zoo = try ZooReader(directory: out)
        #expect(zoo.checkpoints.map(\.origin) == ["a.safetensors", "b.safetensors"])
        #expect(zoo.checkpoints.map(\.epoch) == [3, 3])
        #expect(zoo.checkpoints.map(\.testAccuracy) == [0.5, 0.25])
        #expect(zoo.checkpoints[1].hyperparameters.optimizer == .adam)
        let images = Variable(FakeSmallCNNZoo.test.images.reshaped([128, 1, 28, 28]))
        for (c, m) in zip(zoo.checkpoints, models) {
            let rebuilt = try zoo.model(for: c)
            let difference = rebuilt(images).value.maxAbsDifference(m(images).value)
            #expect(difference <= 1e-6)
        }
    }
}
