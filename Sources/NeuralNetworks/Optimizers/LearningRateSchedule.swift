import Foundation

/// A learning rate as a function of the optimizer step (0-based).
public protocol LearningRateSchedule: Sendable {
    /// The rate for the 0-based optimizer step `step`.
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    /// The learning rate returned for every step.
    public var rate: Float
    /// Creates a schedule that always returns `rate`.
    public init(_ rate: Float) { self.rate = rate }
    /// Returns ``rate``, whatever `step`.
    public func learningRate(at step: Int) -> Float { rate }
}

/// Linear warm-up from `base·warmupStartFactor` to `base` over `warmupSteps`, then cosine decay
/// to `minimum` at `totalSteps` (held there afterwards) — the Small Transformer Zoo's schedule
/// (LinearLR warm-up, then cosine to 1e-5).
public struct WarmupCosineSchedule: LearningRateSchedule {
    /// Peak rate η reached at the end of warm-up, and the floor the cosine decays to.
    public var base: Float, minimum: Float
    /// Length of the linear warm-up (≥ 0), and the step at which the decay reaches `minimum`
    /// (≥ `warmupSteps`).
    public var warmupSteps: Int, totalSteps: Int
    /// The warm-up's first rate as a fraction of `base`; 0.1 by default.
    public var warmupStartFactor: Float

    /// Creates the schedule, clamping the step counts into range.
    ///
    /// - Parameters:
    ///   - base: peak rate η.
    ///   - warmupSteps: warm-up length; negative values are clamped to 0 (no warm-up).
    ///   - totalSteps: where the cosine ends; raised to `warmupSteps` if smaller.
    ///   - minimum: the final rate; 0 by default.
    ///   - warmupStartFactor: the rate at step 0 is `base · warmupStartFactor`; 0.1 by default.
    public init(base: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0, warmupStartFactor: Float = 0.1) {
        self.base = base; self.minimum = minimum
        self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(totalSteps, warmupSteps)
        self.warmupStartFactor = warmupStartFactor
    }

    /// `base·(f + (1 − f)·step/warmupSteps)` during warm-up, then
    /// `minimum + (base − minimum)·½(1 + cos(π·t))` with
    /// `t = min((step − warmupSteps) / max(totalSteps − warmupSteps, 1), 1)`; f is `warmupStartFactor`.
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
