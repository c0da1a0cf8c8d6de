/// A module that draws from a random generator of its own in training mode (dropout).
///
/// Its masks depend on how many draws came before, so two forward passes of such a model must
/// run in a fixed order to be reproducible: ``Module/drawsRandomNumbersInTraining`` tells a
/// parallel trainer when it must not run them side by side.
public protocol StochasticModule: Module {
    /// Whether a forward pass in training mode draws random numbers (false at a rate of 0).
    var drawsRandomNumbers: Bool { get }
}

extension Module {
    /// Whether this module or any module below it draws random numbers in training mode.
    public var drawsRandomNumbersInTraining: Bool {
        if let stochastic = self as? StochasticModule, stochastic.drawsRandomNumbers { return true }
        return namedChildren().contains { $0.module.drawsRandomNumbersInTraining }
    }
}
