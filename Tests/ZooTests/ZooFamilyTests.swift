import Foundation
import Testing
import _TestSupport
import Tensors
import NeuralNetworks
import Datasets
import WeightSpace
import Zoo

@Suite struct ZooFamilyTests {
    @Test func mlpZoo() throws {
        let dir = makeTemporaryDirectory("mlp")
        let report = try ZooGenerator.generate(spec: tinySpec(.mlp, members: 3), into: dir, options: .init(workers: 2))
        #expect(report.complete && report.present == 3)
        let reader = try ZooReader(directory: dir)
        let batch = try reader.features(reader.checkpoints(epoch: 2), filter: ZooCheckpointFilter(skipDiverged: false))
        #expect(batch.features.widths == [784, 16, 10])
        // The architecture comes from the member's model, not from tensor shapes.
        #expect(batch.architecture.family == .mlp && batch.architecture.widths == [784, 16, 10])
        if let activation = batch.checkpoints[0].hyperparameters.activation { #expect(batch.architecture.activation == activation) }
        #expect(try reader.parameterShapes().keys.sorted() == ["mlp.layers.0.bias", "mlp.layers.0.weight", "mlp.layers.1.bias", "mlp.layers.1.weight"])
        let v = try ZooVerifier.verify(directory: dir)
        #expect(v.mismatches == 0 && v.maxAbsAccuracyDiff <= 0.001)
    }

    @Test func cnnFeaturesCarryTheirModelsArchitecture() throws {
        let reader = try ZooReader(directory: referenceZoo)
        let batch = try reader.features(reader.checkpoints(epoch: 2))
        // Stride and padding are not visible in the weights; they come from the member's SmallCNN.
        #expect(batch.architecture.family == .cnn)
        #expect(batch.architecture.layers[0] == .conv2d(kernel: [3, 3], stride: [2, 2], padding: [0, 0]))
        #expect(batch.architecture.layers.last == .dense)
        #expect(batch.architecture.widths == batch.features.widths)
    }

    @Test func transformerZoo() throws {
        let dir = makeTemporaryDirectory("transformer")
        let report = try ZooGenerator.generate(spec: tinySpec(.transformer, members: 2), into: dir, options: .init(workers: 2))
        #expect(report.complete)
        let reader = try ZooReader(directory: dir)
        let batch = try reader.transformerFeatures(reader.checkpoints(epoch: 1), filter: ZooCheckpointFilter(skipDiverged: false))
        #expect(batch.features.batchSize == 2)
        #expect(batch.features.blocks.count == 2)
        #expect(batch.features.blocks[0].query.shape == [2, 1, 2, 32, 16])
        // The template's configuration: the spec's shape with member 0's sampled dropout.
        var shape = batch.configuration
        shape.dropout = 0
        #expect(shape == reader.spec.architecture.transformer ?? SmallTransformer.Configuration())
        let model = try #require(try reader.model(for: batch.checkpoints[1]) as? SmallTransformer)
        #expect(try TransformerWeightSpaceFeatures.batched([TransformerWeightSpaceFeatures(model: model)]).allTensors
                == batch.features.allTensors.map { $0.slice(axis: 0, 1..<2) })
        #expect(throws: ZooError.self) { try reader.features(reader.checkpoints) }
        let v = try ZooVerifier.verify(directory: dir)
        #expect(v.mismatches == 0 && v.checkpointsChecked == 4)
    }

