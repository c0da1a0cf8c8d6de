import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
@testable import Metanetworks
import _TestSupport

/// Shared fixtures for the Transformer-NFN and quasi Transformer-NFN tests.
enum TNFNFixture {
    /// Block sizes for one table row.
    struct Dims: CustomStringConvertible, Sendable {
        var heads: Int, model: Int, key: Int, value: Int, feedForward: Int
        var description: String { "h=\(heads) D=\(model) Dk=\(key) Dv=\(value) DA=\(feedForward)" }

        static let small = Dims(heads: 2, model: 4, key: 2, value: 2, feedForward: 6)
        static let uneven = Dims(heads: 3, model: 5, key: 3, value: 2, feedForward: 7)
        /// The Small Transformer Zoo's block.
        static let zoo = Dims(heads: 2, model: 32, key: 16, value: 16, feedForward: 64)
    }

    static func block(batch b: Int, channels c: Int, _ d: Dims, std: Float = 0.5,
                      rng: inout SeededGenerator) -> TransformerBlockFeatures {
        TransformerBlockFeatures(
            query: Tensor.normal([b, c, d.heads, d.model, d.key], std: std, rng: &rng),
            key: Tensor.normal([b, c, d.heads, d.model, d.key], std: std, rng: &rng),
            value: Tensor.normal([b, c, d.heads, d.model, d.value], std: std, rng: &rng),
            output: Tensor.normal([b, c, d.heads, d.value, d.model], std: std, rng: &rng),
            feedForwardInWeight: Tensor.normal([b, c, d.model, d.feedForward], std: std, rng: &rng),
            feedForwardInBias: Tensor.normal([b, c, d.feedForward], std: std, rng: &rng),
            feedForwardOutWeight: Tensor.normal([b, c, d.feedForward, d.model], std: std, rng: &rng),
            feedForwardOutBias: Tensor.normal([b, c, d.model], std: std, rng: &rng))
    }

    /// A random block group element (heads × GL(κ ≤ 100) × π_O × π_A).
    static func element(_ d: Dims, maxConditionNumber: Float = 100, rng: inout SeededGenerator) throws -> AttentionGroupElement.Block {
        try AttentionGroupElement.random(
            blockCount: 1, heads: d.heads, modelDimension: d.model, keyDimension: d.key, valueDimension: d.value,
            feedForwardDimension: d.feedForward,
            options: .init(maxConditionNumber: maxConditionNumber), rng: &rng).blocks[0]
    }

    /// The largest per-tensor relative deviation (each tensor relative to its own largest entry),
    /// so that a small tensor's error is not hidden behind a large one.
    static func perTensorDeviation(_ a: [Tensor], _ b: [Tensor]) -> Float {
        zip(a, b).map { relativeDeviation([$0], [$1]) }.max() ?? 0
    }

    /// Small Transformer Zoo architecture with configurable block sizes (2 blocks).
    static func architecture(_ d: Dims) -> SmallTransformer.Configuration {
        var a = SmallTransformer.Configuration()
        a.modelDimension = d.model; a.heads = d.heads; a.keyDimension = d.key; a.valueDimension = d.value
        a.feedForwardDimension = d.feedForward
        return a
    }

    /// A batch of real (randomly initialised) transformers' weight spaces.
    static func zoo(_ a: SmallTransformer.Configuration, members: Int, std: Float = 0.3,
                    rng: inout SeededGenerator) throws -> TransformerWeightSpaceFeatures {
        try TransformerWeightSpaceFeatures.batched((0..<members).map { _ in
            TransformerWeightSpaceFeatures(model: SmallTransformer(a, initStandardDeviation: std, rng: &rng))
        })
    }

    /// All eight block tensors flattened into one vector (for gradient checks).
    static func flatten(_ y: TransformerBlockVariables) -> Variable {
        Variable.concatenate(y.variables.map { $0.reshaped([-1]) }, alongAxis: 0)
    }

    /// Finite-difference check of the gradients of every parameter of `module` (up to
    /// `maxEntries` random entries each): the objective is ⟨forward(·), R⟩ for a fixed random R,
    /// analytic gradients from the tape, central differences with step ε·max(1, |θ|) accumulated in
    /// Double. Returns the largest |analytic − numeric| / max(1, |numeric|). With several
    /// `epsilons`, each entry keeps its best step: a piecewise-smooth model (ReLU, LayerNorm over
    /// few values) can have a kink within the larger step, where any difference quotient is off.
    static func parameterGradientError(_ module: Module, maxEntries: Int = 16, epsilons: [Float] = [1e-2], seed: UInt64 = 3,
                                       _ forward: (Tape?) throws -> Variable) rethrows -> Float {
        var rng = SeededGenerator(seed: seed)
        let tape = Tape()
        let out = try forward(tape)
        let projection = Tensor.normal(out.shape, rng: &rng)
        let grads = tape.gradients(of: out, seed: projection)
        func objective() throws -> Double {
            let y = try forward(nil).value
            var acc: Double = 0
            for i in 0..<y.count { acc += Double(y[flat: i]) * Double(projection[flat: i]) }
            return acc
        }
        var worst: Float = 0
        for p in module.parameters {
            let analytic = grads[p]
            let n = p.value.count
            let indices = n <= maxEntries ? Array(0..<n) : Array(rng.permutation(n).prefix(maxEntries))
            for i in indices {
                let original = p.value[flat: i]
                var best = Float.infinity
                for epsilon in epsilons {
                    let h = epsilon * Swift.max(1, Swift.abs(original))
                    p.value[flat: i] = original + h
                    let plus = try objective()
                    p.value[flat: i] = original - h
                    let minus = try objective()
                    p.value[flat: i] = original
                    let numeric = (plus - minus) / Double(2 * h)
                    let err = Float(Swift.abs(Double(analytic[flat: i]) - numeric) / Swift.max(1, Swift.abs(numeric)))
                    best = Swift.min(best, err.isNaN ? .infinity : err)
                }
                worst = Swift.max(worst, best)
            }
        }
        return worst
    }
}
