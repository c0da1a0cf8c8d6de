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
        let worst = try MemberBatchAgreement.largestGradientDifference(result, tapeModel: taped, images: images,
                                                                       labels: labels, indices: indices)
        // Measured: ≤ 4.8e-6 of the largest entry over the 4 cases (Float32 sums in another order,
        // the softmax through VectorExp).
        #expect(worst <= 2e-5, "largest relative gradient difference \(worst)")
    }

    /// Whole members of the zoo recipe (shared start, init_std on every layer, warm-up + cosine,
    /// sampled optimizers and dropout) against each trained on the tape.
    @Test func transformerMembersAgreeWithTheTapePath() throws {
        var spec = tinySpec(.transformer, members: 4)
        #expect(spec.effectiveEngine == .memberBatch)
        spec.training.epochs = 2
        spec.training.checkpointEpochs = [0, 1, 2]
        let (worstWeight, worstAccuracy) = try MemberBatchAgreement.differenceFromTape(spec: spec, members: Array(0..<4))
        // Measured over these 4 members: relative weight difference 2.1e-7, test-accuracy
        // difference 0 (64 test images).
        #expect(worstWeight <= 1e-4, "largest relative weight difference \(worstWeight)")
        #expect(worstAccuracy <= 2.0 / 64, "largest test-accuracy difference \(worstAccuracy)")
    }

    @Test func transformerZooBytesDoNotDependOnTheMemberBatch() throws {
        try MemberBatchAgreement.expectBytesIndependentOfTheBatch(tinySpec(.transformer, members: 4), ks: [1, 4], subset: [3, 1])
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
