/// Vectorised hyperbolic tangent over Float buffers.
///
/// Zoo members with tanh activations spent about a quarter of their training time in `tanhf`
/// (26% of a CNN-zoo generation profile, `tanhf` and the `expm1f` it calls). This kernel evaluates
/// eight lanes at once: for |x| < 0.625 the odd minimax polynomial of Moshier's Cephes `tanhf`;
/// above, 1 − 2 / (e^{2|x|} + 1) with e^y from a Cody–Waite reduction by ln 2 and Cephes's `expf`
/// polynomial, the power of two added to the exponent bits. The sign is put back last, so the
/// result is exactly odd (tanh(−x) = −tanh(x), which sign-flip symmetry checks rely on). Error
/// ≤ 3·10⁻⁷ absolute, and relative below 0.625 (tested against `Double` tanh); NaN stays NaN and
/// ±∞ gives ±1.
///
/// As in ``VectorSine``, every element goes through the same lane arithmetic whatever its
/// position in the buffer.
public enum VectorTanh {
    @usableFromInline typealias Lanes = FloatLanes.Lanes

    /// tanh of eight lanes.
    @inlinable @inline(__always)
    static func kernel(_ x: Lanes) -> Lanes {
        let a = x.replacing(with: -x, where: x .< Lanes(repeating: 0))
        // Small |x|: x + x³·P(x²).
        let z = a * a
        var p = Lanes(repeating: -5.704_988_727_45e-3) * z + Lanes(repeating: 2.063_908_879_54e-2)
        p = p * z - Lanes(repeating: 5.373_971_555_31e-2)
        p = p * z + Lanes(repeating: 1.333_144_220_36e-1)
        p = p * z - Lanes(repeating: 3.333_328_194_22e-1)
        let small = p * z * a + a
        // Large |x|: 1 − 2/(e^{2|x|} + 1); 2|x| ≤ 88 keeps e^{2|x|} finite (tanh is 1 in Float by then).
        let y = (a + a).replacing(with: Lanes(repeating: 88), where: a .> Lanes(repeating: 44))
        let scaled = FloatLanes.exponential(y)
        let large = Lanes(repeating: 1) - Lanes(repeating: 2) / (scaled + Lanes(repeating: 1))
        var t = large.replacing(with: small, where: a .< Lanes(repeating: 0.625))
        t = t.replacing(with: -t, where: x .< Lanes(repeating: 0))
        return t.replacing(with: x, where: x .!= x)   // NaN in, NaN out
    }

    /// `out[i] = tanh(x[i])` for `i < count` (`out` may be `x`).
    @inlinable
    public static func tanh(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        FloatLanes.map(x, into: out, count: count, kernel)
    }
}
