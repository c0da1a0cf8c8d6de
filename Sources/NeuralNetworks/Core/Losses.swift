import Tensors
import Autograd

/// The training losses, each the mean over the batch.
public enum Loss {
    /// Mean squared error ⟨(ŷ − y)²⟩ over every element.
    public static func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
        Variable.meanSquaredError(prediction, target)
    }

    /// Binary cross-entropy on logits, computed stably.
    public static func binaryCrossEntropyWithLogits(_ logits: Variable, _ targets: Tensor) -> Variable {
        Variable.binaryCrossEntropyWithLogits(logits: logits, targets: targets)
    }

    /// Softmax cross-entropy for integer class labels; logits `[N, C]`.
    public static func softmaxCrossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
        Variable.softmaxCrossEntropy(logits: logits, labels: labels)
    }
}

extension Module {
    /// Runs `body` on a fresh tape (in training mode semantics of the module's current state) and
    /// returns the scalar loss and the gradient of every parameter by path.
    ///
    /// The tape is consumed: no graph outlives this call.
    public func lossAndGradients(_ body: (Tape) throws -> Variable) rethrows -> (loss: Float, gradients: Gradients) {
        let tape = Tape()
        for p in parameters { _ = tape.watch(p) }
        let loss = try body(tape)
        let value = loss.value.sum()
        return (value, tape.gradients(of: loss))
    }
}
