import Foundation
import Tensors
import Autograd

/// Randomly zeroes elements with probability `rate` in training mode, scaling survivors by
/// 1/(1 − rate) (inverted dropout); the identity in evaluation mode.
///
/// The mask comes from the layer's own generator, seeded at construction, so training is
/// reproducible.
public final class Dropout: Module, Layer, StochasticModule {
    /// The probability of zeroing an element, in [0, 1).
    public let rate: Float
    private var rng: SeededGenerator

    public var drawsRandomNumbers: Bool { rate > 0 }

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
        let mask = Self.mask(shape: x.shape, rate: rate, rng: &rng)
        return x * (x.tape?.constant(mask) ?? Variable(mask))
    }

    /// The mask the layer's next training-mode call on an input of `shape` would multiply by, drawn
    /// from (and advancing) the layer's generator exactly as that call does; nil when `rate` is 0
    /// (the layer then draws nothing). Trainers that run a network without the tape (the zoo's
    /// member batches) apply it themselves, so a member's dropout is the same either way.
    public func nextMask(shape: [Int]) -> Tensor? {
        guard rate > 0 else { return nil }
        return Self.mask(shape: shape, rate: rate, rng: &rng)
    }

    /// An inverted-dropout mask of `shape`: each entry 0 with probability `rate`, else 1/(1 − rate),
    /// drawn in order from `rng` (every dropout layer in SwiftNFN draws its masks here).
    public static func mask(shape: [Int], rate: Float, rng: inout SeededGenerator) -> Tensor {
        let keep = 1 - rate, scale = 1 / keep
        var mask = Tensor(uninitializedShape: shape)
        // Branch-free form of `rng.nextUnitFloat() < keep ? scale : 0` (the same draws and the same
        // mask): nextUnitFloat is m · 2⁻²⁴ for the top 24 bits m, so the test is the integer
        // m < ⌈keep · 2²⁴⌉. A branch on a random bit mispredicts half the time, and masks are drawn
        // for every activation of a dropout layer.
        let threshold = UInt64((keep * 16_777_216).rounded(.up))
        let scaleBits = scale.bitPattern
        var local = rng   // in registers through the loop; written back once
        mask.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let kept = UInt32(truncatingIfNeeded: ((local.next() >> 40) &- threshold) >> 63)   // 1 when m < threshold
                p[i] = Float(bitPattern: kept &* scaleBits)
            }
        }
        rng = local
        return mask
    }
}
