import Foundation
import Tensors
import Autograd

/// max(0, x).
public final class ReLU: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Variable) -> Variable { x.relu() }
}

/// tanh(x).
public final class Tanh: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Variable) -> Variable { x.tanh() }
}

/// sin(ω₀·x), the SIREN activation.
public final class Sine: Module, Layer {
    public let frequency: Float
    public init(frequency: Float = 30) { self.frequency = frequency; super.init() }
    public func callAsFunction(_ x: Variable) -> Variable { (x * frequency).sin() }
}

/// The identity.
public final class Identity: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Variable) -> Variable { x }
}

/// Flattens every axis after the first: `[N, …] → [N, ∏…]`.
public final class Flatten: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Variable) -> Variable { x.reshaped([x.shape[0], -1]) }
}

/// Global average pooling over the spatial axes: `[N, C, H, W] → [N, C]`.
public final class GlobalAveragePool: Module, Layer {
    public override init() { super.init() }
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
    public let rate: Float
    private var rng: SeededGenerator

    public init(rate: Float, seed: UInt64 = 0) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
        self.rate = rate
        rng = SeededGenerator(seed: seed)
        super.init()
    }

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
    public let layers: [Module]

    /// - Precondition: every element conforms to ``Layer``.
    public init(_ layers: [Module & Layer]) {
        self.layers = layers
        super.init()
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for layer in layers { h = (layer as! Layer)(h) }
        return h
    }
}
