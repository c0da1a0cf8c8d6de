import Testing
import Tensors
import NeuralNetworks
import Training
import WeightSpace
@testable import Zoo
import _TestSupport

/// The member batch's optimizer fast path (``StackedOptimizer``) against the optimizers stepping
/// modules, and the fit that uses it against the tape for every optimizer a zoo can sample.
@Suite struct StackedOptimizerTests {
    /// The optimizers the fast path covers: every ``OptimizerKind`` with weight decay, and the
    /// SGD and RMSProp variants no kind makes (Nesterov, RMSProp momentum).
    static let optimizers: [String] = OptimizerKind.allCases.map(\.rawValue) + ["nesterov", "rmsprop-momentum"]

    static func make(_ name: String) -> Optimizer {
        switch name {
        case "nesterov": return SGD(learningRate: 0.02, momentum: 0.8, nesterov: true, weightDecay: 0.05)
        case "rmsprop-momentum": return RMSProp(learningRate: 0.003, momentum: 0.7, weightDecay: 0.05)
        default: return OptimizerKind(rawValue: name)!.make(learningRate: 0.01, weightDecay: 0.05)
        }
    }

    /// Three SIRENs (widths not a multiple of the eight lanes), drawn from `seed`.
    static func sirens(seed: UInt64) -> [SIREN] {
        var rng = SeededGenerator(seed: seed)
        return (0..<3).map { _ in SIREN(hiddenWidths: [5, 11], outputs: 2, rng: &rng) }
    }

    /// Several steps of the stacked update, members skipping different steps (so their step
    /// counts differ), against each optimizer stepping a twin module with the same gradients:
    /// the same bits, parameter by parameter.
    @Test(arguments: optimizers) func stackedStepsEqualModuleSteps(optimizer name: String) throws {
        let members = Self.sirens(seed: 7), twins = Self.sirens(seed: 7)
        let batch = try SIRENMemberBatch(members: members, coordinates: SIRENRenderer.coordinates(height: 5, width: 4))
        let stacked = try #require(StackedOptimizer(optimizers: members.map { _ in Self.make(name) },
                                                    blocks: batch.parameterBlocks))
        let moduleOptimizers = twins.map { _ in Self.make(name) }
        var rng = SeededGenerator(seed: 8)
        let targets = members.map { _ in Tensor.normal([20, 2], rng: &rng) }
        for step in 0..<6 {
            batch.forward()
            batch.backward(targets: targets)
            for k in members.indices where !(k == 1 && step % 2 == 1) && !(k == 2 && step == 0) {
                moduleOptimizers[k].step(twins[k], gradients: batch.gradients(member: k))
                stacked.step(member: k)
            }
        }
        for k in members.indices {
            batch.storeParameters(member: k)
            let ours = members[k].parameterValues(), initial = Self.sirens(seed: 7)[k].parameterValues()
            for (path, value) in twins[k].parameterValues() {
                let mine = try #require(ours[path])
                #expect(mine.scalars.map(\.bitPattern) == value.scalars.map(\.bitPattern), "\(name) member \(k) \(path)")
                #expect(mine.scalars != initial[path]?.scalars, "\(name) member \(k) \(path) never moved")
            }
        }
    }

    /// An optimizer the fast path does not know (here a subclass of Adam, which may change the
    /// update) sends the trainer back to stepping modules.
    @Test func unknownOptimizersAreNotStacked() throws {
        final class Custom: Adam {}
        let members = Self.sirens(seed: 7)
        let batch = try SIRENMemberBatch(members: members, coordinates: SIRENRenderer.coordinates(height: 5, width: 4))
        #expect(StackedOptimizer(optimizers: [Adam(), Custom(), AdamW()], blocks: batch.parameterBlocks) == nil)
        #expect(StackedOptimizer(optimizers: [Adam(), AdamW(), SGD(learningRate: 0.1)], blocks: batch.parameterBlocks) != nil)
    }

    /// A SIREN zoo fitted with each optimizer kind (the zoo's space can name any; SIREN members
    /// sample no weight decay, which the test above covers): batched, every member bit-identical
    /// to the tape path.
    @Test(arguments: OptimizerKind.allCases) func batchedFitsEqualTheTapeForEveryOptimizer(kind: OptimizerKind) throws {
        var spec = tinySpec(.siren, members: 3)
        spec.space.optimizers = [kind]
        spec.training = ZooTrainingSpec(epochs: 12, checkpointEpochs: [0, 5, 12], batchSize: 1)
        let data = try spec.data.load()
        let batched = try ZooMemberTrainer.train(members: [0, 1, 2], spec: spec, data: data)
        for member in 0..<3 {
            let alone = try ZooMemberTrainer.trainOnTape(member: member, spec: spec, data: data)
            #expect(batched[member].checkpoints == alone.checkpoints, "\(kind) member \(member)")
            #expect(Set(batched[member].tensors.keys) == Set(alone.tensors.keys))
            for (name, x) in alone.tensors {
                #expect(batched[member].tensors[name]?.scalars.map(\.bitPattern) == x.scalars.map(\.bitPattern), "\(kind) member \(member) \(name)")
            }
        }
    }
}
