import Foundation
import Testing
import _TestSupport
import Zoo
import Tensors
import TensorIO
import Autograd
import NeuralNetworks
import Datasets
import Training

@Suite struct ImportSmallCNNZooTests {
    let fake = FakeSmallCNNZoo.standard()
    let options = SmallCNNZooImporter.Options(data: ZooImportDataOptions(data: FakeSmallCNNZoo.data))

    @Test func importsWeightsMetricsAndHyperparameters() throws {
        let source = try fake.write()
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
        #expect(report.members == 2)
        #expect(report.checkpoints == 3)
        #expect(report.epochs == [0, 86])
        #expect(report.rows == 5 && balanced(report))
        #expect(report.skippedNonFinite == 2, "the NaN row of run-b and the ∞ row of run-c")
        #expect(report.skippedOther == 0)
        #expect(report.dataFingerprinted)
        #expect(report.format == "small-cnn-zoo" && report.family == .cnn)

        let zoo = try ZooReader(directory: out)
        #expect(zoo.manifest.source == ZooImportSource(format: "small-cnn-zoo", path: source.path, rows: 5,
                                                      skippedNonFinite: 2, skippedOther: 0))
        #expect(zoo.manifest.complete)
        #expect(zoo.spec.data.kind == .synthetic)
        #expect(zoo.spec.architecture.filters == 16)
        #expect(zoo.manifest.imageShape == [1, 28, 28] && zoo.manifest.classes == 10)
        #expect(zoo.checkpoints.map { [$0.member, $0.epoch] } == [[0, 0], [0, 86], [1, 86]])
        #expect(zoo.checkpoints.map(\.origin) == ["weights.npy row 0", "weights.npy row 2", "weights.npy row 3"])

        // Weights: the originals, back from TensorFlow's layout.
        let originals = [fake.rows[0].model, fake.rows[2].model, fake.rows[3].model]
        for (c, m) in zip(zoo.checkpoints, originals) {
            let values = try zoo.parameters(of: c)
            #expect(values == m.parameterValues(), "member \(c.member) epoch \(c.epoch)")
        }

        // Metrics and hyper-parameters.
        #expect(zoo.checkpoints.map(\.testAccuracy) == [fake.rows[0].testAccuracy, fake.rows[2].testAccuracy, fake.rows[3].testAccuracy])
        #expect(zoo.checkpoints.allSatisfy { $0.testLoss == 2.25 && $0.trainAccuracy == 0.5 && $0.trainLoss == 1.5 })
        let a = zoo.checkpoints[0].hyperparameters, b = zoo.checkpoints[2].hyperparameters
        #expect(a.activation == .relu && b.activation == .tanh)
        #expect(a.optimizer == .adam && b.optimizer == .sgd)
        #expect(a.learningRate == 0.003 && b.learningRate == 0.04)
        #expect(a.l2 == 1e-6 && b.l2 == 0.001)
        #expect(a.initializer == .heNormal && b.initializer == nil, "orthogonal has no counterpart")
        #expect(a.biasInitializer == .normal && b.biasInitializer == .zeros)
        #expect(a.initStd == 0.05 && a.dropout == 0.25 && a.trainFraction == 0.5)
        #expect(a.sourceConfig?["modeldir"] == "run,a")
        #expect(b.sourceConfig?["w_init"] == "orthogonal" && b.sourceConfig?["dataset"] == "synthetic")
        #expect(zoo.spec.space.activations == [.relu, .tanh])
        #expect(zoo.spec.space.learningRate == .choice([0.003, 0.04]))

        // The rebuilt networks compute the originals' functions.
        let images = Variable(FakeSmallCNNZoo.test.images)
        for (c, m) in zip(zoo.checkpoints, originals) {
            m.eval()
            let rebuilt = try zoo.model(for: c)
            let difference = rebuilt(images).value.maxAbsDifference(m(images).value)
            #expect(difference <= 1e-6)
        }

        // Metanetwork inputs and the summary see the imported zoo like any other.
        let batch = try zoo.features(zoo.checkpoints)
        #expect(batch.checkpoints.count == 3 && batch.skippedNonFinite == 0)
        let summary = ZooSummary(zoo)
        #expect(summary.source?.skippedNonFinite == 2)
        #expect(summary.text.contains("imported from small-cnn-zoo"))
    }

    @Test func verifyRecomputesRecordedAccuracies() throws {
        let source = try fake.write()
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
        let report = try ZooVerifier.verify(directory: out, options: .init(workers: 2))
        #expect(report.checkpointsChecked == 3)
        #expect(report.mismatches == 0)
        #expect(report.maxAbsAccuracyDiff < 1e-6)
    }

    @Test func verifyReportsAWrongAccuracy() throws {
        var wrong = fake
        wrong.rows[3].testAccuracy += 0.25
        let source = try wrong.write()
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
        let report = try ZooVerifier.verify(directory: out, options: .init(workers: 2))
        #expect(report.mismatches == 1)
        #expect(report.mismatchDetails.first?.member == 1 && report.mismatchDetails.first?.epoch == 86)
        #expect(abs(report.maxAbsAccuracyDiff - 0.25) < 1e-5)
    }

    @Test func stepLimitPlainCSVAndCRLF() throws {
        let source = try fake.write(metrics: fake.metricsCSV(crlf: true), gzip: false)
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        var o = options
        o.step = 86
        o.limit = 1
        let report = try SmallCNNZooImporter.importZoo(from: source, to: out, options: o)
        #expect(report.members == 1 && report.epochs == [86] && report.rows == 1, "rows of the members considered")
        let zoo = try ZooReader(directory: out)
        #expect(zoo.checkpoints.count == 1)
        #expect(zoo.checkpoints[0].hyperparameters.sourceConfig?["modeldir"] == "run,a")
        #expect(try zoo.parameters(of: zoo.checkpoints[0]) == fake.rows[2].model.parameterValues())
    }

    @Test func dataSetNamedByTheMetricsWithoutData() throws {
        // `config.dataset` = mnist and no --dataset-path: recorded as external, verify asks for the data.
        var mnist = fake
        for i in mnist.rows.indices { mnist.rows[i].config["dataset"] = "mnist" }
        let source = try mnist.write()
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try SmallCNNZooImporter.importZoo(from: source, to: out)
        #expect(!report.dataFingerprinted && report.dataset == "external:mnist")
        let zoo = try ZooReader(directory: out)
        #expect(zoo.spec.data == ZooDataSpec(kind: .external, name: "mnist"))
        #expect(zoo.manifest.dataFingerprint.isEmpty)
        #expect(throws: ZooError.self) { try ZooVerifier.verify(directory: out) }
        #expect(ZooDataSpec.imported(name: "mnist", path: "/d").kind == .idx)
        #expect(ZooDataSpec.imported(name: "fashion_mnist", path: nil).kind == .fashionMNIST)
        #expect(ZooDataSpec.imported(name: "cifar10", path: "/c").kind == .cifar10)
        #expect(ZooDataSpec.imported(name: "svhn_cropped", path: "/s").kind == .external)
    }

    @Test func unknownActivationIsACountedSkip() throws {
        var odd = fake
        odd.rows[3].activation = "elu"
        odd.rows[1].activation = "elu"
        let source = try odd.write()
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
        #expect(report.members == 1 && report.skippedOther == 2 && report.skippedNonFinite == 1)
        #expect(report.skipReasons == ["unknown activation 'elu'": 2])
        #expect(balanced(report))
    }

    // MARK: Bad input: an error naming the problem, and nothing written

    func expectFailure(_ source: URL, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        do {
            _ = try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
            Issue.record("the import succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(leftNothing(at: out), sourceLocation: sourceLocation)
    }

    @Test func truncatedWeights() throws {
        let source = try fake.write()
        let url = source.appendingPathComponent("weights.npy")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 100).write(to: url)
        expectFailure(source, "weights.npy")
    }

    @Test func integerWeights() throws {
        let source = try fake.write()
        let url = source.appendingPathComponent("weights.npy")
        var data = try Data(contentsOf: url)
        let range = data.range(of: Data("'<f4'".utf8))!
        data.replaceSubrange(range, with: Data("'<i4'".utf8))
        try data.write(to: url)
        expectFailure(source, "is not a floating-point type")
    }

    @Test func layoutMismatches() throws {
        let source = try fake.write()
        let url = source.appendingPathComponent("layout.csv")
        // A kernel whose shape does not chain.
        try Data(FakeSmallCNNZoo.layoutCSV.replacingOccurrences(of: "(3, 3, 16, 16)\"\nsequential/conv2d_2", with: "(3, 3, 16, 8)\"\nsequential/conv2d_2")
            .utf8).write(to: url)
        expectFailure(source, "layout.csv")
        // A gap between variables.
        try Data(FakeSmallCNNZoo.layoutCSV.replacingOccurrences(of: "sequential/conv2d_1/bias:0,160,176", with: "sequential/conv2d_1/bias:0,161,177")
            .utf8).write(to: url)
        expectFailure(source, "belong to no variable")
        // A layout for another width than weights.npy's rows.
        try Data(SmallCNNZooLayout.standard(filters: 8).csv.utf8).write(to: url)
        expectFailure(source, "does not match the layout")
        // No shape column.
        try Data("varname,start_idx,end_idx\nconv2d/bias:0,0,16\n".utf8).write(to: url)
        expectFailure(source, "missing column 'shape'")
    }

    @Test func metricsProblems() throws {
        expectFailure(try fake.write(metrics: fake.metricsCSV(dropping: "test_accuracy")), "missing column 'test_accuracy'")
        expectFailure(try fake.write(metrics: fake.metricsCSV(dropping: "modeldir")), "missing column 'modeldir'")
        var short = fake.metricsCSV().split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        expectFailure(try fake.write(metrics: short), "4 rows, but weights.npy has 5")
        short = fake.metricsCSV() + "5,relu,\"unterminated\n"
        expectFailure(try fake.write(metrics: short), "never closed")
        short = fake.metricsCSV() + "5,relu\n"
        expectFailure(try fake.write(metrics: short), "2 fields, but the header has 17")
        let source = try fake.write()
        try Data([0x1F, 0x8B, 0x08, 0x00, 0x01]).write(to: source.appendingPathComponent("metrics.csv.gz"))
        expectFailure(source, "metrics.csv.gz")
    }

    @Test func missingFilesAndEverythingSkipped() throws {
        let source = try fake.write()
        try FileManager.default.removeItem(at: source.appendingPathComponent("layout.csv"))
        expectFailure(source, "layout.csv: cannot import: no such file")
        var allNaN = fake
        for i in allNaN.rows.indices { allNaN.rows[i].nonFinite = true }
        expectFailure(try allNaN.write(), "nothing to import: 5 checkpoints, 5 with NaN/∞ weights")
        var o = options
        o.step = 7
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        #expect(throws: ZooError.self) { try SmallCNNZooImporter.importZoo(from: try fake.write(), to: out, options: o) }
        #expect(leftNothing(at: out))
    }

    @Test func refusesANonEmptyOutputAndGeneratingIntoAnImport() throws {
        let source = try fake.write()
        let out = makeTemporaryDirectory("imported")
        try Data("x".utf8).write(to: out.appendingPathComponent("keep.txt"))
        #expect(throws: ZooError.outputExists(file: out.path)) {
            try SmallCNNZooImporter.importZoo(from: source, to: out, options: options)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["keep.txt"])
        // An empty folder is fine; an imported zoo cannot be generated into.
        let empty = makeTemporaryDirectory("imported-empty")
        _ = try SmallCNNZooImporter.importZoo(from: source, to: empty, options: options)
        let spec = try ZooReader(directory: empty).spec
        #expect(throws: ZooError.self) { try ZooGenerator.generate(spec: spec, into: empty) }
    }

    @Test func layoutRoundTrip() throws {
        let layout = try SmallCNNZooLayout(csv: Data(FakeSmallCNNZoo.layoutCSV.utf8))
        #expect(layout == SmallCNNZooLayout.standard())
        #expect(layout.width == 4970 && layout.filters == 16 && layout.inputChannels == 1 && layout.classes == 10)
        #expect(layout.variables.map(\.start) == [0, 16, 160, 176, 2480, 2496, 4800, 4810])
        let m = FakeSmallCNNZoo.model(seed: 5, activation: .tanh)
        let row = FakeSmallCNNZoo.tensorFlowRow(m)
        #expect(try layout.row(from: m.parameterValues()) == row)
        #expect(row.withUnsafeBufferPointer { layout.parameters(fromRow: $0) } == m.parameterValues())
        #expect(try SmallCNNZooLayout(csv: Data(layout.csv.utf8)) == layout)
    }
}
