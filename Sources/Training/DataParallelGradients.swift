import Foundation
import LinearAlgebra
import Tensors
import Autograd
import NeuralNetworks

/// The gradient of a batch's mean loss, computed on fixed chunks of the batch on several threads.
///
/// The batch is cut into chunks of ``chunkSize`` members; each chunk runs its forward and backward
/// pass on a tape of its own, with its loss weighted by its share of the batch, and the chunk
/// gradients are summed in chunk order. The chunks never depend on the thread count, so a run
/// gives bit-identical weights on 1 thread and on 16 (BLAS is held on one thread inside,
/// ``SingleThreadedBLAS``, because OpenBLAS's blocking follows its own thread count).
///
/// Why chunks of the batch rather than BLAS threads: a metanetwork's products at batch 32 are
/// small, and OpenBLAS's threads gave 1.08–1.09× on 2 cores (HNP and NFT, measured in
/// `make bench`); independent chunks keep each core busy with a whole forward and backward pass.
///
/// Requirements on the loss: it is the mean over the members of `indices` of a per-member term
/// plus terms that do not depend on the batch (every task loss in SwiftNFN is). A model whose
/// layers draw random numbers in training (dropout with a rate above 0) runs its chunks one after
/// another on the calling thread, in chunk order, so its masks are drawn in the same order for any
/// thread count.
public enum DataParallelGradients {
    /// Members per chunk. Fixed, not derived from the thread count: it decides how the batch's
    /// gradient is summed, and so its last bits.
    public static let chunkSize = 8

    /// The chunks of `batch`, in order.
    public static func chunks(of batch: [Int]) -> [[Int]] {
        stride(from: 0, to: batch.count, by: chunkSize).map { Array(batch[$0..<Swift.min($0 + chunkSize, batch.count)]) }
    }

    /// The batch's loss and the gradient of every parameter it reached, by parameter path.
    ///
    /// - Parameters:
    ///   - model: the model; its parameters are read, never written, during the call.
    ///   - batch: member indices (at least one).
    ///   - threads: threads to use (≥ 1); more than the chunk count are not started.
    ///   - loss: the mean loss on the given members, recorded on the given tape. It is called from
    ///     several threads at once when `threads > 1`, so it must only read shared data.
    /// - Returns: the loss of the whole batch (the chunk losses weighted by their sizes) and the
    ///   summed gradients. A parameter that no chunk reached has no entry.
    /// - Throws: the error of the lowest-numbered chunk that failed.
    public static func lossAndGradients(model: Module, batch: [Int], threads: Int,
                                        loss: ([Int], Tape) throws -> Variable) throws -> (loss: Float, gradients: [String: Tensor]) {
        precondition(!batch.isEmpty, "a batch needs at least one member")
        let parts = chunks(of: batch)
        // Reflecting the module tree caches its member lists; do it here, on one thread, before
        // any worker reads them.
        let named = model.namedParameters()
        var results = [ChunkResult?](repeating: nil, count: parts.count)
        try withoutActuallyEscaping(loss) { loss in
            let work = ChunkWork(model: model, parameters: named.map(\.parameter), parts: parts,
                                 total: Float(batch.count), loss: loss)
            try SingleThreadedBLAS.run {
                if threads <= 1 || parts.count == 1 || model.drawsRandomNumbersInTraining {
                    for c in parts.indices { results[c] = try work.run(chunk: c) }
                } else {
                    let collected = ChunkResults(count: parts.count)
                    // concurrentPerform returns only when every worker is done and keeps no
                    // reference to its block, so `loss` never outlives this call. Each worker
                    // takes the next chunk until none is left or one has failed.
                    DispatchQueue.concurrentPerform(iterations: Swift.min(threads, parts.count)) { _ in
                        while let c = collected.nextChunk() {
                            collected.store(Result { try work.run(chunk: c) }, at: c)
                        }
                    }
                    // Chunks are taken in order, so every chunk before the first failure ran:
                    // the error reported is the lowest-numbered chunk's.
                    for c in parts.indices {
                        guard let outcome = collected.outcome(at: c) else { break }
                        results[c] = try outcome.get()
                    }
                }
            }
        }
        // Sum in chunk order: the order, not the threads, fixes the rounding.
        var lossValue: Float = 0
        var sums = [Tensor?](repeating: nil, count: named.count)
        for case let result? in results {
            lossValue += result.loss
            for (p, g) in result.gradients.enumerated() {
                guard let g else { continue }
                if sums[p] == nil { sums[p] = g } else { sums[p]! += g }
            }
        }
        var gradients: [String: Tensor] = [:]
        for (p, entry) in named.enumerated() { if let s = sums[p] { gradients[entry.path] = s } }
        return (lossValue, gradients)
    }

    /// One chunk's weighted loss and its gradient per parameter (nil: not reached).
    struct ChunkResult {
        var loss: Float
        var gradients: [Tensor?]
    }

    /// What every worker reads. Safe to share: during a call the model's parameters and the loss's
    /// data are only read, each chunk records on a tape of its own, and the module tree's reflection
    /// cache is filled before the workers start.
    private struct ChunkWork: @unchecked Sendable {
        let model: Module
        let parameters: [Parameter]
        let parts: [[Int]]
        let total: Float
        let loss: ([Int], Tape) throws -> Variable

        func run(chunk c: Int) throws -> ChunkResult {
            let tape = Tape()
            for p in parameters { _ = tape.watch(p) }
            let members = parts[c]
            // The chunk's share of the batch mean: Σ_c (n_c / n) · mean_c = mean over the batch.
            let weighted = try loss(members, tape) * (Float(members.count) / total)
            let value = weighted.value.sum()
            let grads = tape.gradients(of: weighted)
            return ChunkResult(loss: value, gradients: parameters.map { grads.contains($0) ? grads[$0] : nil })
        }
    }

    /// The next chunk to take and the outcomes written by the workers, one slot per chunk.
    private final class ChunkResults: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<ChunkResult, Error>?]
        private var next = 0
        private var failed = false
        init(count: Int) { slots = Array(repeating: nil, count: count) }

        /// The next chunk, or nil when all are taken or one has failed.
        func nextChunk() -> Int? {
            lock.withLock {
                guard !failed, next < slots.count else { return nil }
                next += 1
                return next - 1
            }
        }

        func store(_ outcome: Result<ChunkResult, Error>, at c: Int) {
            lock.withLock {
                slots[c] = outcome
                if case .failure = outcome { failed = true }
            }
        }

        func outcome(at c: Int) -> Result<ChunkResult, Error>? { lock.withLock { slots[c] } }
    }
}
