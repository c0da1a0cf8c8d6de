import Synchronization

/// The reference-counted, contiguous Float32 storage behind ``Tensor``.
///
/// A `final class` so that ``Tensor`` can be a value type with copy-on-write: a tensor copies its
/// buffer only when it is mutated while shared (`isKnownUniquelyReferenced`).
/// Every live buffer is counted, so tests can prove that an autograd tape releases its graph.
public final class TensorBuffer: @unchecked Sendable {
    /// The first element. Owned by this buffer; freed in `deinit`.
    public let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    private static let live = Atomic<Int>(0)

    /// The number of `TensorBuffer`s currently alive in the process.
    ///
    /// Used by leak tests: record it, run a computation, drop its results, compare.
    public static var liveCount: Int { live.load(ordering: .relaxed) }

    /// Allocates `count` uninitialised elements (callers must write every element).
    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        // At least one element so `base` is always a valid, unique pointer.
        self.base = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
        Self.live.add(1, ordering: .relaxed)
    }

    /// Allocates `count` elements set to `value`.
    @usableFromInline
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// A fresh buffer holding a copy of this one's elements.
    @usableFromInline
    @inline(never)
    func copy() -> TensorBuffer {
        let other = TensorBuffer(uninitializedCount: count)
        other.base.update(from: base, count: count)
        return other
    }

    deinit {
        base.deallocate()
        Self.live.subtract(1, ordering: .relaxed)
    }
}
