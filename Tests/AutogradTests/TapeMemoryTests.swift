import Testing
@_spi(Testing) import Tensors
import Autograd

/// Proves that a tape does not keep its graph alive: after a backward pass (or when a tape is
/// dropped without one) every intermediate tensor is freed.
///
/// Two complementary measurements:
/// - **Weak references** to the storage of every intermediate result. Exact and immune to other
///   tests: a buffer is either still referenced by something or it is gone.
/// - **`TensorBuffer.liveCount`**, the process-wide count of live storages. It also catches storage
///   that the test cannot name (tensors captured inside pullbacks, gradients cached by the tape),
///   but Swift Testing runs other suites concurrently in the same process, and their allocations
///   move the count too. So the count test repeats the step 50 times per round, where a leak of
///   even one buffer per step adds 50, and fails only if *every one* of three rounds grew by more
///   than a slack of 25: a concurrent test would have to hold on to more and more storage in each
///   of the three windows to fake a leak, and a real leak of ~20 buffers per step (≈ 1000 per round)
///   is far beyond what concurrent frees could hide.
///
/// `.serialized` keeps this suite's own tests from overlapping each other.
@Suite(.serialized) struct TapeMemoryTests {
    /// A weak reference to one tensor's storage.
    struct WeakStorage {
        weak var buffer: TensorBuffer?
        init(_ tensor: Tensor) { buffer = tensor.storageBuffer }
    }

    static let classes = 4

    /// A small model's parameters and a batch, created outside the measured scope.
    struct Fixture {
        let weight: Parameter, bias: Parameter, input: Tensor, labels: [Int]
        init() {
            var rng = SeededGenerator(seed: 11)
            weight = Parameter(Tensor.normal([5, 6], rng: &rng))
            bias = Parameter(Tensor.normal([6], rng: &rng))
            input = Tensor.normal([3, 5], rng: &rng)
            labels = [0, 3, 1]
        }
    }

    /// One forward pass through many kinds of op, returning the loss and weak references to every
    /// intermediate result (leaves excluded: their storage belongs to the parameters).
    @inline(never)
    static func forward(_ f: Fixture, on tape: Tape) -> (loss: Variable, intermediates: [WeakStorage]) {
        var seen: [WeakStorage] = []
        func track(_ v: Variable) -> Variable {
            seen.append(WeakStorage(v.value))
            return v
        }
        let w = tape.watch(f.weight), b = tape.watch(f.bias), x = tape.constant(f.input)
        let h = track(track(track(track(x.matmul(w) + b).layerNormalized()).tanh()) * 2)
        let gated = track(track(h.sigmoid()) * track(h.exp().clamped(min: 0, max: 5)))
        let joined = track(Variable.concatenate([h, gated], alongAxis: 1))
        let logits = track(track(joined.slice(axis: 1, 0..<classes)).transposed().transposed())
        let ce = track(Variable.softmaxCrossEntropy(logits: logits, labels: f.labels))
        let spread = track(track(h.variance(alongAxes: [1])).mean())
        let peak = track(track(h.max(alongAxes: [1])).sum())
        let loss = track(track(ce + spread * 0.1) + track(peak * 0.01))
        return (loss, seen)
    }

    /// Forward and backward; returns the tape's node count before and after the backward pass,
    /// and weak references to every intermediate. Everything else dies when this returns.
    @inline(never)
    static func step(_ f: Fixture) -> (recordedBefore: Int, recordedAfter: Int, intermediates: [WeakStorage]) {
        let tape = Tape()
        let (loss, intermediates) = forward(f, on: tape)
        let before = tape.recordedCount
        let grads = tape.gradients(of: loss)
        #expect(grads[f.weight].shape == [5, 6])
        return (before, tape.recordedCount, intermediates)
    }

    @Test func backwardPassEmptiesTheTape() {
        let r = Self.step(Fixture())
        #expect(r.recordedBefore > 20, "the computation should record many nodes")
        #expect(r.recordedAfter == 0)
    }

    @Test func backwardPassReleasesEveryIntermediate() {
        let r = Self.step(Fixture())
        #expect(r.intermediates.count > 15)
        let alive = r.intermediates.indices.filter { r.intermediates[$0].buffer != nil }
        #expect(alive.isEmpty, "intermediates still alive after backward: \(alive)")
    }

    @Test func tapeDroppedWithoutBackwardReleasesItsGraph() {
        // Pullbacks capture tensors, never variables (which hold the tape): otherwise
        // tape → pullback → variable → tape would be a cycle and an abandoned tape would leak.
        @inline(never) func abandon(_ f: Fixture) -> [WeakStorage] {
            let tape = Tape()
            return Self.forward(f, on: tape).intermediates
        }
        let intermediates = abandon(Fixture())
        let alive = intermediates.indices.filter { intermediates[$0].buffer != nil }
        #expect(alive.isEmpty, "intermediates kept alive by an abandoned tape: \(alive)")
    }

    @Test func weakReferenceCheckCanFail() {
        // Control: while the tape still holds its pullbacks, the intermediates they captured are
        // alive, so the checks above really observe the tape releasing them.
        let f = Fixture()
        let tape = Tape()
        let (loss, intermediates) = Self.forward(f, on: tape)
        // Not counting the loss, which `loss` itself holds: e.g. the layer-norm, tanh and sigmoid
        // outputs are captured by their own pullbacks.
        let heldByTape = intermediates.dropLast().filter { $0.buffer != nil }.count
        #expect(heldByTape >= 3)
        #expect(tape.recordedCount > 0)
        _ = tape.gradients(of: loss)
    }

    @Test func liveStorageCountDoesNotGrowWithIterations() {
        let f = Fixture()
        _ = Self.step(f)   // warm-up: any one-time allocations happen outside the measurement
        let iterations = 50, slack = 25
        var growth: [Int] = []
        for _ in 0..<3 {
            let before = TensorBuffer.liveCount
            for _ in 0..<iterations { _ = Self.step(f) }
            growth.append(TensorBuffer.liveCount - before)
        }
        #expect(growth.min()! <= slack,
                "live tensor storage grew by \(growth) over 3 rounds of \(iterations) forward/backward passes")
    }
}
