import Foundation

/// A learning rate as a function of the optimizer step (0-based).
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    public var rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public func learningRate(at step: Int) -> Float { rate }
}

/// Linear warm-up from `base·warmupStartFactor` to `base` over `warmupSteps`, then cosine decay
/// to `minimum` at `totalSteps` (held there afterwards) — the Small Transformer Zoo's schedule
/// (LinearLR warm-up, then cosine to 1e-5).
public struct WarmupCosineSchedule: LearningRateSchedule {
    public var base: Float, minimum: Float
    public var warmupSteps: Int, totalSteps: Int
    public var warmupStartFactor: Float

    public init(base: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0, warmupStartFactor: Float = 0.1) {
        self.base = base; self.minimum = minimum
        self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(totalSteps, warmupSteps)
        self.warmupStartFactor = warmupStartFactor
    }

    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps {
            let t = Float(step) / Float(max(warmupSteps, 1))
            return base * (warmupStartFactor + (1 - warmupStartFactor) * t)
        }
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let t = min(Float(step - warmupSteps) / Float(decaySteps), 1)
        return minimum + (base - minimum) * 0.5 * (1 + Float(cos(Double.pi * Double(t))))
    }
}
