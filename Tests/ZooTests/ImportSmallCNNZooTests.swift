import Foundation
import Testing
import Zoo
import Tensors
import TensorIO
import Autograd
import NeuralNetworks
import Datasets
import Training

/// A fake released Small CNN Zoo folder built from known SmallCNN models.
///
/// The TensorFlow layout is written here independently of `SmallCNNZooLayout` (the loops below and
/// the literal `layout.csv` with the real names and offsets of the released zoo, bias before kernel
/// in each layer: `[0,16) b1 | [16,160) K1 | … | [4810,4970) K4`), so the import is checked against
/// a second implementation of the conversion.
struct FakeSmallCNNZoo {
    struct Row {
        var modeldir: String
        var step: Int
        var model: SmallCNN
        var activation: String
        var config: [String: String]
        var testAccuracy: Float
        var nonFinite = false
    }

    /// The data every fake member is evaluated on (`nfn zoo import --dataset synthetic` gives the same).
    static let data = ZooDataSpec(kind: .synthetic)
    static let test: LabeledImageDataset = try! data.load().test

    /// The released `layout.csv`: bias before kernel, TensorFlow names, a pandas-style `size` column.
    static let layoutCSV = """
        varname,start_idx,end_idx,size,shape
        sequential/conv2d/bias:0,0,16,16,"(16,)"
        sequential/conv2d/kernel:0,16,160,144,"(3, 3, 1, 16)"
        sequential/conv2d_1/bias:0,160,176,16,"(16,)"
        sequential/conv2d_1/kernel:0,176,2480,2304,"(3, 3, 16, 16)"
        sequential/conv2d_2/bias:0,2480,2496,16,"(16,)"
        sequential/conv2d_2/kernel:0,2496,4800,2304,"(3, 3, 16, 16)"
        sequential/dense/bias:0,4800,4810,10,"(10,)"
        sequential/dense/kernel:0,4810,4970,160,"(16, 10)"

        """

    /// A SmallCNN with `activation` and seed-dependent weights.
    static func model(seed: UInt64, activation: Activation, dropout: Float = 0) -> SmallCNN {
        var rng = SeededGenerator(seed: seed)
        return SmallCNN(SmallCNN.Configuration(activation: activation, dropout: dropout, biasInitializer: .normal(std: 0.1)), rng: &rng)
    }

    /// Our evaluation of `model` on the synthetic test set.
    static func accuracy(_ model: SmallCNN) -> Float {
        ClassifierTraining.evaluate(model, on: test, batchSize: 1000).accuracy
    }

    /// The row of `model` in TensorFlow's layout: per layer the bias, then the kernel
    /// `(kh, kw, in, out)` (convolutions) or `(in, out)` (dense).
    static func tensorFlowRow(_ model: SmallCNN) -> [Float] {
        var row: [Float] = []
        for conv in [model.conv1, model.conv2, model.conv3] {
            row += conv.bias!.value.scalars
            let w = conv.weight.value   // [out, in, kh, kw]
            for a in 0..<3 { for b in 0..<3 { for c in 0..<w.shape[1] { for o in 0..<w.shape[0] { row.append(w[o, c, a, b]) } } } }
        }
        row += model.classifier.bias!.value.scalars
        let d = model.classifier.weight.value   // [out, in]
        for i in 0..<d.shape[1] { for o in 0..<d.shape[0] { row.append(d[o, i]) } }
        return row
    }

    var rows: [Row]

