import Foundation

/// A process-wide, reference-counted "BLAS runs on one thread" scope.
///
/// OpenBLAS's thread count is global, and a product can round differently with another count (its
/// blocking follows the thread count). Work that must be bit-reproducible — zoo members, a run
/// compared with a rerun — holds this scope. Several holders may overlap in one process (parallel
/// generators, verifiers, tests), so a plain save-set-restore would let the first to finish restore
/// the old count under the others: the first ``enter()`` saves the count and sets 1; the last
/// ``leave()`` restores it.
public enum SingleThreadedBLAS {
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var depth = 0
        var saved = 1
    }
    private static let state = State()

    /// Enters the scope (sets one BLAS thread if no one else holds the scope).
    public static func enter() {
        state.lock.lock()
        defer { state.lock.unlock() }
        if state.depth == 0 {
            state.saved = BLAS.threadCount
            BLAS.threadCount = 1
        }
        state.depth += 1
    }

    /// Leaves the scope (restores the saved count when the last holder leaves).
    public static func leave() {
        state.lock.lock()
        defer { state.lock.unlock() }
        state.depth -= 1
        if state.depth == 0 { BLAS.threadCount = state.saved }
    }

    /// Runs `body` inside the scope.
    public static func run<R>(_ body: () throws -> R) rethrows -> R {
        enter()
        defer { leave() }
        return try body()
    }
}
