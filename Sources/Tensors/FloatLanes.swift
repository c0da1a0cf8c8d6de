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