    /// A folder with three runs: `run,a` (relu, steps 0 and 86, a quoted name), `run-b` (tanh,
    /// steps 40 with NaN weights and 86), `run-c` (relu, step 86 with an ∞ weight).
    static func standard() -> FakeSmallCNNZoo {
        let a0 = model(seed: 11, activation: .relu, dropout: 0.25), a86 = model(seed: 12, activation: .relu, dropout: 0.25)
        let b40 = model(seed: 21, activation: .tanh), b86 = model(seed: 22, activation: .tanh)
        let c86 = model(seed: 31, activation: .relu)
        let configA = ["b_init": "RandomNormal", "dataset": "synthetic", "dropout": "0.25", "init_std": "0.05", "l2reg": "1e-06",
                       "learning_rate": "0.003", "optimizer": "adam", "train_fraction": "0.5", "w_init": "he_normal"]
        let configB = ["b_init": "zeros", "dataset": "synthetic", "dropout": "0.0", "init_std": "0.2", "l2reg": "0.001",
                       "learning_rate": "0.04", "optimizer": "sgd", "train_fraction": "1.0", "w_init": "orthogonal"]
        return FakeSmallCNNZoo(rows: [
            Row(modeldir: "run,a", step: 0, model: a0, activation: "relu", config: configA, testAccuracy: accuracy(a0)),
            Row(modeldir: "run-b", step: 40, model: b40, activation: "tanh", config: configB, testAccuracy: .nan, nonFinite: true),
            Row(modeldir: "run,a", step: 86, model: a86, activation: "relu", config: configA, testAccuracy: accuracy(a86)),
            Row(modeldir: "run-b", step: 86, model: b86, activation: "tanh", config: configB, testAccuracy: accuracy(b86)),
            Row(modeldir: "run-c", step: 86, model: c86, activation: "relu", config: configA, testAccuracy: accuracy(c86), nonFinite: true),
        ])
    }

    static let configNames = ["activation", "b_init", "dataset", "dropout", "init_std", "l2reg", "learning_rate", "optimizer",
                              "train_fraction", "w_init"]

    /// `metrics.csv` text: a pandas index column, `config.*`, `modeldir` (RFC 4180-quoted when it
    /// has a comma), `step`, the metrics; CRLF line ends when `crlf`.
    func metricsCSV(dropping: String? = nil, crlf: Bool = false) -> String {
        var header = [""] + FakeSmallCNNZoo.configNames.map { "config." + $0 } + ["modeldir", "step", "test_accuracy", "test_loss",
                                                                               "train_accuracy", "train_loss"]
        let drop = dropping.flatMap { header.firstIndex(of: $0) }
        if let d = drop { header.remove(at: d) }
        var lines = [header.joined(separator: ",")]
        for (i, r) in rows.enumerated() {
            var cells = ["\(i)"] + FakeSmallCNNZoo.configNames.map { $0 == "activation" ? r.activation : r.config[$0]! }
            cells += [r.modeldir.contains(",") ? "\"\(r.modeldir)\"" : r.modeldir, "\(r.step)",
                      r.testAccuracy.isNaN ? "nan" : "\(r.testAccuracy)", "2.25", "0.5", "1.5"]
            if let d = drop { cells.remove(at: d) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: crlf ? "\r\n" : "\n") + (crlf ? "\r\n" : "\n")
    }

    /// The weight rows, NaN/∞ planted where asked.
    func weights() -> Tensor {
        var flat: [Float] = []
        for r in rows {
            var row = FakeSmallCNNZoo.tensorFlowRow(r.model)
            if r.nonFinite { row[3000] = r.step == 40 ? .nan : .infinity }
            flat += row
        }
        return Tensor(shape: [rows.count, 4970], scalars: flat)
    }

    /// Writes the three files into a fresh folder.
    func write(metrics: String? = nil, gzip: Bool = true) throws -> URL {
        let dir = makeTemporaryDirectory("small-cnn-zoo")
        try NumpyArray.write(weights(), to: dir.appendingPathComponent("weights.npy"))
        let text = Data((metrics ?? metricsCSV()).utf8)
        if gzip {
            try Gzip.compress(text).write(to: dir.appendingPathComponent("metrics.csv.gz"))
        } else {
            try text.write(to: dir.appendingPathComponent("metrics.csv"))
        }
        try Data(FakeSmallCNNZoo.layoutCSV.utf8).write(to: dir.appendingPathComponent("layout.csv"))
        return dir
    }
}

/// Every considered checkpoint is written or counted as skipped.
func balanced(_ r: ZooImportReport) -> Bool {
    r.rows == r.checkpoints + r.skippedNonFinite + r.skippedOther
}

/// Whether `output` and any staging folder next to it are absent.
func leftNothing(at output: URL) -> Bool {
    let parent = output.deletingLastPathComponent()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
    return !FileManager.default.fileExists(atPath: output.path)
        && !names.contains { $0.hasPrefix(".nfn-tmp-") && $0.hasSuffix(output.lastPathComponent) }
}

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
