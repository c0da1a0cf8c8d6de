/// Vectorised exponential over Float buffers, eight lanes at a time.
///
/// Softmax rows (the attention weights of the transformer zoo's member batch) spent a sixth of a
/// training step in scalar `expf`. This kernel shares ``VectorTanh``'s e^y (a Cody–Waite reduction
/// by ln 2 and Cephes's `expf` polynomial): relative error ≤ 2·10⁻⁷ for x in [−87, 88.7] (tested
/// against `Double` exp); below −87 the result is 0 (e^x < 1.7·10⁻³⁸ there), above 88.7 it is +∞,
/// and NaN stays NaN. As in ``VectorSine``, every element goes through the same lane arithmetic
/// whatever its position in the buffer.
public enum VectorExp {
    @usableFromInline typealias Lanes = FloatLanes.Lanes

    /// e^x of eight lanes.
    @inlinable @inline(__always)
    static func kernel(_ x: Lanes) -> Lanes {
        let low = Lanes(repeating: -87), high = Lanes(repeating: 88.7)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
        var e = FloatLanes.exponential(clamped)
        e = e.replacing(with: 0, where: x .< low)
        e = e.replacing(with: .infinity, where: x .> high)
        return e.replacing(with: x, where: x .!= x)   // NaN in, NaN out
    }

    /// `out[i] = e^x[i]` for `i < count` (`out` may be `x`).
    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        FloatLanes.map(x, into: out, count: count, kernel)
    }
}
