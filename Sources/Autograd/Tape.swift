import Tensors

/// A reverse-mode autodiff tape: records each differentiable operation of one computation, then
/// replays their pullbacks backwards.
///
/// Use one tape per forward/backward pass (and one per thread). ``gradients(of:seed:)`` consumes
/// the tape: every recorded pullback (and the tensors it captured) is released, so no graph is
/// retained after a backward pass.
///
/// ```swift
/// let tape = Tape()
/// let w = tape.watch(weight)            // a Parameter, gradient wanted
/// let x = tape.constant(input)          // data, no gradient
/// let loss = (x.matmul(w)).relu().mean()
/// let grads = tape.gradients(of: loss)
/// let dW = grads[weight]
/// ```
public final class Tape {
    @usableFromInline
    struct Node {
        /// Tape indices of the inputs (−1 for inputs that need no gradient).
        var inputs: [Int]
        /// Maps the output's gradient to one gradient per input (nil where not needed).
        var pullback: ((Tensor) -> [Tensor?])?
    }

    @usableFromInline var nodes: [Node] = []
    private var watched: [ObjectIdentifier: Int] = [:]
    private var watchedParameters: [ObjectIdentifier: Parameter] = [:]

    /// Creates an empty tape.
    public init() {}

    /// The number of recorded nodes (leaves included).
    public var recordedCount: Int { nodes.count }

    /// A differentiable leaf for a raw tensor; its gradient is read with `gradients[variable]`.
    public func variable(_ value: Tensor) -> Variable {
        nodes.append(Node(inputs: [], pullback: nil))
        return Variable(value: value, tape: self, index: nodes.count - 1)
    }

    /// Data that needs no gradient, attached to this tape so that operations with it are recorded.
    public func constant(_ value: Tensor) -> Variable {
        Variable(value: value, tape: self, index: -1)
    }

    /// The leaf for `parameter` on this tape (the same leaf every time it is watched, so a shared
    /// or tied parameter gets one accumulated gradient).
    public func watch(_ parameter: Parameter) -> Variable {
        let id = ObjectIdentifier(parameter)
        if let index = watched[id] { return Variable(value: parameter.value, tape: self, index: index) }
        let v = variable(parameter.value)
        watched[id] = v.index
        watchedParameters[id] = parameter
        return v
    }

    /// Records an operation's result. Called by every differentiable operation.
    @usableFromInline
    func record(_ value: Tensor, inputs: [Int], pullback: @escaping (Tensor) -> [Tensor?]) -> Variable {
        nodes.append(Node(inputs: inputs, pullback: pullback))
        return Variable(value: value, tape: self, index: nodes.count - 1)
    }

    /// Runs the backward pass from `output` and returns the gradient of every recorded leaf.
    ///
    /// - Parameter seed: the gradient of the final objective with respect to `output`; ones by
    ///   default (so a scalar loss gets d loss / d loss = 1).
    /// - Note: the tape is emptied afterwards; call ``gradients(of:seed:)`` once per tape.
    /// - Complexity: one pullback per recorded operation.
    public func gradients(of output: Variable, seed: Tensor? = nil) -> Gradients {
        precondition(output.tape === self || output.tape == nil, "output was recorded on another tape")
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        if output.index >= 0 {
            let s = seed ?? Tensor(ones: output.value.shape)
            precondition(s.shape == output.value.shape, "seed shape \(s.shape) ≠ output shape \(output.value.shape)")
            grads[output.index] = s
            for i in stride(from: output.index, through: 0, by: -1) {
                guard let pullback = nodes[i].pullback, let g = grads[i] else { continue }
                let inputGrads = pullback(g)
                let inputs = nodes[i].inputs
                for (k, input) in inputs.enumerated() where input >= 0 {
                    guard k < inputGrads.count, let ig = inputGrads[k] else { continue }
                    if grads[input] == nil { grads[input] = ig } else { grads[input]! += ig }
                }
                // Intermediate gradients are no longer needed once propagated.
                if !nodes[i].inputs.isEmpty { grads[i] = nil }
                nodes[i].pullback = nil
            }
        }
        var byParameter: [ObjectIdentifier: Tensor] = [:]
        for (id, index) in watched {
            if let g = grads[index] { byParameter[id] = g }
        }
        let leafGrads = grads
        nodes.removeAll()
        watched.removeAll()
        watchedParameters.removeAll()
        return Gradients(byIndex: leafGrads, byParameter: byParameter)
    }
}

/// The gradients produced by one backward pass.
public struct Gradients {
    let byIndex: [Tensor?]
    let byParameter: [ObjectIdentifier: Tensor]

    /// The gradient for a leaf created with ``Tape/variable(_:)`` (zeros if it did not influence
    /// the output).
    public subscript(_ variable: Variable) -> Tensor {
        guard variable.index >= 0, variable.index < byIndex.count, let g = byIndex[variable.index] else {
            return Tensor(zeros: variable.value.shape)
        }
        return g
    }

    /// The gradient for a watched parameter (zeros if it did not influence the output).
    public subscript(_ parameter: Parameter) -> Tensor {
        byParameter[ObjectIdentifier(parameter)] ?? Tensor(zeros: parameter.value.shape)
    }

    /// Whether the parameter received any gradient.
    public func contains(_ parameter: Parameter) -> Bool { byParameter[ObjectIdentifier(parameter)] != nil }
}

/// A trainable tensor with a stable identity: layers own parameters, tapes watch them, optimizers
/// update them in place.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// Creates a parameter holding `value`.
    public init(_ value: Tensor) { self.value = value }
    /// The shape of the value.
    public var shape: [Int] { value.shape }
}
