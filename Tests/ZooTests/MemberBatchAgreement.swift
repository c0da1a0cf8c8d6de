import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import Datasets
@testable import Zoo
import _TestSupport

/// Checks shared by the member-batch suites: a step against the tape on the same parameters and
/// images, whole members against the tape, and zoo bytes for several K.
enum MemberBatchAgreement {
    /// The largest difference between one batch step's result and `model`'s tape step on the same
    /// images (`indices` of `images`), relative to each gradient's largest entry; expects the same
    /// loss (to 1e-5), the same correct count and a gradient for every parameter path.
    static func largestGradientDifference(_ result: MemberBatchStepResult, tapeModel model: Module & Layer,
                                          images: Tensor, labels: [Int], indices: ArraySlice<Int>) throws -> Float {
        model.train()
        let batchImages = Tensor.concatenate(indices.map { images.slice(axis: 0, $0..<($0 + 1)) })
        let batchLabels = indices.map { labels[$0] }
        var logits: Tensor? = nil
        let (loss, gradients) = model.lossAndGradients { tape in
            let z = model(tape.constant(batchImages))
            logits = z.value
            return Loss.softmaxCrossEntropy(z, labels: batchLabels)
        }
        #expect(abs(result.loss - loss) <= 1e-5 * max(1, abs(loss)), "loss \(result.loss) vs \(loss)")
        let predicted = try #require(logits).argmax(alongAxis: 1)
        #expect(result.correct == zip(predicted, batchLabels).filter { $0 == $1 }.count)
        let named = model.namedParameters()
        #expect(Set(result.gradients.keys) == Set(named.map(\.path)))
        var worst: Float = 0
        for (path, parameter) in named {
            let expected = gradients[parameter]
            let got = try #require(result.gradients[path])
            #expect(got.shape == expected.shape, "\(path)")
            let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-3)
            worst = max(worst, (zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0) / scale)
        }
        return worst
    }

    /// Members `members` of `spec` trained together against each trained alone on the tape: the
    /// largest weight difference relative to each tensor's largest entry (at least 1), and the
    /// largest test-accuracy difference; expects the same checkpoint epochs and divergence.
    static func differenceFromTape(spec: ZooSpec, members: [Int]) throws -> (weight: Float, accuracy: Float) {
        let data = try spec.data.load()
        let batched = try ZooMemberTrainer.train(members: members, spec: spec, data: data)
        var worstWeight: Float = 0, worstAccuracy: Float = 0
        for (output, member) in zip(batched, members) {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(output.checkpoints.map(\.epoch) == alone.checkpoints.map(\.epoch))
            #expect(output.diverged == alone.diverged)
            for (name, x) in alone.tensors {
                let y = try #require(output.tensors[name])
                let scale = max(x.scalars.map(abs).max() ?? 0, 1)
                worstWeight = max(worstWeight, (zip(x.scalars, y.scalars).map { abs($0 - $1) }.max() ?? 0) / scale)
            }
            for (c, d) in zip(output.checkpoints, alone.checkpoints) {
                worstAccuracy = max(worstAccuracy, abs((c.testAccuracy ?? 0) - (d.testAccuracy ?? 0)))
            }
        }
        return (worstWeight, worstAccuracy)
    }

    /// Expects the zoo of `spec` generated with each member batch size in `ks` to be the same
    /// bytes, and members `subset` trained as their own batch to equal them trained with all.
    static func expectBytesIndependentOfTheBatch(_ spec: ZooSpec, ks: [Int], subset: [Int]) throws {
        var folders: [[String: Data]] = []
        for k in ks {
            let dir = makeTemporaryDirectory("\(spec.family.rawValue)-k\(k)")
            _ = try ZooGenerator.generate(spec: spec, into: dir, options: .init(workers: 2, memberBatch: k))
            folders.append(try contents(of: dir).filter { !$0.key.hasPrefix(".") })
        }
        #expect(folders.allSatisfy { $0 == folders[0] })
        let data = try spec.data.load()
        let together = try ZooMemberTrainer.train(members: Array(0..<spec.members), spec: spec, data: data)
        let alone = try ZooMemberTrainer.train(members: subset, spec: spec, data: data)
        for (member, output) in zip(subset, alone) {
            #expect(together[member].checkpoints == output.checkpoints, "member \(member)")
            #expect(together[member].tensors == output.tensors, "member \(member)")
        }
    }

    /// Trains every member of `spec` (whose space makes some diverge) as one batch; expects some
    /// members to diverge and some not, and the healthy ones trained without the diverging ones
    /// to come out the same bits. Returns the batch's outputs and which members diverged.
    static func trainWithSomeDiverging(_ spec: ZooSpec, data: ZooData) throws
        -> (outputs: [ZooMemberTrainer.Output], diverged: [Int], healthy: [Int]) {
        let all = Array(0..<spec.members)
        let batched = try ZooMemberTrainer.train(members: all, spec: spec, data: data)
        let diverged = all.filter { batched[$0].diverged }
        let healthy = all.filter { !batched[$0].diverged }
        #expect(!diverged.isEmpty && !healthy.isEmpty, "diverged: \(diverged)")
        let without = try ZooMemberTrainer.train(members: healthy, spec: spec, data: data)
        for (member, output) in zip(healthy, without) {
            #expect(output.checkpoints == batched[member].checkpoints, "member \(member)")
            #expect(output.tensors == batched[member].tensors, "member \(member)")
        }
        return (batched, diverged, healthy)
    }
}
