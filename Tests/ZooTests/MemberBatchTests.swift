import Foundation
import Testing
import Tensors
import Zoo
import _TestSupport

/// Member-batched SIREN fitting and MLP training against the one-member tape path, and
/// independence of the batch.
@Suite struct MemberBatchTests {
    /// The largest |a − b| over every tensor of two outputs (which must hold the same names).
    func largestDifference(_ a: ZooMemberTrainer.Output, _ b: ZooMemberTrainer.Output) -> Float {
        #expect(Set(a.tensors.keys) == Set(b.tensors.keys))
        var worst: Float = 0
        for (name, x) in a.tensors {
            guard let y = b.tensors[name], x.shape == y.shape else { return .infinity }
            for i in 0..<x.count { worst = max(worst, abs(x[flat: i] - y[flat: i])) }
        }
        return worst
    }

    @Test func batchedSIRENsEqualTheTapePath() throws {
        var spec = tinySpec(.siren, members: 6)
        spec.training = ZooTrainingSpec(epochs: 40, checkpointEpochs: [0, 20, 40], batchSize: 1)
        let data = try spec.data.load()
        let batched = try ZooMemberTrainer.train(members: Array(0..<6), spec: spec, data: data)
        var worstWeight: Float = 0, worstLoss: Float = 0
        for member in 0..<6 {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            worstWeight = max(worstWeight, largestDifference(batched[member], alone))
            for (c, d) in zip(batched[member].checkpoints, alone.checkpoints) {
                #expect(c.epoch == d.epoch && c.imageIndex == d.imageIndex && c.label == d.label)
                worstLoss = max(worstLoss, abs((c.trainLoss ?? .nan) - (d.trainLoss ?? .nan)))
            }
        }
        // Measured: 0 (bit-identical) — the batch repeats the tape's operations per member.
        #expect(worstWeight == 0, "largest weight difference \(worstWeight)")
        #expect(worstLoss == 0, "largest loss difference \(worstLoss)")
    }

    @Test func aPSNRTargetStopsEachFitWhereTheTapePathStops() throws {
        var spec = tinySpec(.siren, members: 4)
        spec.training = ZooTrainingSpec(epochs: 60, checkpointEpochs: [0, 20, 40, 60], batchSize: 1)
        let data = try spec.data.load()
        let free = try ZooMemberTrainer.train(members: Array(0..<4), spec: spec, data: data)
        // A target between the members' PSNR at step 20 and at the end: each stops on the way.
        let at20 = free.compactMap { $0.checkpoints.first { $0.epoch == 20 }?.psnr }
        let final = free.compactMap { $0.checkpoints.last?.psnr }
        let target = Double((at20.max() ?? 0) + 0.1)
        #expect(final.allSatisfy { Double($0) > target }, "the target \(target) must be reached before step 60: \(final)")
        spec.training.psnrTarget = target
        let stopped = try ZooMemberTrainer.train(members: Array(0..<4), spec: spec, data: data)
        for member in 0..<4 {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(stopped[member].checkpoints == alone.checkpoints)
            #expect(stopped[member].tensors == alone.tensors)
            // Stopped before step 60, at the target: the last checkpoint reaches it, but with
            // weights from earlier than the unstopped fit's step 60 (a lower PSNR than it).
            let lastPSNR = Double(stopped[member].checkpoints.last?.psnr ?? 0)
            #expect(lastPSNR >= target && lastPSNR < Double(final[member]))
            let name = try #require(stopped[member].tensors.keys.first { $0.contains("epoch-60/") })
            #expect(stopped[member].tensors[name] != free[member].tensors[name])
        }
        spec.training.psnrTarget = .nan
        #expect(throws: ZooError.self) { try spec.validate() }
    }

    @Test func aMemberDoesNotDependOnItsBatch() throws {
        let spec = tinySpec(.siren, members: 5)
        let data = try spec.data.load()
        let together = try ZooMemberTrainer.train(members: [0, 1, 2, 3, 4], spec: spec, data: data)
        let other = try ZooMemberTrainer.train(members: [3, 1], spec: spec, data: data)
        #expect(together[3].checkpoints == other[0].checkpoints)
        #expect(together[3].tensors == other[0].tensors)
        #expect(together[1].tensors == other[1].tensors)
    }

