import Foundation
import Tensors

/// How a layer's parameters are drawn at construction. Every choice takes an explicit generator,
/// so the same seed builds the same network.
public enum Initializer: Sendable, Equatable, Codable {
    /// Glorot/Xavier uniform: U(−a, a), a = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// Glorot/Xavier normal: N(0, 2 / (fanIn + fanOut)).
    case glorotNormal
    /// He/Kaiming uniform for ReLU: U(−a, a), a = √(6 / fanIn).
    case heUniform
    /// He/Kaiming normal for ReLU: N(0, 2 / fanIn).
    case heNormal
    /// PyTorch's default for Linear/Conv: U(−1/√fanIn, 1/√fanIn).
    case lecunUniform
    /// N(0, std²).
    case normal(std: Float)
    /// Normal truncated at ±2 std (resampled).
    case truncatedNormal(std: Float)
    /// U(low, high).
    case uniform(low: Float, high: Float)
    /// Every element equal to `value`.
    case constant(Float)

    /// All zeros.
    public static let zeros = Initializer.constant(0)

    /// Samples a tensor of `shape` for a layer with the given fan-in and fan-out.
    public func sample(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> Tensor {
        let fi = Float(Swift.max(fanIn, 1)), fo = Float(Swift.max(fanOut, 1))
        switch self {
        case .glorotUniform:
            let a = (6 / (fi + fo)).squareRoot()
            return Tensor.uniform(shape, low: -a, high: a, rng: &rng)
        case .glorotNormal:
            return Tensor.normal(shape, std: (2 / (fi + fo)).squareRoot(), rng: &rng)
        case .heUniform:
            let a = (6 / fi).squareRoot()
            return Tensor.uniform(shape, low: -a, high: a, rng: &rng)
        case .heNormal:
            return Tensor.normal(shape, std: (2 / fi).squareRoot(), rng: &rng)
        case .lecunUniform:
            let a = 1 / fi.squareRoot()
            return Tensor.uniform(shape, low: -a, high: a, rng: &rng)
        case .normal(let std):
            return Tensor.normal(shape, std: std, rng: &rng)
        case .truncatedNormal(let std):
            return Tensor.truncatedNormal(shape, std: std, rng: &rng)
        case let .uniform(low, high):
            return Tensor.uniform(shape, low: low, high: high, rng: &rng)
        case .constant(let v):
            return Tensor(repeating: v, shape: shape)
        }
    }
}
