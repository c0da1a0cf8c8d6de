import Foundation

/// Vectorised sine and cosine over Float buffers.
///
/// SIREN fitting evaluates ≈ 100,000 sines and cosines per step; `Foundation.sin` per element
/// costs as much as the step's matrix products. This kernel evaluates eight lanes at once:
/// Cody–Waite reduction by π/2 with a three-part constant, minimax polynomials on [−π/4, π/4]
/// (the single-precision coefficients of Moshier's Cephes library), then the quadrant by lane
/// selects. Absolute error ≤ 2·10⁻⁷ for |x| ≤ 8192 (tested against `Double` sin/cos); elements
/// beyond that, or not finite, are redone with `Foundation`.
///
/// Every element goes through the same lane arithmetic whatever its position in the buffer (a
/// tail shorter than eight lanes is padded), so a value never depends on the buffer around it —
/// which keeps member-batched zoo training identical to training each member alone.
public enum VectorSine {
    @usableFromInline typealias Lanes = FloatLanes.Lanes

    /// |x| above which the three-part reduction loses precision.
    @usableFromInline static let reductionLimit: Float = 8192

    /// sin and cos of eight lanes (lanes with |x| > ``reductionLimit`` are garbage; callers
    /// redo them).
    @inlinable @inline(__always)
    static func kernel(_ x: Lanes) -> (sin: Lanes, cos: Lanes) {
        let j = FloatLanes.roundedToInteger(x * Lanes(repeating: 0.636_619_772_367_581_34))
        // π/2 = c1 + c2 + c3, c1 and c2 short enough that j·c1 and j·c2 are exact for |j| < 2^13.
        var r = x - j * Lanes(repeating: 1.570_312_5)
        r = r - j * Lanes(repeating: 4.837_512_969_970_703_125e-4)
        r = r - j * Lanes(repeating: 7.549_789_954_891_882_16e-8)
        let z = r * r
        var sp = Lanes(repeating: -1.951_529_589_1e-4) * z + Lanes(repeating: 8.332_160_873_6e-3)
        sp = sp * z - Lanes(repeating: 1.666_665_461_1e-1)
        sp = sp * z * r + r
        var cp = Lanes(repeating: 2.443_315_711_809_948e-5) * z - Lanes(repeating: 1.388_731_625_493_765e-3)
        cp = cp * z + Lanes(repeating: 4.166_664_568_298_827e-2)
        cp = cp * z * z - Lanes(repeating: 0.5) * z + Lanes(repeating: 1)
        // The quadrant j mod 4 ∈ {0, 1, 2, 3}, in floating point (exact for these j).
        let quarter = j * Lanes(repeating: 0.25)
        var whole = FloatLanes.roundedToInteger(quarter)
        whole = whole.replacing(with: whole - 1, where: whole .> quarter)
        let q = j - whole * Lanes(repeating: 4)
        let one = Lanes(repeating: 1), two = Lanes(repeating: 2), three = Lanes(repeating: 3)
        let odd = (q .== one) .| (q .== three)
        let s = sp.replacing(with: cp, where: odd)
        let c = cp.replacing(with: sp, where: odd)
        let sinNegative = q .>= two
        let cosNegative = (q .== one) .| (q .== two)
        return (s.replacing(with: -s, where: sinNegative), c.replacing(with: -c, where: cosNegative))
    }

    /// The lanes of `v` the kernel cannot reduce (|v| > ``reductionLimit``, or NaN).
    @inlinable @inline(__always)
    static func outOfRange(_ v: Lanes) -> SIMDMask<SIMD8<Int32>> {
        let limit = Lanes(repeating: reductionLimit)
        return .!((v .<= limit) .& (v .>= -limit))
    }

    /// Whether `x` holds an element the kernel cannot reduce (one vectorised pass).
    @inlinable
    static func needsFallback(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var bad = SIMDMask<SIMD8<Int32>>(repeating: false)
        var i = 0
        while i < count {
            bad = bad .| outOfRange(FloatLanes.load(x, i, count))
            i += 8
        }
        return any(bad)
    }

    /// The kernel on `v`, with the lanes it cannot reduce recomputed by `Foundation` when `exact`.
    @inlinable @inline(__always)
    static func kernel(_ v: Lanes, exact: Bool) -> (sin: Lanes, cos: Lanes) {
        var r = kernel(v)
        guard exact else { return r }
        let bad = outOfRange(v)
        for k in 0..<8 where bad[k] {
            r.sin[k] = Foundation.sin(v[k])
            r.cos[k] = Foundation.cos(v[k])
        }
        return r
    }

    /// `sine[i] = sin(x[i])`, `cosine[i] = cos(x[i])` for `i < count` (either output may be nil;
    /// neither may alias `x`).
    @inlinable
    public static func sincos(_ x: UnsafePointer<Float>, sine: UnsafeMutablePointer<Float>?,
                              cosine: UnsafeMutablePointer<Float>?, count: Int) {
        // One pass; lanes out of range are noted on the way and redone afterwards (rare).
        var bad = SIMDMask<SIMD8<Int32>>(repeating: false)
        var i = 0
        while i < count {
            let v = FloatLanes.load(x, i, count)
            bad = bad .| outOfRange(v)
            let r = kernel(v)
            if let sine { FloatLanes.store(r.sin, sine, i, count) }
            if let cosine { FloatLanes.store(r.cos, cosine, i, count) }
            i += 8
        }
        if any(bad) {
            for k in 0..<count where !(Swift.abs(x[k]) <= reductionLimit) {
                sine?[k] = Foundation.sin(x[k])
                cosine?[k] = Foundation.cos(x[k])
            }
        }
    }

    /// `out[i] = g[i] · f(kernel(x[i]))` in one pass, `f` picking from the (sin, cos) lanes.
    @inlinable @inline(__always)
    static func multiply(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                         count: Int, _ f: ((sin: Lanes, cos: Lanes)) -> Lanes) {
        let exact = needsFallback(x, count: count)
        var i = 0
        while i < count {
            FloatLanes.store(FloatLanes.load(g, i, count) * f(kernel(FloatLanes.load(x, i, count), exact: exact)), out, i, count)
            i += 8
        }
    }

    /// `out[i] = g[i] · cos(x[i])` — the sine's pullback, without materialising the cosine
    /// (`out` may be `g`).
    @inlinable
    public static func multiplyByCosine(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                        into out: UnsafeMutablePointer<Float>, count: Int) {
        multiply(g, x, into: out, count: count) { $0.cos }
    }

    /// `out[i] = −g[i] · sin(x[i])` — the cosine's pullback (`out` may be `g`).
    @inlinable
    public static func multiplyByNegativeSine(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                              into out: UnsafeMutablePointer<Float>, count: Int) {
        multiply(g, x, into: out, count: count) { -$0.sin }
    }
}
