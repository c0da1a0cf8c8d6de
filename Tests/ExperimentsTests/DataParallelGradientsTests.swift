import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Training
import LinearAlgebra
@testable import Experiments

/// Data-parallel steps: the same bits for every thread count, the whole batch's gradient up to
/// rounding, and the trainer's runs unchanged by `threads`.
@Suite struct DataParallelGradientsTests {
    /// A 20-member MLP zoo as generalization data (targets from the weights).
    static func data() throws -> FeedforwardGeneralization.Data {
        let d = try SyntheticGeneralizationData(count: 20, seed: 11)
        return FeedforwardGeneralization.Data(name: "synthetic", features: d.features,
                                              architecture: try .mlp(widths: [3, 4, 2]), targets: d.targets,
                                              skipped: 0, members: Array(0..<20), epochs: [1])
    }

    /// The largest |a − b| over every parameter, relative to the largest |b|.
    static func relativeDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Float {
        var diff: Float = 0, scale: Float = 0
        for (path, g) in b {
            guard let h = a[path] else { return .infinity }
            diff = max(diff, (h - g).abs().max())
            scale = max(scale, g.abs().max())
        }
        return a.count == b.count ? diff / max(scale, 1e-30) : .infinity
    }

    @Test(arguments: MetanetworkKind.allCases)
    func sameBitsOnAnyThreadCountAndTheWholeBatchGradient(kind: MetanetworkKind) throws {
        let data = try Self.data()
        let model = try FeedforwardGeneralization.makeModel(name: kind.rawValue, data: data, trainingItems: Array(0..<20),
                                                            size: .small, seed: 3)
        let module = FeedforwardGeneralization.module(of: model)
        let batch = [4, 17, 0, 9, 12, 3, 5, 19, 8, 1, 14, 6, 2, 11, 15, 7, 10, 13]   // 18: chunks of 8, 8, 2
        func loss(_ items: [Int], _ tape: Tape) throws -> Variable {
            try FeedforwardGeneralization.loss(of: model, data: data, items: items, tape: tape)
        }
        let one = try DataParallelGradients.lossAndGradients(model: module, batch: batch, threads: 1, loss: loss)
        for threads in [2, 3] {
            let many = try DataParallelGradients.lossAndGradients(model: module, batch: batch, threads: threads, loss: loss)
            #expect(many.loss == one.loss)
            #expect(many.gradients == one.gradients, "\(kind) on \(threads) threads")
        }
        // The whole batch on one tape: the same gradient up to the order of the sums.
        let whole = try SingleThreadedBLAS.run { try module.lossAndGradients { tape in try loss(batch, tape) } }
        let reference = Dictionary(uniqueKeysWithValues: module.namedParameters().compactMap { p in
            whole.gradients.contains(p.parameter) ? (p.path, whole.gradients[p.parameter]) : nil })
        #expect(abs(one.loss - whole.loss) <= 1e-5 * max(1, abs(whole.loss)))
        let difference = Self.relativeDifference(one.gradients, reference)
        #expect(difference <= 1e-4, "\(kind): relative gradient difference \(difference)")
    }

    @Test func dropoutModelsRunTheirChunksInOrder() throws {
        let data = try Self.data()
        func make() throws -> NFNPredictor {
            var rng = SeededGenerator(seed: 8)
            return try NFNPredictor(kind: .hnp, architecture: data.architecture, hiddenChannels: [4, 4],
                                    headHidden: 8, featureDropout: 0.3, headDropout: 0.2, rng: &rng)
        }
        let batch = Array(0..<20)
        var results: [[String: Tensor]] = []
        for threads in [1, 2] {
            let model = try make()
            #expect(model.drawsRandomNumbersInTraining)
            // Two steps: the second step's masks depend on how many the first one drew.
            for _ in 0..<2 {
                let step = try DataParallelGradients.lossAndGradients(model: model, batch: batch, threads: threads) { items, tape in
                    let y = model(WeightSpaceVariables(data.features.gathering(members: items), tape: tape))
                    return Variable.meanSquaredError(y, Tensor(shape: y.shape, scalars: items.map { data.targets[$0] }))
                }
                results.append(step.gradients)
            }
        }
        #expect(results[0] == results[2] && results[1] == results[3])
        #expect(results[0] != results[1])
        var rng = SeededGenerator(seed: 8)
        let plain = try NFNPredictor(kind: .hnp, architecture: data.architecture, hiddenChannels: [4, 4], headHidden: 8, rng: &rng)
        #expect(!plain.drawsRandomNumbersInTraining)
    }

    struct ChunkFailure: Error, Equatable { let first: Int }

    @Test func theLowestFailingChunkIsReported() throws {
        let model = Module()
        let batch = Array(0..<40)   // five chunks; chunks 2 and 4 fail
        for threads in [1, 2, 4] {
            #expect(throws: ChunkFailure(first: 16)) {
                _ = try DataParallelGradients.lossAndGradients(model: model, batch: batch, threads: threads) { items, tape in
                    if items[0] == 16 || items[0] == 32 { throw ChunkFailure(first: items[0]) }
                    return tape.constant(Tensor(shape: [1], scalars: [Float(items.count)]))
                }
            }
        }
    }

    @Test func trainingRunsAreTheSameOnOneAndOnThreeThreads() throws {
        let data = try Self.data()
        let split = try FeedforwardGeneralization.split(data, seed: 4)
        var weights: [[String: Tensor]] = []
        var histories: [[Double]] = []
        for threads in [1, 3] {
            let config = MetanetworkTrainingConfiguration(epochs: 3, batchSize: 10, learningRate: 3e-3, patience: 0, seed: 6,
                                                          threads: threads)
            let trained = try FeedforwardGeneralization.train(model: "hnp", data: data, split: split, configuration: config,
                                                              size: .small)
            weights.append(FeedforwardGeneralization.module(of: trained.model).parameterValues())
            histories.append(trained.history.epochs.map(\.trainLoss))
        }
        #expect(weights[0] == weights[1])
        #expect(histories[0] == histories[1])
        // Threads do not change the configuration a run is identified by.
        #expect(MetanetworkTrainingConfiguration(threads: 1) == MetanetworkTrainingConfiguration(threads: 4))
        #expect(throws: TrainingError.self) { try MetanetworkTrainingConfiguration(threads: 0).validate() }
    }
}
