import Foundation
import Testing
import _TestSupport
import Zoo
import Tensors
import TensorIO
import Autograd
import NeuralNetworks

@Suite struct ImportPyTorchTests {
    /// A folder with the two fixture checkpoints, a `best` checkpoint, and a pickled module posing
    /// as a checkpoint.
    func checkpointFolder(extras: Bool = true) throws -> URL {
        let dir = makeTemporaryDirectory("pytorch")
        for f in [ImportFixtures.run1Epoch75, ImportFixtures.run2Epoch75] {
            try f.bytes.write(to: dir.appendingPathComponent(f.file))
        }
        if extras {
            try ImportFixtures.run1Epoch75.bytes.write(to: dir.appendingPathComponent("run1_best1_9999.pt"))
            try ImportFixtures.pickledModule.bytes.write(to: dir.appendingPathComponent("run3_75_1000.pt"))
            try Data("not a checkpoint".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        }
        return dir
    }

    var inputs: Variable { Variable(Tensor(shape: [2, 1, 8, 8], scalars: ImportFixtures.inputs)) }

    @Test func importedTransformersComputePyTorchsLogits() throws {
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try PyTorchZooImporter.importZoo(from: try checkpointFolder(), to: out)
        #expect(report.members == 2 && report.checkpoints == 2 && report.epochs == [75])
        #expect(report.rows == 4 && report.skippedNonFinite == 0 && report.skippedOther == 2 && balanced(report))
        #expect(report.skipReasons["best checkpoint (no epoch)"] == 1)
        #expect(report.skipReasons.keys.contains { $0.contains("unreadable checkpoint") && $0.contains("torch.nn.modules.linear") },
                "\(report.skipReasons)")

        let zoo = try ZooReader(directory: out)
        let config = try #require(zoo.spec.architecture.transformer)
        #expect(config.modelDimension == 8 && config.heads == 2 && config.keyDimension == 4 && config.valueDimension == 4)
        #expect(config.feedForwardDimension == 16 && config.blockCount == 2 && config.patchSize == 4 && config.imageSize == 8)
        #expect(zoo.manifest.imageShape == [1, 8, 8] && zoo.manifest.classes == 10)
        #expect(zoo.checkpoints.map(\.origin) == ["run1_75_5678.pt", "run2_75_4321.pt"])
        #expect(zoo.checkpoints.map(\.testAccuracy) == [0.5678, 0.4321])
        #expect(zoo.checkpoints.allSatisfy { $0.hyperparameters == MemberHyperparameters(optimizer: nil, learningRate: nil) })

        for (c, expected) in zip(zoo.checkpoints, [ImportFixtures.run1Epoch75Logits, ImportFixtures.run2Epoch75Logits]) {
            let model = try zoo.model(for: c)
            let x = inputs
            let logits = model(x).value
            let reference = Tensor(shape: [2, 10], scalars: expected)
            #expect(logits.maxAbsDifference(reference) < 1e-5, "\(c.origin ?? "")")
            #expect(logits.maxAbsDifference(Tensor(zeros: [2, 10])) > 0.1, "non-trivial logits")
        }
        let batch = try zoo.transformerFeatures(zoo.checkpoints)
        #expect(batch.checkpoints.count == 2)
        // The data is unknown: verify says so instead of guessing.
        #expect(zoo.spec.data.kind == .external && !report.dataFingerprinted)
    }