    @Test func sirenZooFitsOneImagePerMember() throws {
        let dir = makeTemporaryDirectory("siren")
        let spec = tinySpec(.siren, members: 3)
        let report = try ZooGenerator.generate(spec: spec, into: dir, options: .init(workers: 2))
        #expect(report.complete && report.metric == "mse")
        let reader = try ZooReader(directory: dir)
        let images = try spec.data.load().train
        for c in reader.checkpoints {
            #expect(c.imageIndex == c.member)
            #expect(c.label == images.labels[c.member])
            #expect(c.testAccuracy == nil && c.trainLoss != nil)
        }
        // The fit improves on the initialisation.
        for member in reader.memberIDs {
            let cs = reader.checkpoints(member: member)
            #expect(try #require(cs[1].trainLoss) < #require(cs[0].trainLoss), "\(cs.map(\.trainLoss))")
        }
        let batch = try reader.features(reader.checkpoints(epoch: 30))
        #expect(batch.features.widths == [2, 16, 16, 1])
        let summary = ZooSummary(reader)
        #expect(summary.mse?.count == 3 && summary.testAccuracy == nil)
        let v = try ZooVerifier.verify(directory: dir)
        #expect(v.mismatches == 0 && v.metric == "mse" && v.checkpointsChecked == 6)

        var tooMany = spec
        tooMany.members = 300
        #expect(throws: ZooError.self) { try ZooGenerator.generate(spec: tooMany, into: makeTemporaryDirectory("x")) }
    }

    @Test func sharedInitializationStartsEveryMemberFromTheSameWeights() throws {
        func initialAndFitted(shared: Bool?) throws -> (initial: [Tensor], fitted: [Tensor]) {
            var spec = tinySpec(.siren, members: 3)
            spec.training.sharedInitialization = shared
            let dir = makeTemporaryDirectory("siren-shared")
            _ = try ZooGenerator.generate(spec: spec, into: dir, options: .init(workers: 2))
            let reader = try ZooReader(directory: dir)
            func weights(_ epoch: Int) throws -> [Tensor] {
                let f = try reader.features(reader.checkpoints(epoch: epoch)).features
                return (0..<3).map { f.member($0).weights[1] }
            }
            return (try weights(0), try weights(30))
        }
        let shared = try initialAndFitted(shared: true)
        #expect(shared.initial[0] == shared.initial[1] && shared.initial[1] == shared.initial[2])
        #expect(shared.fitted[0] != shared.fitted[1], "different images must give different fits")
        let own = try initialAndFitted(shared: nil)
        #expect(own.initial[0] != own.initial[1])
        // Specs written before the key existed still read (as "not shared"), and the key round-trips.
        var spec = tinySpec(.siren)
        spec.training.sharedInitialization = true
        let json = try JSONEncoder().encode(spec)
        #expect(String(decoding: json, as: UTF8.self).contains("\"shared_initialization\":true"))
        #expect(try JSONDecoder().decode(ZooSpec.self, from: json) == spec)
        spec.training.sharedInitialization = nil
        let old = try JSONEncoder().encode(spec)
        #expect(!String(decoding: old, as: UTF8.self).contains("shared_initialization"))
        #expect(try JSONDecoder().decode(ZooSpec.self, from: old).training.sharedInitialization == nil)
    }

    @Test func divergedMembersAreRecordedAndFiltered() throws {
        var spec = tinySpec(members: 3)
        spec.space.optimizers = [.sgd]
        spec.space.learningRate = .fixed(1e6)
        spec.space.activations = [.relu]
        spec.space.initializers = [.heNormal]
        let dir = makeTemporaryDirectory("diverge")
        let report = try ZooGenerator.generate(spec: spec, into: dir)
        #expect(report.diverged >= 1 && report.complete)
        let reader = try ZooReader(directory: dir)
        #expect(reader.checkpoints.count == 6, "every member keeps one line per checkpoint epoch")
        let diverged = reader.checkpoints.filter(\.diverged)
        #expect(!diverged.isEmpty)
        #expect(diverged.allSatisfy { $0.testAccuracy == nil && $0.trainLoss == nil && $0.testLoss == nil })
        #expect(ZooSummary(reader).diverged == Set(diverged.map(\.member)).count)
        if diverged.count < reader.checkpoints.count {
            let batch = try reader.features(reader.checkpoints)
            #expect(batch.skippedDiverged == diverged.count)
            #expect(batch.checkpoints.allSatisfy { !$0.diverged })
        } else {
            #expect(throws: ZooError.self) { try reader.features(reader.checkpoints) }
        }
        let v = try ZooVerifier.verify(directory: dir)
        #expect(v.skipped >= diverged.count && v.mismatches == 0)
    }
}