    @Test func zooBytesDoNotDependOnTheMemberBatch() throws {
        try MemberBatchAgreement.expectBytesIndependentOfTheBatch(tinySpec(.siren, members: 7), ks: [1, 3, 7], subset: [3, 1])
    }

    @Test func aDivergingMemberDoesNotPoisonItsBatch() throws {
        var spec = tinySpec(.siren, members: 8)
        spec.space.optimizers = [.sgd]
        spec.space.learningRate = .logUniform(low: 1e-3, high: 1e9)   // some members diverge
        let data = try spec.data.load()
        let batched = try ZooMemberTrainer.train(members: Array(0..<8), spec: spec, data: data)
        #expect(batched.contains { $0.diverged } && batched.contains { !$0.diverged })
        for member in 0..<8 {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(batched[member].diverged == alone.diverged)
            for (name, x) in alone.tensors {
                #expect(batched[member].tensors[name]?.scalars.map(\.bitPattern) == x.scalars.map(\.bitPattern), "member \(member) \(name)")
            }
        }
    }

    @Test func refitsShareTheirImageAndRecordPSNR() throws {
        var spec = tinySpec(.siren, members: 6)
        spec.training.refits = 3
        let dir = makeTemporaryDirectory("siren-refits")
        _ = try ZooGenerator.generate(spec: spec, into: dir, options: .init(workers: 2))
        let reader = try ZooReader(directory: dir)
        for c in reader.checkpoints {
            #expect(c.imageIndex == c.member / 3)
            let psnr = try #require(c.psnr)
            #expect(abs(psnr - 10 * log10(1 / c.trainLoss!)) < 1e-3)
        }
        let fitted = reader.checkpoints(epoch: 30)
        // Re-fits of one image start from different draws, so their weights differ.
        let f = try reader.features(fitted).features
        #expect(f.member(0).weights[1] != f.member(1).weights[1])
        spec.training.refits = 0
        #expect(throws: ZooError.self) { try spec.validate() }
    }

    /// The largest difference between two members' checkpoint metrics (which must be the same
    /// epochs with the same divergence).
    func largestMetricDifference(_ a: ZooMemberTrainer.Output, _ b: ZooMemberTrainer.Output) -> Float {
        #expect(a.checkpoints.map(\.epoch) == b.checkpoints.map(\.epoch))
        #expect(a.checkpoints.map(\.diverged) == b.checkpoints.map(\.diverged))
        var worst: Float = 0
        for (c, d) in zip(a.checkpoints, b.checkpoints) {
            for (x, y) in [(c.trainLoss, d.trainLoss), (c.trainAccuracy, d.trainAccuracy),
                           (c.testLoss, d.testLoss), (c.testAccuracy, d.testAccuracy)] {
                guard let x, let y else {
                    if (x == nil) != (y == nil) { return .infinity }
                    continue
                }
                worst = max(worst, abs(x - y))
            }
        }
        return worst
    }

    /// MLP members of one batch with different activations, optimizers and training fractions
    /// (so different step counts per epoch, and last batches of other sizes), under a constant
    /// and a warm-up + cosine schedule, against each member trained alone on the tape.
    @Test(arguments: [false, true]) func batchedMLPsEqualTheTapePath(scheduled: Bool) throws {
        var spec = tinySpec(.mlp, members: 10)
        spec.training.checkpointEpochs = [0, 1, 2]
        // 48 does not divide the subsets (256, 128, 64 or 26 images): ragged last batches.
        spec.training.batchSize = 48
        if scheduled {
            spec.training.warmupEpochs = 1
            spec.training.cosineDecay = true
        }
        let data = try spec.data.load()
        let members = Array(0..<10)
        let hyperparameters = members.map { ZooMemberTrainer.hyperparameters(spec: spec, member: $0) }
        #expect(Set(hyperparameters.compactMap(\.trainFraction)).count >= 3)
        #expect(Set(hyperparameters.compactMap(\.optimizer)).count >= 3)
        #expect(Set(hyperparameters.compactMap(\.activation)).count == 2)
        let batched = try ZooMemberTrainer.train(members: members, spec: spec, data: data)
        var worstWeight: Float = 0, worstMetric: Float = 0
        for member in members {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(!alone.diverged)
            worstWeight = max(worstWeight, largestDifference(batched[member], alone))
            worstMetric = max(worstMetric, largestMetricDifference(batched[member], alone))
            #expect(batched[member].checkpoints == alone.checkpoints)
        }
        // Measured: 0 (bit-identical weights, losses and accuracies) — the batch repeats the
        // tape's operations per member, in the tape's order.
        #expect(worstWeight == 0, "largest weight difference \(worstWeight)")
        #expect(worstMetric == 0, "largest metric difference \(worstMetric)")
    }

