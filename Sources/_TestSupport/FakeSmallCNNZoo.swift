import Foundation
import Tensors
import TensorIO
import Autograd
import NeuralNetworks
import Datasets
import Training
import Zoo

/// A fake released Small CNN Zoo folder built from known SmallCNN models.
///
/// The TensorFlow layout is written here independently of `SmallCNNZooLayout` (the loops below and
/// the literal `layout.csv` with the real names and offsets of the released zoo, bias before kernel
/// in each layer: `[0,16) b1 | [16,160) K1 | … | [4810,4970) K4`), so the import is checked against
/// a second implementation of the conversion.
public struct FakeSmallCNNZoo {
    public struct Row {
        public var modeldir: String
        public var step: Int
        public var model: SmallCNN
        public var activation: String
        public var config: [String: String]
        public var testAccuracy: Float
        public var nonFinite = false
    }

    /// The data every fake member is evaluated on (`nfn zoo import --dataset synthetic` gives the same).
    public static let data = ZooDataSpec(kind: .synthetic)
    public static let test: LabeledImageDataset = try! data.load().test

    /// The released `layout.csv`: bias before kernel, TensorFlow names, a pandas-style `size` column.
    public static let layoutCSV = """
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
    public static func model(seed: UInt64, activation: Activation, dropout: Float = 0) -> SmallCNN {
        var rng = SeededGenerator(seed: seed)
        return SmallCNN(SmallCNN.Configuration(activation: activation, dropout: dropout, biasInitializer: .normal(std: 0.1)), rng: &rng)
    }

    /// Our evaluation of `model` on the synthetic test set.
    public static func accuracy(_ model: SmallCNN) -> Float {
        ClassifierTraining.evaluate(model, on: test, batchSize: 1000).accuracy
    }

    /// The row of `model` in TensorFlow's layout: per layer the bias, then the kernel
    /// `(kh, kw, in, out)` (convolutions) or `(in, out)` (dense).
    public static func tensorFlowRow(_ model: SmallCNN) -> [Float] {
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

    public var rows: [Row]

    /// A folder with three runs: `run,a` (relu, steps 0 and 86, a quoted name), `run-b` (tanh,
    /// steps 40 with NaN weights and 86), `run-c` (relu, step 86 with an ∞ weight).
    public static func standard() -> FakeSmallCNNZoo {
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

    public static let configNames = ["activation", "b_init", "dataset", "dropout", "init_std", "l2reg", "learning_rate", "optimizer",
                              "train_fraction", "w_init"]

    /// `metrics.csv` text: a pandas index column, `config.*`, `modeldir` (RFC 4180-quoted when it
    /// has a comma), `step`, the metrics; CRLF line ends when `crlf`.
    public func metricsCSV(dropping: String? = nil, crlf: Bool = false) -> String {
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
    public func weights() -> Tensor {
        var flat: [Float] = []
        for r in rows {
            var row = FakeSmallCNNZoo.tensorFlowRow(r.model)
            if r.nonFinite { row[3000] = r.step == 40 ? .nan : .infinity }
            flat += row
        }
        return Tensor(shape: [rows.count, 4970], scalars: flat)
    }

    /// Writes the three files into a fresh folder.
    public func write(metrics: String? = nil, gzip: Bool = true) throws -> URL {
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
public func balanced(_ r: ZooImportReport) -> Bool {
    r.rows == r.checkpoints + r.skippedNonFinite + r.skippedOther
}

/// Whether `output` and any staging folder next to it are absent.
public func leftNothing(at output: URL) -> Bool {
    let parent = output.deletingLastPathComponent()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
    return !FileManager.default.fileExists(atPath: output.path)
        && !names.contains { $0.hasPrefix(".nfn-tmp-") && $0.hasSuffix(output.lastPathComponent) }
}
