import Foundation
import CNFNVectorMath

/// Vectorised sine and cosine over Float buffers.
///
/// SIREN fitting evaluates ≈ 100,000 sines and cosines per step; `Foundation.sin` per element
/// costs as much as the step's matrix products. This kernel evaluates eight lanes at once:
/// Cody–Waite reduction by π/2 with a three-part constant, minimax polynomials on [−π/4, π/4]
/// (the single-precision coefficients of Moshier's Cephes library), then the quadrant from the
/// low bits of the rounded multiple of π/2 by bitwise swaps and sign flips. Absolute error ≤ 2·10⁻⁷ for |x| ≤ 8192 (tested against `Double` sin/cos); elements
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
        typealias Bits = SIMD8<UInt32>
        // j = round(x·2/π) by the 1.5·2²³ shift FloatLanes.roundedToInteger uses; the shifted
        // value's bit pattern is 0x4B40_0000 + j, so its low two bits are j mod 4 (the quadrant).
        let magic = Lanes(repeating: 12_582_912)
        let shifted = x * Lanes(repeating: 0.636_619_772_367_581_34) + magic
        let j = shifted - magic
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
        // Quadrant q: odd q swaps the polynomials; sin is negative for q ∈ {2, 3} (bit 1 of q),
        // cos for q ∈ {1, 2} (bit 1 of q + 1). Swaps and sign flips as bit operations: a third of
        // the kernel's cost as float compares and selects (the results are the same bits —
        // checked over every float with |x| ≤ 8192 against the select form).
        let q = unsafeBitCast(shifted, to: Bits.self)
        let sinBits = unsafeBitCast(sp, to: Bits.self), cosBits = unsafeBitCast(cp, to: Bits.self)
        let swap = (sinBits ^ cosBits) & (Bits(repeating: 0) &- (q & 1))
        let s = (sinBits ^ swap) ^ ((q & 2) &<< 30)
        let c = (cosBits ^ swap) ^ (((q &+ 1) & 2) &<< 30)
        return (unsafeBitCast(s, to: Lanes.self), unsafeBitCast(c, to: Lanes.self))
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

    /// `sine = sin(ω·(x + b))`, `cosine = cos(ω·(x + b))` for the rows of `x` (`rows` × `width`,
    /// contiguous) with `b` a bias of `width` values — a sine layer's bias, frequency and
    /// activation in one pass. Each element is `(x + b)·ω` rounded as two separate Float
    /// operations, then the lanes of ``sincos(_:sine:cosine:count:)``: the same bits as adding
    /// the bias, scaling, and taking sin and cos tensor by tensor, without writing and re-reading
    /// the pre-activation. `x` is not modified (elements the kernel cannot reduce are recomputed
    /// from it with `Foundation`); neither output may alias `x`.
    ///
    /// On a CPU with AVX2 the lanes run in C, 256 bits wide (the Swift kernel's 128-bit SSE code
    /// at half the rate otherwise): the same operations in the same order without fused
    /// multiply-adds, so the same bits (checked over every float with |x| ≤ 8192).
    public static func sincos(rows x: UnsafePointer<Float>, bias: UnsafePointer<Float>, scale: Float,
                              rowCount: Int, width: Int,
                              sine: UnsafeMutablePointer<Float>, cosine: UnsafeMutablePointer<Float>) {
        let status = nfn_sincos_rows_avx2(x, bias, scale, rowCount, width, sine, cosine)
        let inRange = status < 0
            ? portableLanes(rows: x, bias: bias, scale: scale, rowCount: rowCount, width: width, sine: sine, cosine: cosine)
            : status == 1
        guard !inRange else { return }
        for row in 0..<rowCount {
            for o in 0..<width {
                let i = row * width + o
                let v = (x[i] + bias[o]) * scale
                if !(Swift.abs(v) <= reductionLimit) {
                    sine[i] = Foundation.sin(v)
                    cosine[i] = Foundation.cos(v)
                }
            }
        }
    }

    /// The lanes of ``sincos(rows:bias:scale:rowCount:width:sine:cosine:)`` in Swift (without
    /// AVX2); returns whether every element was in the kernel's range (the caller redoes the others).
    static func portableLanes(rows x: UnsafePointer<Float>, bias: UnsafePointer<Float>, scale: Float,
                              rowCount: Int, width: Int,
                              sine: UnsafeMutablePointer<Float>, cosine: UnsafeMutablePointer<Float>) -> Bool {
        let omega = Lanes(repeating: scale), limit = Lanes(repeating: reductionLimit)
        // In-range lanes so far (NaN compares false, so it counts as out of range).
        var inRange = SIMDMask<SIMD8<Int32>>(repeating: true)
        @inline(__always) func checkedKernel(_ v: Lanes) -> (sin: Lanes, cos: Lanes) {
            let magnitude = unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
            inRange = inRange .& (magnitude .<= limit)
            return kernel(v)
        }
        // Whole lanes with plain loads and stores, then a padded tail per row: the padded loads'
        // and stores' branches in the main loop cost as much as the kernel.
        let whole = width - width % 8
        for row in 0..<rowCount {
            let offset = row * width
            var o = 0
            while o < whole {
                let r = checkedKernel((UnsafeRawPointer(x + offset + o).loadUnaligned(as: Lanes.self)
                                          + UnsafeRawPointer(bias + o).loadUnaligned(as: Lanes.self)) * omega)
                UnsafeMutableRawPointer(sine + offset + o).storeBytes(of: r.sin, as: Lanes.self)
                UnsafeMutableRawPointer(cosine + offset + o).storeBytes(of: r.cos, as: Lanes.self)
                o += 8
            }
            if o < width {
                let r = checkedKernel((FloatLanes.load(x + offset, o, width) + FloatLanes.load(bias, o, width)) * omega)
                FloatLanes.store(r.sin, sine + offset, o, width)
                FloatLanes.store(r.cos, cosine + offset, o, width)
            }
        }
        return all(inRange)
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
