import Foundation
import Testing
import Tensors
import NeuralNetworks
import Datasets
import Training
import LinearAlgebra

@Suite struct ClassifierTrainingTests {
    let train = SyntheticDigits.make(count: 600, seed: 1, pixelRange: .symmetric)
    let test = SyntheticDigits.make(count: 300, seed: 2, pixelRange: .symmetric)

    func run(seed: UInt64, optimizer: OptimizerKind = .adam, epochs: Int = 3) throws -> (ClassifierTrainingResult, [String: Tensor]) {
        var rng = SeededGenerator(seed: seed)
        let model = SmallCNN(rng: &rng)
        let config = ClassifierTrainingConfiguration(epochs: epochs, batchSize: 32, optimizer: optimizer,
                                                     learningRate: optimizer == .sgd ? 0.1 : 3e-3, seed: seed)
        let r = try ClassifierTraining.train(model, on: train, evaluatingOn: test, configuration: config)
        return (r, model.parameterValues())
    }

    @Test func learnsTheSyntheticDigits() throws {
        let (r, _) = try run(seed: 0, epochs: 6)
        let acc = try #require(r.final?.testAccuracy)
        #expect(acc > 0.8, "test accuracy \(acc)")
        #expect(!r.diverged)
        #expect(r.epochs.count == 6)
        #expect(r.epochs.last!.trainLoss < r.epochs.first!.trainLoss)
    }

    @Test(arguments: OptimizerKind.allCases)
    func everyOptimizerReducesTheLoss(_ kind: OptimizerKind) throws {
        let (r, _) = try run(seed: 3, optimizer: kind, epochs: 2)
        #expect(r.epochs[1].trainLoss < Float(log(10.0)), "\(kind): \(r.epochs.map(\.trainLoss))")
    }

    @Test func sameSeedSameResult() throws {
        // One BLAS thread for both runs: other suites running beside this one may change the
        // process-wide thread count between them, and a product can round differently with it.
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let (a, pa) = try run(seed: 7, epochs: 1)
        let (b, pb) = try run(seed: 7, epochs: 1)
        #expect(pa == pb)
        #expect(a.final?.testAccuracy == b.final?.testAccuracy)
        let (_, pc) = try run(seed: 8, epochs: 1)
        #expect(pa != pc)
    }

    @Test func divergenceIsReportedNotCrashed() throws {
        var rng = SeededGenerator(seed: 0)
        let model = SmallCNN(rng: &rng)
        let config = ClassifierTrainingConfiguration(epochs: 2, batchSize: 32, optimizer: .sgd, learningRate: 1e8)
        let r = try ClassifierTraining.train(model, on: train, configuration: config)
        #expect(r.diverged)
    }

    @Test func invalidConfigurationThrows() {
        var rng = SeededGenerator(seed: 0)
        let model = SmallCNN(rng: &rng)
        #expect(throws: TrainingError.self) {
            try ClassifierTraining.train(model, on: train, configuration: .init(batchSize: 0))
        }
        #expect(throws: TrainingError.self) {
            try ClassifierTraining.train(model, on: train, configuration: .init(learningRate: -1))
        }
    }

    @Test func tooFewOutputsForTheClassesThrows() {
        var rng = SeededGenerator(seed: 0)
        let model = SmallCNN(.init(classes: 5), rng: &rng)
        #expect(throws: TrainingError.self) { try ClassifierTraining.train(model, on: train, configuration: .init()) }
    }

    @Test func earlyStopFromCallback() throws {
        var rng = SeededGenerator(seed: 0)
        let model = SmallCNN(rng: &rng)
        let r = try ClassifierTraining.train(model, on: train, configuration: .init(epochs: 5, batchSize: 64)) { m in m.epoch < 2 }
        #expect(r.epochs.count == 2)
    }
}
