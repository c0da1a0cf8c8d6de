import Tensors

/// A tensor flowing through a computation that may be recorded on a ``Tape``.
///
/// A variable with no tape (``init(_:)``) is a plain constant: operations on it record nothing,
/// which is how inference runs without autodiff overhead ("no-grad" mode). A variable on a tape
/// either needs a gradient (it was produced from a watched leaf) or is a constant attached to the
/// tape so that later operations know where to record.
public struct Variable {
    /// The forward value.
    public let value: Tensor
    /// The tape this variable belongs to, if any.
    public let tape: Tape?
    /// Index on the tape; −1 when no gradient flows to this variable.
    @usableFromInline let index: Int

    @usableFromInline
    init(value: Tensor, tape: Tape?, index: Int) {
        self.value = value
        self.tape = tape
        self.index = index
    }

    /// A constant with no tape: operations on it are not recorded.
    public init(_ value: Tensor) { self.init(value: value, tape: nil, index: -1) }

    /// Whether gradients flow back through this variable.
    @inlinable public var requiresGradient: Bool { index >= 0 }
    /// The shape of the value.
    @inlinable public var shape: [Int] { value.shape }
    /// The rank of the value.
    @inlinable public var rank: Int { value.rank }

    /// The same value, cut off from the tape (no gradient flows through it).
    public var detached: Variable { Variable(value: value, tape: tape, index: -1) }

    /// Records the result of an operation over `inputs`.
    ///
    /// When no input needs a gradient, nothing is recorded and the result is a constant (on the
    /// inputs' tape, if any). `pullback` maps the output gradient to one gradient per input, in
    /// order; it may return nil for inputs whose ``requiresGradient`` is false.
    @inlinable
    public static func record(_ value: Tensor, inputs: [Variable],
                              pullback: @escaping (Tensor) -> [Tensor?]) -> Variable {
        var tape: Tape? = nil
        var anyGradient = false
        for input in inputs {
            if let t = input.tape {
                precondition(tape == nil || tape === t, "operands belong to different tapes")
                tape = t
            }
            if input.index >= 0 { anyGradient = true }
        }
        guard anyGradient, let tape else { return Variable(value: value, tape: tape, index: -1) }
        return tape.record(value, inputs: inputs.map(\.index), pullback: pullback)
    }
}
