import Tensors
import Autograd

/// The outcome of a finite-difference gradient check.
public struct GradientCheckResult: CustomStringConvertible {
    /// The largest |analytic − numeric| / max(1, |numeric|) over all checked entries.
    public var maxRelativeError: Float
    /// Where it occurred: (input index, flat element index).
    public var worst: (input: Int, element: Int)
    /// The number of entries compared.
    public var checked: Int

    public var description: String {
        "max rel. error \(maxRelativeError) at input \(worst.input) element \(worst.element) over \(checked) entries"
    }
}

/// Compares a function's tape gradients with central finite differences.
///
/// The scalar objective is ⟨f(x), R⟩ for a fixed random tensor R (so every output element
/// matters), evaluated in Float32 with the differences accumulated in Double. A step of
/// `epsilon` (relative to max(1, |x|)) balances truncation against round-off; with the default
/// 1e-2 and smooth functions the relative error of a *correct* derivative is ~1e-3, while a wrong
/// derivative is off by O(1).
///
/// - Parameters:
///   - inputs: the point at which to differentiate (one tensor per input).
///   - epsilon: the relative step h = epsilon · max(1, |x|); 1e-2 by default.
///   - function: builds the output from one variable per input, recorded on the given tape.
///   - maxEntries: at most this many entries per input are probed (chosen with a fixed seed).
///   - seed: seeds the projection R and the choice of probed entries.
public func checkGradient(
    at inputs: [Tensor],
    epsilon: Float = 1e-2,
    maxEntries: Int = 64,
    seed: UInt64 = 0,
    _ function: ([Variable]) -> Variable
) -> GradientCheckResult {
    var rng = SeededGenerator(seed: seed)
    // Analytic gradients.
    let tape = Tape()
    let vars = inputs.map { tape.variable($0) }
    let out = function(vars)
    let projection = Tensor.normal(out.shape, rng: &rng)
    let grads = tape.gradients(of: out, seed: projection)
    let analytic = vars.map { grads[$0] }

    func objective(_ xs: [Tensor]) -> Double {
        let y = function(xs.map { Variable($0) }).value
        var acc: Double = 0
        y.withUnsafeBufferPointer { yp in
            projection.withUnsafeBufferPointer { rp in
                for i in 0..<yp.count { acc += Double(yp[i]) * Double(rp[i]) }
            }
        }
        return acc
    }

    var result = GradientCheckResult(maxRelativeError: 0, worst: (0, 0), checked: 0)
    for (k, x) in inputs.enumerated() {
        let indices: [Int] = x.count <= maxEntries
            ? Array(0..<x.count)
            : Array(rng.permutation(x.count).prefix(maxEntries))
        for i in indices {
            var plus = inputs, minus = inputs
            let h = epsilon * Swift.max(1, Swift.abs(x[flat: i]))
            plus[k][flat: i] += h
            minus[k][flat: i] -= h
            let numeric = (objective(plus) - objective(minus)) / Double(2 * h)
            let a = Double(analytic[k][flat: i])
            let err = Float(Swift.abs(a - numeric) / Swift.max(1, Swift.abs(numeric)))
            result.checked += 1
            if err > result.maxRelativeError || err.isNaN {
                result.maxRelativeError = err.isNaN ? .infinity : err
                result.worst = (k, i)
            }
        }
    }
    return result
}

/// One row of the table-driven gradient check: a named differentiable operation with inputs.
public struct GradientCase: CustomStringConvertible, Sendable {
    /// The operation's name as it appears in test output (e.g. "conv2d stride 2").
    public var name: String
    /// The input shapes; inputs are drawn from a seeded normal distribution (see `transform`).
    public var shapes: [[Int]]
    /// Maps raw normal samples into the op's domain (e.g. positive values for `log`).
    /// Its first argument is the input's index.
    public var transform: @Sendable (Int, Tensor) -> Tensor
    /// Tolerance on the max relative error.
    public var tolerance: Float
    /// Finite-difference step.
    public var epsilon: Float
    /// The operation under test.
    public var function: @Sendable ([Variable]) -> Variable

    /// Creates a case; its inputs are drawn when it runs (``run(seed:)``).
    ///
    /// - Parameters:
    ///   - name: shown in test output.
    ///   - shapes: one shape per input.
    ///   - tolerance: pass threshold on ``GradientCheckResult/maxRelativeError``; 2e-2 by default.
    ///   - epsilon: relative finite-difference step; 1e-2 by default (see
    ///     ``checkGradient(at:epsilon:maxEntries:seed:_:)``).
    ///   - transform: maps (input index, normal sample) into the op's domain; the identity by default.
    ///   - function: the operation under test.
    public init(_ name: String, shapes: [[Int]], tolerance: Float = 2e-2, epsilon: Float = 1e-2,
                transform: @escaping @Sendable (Int, Tensor) -> Tensor = { _, t in t },
                _ function: @escaping @Sendable ([Variable]) -> Variable) {
        self.name = name
        self.shapes = shapes
        self.tolerance = tolerance
        self.epsilon = epsilon
        self.transform = transform
        self.function = function
    }

    public var description: String { name }

    /// Runs the check with inputs drawn from `seed`.
    public func run(seed: UInt64 = 1) -> GradientCheckResult {
        var rng = SeededGenerator(seed: seed)
        let inputs = shapes.enumerated().map { transform($0.offset, Tensor.normal($0.element, rng: &rng)) }
        return checkGradient(at: inputs, epsilon: epsilon, seed: seed, function)
    }
}

/// Finite-difference check of the tape gradient of ⟨forward(), R⟩ with respect to `parameters`
/// (for a fixed random R): central differences of the tape-less forward, accumulated in Double,
/// with step ε·max(1, |θ|), probing at most `maxEntries` entries per parameter (chosen with `seed`).
///
/// - Parameter forward: builds the output; it must read the parameters through
///   `Parameter.variable(on:)` so the tape sees them, and run tape-less when given nil.
/// - Returns: the largest |analytic − numeric| / max(1, |numeric|) (∞ for a NaN).
public func checkParameterGradients(_ parameters: [Parameter], epsilon: Float = 1e-2, maxEntries: Int = 24,
                                    seed: UInt64, _ forward: (Tape?) -> Variable) -> Float {
    var rng = SeededGenerator(seed: seed)
    let tape = Tape()
    let out = forward(tape)
    let projection = Tensor.normal(out.shape, rng: &rng)
    let grads = tape.gradients(of: out, seed: projection)
    func objective() -> Double {
        let y = forward(nil).value
        var acc: Double = 0
        for i in 0..<y.count { acc += Double(y[flat: i]) * Double(projection[flat: i]) }
        return acc
    }
    var worst: Float = 0
    for p in parameters {
        let analytic = grads[p]
        let indices = p.value.count <= maxEntries ? Array(0..<p.value.count) : Array(rng.permutation(p.value.count).prefix(maxEntries))
        for i in indices {
            let original = p.value[flat: i]
            let h = epsilon * Swift.max(1, Swift.abs(original))
            p.value[flat: i] = original + h
            let plus = objective()
            p.value[flat: i] = original - h
            let minus = objective()
            p.value[flat: i] = original
            let numeric = (plus - minus) / Double(2 * h)
            let err = Float(Swift.abs(Double(analytic[flat: i]) - numeric) / Swift.max(1, Swift.abs(numeric)))
            worst = Swift.max(worst, err.isNaN ? .infinity : err)
        }
    }
    return worst
}
