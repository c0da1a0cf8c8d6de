import Tensors
import Autograd

/// A lookup table: integer ids → rows of `table` (`[count, dimension]`).
///
/// The table is initialised N(0, 1) like PyTorch's `nn.Embedding`; set `trainable` false to
/// freeze it (a frozen word2vec table, as in the AGNews transformer zoo).
public final class Embedding: Module {
    /// `[count, dimension]`, one row per id, initialised N(0, 1).
    public let table: Parameter
    /// When false, gradients do not flow into the table.
    public var trainable: Bool

    /// Creates a table of `count` rows of width `dimension`, drawn from N(0, 1) with `rng`.
    public init(count: Int, dimension: Int, trainable: Bool = true, rng: inout SeededGenerator) {
        table = Parameter(Tensor.normal([count, dimension], rng: &rng))
        self.trainable = trainable
        super.init()
    }

    /// Embeds `ids` (shape `idShape`, flattened) into `idShape + [dimension]`.
    public func callAsFunction(_ ids: [Int], shape idShape: [Int], tape: Tape?) -> Variable {
        let t = trainable ? table.variable(on: tape) : (tape?.constant(table.value) ?? Variable(table.value))
        return t.gathering(ids, alongAxis: 0).reshaped(idShape + [table.shape[1]])
    }
}
