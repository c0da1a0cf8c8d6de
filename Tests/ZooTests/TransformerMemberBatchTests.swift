import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import Datasets
@testable import Zoo
import _TestSupport

/// The transformer member batch against the tape: one step's gradients on the same parameters
/// and mini-batch, whole training runs, and independence of the batch.
@Suite struct TransformerMemberBatchTests {
    func configuration(dropout: Float, zooSized: Bool = false) -> SmallTransformer.Configuration {
        var c = SmallTransformer.Configuration()
        c.dropout = dropout
        if zooSized { return c }
        c.imageSize = 12; c.patchSize = 4
        c.modelDimension = 8; c.heads = 2; c.keyDimension = 4; c.valueDimension = 3
        c.feedForwardDimension = 10; c.blockCount = 2; c.classes = 5
        c.dropout = dropout
        return c
    }

    /// Loss, accuracy and every parameter's gradient of one step equal the tape's (whose
    /// gradients are the finite-difference-checked ones), dropout masks included.
    @Test(arguments: [Float(0), 0.25], [false, true]) func transformerStepEqualsTheTape(dropout: Float, zooSized: Bool) throws {
        var rng = SeededGenerator(seed: 21)
        let c = configuration(dropout: dropout, zooSized: zooSized)
        let side = c.imageSize
        let images = Tensor.normal([10, 1, side, side], rng: &rng)
        let labels = (0..<10).map { _ in Int(rng.next() % UInt64(c.classes)) }
        let data = try LabeledImageDataset(name: "transformer-step", images: images, labels: labels, classCount: c.classes, pixelRange: .symmetric)
        var r1 = SeededGenerator(seed: 3), r2 = SeededGenerator(seed: 3)
        let batched = SmallTransformer(c, initStandardDeviation: 0.4, initializeEveryLayer: true, rng: &r1)
        let taped = SmallTransformer(c, initStandardDeviation: 0.4, initializeEveryLayer: true, rng: &r2)
        // Non-zero biases, so their gradients and their part in the forward pass are checked.
        for (a, b) in zip(batched.namedParameters(), taped.namedParameters()) where a.parameter.shape.count == 1 {
            let v = Tensor.normal(a.parameter.shape, rng: &rng) * 0.1
            a.parameter.value = v; b.parameter.value = v
        }
        let batch = try TransformerMemberBatch(members: [batched], imageShape: [1, side, side], capacity: 10)
        let indices = ArraySlice([4, 0, 9, 2, 7, 1])
        let result = batch.step([MemberBatchWork(member: 0, dataset: data, indices: indices)])[0]

        taped.train()
        let batchImages = Tensor.concatenate(indices.map { images.slice(axis: 0, $0..<($0 + 1)) })
        let batchLabels = indices.map { labels[$0] }
        var logits: Tensor? = nil
        let (loss, gradients) = taped.lossAndGradients { tape in
            let z = taped(tape.constant(batchImages))
            logits = z.value
            return Loss.softmaxCrossEntropy(z, labels: batchLabels)
        }
        #expect(abs(result.loss - loss) <= 1e-5 * max(1, abs(loss)), "loss \(result.loss) vs \(loss)")
        let predicted = try #require(logits).argmax(alongAxis: 1)
        #expect(result.correct == zip(predicted, batchLabels).filter { $0 == $1 }.count)
        let named = taped.namedParameters()
        #expect(Set(result.gradients.keys) == Set(named.map(\.path)))
        for (path, parameter) in named {
            let expected = gradients[parameter]
            let got = try #require(result.gradients[path])
            #expect(got.shape == expected.shape, "\(path)")
            let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-3)
            let worst = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
            // Measured: ≤ 4.8e-6 of the largest entry over the 4 cases (Float32 sums in another order,
            // the softmax through VectorExp).
            #expect(worst <= 2e-5 * scale, "\(path): largest difference \(worst) of \(scale)")
        }
    }

    /// Whole members of the zoo recipe (shared start, init_std on every layer, warm-up + cosine,
    /// sampled optimizers and dropout) against each trained on the tape.
    @Test func transformerMembersAgreeWithTheTapePath() throws {
        var spec = tinySpec(.transformer, members: 4)
        #expect(spec.effectiveEngine == .memberBatch)
        spec.training.epochs = 2
        spec.training.checkpointEpochs = [0, 1, 2]
        let data = try spec.data.load()
        let members = Array(0..<4)
        let batched = try ZooMemberTrainer.train(members: members, spec: spec, data: data)
        var worstWeight: Float = 0, worstAccuracy: Float = 0
        for member in members {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(batched[member].checkpoints.map(\.epoch) == alone.checkpoints.map(\.epoch))
            #expect(batched[member].diverged == alone.diverged)
            for (name, x) in alone.tensors {
                let y = try #require(batched[member].tensors[name])
                let scale = max(x.scalars.map(abs).max() ?? 0, 1)
                worstWeight = max(worstWeight, (zip(x.scalars, y.scalars).map { abs($0 - $1) }.max() ?? 0) / scale)
            }
            for (c, d) in zip(batched[member].checkpoints, alone.checkpoints) {
                worstAccuracy = max(worstAccuracy, abs((c.testAccuracy ?? 0) - (d.testAccuracy ?? 0)))
            }
        }
        // Measured over these 4 members: relative weight difference 2.1e-7, test-accuracy
        // difference 0 (64 test images).
        #expect(worstWeight <= 1e-4, "largest relative weight difference \(worstWeight)")
        #expect(worstAccuracy <= 2.0 / 64, "largest test-accuracy difference \(worstAccuracy)")
    }

    @Test func transformerZooBytesDoNotDependOnTheMemberBatch() throws {
        let spec = tinySpec(.transformer, members: 4)
        var folders: [[String: Data]] = []
        for k in [1, 4] {
            let dir = makeTemporaryDirectory("transformer-k\(k)")
            _ = try ZooGenerator.generate(spec: spec, into: dir, options: .init(workers: 2, memberBatch: k))
            folders.append(try contents(of: dir).filter { !$0.key.hasPrefix(".") })
        }
        #expect(folders[0] == folders[1])
        let data = try spec.data.load()
        let together = try ZooMemberTrainer.train(members: Array(0..<4), spec: spec, data: data)
        let other = try ZooMemberTrainer.train(members: [3, 1], spec: spec, data: data)
        #expect(together[3].checkpoints == other[0].checkpoints && together[3].tensors == other[0].tensors)
        #expect(together[1].tensors == other[1].tensors)
    }

    /// Networks other than the zoo's are refused with a message, not trained wrongly.
    @Test func aTransformerWithSkipsIsRefused() throws {
        var c = configuration(dropout: 0)
        c.residual = true
        var rng = SeededGenerator(seed: 1)
        #expect(throws: ZooError.self) {
            try TransformerMemberBatch(members: [SmallTransformer(c, rng: &rng)], imageShape: [1, 12, 12], capacity: 4)
        }
    }

    /// A mini-batch whose buffers would not fit in memory is refused with the bytes it needs,
    /// before anything is allocated (a full-batch transformer on a huge data set).
    @Test func aMemberBatchTooLargeForMemoryIsRefused() throws {
        var rng = SeededGenerator(seed: 2)
        let network = SmallTransformer(SmallTransformer.Configuration(), rng: &rng)
        do {
            _ = try TransformerMemberBatch(members: [network], imageShape: [1, 28, 28], capacity: 50_000_000)
            Issue.record("a 50-million-image transformer batch was accepted")
        } catch let error as ZooError {
            #expect("\(error)".contains("GB"), "\(error)")
        }
        let cnn = SmallCNN(rng: &rng)
        #expect(throws: ZooError.self) {
            try CNNMemberBatch(members: [cnn], imageShape: [1, 28, 28], capacity: 50_000_000)
        }
    }
}
