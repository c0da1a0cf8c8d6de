import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import Datasets
@testable import Zoo
import _TestSupport

/// The channels-last CNN member batch against the tape: one step's gradients on the same
/// parameters and mini-batch, whole training runs, independence of the batch, and the engine
/// recorded in the spec.
@Suite struct CNNMemberBatchTests {
    /// A Small CNN with `activation` and `dropout`, random non-zero biases.
    func network(_ activation: Activation, dropout: Float, seed: UInt64) -> SmallCNN {
        var rng = SeededGenerator(seed: seed)
        return SmallCNN(.init(filters: 6, activation: activation, dropout: dropout, initializer: .glorotUniform,
                              biasInitializer: .uniform(low: -0.2, high: 0.2)), rng: &rng)
    }

    /// One step's loss, accuracy and gradients through the batch equal the tape's on the same
    /// parameters and images (including the dropout masks, drawn from the same generator) to Float32
    /// reassociation. The tape's gradients are the finite-difference-checked ones.
    @Test(arguments: [Activation.relu, .tanh, .sine, .identity], [Float(0), 0.3])
    func oneStepEqualsTheTape(activation: Activation, dropout: Float) throws {
        var rng = SeededGenerator(seed: 11)
        let images = Tensor.normal([12, 1, 17, 19], rng: &rng)
        let labels = (0..<12).map { _ in Int(rng.next() % 10) }
        let data = try LabeledImageDataset(name: "cnn-step", images: images, labels: labels, classCount: 10, pixelRange: .symmetric)
        let batched = network(activation, dropout: dropout, seed: 5), taped = network(activation, dropout: dropout, seed: 5)
        let batch = try CNNMemberBatch(members: [batched], imageShape: [1, 17, 19], capacity: 12)
        let indices = ArraySlice([3, 0, 7, 1, 11, 5, 9])
        let result = batch.step([MemberBatchWork(member: 0, dataset: data, indices: indices)])[0]
        let worst = try MemberBatchAgreement.largestGradientDifference(result, tapeModel: taped, images: images,
                                                                       labels: labels, indices: indices)
        // Measured: ≤ 3.9e-7 of the largest entry over the 8 cases (Float32 sums in another order).
        #expect(worst <= 1e-5, "largest relative gradient difference \(worst)")
    }

    /// Whole members: hyper-parameters sampled from the CNN space (ReLU and tanh, dropout, four
    /// optimizers, training fractions) through two epochs, against each member trained on the tape.
    @Test func cnnMembersAgreeWithTheTapePath() throws {
        var spec = tinySpec(.cnn, members: 8)
        spec.training.checkpointEpochs = [0, 1, 2]
        let members = Array(0..<8)
        let hyperparameters = members.map { ZooMemberTrainer.hyperparameters(spec: spec, member: $0) }
        #expect(Set(hyperparameters.compactMap(\.optimizer)).count >= 3)
        #expect(Set(hyperparameters.compactMap(\.activation)).count == 2)
        #expect(hyperparameters.contains { ($0.dropout ?? 0) > 0 })
        let (worstWeight, worstAccuracy) = try MemberBatchAgreement.differenceFromTape(spec: spec, members: members)
        // Measured over these 8 members, 2 epochs of 32-image steps: relative weight difference
        // 2.4e-6, test-accuracy difference 0 (128 test images).
        #expect(worstWeight <= 1e-4, "largest relative weight difference \(worstWeight)")
        #expect(worstAccuracy <= 2.0 / 128, "largest test-accuracy difference \(worstAccuracy)")
    }

    @Test func cnnZooBytesDoNotDependOnTheMemberBatch() throws {
        let spec = tinySpec(.cnn, members: 5)
        #expect(spec.effectiveEngine == .memberBatch)
        try MemberBatchAgreement.expectBytesIndependentOfTheBatch(spec, ks: [1, 2, 5], subset: [4, 1])
    }

    @Test func aDivergingCNNDoesNotChangeTheOthers() throws {
        var spec = tinySpec(.cnn, members: 8)
        spec.space.optimizers = [.sgd]
        spec.space.learningRate = .logUniform(low: 1e-3, high: 1e6)   // some members diverge
        let (batched, diverged, _) = try MemberBatchAgreement.trainWithSomeDiverging(spec, data: try spec.data.load())
        for member in diverged {
            #expect(batched[member].checkpoints.allSatisfy { $0.diverged && $0.testAccuracy == nil })
        }
    }

    /// CNN zoos written before engines were recorded read as the tape engine, resume only with
    /// it, and say so.
    @Test func theEngineIsPartOfTheSpec() throws {
        var old = tinySpec(.cnn, members: 2)
        old.engine = nil
        #expect(old.effectiveEngine == .tape)
        #expect(tinySpec(.mlp).effectiveEngine == .memberBatch)
        let dir = makeTemporaryDirectory("cnn-engine")
        _ = try ZooGenerator.generate(spec: old, into: dir, options: .init(workers: 1))
        let current = tinySpec(.cnn, members: 2)
        #expect(current.differences(from: old) == ["engine"])
        do {
            _ = try ZooGenerator.generate(spec: current, into: dir, options: .init(workers: 1))
            Issue.record("a zoo of the tape engine was resumed with the member batch")
        } catch let error as ZooError {
            #expect("\(error)".contains("--engine tape"), "\(error)")
        }
        var pinned = current
        pinned.engine = .tape
        #expect(try ZooGenerator.generate(spec: pinned, into: dir, options: .init(workers: 1)).complete)
    }
}
