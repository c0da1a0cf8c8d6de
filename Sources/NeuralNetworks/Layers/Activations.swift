import Foundation
import Tensors
import Autograd

/// max(0, x).
public final class ReLU: Module, Layer {
    public override init() { super.init() }
    /// Elementwise max(0, x); any shape.
    public func callAsFunction(_ x: Variable) -> Variable { x.relu() }
}

/// tanh(x).
public final class Tanh: Module, Layer {
    public override init() { super.init() }
    /// Elementwise tanh(x); any shape.
    public func callAsFunction(_ x: Variable) -> Variable { x.tanh() }
}

/// sin(ω₀·x), the SIREN activation.
public final class Sine: Module, Layer {
    /// ω₀, the factor applied to the input before the sine.
    public let frequency: Float
    /// Creates sin(ω₀·x).
    ///
    /// - Parameter frequency: ω₀; 30 by default, as in the SIREN paper.
    public init(frequency: Float = 30) { self.frequency = frequency; super.init() }
    /// Elementwise sin(ω₀·x); any shape.
    public func callAsFunction(_ x: Variable) -> Variable { (x * frequency).sin() }
}

/// The identity.
public final class Identity: Module, Layer {
    public override init() { super.init() }
    /// Returns `x` unchanged.
    public func callAsFunction(_ x: Variable) -> Variable { x }
}

/// Flattens every axis after the first: `[N, …] → [N, ∏…]`.
public final class Flatten: Module, Layer {
    public override init() { super.init() }
    /// `[N, …] → [N, ∏…]`; rank ≥ 1.
    public func callAsFunction(_ x: Variable) -> Variable { x.reshaped([x.shape[0], -1]) }
}

/// Global average pooling over the spatial axes: `[N, C, H, W] → [N, C]`.
public final class GlobalAveragePool: Module, Layer {
    public override init() { super.init() }
    /// `[N, C, H, W] → [N, C]`, the mean over H·W.
    public func callAsFunction(_ x: Variable) -> Variable { x.globalAveragePool2d() }
}

/// The pointwise activations the zoos use, by name (`relu`, `tanh`, `sine`, `identity`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, tanh, sine, identity

    /// A fresh layer computing this activation (`sine` uses ω₀ = `sineFrequency`).
    public func makeLayer(sineFrequency: Float = 30) -> Module & Layer {
        switch self {
        case .relu: return ReLU()
        case .tanh: return Tanh()
        case .sine: return Sine(frequency: sineFrequency)
        case .identity: return Identity()
        }
    }
}

/// Randomly zeroes elements with probability `rate` in training mode, scaling survivors by
/// 1/(1 − rate) (inverted dropout); the identity in evaluation mode.
///
/// The mask comes from the layer's own generator, seeded at construction, so training is
/// reproducible.
public final class Dropout: Module, Layer {
    /// The probability of zeroing an element, in [0, 1).
    public let rate: Float
    private var rng: SeededGenerator

    /// Creates a dropout layer with its own seeded mask generator.
    ///
    /// - Parameters:
    ///   - rate: drop probability in [0, 1); traps otherwise. A rate of 0 makes the layer the identity.
    ///   - seed: seeds the layer's private mask generator.
    public init(rate: Float, seed: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
        self.rate = rate
        rng = SeededGenerator(seed: seed)
        super.init()
    }

    /// In training mode with `rate > 0`, multiplies `x` by a fresh random mask of 0 and 1/(1 − rate)
    /// (recorded as a constant on `x`'s tape); otherwise returns `x`. Advances the layer's generator.
    public func callAsFunction(_ x: Variable) -> Variable {
        guard isTraining, rate > 0 else { return x }
        let keep = 1 - rate, scale = 1 / keep
        var mask = Tensor(uninitializedShape: x.shape)
        mask.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = rng.nextUnitFloat() < keep ? scale : 0 }
        }
        let m = x.tape?.constant(mask) ?? Variable(mask)
        return x * m
    }
}

/// Layers applied in order.
public final class Sequential: Module, Layer {
    /// The layers, in application order (each is also a ``Layer``).
    public let layers: [Module]

    /// - Precondition: every element conforms to ``Layer``.
    public init(_ layers: [Module & Layer]) {
        self.layers = layers
        super.init()
    }

    /// Applies each layer in turn to `x`.
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for layer in layers { h = (layer as! Layer)(h) }
        return h
    }
}
