import Foundation
import Tensors

/// A distribution over real hyper-parameter values, sampled from an explicit ``SeededGenerator``.
///
/// In JSON each case is an object with exactly one key:
/// `{"fixed": 0.1}`, `{"choice": [0.1, 0.25]}`, `{"uniform": [0, 0.5]}`, `{"log_uniform": [1e-4, 1e-1]}`.
public enum RealDistribution: Codable, Sendable, Equatable {
    /// Always `value` (consumes no randomness).
    case fixed(Double)
    /// One of `values`, each with probability 1/count.
    case choice([Double])
    /// Uniform on [`low`, `high`).
    case uniform(low: Double, high: Double)
    /// `exp(U(log low, log high))`: every decade equally likely. Needs `0 < low <= high`.
    case logUniform(low: Double, high: Double)

    /// One sample. Uses one 64-bit draw for `choice`, `uniform` and `logUniform`, none for `fixed`.
    public func sample(using rng: inout SeededGenerator) -> Double {
        switch self {
        case .fixed(let v): return v
        case .choice(let values): return values[Int(rng.next(upperBound: UInt64(values.count)))]
        case let .uniform(low, high): return low + (high - low) * RealDistribution.unit(&rng)
        case let .logUniform(low, high):
            return Foundation.exp(Foundation.log(low) + (Foundation.log(high) - Foundation.log(low)) * RealDistribution.unit(&rng))
        }
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits of one draw.
    static func unit(_ rng: inout SeededGenerator) -> Double {
        Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// The smallest and largest value the distribution can produce.
    public var bounds: ClosedRange<Double> {
        switch self {
        case .fixed(let v): return v...v
        case .choice(let values): return (values.min() ?? 0)...(values.max() ?? 0)
        case let .uniform(low, high), let .logUniform(low, high): return low...high
        }
    }

    /// Throws ``ZooError/invalidSpec(_:)`` when the distribution is empty, reversed, non-finite, or
    /// its values fall outside `allowed`.
    public func validate(_ name: String, allowed: ClosedRange<Double>) throws {
        let values: [Double]
        switch self {
        case .fixed(let v): values = [v]
        case .choice(let vs):
            guard !vs.isEmpty else { throw ZooError.invalidSpec("\(name): choice needs at least one value") }
            values = vs
        case let .uniform(low, high):
            guard low <= high else { throw ZooError.invalidSpec("\(name): uniform range [\(low), \(high)] is reversed") }
            values = [low, high]
        case let .logUniform(low, high):
            guard low > 0, low <= high else {
                throw ZooError.invalidSpec("\(name): log-uniform range [\(low), \(high)] needs 0 < low <= high")
            }
            values = [low, high]
        }
        for v in values where !v.isFinite || !allowed.contains(v) {
            throw ZooError.invalidSpec("\(name): value \(v) is outside \(allowed)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case fixed, choice, uniform
        case logUniform = "log_uniform"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "a distribution needs exactly one of the keys fixed, choice, uniform, log_uniform"))
        }
        switch key {
        case .fixed: self = .fixed(try c.decode(Double.self, forKey: .fixed))
        case .choice: self = .choice(try c.decode([Double].self, forKey: .choice))
        case .uniform, .logUniform:
            let pair = try c.decode([Double].self, forKey: key)
            guard pair.count == 2 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected [low, high]")
            }
            self = key == .uniform ? .uniform(low: pair[0], high: pair[1]) : .logUniform(low: pair[0], high: pair[1])
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .fixed(let v): try c.encode(v, forKey: .fixed)
        case .choice(let vs): try c.encode(vs, forKey: .choice)
        case let .uniform(l, h): try c.encode([l, h], forKey: .uniform)
        case let .logUniform(l, h): try c.encode([l, h], forKey: .logUniform)
        }
    }
}

extension Array {
    /// A uniformly chosen element (one draw), or `nil` when empty.
    func sampleElement(using rng: inout SeededGenerator) -> Element? {
        isEmpty ? nil : self[Int(rng.next(upperBound: UInt64(count)))]
    }
}