    @Test func aDivergingMLPDoesNotChangeTheOthers() throws {
        var spec = tinySpec(.mlp, members: 8)
        spec.space.optimizers = [.sgd]
        spec.space.activations = [.relu]
        spec.space.learningRate = .logUniform(low: 1e-3, high: 1e6)   // some members diverge
        spec.training.checkpointEpochs = [0, 1, 2]
        let data = try spec.data.load()
        // Also checks the healthy members trained without the diverging ones: the same bits.
        let (batched, _, _) = try MemberBatchAgreement.trainWithSomeDiverging(spec, data: data)
        for member in 0..<spec.members {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(batched[member].checkpoints == alone.checkpoints, "member \(member)")
            for (name, x) in alone.tensors {
                #expect(batched[member].tensors[name]?.scalars.map(\.bitPattern) == x.scalars.map(\.bitPattern), "member \(member) \(name)")
            }
        }
    }

    @Test func mlpZooBytesDoNotDependOnTheMemberBatch() throws {
        // One member per batch … all members in one batch.
        try MemberBatchAgreement.expectBytesIndependentOfTheBatch(tinySpec(.mlp, members: 7), ks: [1, 3, 7], subset: [5, 2])
    }

    @Test func anAbsurdMemberBatchIsRefusedWithTheBytesItNeeds() throws {
        let spec = tinySpec(.siren, members: 4)
        do {
            _ = try MemberBatchSize.choose(requested: Int.max / 2, spec: spec, imageShape: [1, 28, 28], members: 4, workers: 2)
            Issue.record("an absurd K was accepted")
        } catch let error as ZooError {
            #expect("\(error)".contains("member-batch"))
        }
        // The default SIREN on 28×28: one member's activations already fill the cache budget;
        // on 8×8 several fit, at most each worker's share.
        let standard = ZooSpec.defaults(for: .siren)
        #expect(try MemberBatchSize.choose(requested: nil, spec: standard, imageShape: [1, 28, 28], members: 400, workers: 2) == 1)
        #expect(try MemberBatchSize.choose(requested: nil, spec: standard, imageShape: [1, 8, 8], members: 400, workers: 2) > 4)
        #expect(try MemberBatchSize.choose(requested: nil, spec: standard, imageShape: [1, 8, 8], members: 4, workers: 2) == 2)
        #expect(try MemberBatchSize.choose(requested: nil, spec: tinySpec(.cnn), imageShape: [1, 28, 28], members: 40, workers: 2) == 1)
        // MLPs: sized from the batch size and widths, checked against memory like SIRENs.
        let mlp = tinySpec(.mlp)    // hidden [16], batch 32
        let bytes = try #require(MemberBatchSize.bytesPerMember(spec: mlp, imageShape: [1, 28, 28], classes: 10))
        let parameters = (784 + 1) * 16 + (16 + 1) * 10
        #expect(bytes == 4 * (32 * (784 + 26 + 16 + 10 + 2 * 16) + 3 * parameters))
        #expect(try MemberBatchSize.choose(requested: nil, spec: mlp, imageShape: [1, 28, 28], members: 40, workers: 2)
                == MemberBatchSize.cacheBudget / bytes)
        #expect(throws: ZooError.self) {
            try MemberBatchSize.choose(requested: Int.max / 2, spec: mlp, imageShape: [1, 28, 28], members: 4, workers: 2)
        }
    }
}
