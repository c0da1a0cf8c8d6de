import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// Architectures the Monomial tests run on: the Small CNN Zoo (3 conv 3×3 + dense) and MLPs with
/// L = 2, 3, 4 (so first = last − 1, one hidden layer, two hidden layers).
enum MonomialTestArchitecture: String, CaseIterable, CustomStringConvertible, Sendable {
    case smallCNNZoo, mlp2, mlp3, mlp4

    var architecture: FeedforwardArchitecture {
        switch self {
        case .smallCNNZoo: return .smallCNNZoo()
        case .mlp2: return try! .mlp(widths: [3, 5, 2])
        case .mlp3: return try! .mlp(widths: [2, 6, 4, 3])
        case .mlp4: return try! .mlp(widths: [3, 5, 4, 6, 2])
        }
    }

    var description: String { rawValue }
}

/// Random N(0, 1) features `[B, C, …]` for `architecture`.
func monomialRandomFeatures(_ architecture: FeedforwardArchitecture, batch: Int, channels: Int,
                            rng: inout SeededGenerator) -> WeightSpaceFeatures {
    let l = architecture.layerCount
    return WeightSpaceFeatures(
        unchecked: (0..<l).map { Tensor.normal([batch, channels] + architecture.weightShape(layer: $0), rng: &rng) },
        biases: (0..<l).map { Tensor.normal([batch, channels] + architecture.biasShape(layer: $0), rng: &rng) })
}

/// A random element of `kind`'s group with the given scale range.
func monomialRandomElement(_ architecture: FeedforwardArchitecture, kind: NeuronGroupElement.Kind,
                           scaleRange: (Float, Float) = (0.5, 2), rng: inout SeededGenerator) -> NeuronGroupElement {
    NeuronGroupElement.random(widths: architecture.widths, kind: kind, scaleRange: scaleRange, rng: &rng)
}

/// max relative deviation of f(gU) from g·f(U) over `trials` random elements.
func monomialEquivarianceDeviation(_ architecture: FeedforwardArchitecture, input: WeightSpaceFeatures,
                                   kind: NeuronGroupElement.Kind, scaleRange: (Float, Float) = (0.5, 2),
                                   trials: Int = 10, seed: UInt64 = 7,
                                   _ f: (WeightSpaceFeatures) -> WeightSpaceFeatures) throws -> Float {
    var rng = SeededGenerator(seed: seed)
    return try checkEquivariance(input: input, trials: trials, sample: {
        let g = monomialRandomElement(architecture, kind: kind, scaleRange: scaleRange, rng: &rng)
        return ({ try g.apply(to: $0) }, { try g.apply(to: $0) })
    }, tensors: { $0.weights + $0.biases }, f)
}

/// max relative deviation of f(gU) from f(U) over `trials` random elements.
func monomialInvarianceDeviation(_ architecture: FeedforwardArchitecture, input: WeightSpaceFeatures,
                                 kind: NeuronGroupElement.Kind, scaleRange: (Float, Float) = (0.5, 2),
                                 trials: Int = 10, seed: UInt64 = 9,
                                 _ f: (WeightSpaceFeatures) -> Tensor) throws -> Float {
    var rng = SeededGenerator(seed: seed)
    return try checkInvariance(input: input, trials: trials, sample: {
        let g = monomialRandomElement(architecture, kind: kind, scaleRange: scaleRange, rng: &rng)
        return { try g.apply(to: $0) }
    }, f)
}

/// All weights and biases of a feature set flattened into one `[N]` variable (a gradient-check output).
func monomialFlatten(_ x: WeightSpaceVariables) -> Variable {
    Variable.concatenate((x.weights + x.biases).map { $0.reshaped([-1]) }, alongAxis: 0)
}

/// Finite-difference check of the tape gradient of ⟨objective(), R⟩ with respect to `parameters`
/// (central differences in Double, step ε·max(1, |θ|)); returns the largest
/// |analytic − numeric| / max(1, |numeric|) over up to `maxEntries` entries per parameter.
func monomialParameterGradientError(_ parameters: [Parameter], epsilon: Float = 1e-2, maxEntries: Int = 24,
                                    seed: UInt64 = 3, _ objective: (Tape?) -> Variable) -> Float {
    checkParameterGradients(parameters, epsilon: epsilon, maxEntries: maxEntries, seed: seed, objective)
}

/// Tensors whose entries are a shuffled evenly spaced grid over [−range/2, range/2), so that
/// sorting-based statistics have no exact ties for finite differences to cross.
func monomialSpacedTensor(_ shape: [Int], range: Float = 2, rng: inout SeededGenerator) -> Tensor {
    let n = shape.reduce(1, *)
    let perm = rng.permutation(n)
    return Tensor(shape: shape, scalars: perm.map { (Float($0) - Float(n) / 2) * range / Float(n) })
}
