import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Experiments
import Training
import LinearAlgebra

/// A small non-equivariant predictor over flattened weights, enough to exercise the trainer.
final class FlatProbe: Module {
    let hidden: Dense, output: Dense
    init(inputs: Int, rng: inout SeededGenerator) {
        hidden = Dense(inputs, 16, rng: &rng)
        output = Dense(16, 1, rng: &rng)
        super.init()
    }
    func callAsFunction(_ x: Variable) -> Variable { output(hidden(x).relu()) }
}

struct SyntheticGeneralizationData {
    let features: WeightSpaceFeatures
    let targets: [Float]
    init(count: Int, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let models = (0..<count).map { _ in MLP(widths: [3, 4, 2], rng: &rng) }
        let f = try WeightSpaceFeatures(models: models)
        // A target the weights determine: a squashed mean of the first layer.
        targets = (0..<count).map { i in
            let m = f.weights[0].slice(axis: 0, i..<(i + 1)).mean()
            return 1 / (1 + exp(-4 * m))
        }
        features = f
    }
}

@Suite(.serialized) struct MetanetworkTrainerTests {
    struct Interrupted: Error {}

    func makeRun(_ data: SyntheticGeneralizationData, checkpoint: URL?, stopAfter: Int? = nil,
                 warmupCosine: MetanetworkTrainingConfiguration.WarmupCosine? = nil) throws
        -> (GeneralizationMetrics, MetanetworkTrainingHistory, [String: Tensor]) {
        var rng = SeededGenerator(seed: 5)
        let flat = data.features.flattened
        let model = FlatProbe(inputs: flat.shape[1], rng: &rng)
        let split = try DataSplit(count: data.targets.count, seed: 1)
        var config = MetanetworkTrainingConfiguration(epochs: 8, batchSize: 8, learningRate: 3e-3, patience: 0, seed: 2)
        config.warmupCosine = warmupCosine
        func logits(_ idx: [Int], _ tape: Tape?) -> Variable {
            let x = flat.gathering(idx, alongAxis: 0)
            return model(tape?.constant(x) ?? Variable(x))
        }
        func predict(_ idx: [Int]) -> [Double] { logits(idx, nil).value.sigmoid().scalars.map(Double.init) }
        let history = try MetanetworkTrainer.train(
            model: model, memberCount: split.train.count, configuration: config, checkpoint: checkpoint,
            loss: { batch, tape in
                let members = batch.map { split.train[$0] }
                let z = logits(members, tape)
                return Variable.binaryCrossEntropyWithLogits(logits: z, targets: Tensor(shape: z.shape, scalars: members.map { data.targets[$0] }))
            },
            validate: { Metrics.kendallTauB(predict(split.validation), split.validation.map { Double(data.targets[$0]) }) },
            progress: { e in if let s = stopAfter, e.epoch == s { throw Interrupted() } })
        let metrics = GeneralizationMetrics(predicted: predict(split.test), actual: split.test.map { Double(data.targets[$0]) })
        return (metrics, history, model.parameterValues())
    }

    @Test func learnsAndIsDeterministic() throws {
        // One BLAS thread: suites running beside this one may change the process-wide count
        // between the runs compared, and a product can round differently with it.
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let data = try SyntheticGeneralizationData(count: 60, seed: 3)
        let (m1, h1, w1) = try makeRun(data, checkpoint: nil)
        let (m2, _, w2) = try makeRun(data, checkpoint: nil)
        #expect(w1 == w2)
        #expect(m1 == m2)
        #expect(h1.epochs.count == 8)
        #expect(h1.epochs.last!.trainLoss < h1.epochs.first!.trainLoss)
    }

    @Test func resumeAfterInterruptionReproducesTheUninterruptedRun() throws {
        // One BLAS thread: suites running beside this one may change the process-wide count
        // between the runs compared, and a product can round differently with it.
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let data = try SyntheticGeneralizationData(count: 60, seed: 4)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-resume-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (reference, referenceHistory, referenceWeights) = try makeRun(data, checkpoint: dir.appendingPathComponent("a.safetensors"))
        let ckpt = dir.appendingPathComponent("b.safetensors")
        // Interrupted right after epoch 3's checkpoint.
        #expect(throws: Interrupted.self) { _ = try makeRun(data, checkpoint: ckpt, stopAfter: 3) }
        let (resumed, resumedHistory, resumedWeights) = try makeRun(data, checkpoint: ckpt)
        #expect(resumedHistory.resumedFromEpoch == 3)
        #expect(resumedWeights == referenceWeights)
        #expect(resumed == reference)
        var h = resumedHistory
        h.resumedFromEpoch = nil
        #expect(h.epochs.map(\.trainLoss) == referenceHistory.epochs.map(\.trainLoss))
    }

