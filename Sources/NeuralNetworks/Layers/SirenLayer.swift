import Foundation
import Tensors
import Autograd

/// A SIREN layer: y = sin(ω₀·(x·Wᵀ + b)) (Sitzmann et al., 2020).
///
/// Initialisation keeps activations well distributed through depth: the first layer draws
/// W ~ U(−1/n, 1/n), later layers W ~ U(−√(6/n)/ω₀, √(6/n)/ω₀), with n the fan-in; biases
/// U(−1/√n, 1/√n). The final layer of a SIREN is a plain ``Dense``.
public final class SirenLayer: Module, Layer {
    /// The affine map x·Wᵀ + b, initialised as described above.
    public let linear: Dense
    /// ω₀, the factor applied before the sine.
    public let frequency: Float

    /// Creates an `inFeatures → outFeatures` sine layer with the SIREN initialisation.
    ///
    /// - Parameters:
    ///   - frequency: ω₀; 30 by default, as in the SIREN paper.
    ///   - isFirst: whether this is the network's first layer, which draws W ~ U(−1/n, 1/n).
    public init(_ inFeatures: Int, _ outFeatures: Int, frequency: Float = 30, isFirst: Bool,
                rng: inout SeededGenerator) {
        let n = Float(inFeatures)
        let bound = isFirst ? 1 / n : (6 / n).squareRoot() / frequency
        linear = Dense(inFeatures, outFeatures, initializer: .uniform(low: -bound, high: bound),
                       biasInitializer: .uniform(low: -1 / n.squareRoot(), high: 1 / n.squareRoot()), rng: &rng)
        self.frequency = frequency
        super.init()
    }

    /// `[..., inFeatures] → [..., outFeatures]`, sin(ω₀·(x·Wᵀ + b)).
    public func callAsFunction(_ x: Variable) -> Variable { (linear(x) * frequency).sin() }
}
