/// Eight-lane helpers shared by the vectorised elementwise kernels (``VectorSine``,
/// ``VectorTanh``): loads and stores that pad a buffer's tail, so every element goes through the
/// same lane arithmetic whatever its position, and a rounding that vectorises.
public enum FloatLanes {
    /// Eight Float lanes.
    public typealias Lanes = SIMD8<Float>

    /// Rounds each lane to the nearest integer (ties to even) for |x| < 2²²: adding and removing
    /// 1.5·2²³ leaves no fraction bits. Plain adds, so it vectorises (the generic SIMD `rounded`
    /// and Float → Int32 conversions do not).
    @inlinable @inline(__always)
    static func roundedToInteger(_ x: Lanes) -> Lanes {
        let magic = Lanes(repeating: 12_582_912)
        return (x + magic) - magic
    }

    /// e^y for y in [−87, 88]: a Cody–Waite reduction y = n·ln 2 + r (ln 2 in two parts), Cephes's
    /// `expf` polynomial for e^r, and n added to the exponent bits (e^r ∈ [0.7, 1.5], so the
    /// result stays a normal Float). Relative error ≤ 2·10⁻⁷ on that range (tested); callers clamp.
    @inlinable @inline(__always)
    static func exponential(_ y: Lanes) -> Lanes {
        let n = roundedToInteger(y * Lanes(repeating: 1.442_695_040_888_963_4))
        var r = y - n * Lanes(repeating: 0.693_359_375)
        r = r - n * Lanes(repeating: -2.121_944_400_546_905_8e-4)
        var e = Lanes(repeating: 1.987_569_150_0e-4) * r + Lanes(repeating: 1.398_199_950_7e-3)
        e = e * r + Lanes(repeating: 8.333_451_907_3e-3)
        e = e * r + Lanes(repeating: 4.166_579_589_4e-2)
        e = e * r + Lanes(repeating: 1.666_666_545_9e-1)
        e = e * r + Lanes(repeating: 5.000_000_120_1e-1)
        e = e * r * r + r + Lanes(repeating: 1)
        // e · 2ⁿ by adding n to the exponent field (wrapping integer arithmetic handles n < 0).
        let nBits = unsafeBitCast(n + Lanes(repeating: 12_582_912), to: SIMD8<UInt32>.self)
            &- SIMD8<UInt32>(repeating: 0x4B40_0000)
        return unsafeBitCast(unsafeBitCast(e, to: SIMD8<UInt32>.self) &+ (nBits &<< 23), to: Lanes.self)
    }

    /// `out[i] = kernel(x[i])` eight lanes at a time for `i < count` (`out` may be `x`); the tail's
    /// lanes are zero-padded, so an element's result never depends on its position.
    @inlinable @inline(__always)
    static func map(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, _ kernel: (Lanes) -> Lanes) {
        var i = 0
        while i < count {
            store(kernel(load(x, i, count)), out, i, count)
            i += 8
        }
    }

    /// Lanes `i ..< i + 8` of `p`, zero-padded past `count`.
    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ count: Int) -> Lanes {
        if i + 8 <= count { return UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self) }
        var v = Lanes(repeating: 0)
        for k in 0..<(count - i) { v[k] = p[i + k] }
        return v
    }

    /// Stores the lanes of `v` that fall before `count` at `p + i`.
    @inlinable @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ count: Int) {
        if i + 8 <= count {
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self)
        } else {
            for k in 0..<(count - i) { p[i + k] = v[k] }
        }
    }
}