    @Test func warmupCosineScheduleChangesTrainingAndResumesOnItsCurve() throws {
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let data = try SyntheticGeneralizationData(count: 60, seed: 4)
        let schedule = MetanetworkTrainingConfiguration.WarmupCosine(warmupEpochs: 2, finalFraction: 0.01)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-schedule-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, _, constant) = try makeRun(data, checkpoint: nil)
        let (_, _, scheduled) = try makeRun(data, checkpoint: nil, warmupCosine: schedule)
        #expect(constant != scheduled)
        let ckpt = dir.appendingPathComponent("s.safetensors")
        #expect(throws: Interrupted.self) { _ = try makeRun(data, checkpoint: ckpt, stopAfter: 3, warmupCosine: schedule) }
        let (_, _, resumed) = try makeRun(data, checkpoint: ckpt, warmupCosine: schedule)
        #expect(resumed == scheduled)
        // The rate at the first step is 10% of the base, at the end the final fraction.
        let s = schedule.schedule(learningRate: 1, epochs: 8, stepsPerEpoch: 5)
        #expect(abs(s.learningRate(at: 0) - 0.1) < 1e-6 && abs(s.learningRate(at: 40) - 0.01) < 1e-6)
        var bad = MetanetworkTrainingConfiguration(epochs: 4)
        bad.warmupCosine = .init(warmupEpochs: 5)
        #expect(throws: TrainingError.self) { try bad.validate() }
        bad.warmupCosine = .init(warmupEpochs: 1, finalFraction: .nan)
        #expect(throws: TrainingError.self) { try bad.validate() }
    }

    @Test func checkpointFromAnotherConfigurationIsRefused() throws {
        let data = try SyntheticGeneralizationData(count: 60, seed: 4)
        let other = try SyntheticGeneralizationData(count: 50, seed: 4)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-refuse-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("c.safetensors")
        _ = try makeRun(data, checkpoint: ckpt)
        #expect(throws: (any Error).self) { _ = try makeRun(other, checkpoint: ckpt) }
    }

    @Test func splitIsSeededAndDisjoint() throws {
        let a = try DataSplit(count: 100, seed: 9), b = try DataSplit(count: 100, seed: 9)
        #expect(a == b)
        #expect(Set(a.train + a.validation + a.test) == Set(0..<100))
        #expect(a.train.count == 70 && a.validation.count == 15 && a.test.count == 15)
        #expect(throws: TrainingError.self) { try DataSplit(count: 3, seed: 0) }
    }

    @Test func groupedSplitKeepsEveryMemberInOnePart() throws {
        // Three checkpoints per member, members interleaved as a multi-epoch zoo lists them.
        let groups = (0..<3).flatMap { _ in Array(0..<40) }
        let s = try DataSplit(groups: groups, trainFraction: 0.6, validationFraction: 0.2, seed: 4)
        #expect(Set(s.train + s.validation + s.test) == Set(0..<groups.count))
        #expect(s.train.count + s.validation.count + s.test.count == groups.count)
        let parts = [s.train, s.validation, s.test].map { Set($0.map { groups[$0] }) }
        #expect(parts[0].isDisjoint(with: parts[1]) && parts[0].isDisjoint(with: parts[2]) && parts[1].isDisjoint(with: parts[2]))
        #expect(parts.map(\.count) == [24, 8, 8])
        // Distinct groups reproduce the plain split exactly (old runs keep their splits).
        #expect(try DataSplit(groups: Array(0..<50), seed: 3) == DataSplit(count: 50, seed: 3))
        #expect(throws: TrainingError.self) { try DataSplit(groups: [1, 1, 1, 2, 2, 2], seed: 0) }
    }

    @Test func logitOffsetStartsPredictionsAtTheMeanAccuracy() {
        let offset = GeneralizationPrediction.logitOffset([0.2, 0.3, 0.25])
        #expect(abs(1 / (1 + exp(-Double(offset))) - 0.25) < 1e-6)
        #expect(GeneralizationPrediction.logitOffset([]) == 0)
        #expect(GeneralizationPrediction.logitOffset([1, 1]).isFinite)   // clamped, not +∞
    }

    @Test func robustnessAugmentationPreservesPermutationInvariantStatistics() throws {
        let data = try SyntheticGeneralizationData(count: 6, seed: 7)
        let relu = [Activation](repeating: .relu, count: data.features.batchSize)
        let moved = try Robustness.augment(data.features, with: .permutation, activations: relu, seed: 1).features
        #expect(moved.layerStatistics().isApproximatelyEqual(to: data.features.layerStatistics(), rtol: 1e-5, atol: 1e-6))
        #expect(moved != data.features)
        let scaled = try Robustness.augment(data.features, with: .scaling(low: 1, high: 10), activations: relu, seed: 1).features
        #expect(!scaled.layerStatistics().isApproximatelyEqual(to: data.features.layerStatistics(), rtol: 1e-3, atol: 1e-4))
    }
}
