import NeuralNetworks

/// The members' optimizers of a member batch, stepping the parameters where the batch keeps them:
/// stacked `[K, size]` buffers, one per parameter tensor (``SIRENMemberBatch/parameterBlocks``),
/// with the optimizer state stacked the same way.
///
/// Stepping each member's module instead costs, every step, a copy of every parameter into the
/// stacked buffers, a dictionary of fresh gradient tensors, and the optimizer's per-path state
/// lookups — for a SIREN's small tensors, several percent of a step (`perf`). Here a step is the
/// optimizer's own update loop (``SGD/update(_:gradient:velocity:count:)``,
/// ``Adam/update(_:gradient:firstMoment:secondMoment:count:step:)``,
/// ``RMSProp/update(_:gradient:squareAverage:momentumBuffer:count:)``, the code its module step
/// runs) on the member's block of each buffer: the same Float arithmetic, in the same order,
/// with the same learning rate, weight decay and step count (tested bit for bit against the
/// optimizers stepping modules, for every ``OptimizerKind``).
///
/// Covers the optimizers ``OptimizerKind/make(learningRate:weightDecay:)`` makes — ``SGD`` (with
/// or without momentum), ``Adam``, ``AdamW``, ``RMSProp`` — exactly those classes, not subclasses
/// that may change the update: for any other optimizer ``init(optimizers:blocks:)`` fails and the
/// trainer steps the modules.
final class StackedOptimizer {
    private enum Update {
        case sgd(SGD), adam(Adam), rmsprop(RMSProp)

        /// The state buffers the update needs per parameter tensor.
        var stateCount: Int {
            switch self {
            case .sgd(let o): return o.momentum > 0 ? 1 : 0
            case .adam, .rmsprop: return 2
            }
        }
    }

    private let updates: [Update]
    private let blocks: [SIRENMemberBatch.Block]
    /// Per block, per state buffer: `[K, size]`, zero before the first step (as the optimizers'
    /// own state starts).
    private let state: [[FloatBuffer]]
    /// Updates applied per member (the optimizers' step count, 1 at the first update).
    private var steps: [Int]

    /// - Parameters:
    ///   - optimizers: member k's optimizer at index k, fresh (no steps taken).
    ///   - blocks: the stacked parameters and gradients, one block per parameter tensor.
    /// - Returns: nil when an optimizer is not one of the covered classes.
    init?(optimizers: [Optimizer], blocks: [SIRENMemberBatch.Block]) {
        var updates: [Update] = []
        for optimizer in optimizers {
            guard optimizer.stepCount == 0 else { return nil }
            switch optimizer {
            case let o as SGD: updates.append(.sgd(o))
            case let o as RMSProp: updates.append(.rmsprop(o))
            case let o as Adam where type(of: o) == Adam.self || type(of: o) == AdamW.self: updates.append(.adam(o))
            default: return nil
            }
        }
        self.updates = updates
        self.blocks = blocks
        let k = optimizers.count
        let buffers = updates.map(\.stateCount).max() ?? 0
        state = blocks.map { block in (0..<buffers).map { _ in FloatBuffer(count: k * block.size) } }
        steps = [Int](repeating: 0, count: k)
    }

    /// One update of `member`'s parameters from its gradients (after the batch's backward pass).
    func step(member: Int) {
        steps[member] += 1
        let step = steps[member]
        for (b, block) in blocks.enumerated() {
            let offset = member * block.size
            let w = block.values + offset, g = UnsafePointer(block.gradients + offset)
            switch updates[member] {
            case .sgd(let o):
                o.update(w, gradient: g, velocity: o.momentum > 0 ? state[b][0].base + offset : nil, count: block.size)
            case .adam(let o):
                o.update(w, gradient: g, firstMoment: state[b][0].base + offset, secondMoment: state[b][1].base + offset,
                         count: block.size, step: step)
            case .rmsprop(let o):
                o.update(w, gradient: g, squareAverage: state[b][0].base + offset, momentumBuffer: state[b][1].base + offset,
                         count: block.size)
            }
        }
    }
}
