import Foundation

/// Runs independent jobs on a fixed number of threads, each taking the next job id when it is free.
///
/// Jobs are started in the order given. After the first error no new job starts; the jobs in
/// flight finish, then the first error is rethrown. Threads get a 16 MiB stack (a training step
/// can recurse through a deep tape).
public enum WorkerPool {
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var firstError: Error?
    }

    /// Calls `body(item)` for every item on `min(workers, items.count)` threads and waits.
    public static func run(_ items: [Int], workers: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let state = State()
        let group = DispatchGroup()
        let threadCount = Swift.max(1, Swift.min(workers, items.count))
        for _ in 0..<threadCount {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    state.lock.lock()
                    guard state.firstError == nil, state.next < items.count else {
                        state.lock.unlock()
                        return
                    }
                    let item = items[state.next]
                    state.next += 1
                    state.lock.unlock()
                    do {
                        try body(item)
                    } catch {
                        state.lock.lock()
                        if state.firstError == nil { state.firstError = error }
                        state.lock.unlock()
                        return
                    }
                }
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        group.wait()
        if let error = state.firstError { throw error }
    }
}