    @Test func mappingMatchesTheDocumentedTable() throws {
        let checkpoint = try PyTorchCheckpoint(data: ImportFixtures.run1Epoch75.bytes)
        let sd = checkpoint.tensors
        let (config, p) = try SmallTransformerStateDict.parameters(from: sd, heads: 2)
        #expect(config.imageSize == 8 && config.classes == 10)
        // query: Linear weight [h·Dk, D] → [h, D, Dk]; head i is rows i·Dk ..< (i+1)·Dk.
        let q = try #require(sd["encoder.1.attention.queries.weight"]), ours = try #require(p["blocks.1.attention.query"])
        #expect(ours.shape == [2, 8, 4])
        for h in 0..<2 { for d in 0..<8 { for k in 0..<4 { #expect(ours[h, d, k] == q[h * 4 + k, d]) } } }
        // output: [D, h·Dv] → [h, Dv, D].
        let o = try #require(sd["encoder.0.attention.out_projection.weight"]), oo = try #require(p["blocks.0.attention.output"])
        #expect(oo.shape == [2, 4, 8])
        for h in 0..<2 { for v in 0..<4 { for d in 0..<8 { #expect(oo[h, v, d] == o[d, h * 4 + v]) } } }
        #expect(p["classifierOutput.weight"] == sd["classifier.fc2.weight"])
        #expect(p["blocks.0.feedForwardIn.bias"] == sd["encoder.0.fc1.bias"])
        #expect(p.count == 2 + 2 * 8 + 4, "no positional encoding among the parameters")

        // A prefix is detected; other tensors and wrong encodings are refused.
        let prefixed = Dictionary(uniqueKeysWithValues: sd.map { ("module." + $0.key, $0.value) })
        #expect(try SmallTransformerStateDict.parameters(from: prefixed, heads: 2).parameters == p)
        var extra = sd
        extra["encoder.0.norm1.weight"] = Tensor(ones: [8])
        #expect(throws: ZooError.self) { try SmallTransformerStateDict.parameters(from: extra, heads: 2) }
        var shifted = sd
        shifted["embedding.pos_embedding"] = sd["embedding.pos_embedding"]! + 0.5
        #expect(throws: ZooError.self) { try SmallTransformerStateDict.parameters(from: shifted, heads: 2) }
        #expect(throws: ZooError.self) { try SmallTransformerStateDict.parameters(from: sd, heads: 3) }
    }

    @Test func metricsFileGivesHyperparametersAndOverridesNames() throws {
        let dir = try checkpointFolder(extras: false)
        let metrics = dir.deletingLastPathComponent().appendingPathComponent("mnist-\(UUID().uuidString).csv")
        // The released zoo's metadata columns (wandb config + ckpt_* + accuracy).
        try Data("""
            seed,epochs,optimizer,lr,w_init_std,l2_regularize,dataset,train_fraction,n_attention_heads,dropout,ckpt_epoch,ckpt_file,test_top1_accuracy
            3,100,sgd_momentum,0.01,0.2,1e-06,mnist,0.9,2,0.1,75,mnist/run1_75_5678.pt,0.5678
            3,100,rmsprop,"0.003",0.3,0.0001,mnist,1.0,2,0.0,75,mnist/run2_75_4321.pt,0.4321

            """.utf8).write(to: metrics)
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let report = try PyTorchZooImporter.importZoo(from: dir, to: out, options: .init(metrics: metrics))
        #expect(report.members == 2 && report.skippedOther == 0)
        let zoo = try ZooReader(directory: out)
        let a = zoo.checkpoints[0].hyperparameters, b = zoo.checkpoints[1].hyperparameters
        #expect(a.optimizer == .momentum && b.optimizer == .rmsprop)
        #expect(a.learningRate == 0.01 && b.learningRate == 0.003)
        #expect(a.initStd == 0.2 && a.l2 == 1e-6 && a.trainFraction == 0.9 && a.dropout == 0.1)
        #expect(a.sourceConfig?["seed"] == "3" && a.sourceConfig?["ckpt_file"] == nil && a.sourceConfig?["test_top1_accuracy"] == nil)
        #expect(zoo.spec.data == ZooDataSpec(kind: .external, name: "mnist"))
        #expect(zoo.spec.space.optimizers == [.momentum, .rmsprop])
        #expect(throws: ZooError.self) { try ZooVerifier.verify(directory: out) }

        // JSON keyed by file name; the metrics' epoch wins over the name's.
        let json = dir.deletingLastPathComponent().appendingPathComponent("m-\(UUID().uuidString).json")
        try Data(#"{"run1_75_5678.pt": {"epoch": 74, "test_accuracy": 0.5}, "run2_75_4321": 0.25}"#.utf8).write(to: json)
        let out2 = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        let r2 = try PyTorchZooImporter.importZoo(from: dir, to: out2, options: .init(metrics: json))
        #expect(r2.epochs == [74, 75])
        let z2 = try ZooReader(directory: out2)
        #expect(z2.checkpoints.map(\.testAccuracy) == [0.5, 0.25])
    }

    @Test func strictModeAndNothingToImport() throws {
        let out = makeTemporaryDirectory("imported").appendingPathComponent("zoo")
        #expect(throws: ZooError.self) {
            try PyTorchZooImporter.importZoo(from: try checkpointFolder(), to: out, options: .init(strict: true))
        }
        #expect(leftNothing(at: out))
        // Three heads do not divide the 8-wide projections: every file is skipped, so nothing is written.
        do {
            _ = try PyTorchZooImporter.importZoo(from: try checkpointFolder(), to: out, options: .init(heads: 3))
            Issue.record("imported with 3 heads")
        } catch {
            #expect("\(error)".contains("nothing to import"), "\(error)")
        }
        #expect(leftNothing(at: out))
        let empty = makeTemporaryDirectory("no-checkpoints")
        #expect(throws: ZooError.self) { try PyTorchZooImporter.importZoo(from: empty, to: out) }
        // A truncated checkpoint is a counted skip.
        let dir = try checkpointFolder(extras: false)
        let url = dir.appendingPathComponent(ImportFixtures.run2Epoch75.file)
        try ImportFixtures.run2Epoch75.bytes.prefix(5000).write(to: url)
        let r = try PyTorchZooImporter.importZoo(from: dir, to: out)
        #expect(r.members == 1 && r.skippedOther == 1)
    }

    @Test func zooFileNames() {
        #expect(PyTorchZooImporter.parseZooFileName("a1b2_75_9812")! == ("a1b2", 75, false, 0.9812))
        #expect(PyTorchZooImporter.parseZooFileName("run_x_best1_9000")! == ("run_x", nil, true, 0.9))
        #expect(PyTorchZooImporter.parseZooFileName("model") == nil)
        #expect(PyTorchZooImporter.parseZooFileName("a_b_c") == nil)
    }
}
