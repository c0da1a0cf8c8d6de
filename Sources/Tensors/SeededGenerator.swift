import Foundation

/// A fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in SwiftNFN flows from one of these, created from an explicit seed, so the
/// same seed gives the same result on every run and machine. Use ``split(stream:)`` to derive
/// independent generators (one per zoo member, per worker) without sharing state across threads.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    // Internal (not private) so that `next()` can be inlined into callers' loops (dropout masks draw
    // one number per element).
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// The seed this generator was created from.
    public let seed: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(&sm); s1 = splitmix(&sm); s2 = splitmix(&sm); s3 = splitmix(&sm)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// An independent generator for sub-stream `stream`, derived from this generator's seed only
    /// (not its current state), so sub-streams are reproducible in any order.
    public func split(stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ (stream &+ 0xD1B5_4A32_D192_ED03))
    }

    /// A uniform `Float` in [0, 1).
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal `Float` (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next(upperBound: UInt64(i + 1)))
            p.swapAt(i, j)
        }
        return p
    }
}

extension Tensor {
    /// Independent uniform samples in [`low`, `high`).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let span = high - low
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = low + span * rng.nextUnitFloat() }
        }
        return t
    }

    /// Independent normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = mean + std * rng.nextNormal() }
        }
        return t
    }

    /// Normal samples truncated to ±2 standard deviations (resampled), the usual
    /// "truncated normal" initialiser.
    public static func truncatedNormal(_ shape: [Int], std: Float = 1,
                                       rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                var z = rng.nextNormal()
                while Swift.abs(z) > 2 { z = rng.nextNormal() }
                p[i] = std * z
            }
        }
        return t
    }
}
