import Tensors

/// max |a − b| / max(max |b|, floor): the relative deviation used by every symmetry check.
public func relativeDeviation(_ a: [Tensor], _ b: [Tensor], floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count, "relativeDeviation: \(a.count) vs \(b.count) tensors")
    var num: Float = 0, den: Float = 0
    for (x, y) in zip(a, b) {
        precondition(x.shape == y.shape, "relativeDeviation: shapes \(x.shape) vs \(y.shape)")
        num = Swift.max(num, x.maxAbsDifference(y))
        den = Swift.max(den, y.abs().max())
    }
    return num / Swift.max(den, floor)
}

/// Checks f(g·U) = g·f(U) for `trials` random group elements.
///
/// - Parameters:
///   - input: the point U (as a list of tensors, e.g. weights then biases).
///   - sample: draws a random group element and returns its action on *inputs* and on *outputs*
///     (they differ when the layer changes channel counts or structure).
///   - function: the layer under test.
/// - Returns: the largest relative deviation over the trials (≈1e-6 for an equivariant layer in
///   Float32; O(1) for one that is not).
public func checkEquivariance<Input, Output>(
    input: Input, trials: Int = 10,
    sample: () throws -> (onInput: (Input) throws -> Input, onOutput: (Output) throws -> Output),
    tensors: (Output) -> [Tensor],
    _ function: (Input) throws -> Output
) throws -> Float {
    let base = try function(input)
    var worst: Float = 0
    for _ in 0..<trials {
        let (gIn, gOut) = try sample()
        let moved = try function(try gIn(input))
        let expected = try gOut(base)
        worst = Swift.max(worst, relativeDeviation(tensors(moved), tensors(expected)))
    }
    return worst
}

/// Checks f(g·U) = f(U) for `trials` random group elements; returns the largest relative deviation.
public func checkInvariance<Input>(
    input: Input, trials: Int = 10,
    sample: () throws -> (Input) throws -> Input,
    _ function: (Input) throws -> Tensor
) throws -> Float {
    let base = try function(input)
    var worst: Float = 0
    for _ in 0..<trials {
        let g = try sample()
        worst = Swift.max(worst, relativeDeviation([try function(try g(input))], [base]))
    }
    return worst
}
