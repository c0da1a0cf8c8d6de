import Foundation

/// How many members train together in one member batch (``ZooMemberTrainer/train(members:spec:data:)``).
///
/// Batching never changes a member (no operation mixes members), so K is free to follow the
/// machine: large enough that a step's fixed costs are shared, small enough that a batch's
/// activations stay in cache, and no larger than each worker's share of the work.
public enum MemberBatchSize {
    /// The activation memory one batch may use per worker (bytes): a core's L2 cache (512 KB on
    /// the 2-core build machine, an AMD EPYC).
    /// Measured there before the SIREN batch kept its parameters stacked (600 Fashion-MNIST
    /// SIRENs, 2 workers, one run each): K = 1 made 1,667 members/min, K = 4 1,552, K = 13 1,533 —
    /// once a batch's activations (then ≈ 700 KB per 28×28 member) leave L2, the GEMMs wait on
    /// memory and the shared step overhead saved by batching is smaller than that. With the
    /// parameters and optimizer state stacked and the gradients written over the activations
    /// (≈ 520 KB per member), K = 1, 2 and 4 were within the shared machine's noise (150 members,
    /// 1 worker, three alternating runs each: 6.5–7.0, 6.7–7.2 and 7.0–7.5 s of CPU), so a 28×28
    /// SIREN still trains alone. Smaller images batch more members.
    /// MLPs (hidden [32, 32], batch 64, 28×28, thread CPU per member against the tape, same
    /// process): K = 1 0.91×, K = 4 0.93×, K = 16 1.01× — their steps are GEMM-bound, so the same
    /// budget (K = 1 there) serves them.
    public static let cacheBudget = 1 << 19
    /// The largest automatic K.
    public static let automaticLimit = 64

    /// Bytes one member adds to a batch: its activations, gradients and parameters (SIREN, MLP),
    /// or nil for families whose batches do not grow with K (CNN) or that train one member at a
    /// time (transformer).
    ///
    /// - Parameter classes: the data's class count (the MLP's output width).
    public static func bytesPerMember(spec: ZooSpec, imageShape: [Int], classes: Int = 10) -> Int? {
        guard imageShape.count == 3 else { return nil }
        switch spec.family {
        case .siren:
            let pixels = imageShape[1] * imageShape[2]
            let widths = [2] + (spec.architecture.hiddenWidths ?? [32, 32]) + [imageShape[0]]
            let hidden = widths.dropFirst().dropLast().reduce(0, +)
            let widest = widths.max() ?? 1
            // Sines and cosines per hidden layer, outputs, and one scratch buffer of the widest
            // layer (the gradients overwrite cosines and outputs); parameters, their gradients
            // and up to two optimizer state buffers — what ``SIRENMemberBatch`` and
            // ``StackedOptimizer`` allocate.
            let floats = pixels * (2 * hidden + widths.last! + widest) + 4 * parameters(widths)
            return floats * MemoryLayout<Float>.size
        case .mlp:
            let widths = [imageShape.reduce(1, *)] + (spec.architecture.hiddenWidths ?? [32, 32]) + [Swift.max(classes, 1)]
            let rows = Swift.max(spec.training.batchSize, 1)
            let layers = widths.dropFirst()
            let hidden = layers.dropLast().reduce(0, +)
            // Per example: the input, every layer's pre-activation, the hidden activations, the
            // log-probabilities and two gradient scratch rows of the widest layer; per member: the
            // stacked parameters, their gradients, and the gradient tensors handed to the
            // optimizer — what ``MLPMemberBatch`` allocates.
            let perRow = widths[0] + layers.reduce(0, +) + hidden + widths.last! + 2 * (layers.max() ?? 1)
            let floats = rows * perRow + 3 * parameters(widths)
            return floats * MemoryLayout<Float>.size
        case .cnn, .transformer:
            return nil
        }
    }

    /// Weights and biases of dense layers of `widths`.
    private static func parameters(_ widths: [Int]) -> Int {
        zip(widths, widths.dropFirst()).reduce(0) { $0 + ($1.0 + 1) * $1.1 }
    }

    /// Refuses a member batch whose buffers (`floats` Float values, e.g. a huge mini-batch of a
    /// CNN or transformer) would need more than half the machine's physical memory, naming the
    /// bytes it needed — before anything is allocated.
    ///
    /// - Throws: ``ZooError/invalidSpec(_:)``.
    static func checkBuffers(floats: Double, for what: String) throws {
        let memory = Double(ProcessInfo.processInfo.physicalMemory / 2)
        let bytes = floats * Double(MemoryLayout<Float>.size)
        guard bytes <= memory else {
            throw ZooError.invalidSpec(String(format: "%@ needs %.1f GB of buffers, more than half this machine's memory (%.1f GB); use a smaller batch size",
                                              what, bytes / 1e9, memory / 1e9))
        }
    }

    /// K for a run: `requested` when given (checked against the machine's memory), else from
    /// ``cacheBudget``, at most ⌈members / workers⌉ so every worker gets a batch.
    ///
    /// - Parameter classes: the data's class count (the MLP's output width).
    /// - Throws: ``ZooError/invalidSpec(_:)`` when `requested` is below 1, or needs more than half
    ///   the machine's physical memory (with the number it needed).
    public static func choose(requested: Int?, spec: ZooSpec, imageShape: [Int], classes: Int = 10,
                              members: Int, workers: Int) throws -> Int {
        if let k = requested, k < 1 { throw ZooError.invalidSpec("--member-batch must be ≥ 1, got \(k)") }
        // CNN and transformer members share one set of buffers (``CNNMemberBatch``,
        // ``TransformerMemberBatch``): K only groups them, costs no memory, and 1 is as fast as any.
        guard let bytes = bytesPerMember(spec: spec, imageShape: imageShape, classes: classes) else { return requested ?? 1 }
        if let k = requested {
            let memory = ProcessInfo.processInfo.physicalMemory / 2
            let (needed, overflow) = k.multipliedReportingOverflow(by: bytes * Swift.max(workers, 1))
            guard !overflow, UInt64(needed) <= memory else {
                let shown = overflow ? "more than \(Int.max) bytes" : String(format: "%.1f GB", Double(needed) / 1e9)
                throw ZooError.invalidSpec("--member-batch \(k) needs \(shown) for \(workers) worker(s) (\(bytes) bytes per member), more than half this machine's memory (\(String(format: "%.1f GB", Double(memory) / 1e9))); use a smaller K")
            }
            return k
        }
        let share = (members + Swift.max(workers, 1) - 1) / Swift.max(workers, 1)
        return Swift.max(1, Swift.min(automaticLimit, cacheBudget / Swift.max(bytes, 1), share))
    }
}
