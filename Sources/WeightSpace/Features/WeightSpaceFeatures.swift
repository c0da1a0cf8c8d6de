import Tensors

/// A batch of feed-forward weight sets with feature channels, in one canonical layout:
/// `weights[i]` is `[batch, channel, n_{i+1}, n_i, spatial…]` and `biases[i]` is
/// `[batch, channel, n_{i+1}]` (0-based layer index i; rows are output neurons).
///
/// Raw networks have one channel; metanetwork layers map C channels to C′. All layers share the
/// batch size and channel count.
public struct WeightSpaceFeatures: Equatable, Sendable {
    /// Per-layer weights, `[B, C, n_{i+1}, n_i, spatial…]`.
    public var weights: [Tensor]
    /// Per-layer biases, `[B, C, n_{i+1}]`.
    public var biases: [Tensor]

    /// Wraps per-layer tensors after checking that they form a consistent weight space.
    ///
    /// - Throws: ``WeightSpaceError/shapeMismatch(_:)`` when batch or channel sizes differ, a bias
    ///   does not match its weight's rows, or consecutive layers do not connect.
    public init(weights: [Tensor], biases: [Tensor]) throws {
        guard !weights.isEmpty, weights.count == biases.count else {
            throw WeightSpaceError.shapeMismatch("need one bias per weight and at least one layer, got \(weights.count) weights and \(biases.count) biases")
        }
        let b = weights[0].shape.first ?? 0, c = weights[0].rank > 1 ? weights[0].shape[1] : 0
        for (i, (w, v)) in zip(weights, biases).enumerated() {
            guard w.rank >= 4, v.rank == 3 else {
                throw WeightSpaceError.shapeMismatch("layer \(i): weight must be [B, C, out, in, spatial…] and bias [B, C, out], got \(w.shape) and \(v.shape)")
            }
            guard w.shape[0] == b, v.shape[0] == b, w.shape[1] == c, v.shape[1] == c else {
                throw WeightSpaceError.shapeMismatch("layer \(i): batch/channel sizes \(w.shape.prefix(2)) and \(v.shape.prefix(2)) differ from [\(b), \(c)]")
            }
            guard v.shape[2] == w.shape[2] else {
                throw WeightSpaceError.shapeMismatch("layer \(i): bias length \(v.shape[2]) ≠ weight rows \(w.shape[2])")
            }
            if i > 0, weights[i - 1].shape[2] != w.shape[3] {
                throw WeightSpaceError.shapeMismatch("layer \(i) has \(w.shape[3]) inputs but layer \(i - 1) has \(weights[i - 1].shape[2]) outputs")
            }
        }
        self.weights = weights
        self.biases = biases
    }

    /// Wraps tensors already known to be consistent (used by layers that preserve structure).
    public init(unchecked weights: [Tensor], biases: [Tensor]) {
        self.weights = weights
        self.biases = biases
    }

    /// The number of networks in the batch.
    public var batchSize: Int { weights[0].shape[0] }
    /// The number of feature channels.
    public var channelCount: Int { weights[0].shape[1] }
    /// The number of layers L.
    public var layerCount: Int { weights.count }
    /// Neuron counts n₀ … n_L.
    public var widths: [Int] { [weights[0].shape[3]] + weights.map { $0.shape[2] } }
    /// Spatial extents per layer (empty for dense layers).
    public var kernels: [[Int]] { weights.map { Array($0.shape.dropFirst(4)) } }
    /// Whether any weight or bias is NaN or ±∞.
    public var hasNonFinite: Bool { weights.contains { $0.hasNonFinite } || biases.contains { $0.hasNonFinite } }

    /// Throws ``WeightSpaceError/nonFinite(_:)`` naming the first layer with a NaN or ∞.
    public func validateFinite() throws {
        for (i, w) in weights.enumerated() where w.hasNonFinite {
            throw WeightSpaceError.nonFinite("weight of layer \(i + 1) contains NaN or infinity")
        }
        for (i, v) in biases.enumerated() where v.hasNonFinite {
            throw WeightSpaceError.nonFinite("bias of layer \(i + 1) contains NaN or infinity")
        }
    }

    /// Applies `transform` to every weight and bias tensor.
    public func map(_ transform: (Tensor) -> Tensor) -> WeightSpaceFeatures {
        WeightSpaceFeatures(unchecked: weights.map(transform), biases: biases.map(transform))
    }

    /// Combines two feature sets of equal structure tensor by tensor.
    public static func zipWith(_ a: WeightSpaceFeatures, _ b: WeightSpaceFeatures,
                               _ combine: (Tensor, Tensor) -> Tensor) -> WeightSpaceFeatures {
        WeightSpaceFeatures(unchecked: zip(a.weights, b.weights).map(combine),
                            biases: zip(a.biases, b.biases).map(combine))
    }

    /// The largest |a − b| over all tensors, relative to the largest |b| (0 when both are zero).
    public func maxRelativeDeviation(from reference: WeightSpaceFeatures) -> Float {
        var num: Float = 0, den: Float = 0
        for (x, y) in zip(weights + biases, reference.weights + reference.biases) {
            num = Swift.max(num, x.maxAbsDifference(y))
            den = Swift.max(den, Swift.max(y.abs().max(), 0))
        }
        return den > 0 ? num / den : num
    }

    // MARK: Batching

    /// The features of batch members `range` (copies).
    public func members(_ range: Range<Int>) -> WeightSpaceFeatures {
        map { $0.slice(axis: 0, range) }
    }

    /// The features of one member (batch size 1).
    public func member(_ index: Int) -> WeightSpaceFeatures { members(index..<(index + 1)) }

    /// Batch members at `indices` (in that order; repeats allowed).
    public func gathering(members indices: [Int]) -> WeightSpaceFeatures {
        map { $0.gathering(indices, alongAxis: 0) }
    }

    /// Joins feature sets of the same architecture and channel count along the batch axis.
    public static func batched(_ parts: [WeightSpaceFeatures]) throws -> WeightSpaceFeatures {
        guard let first = parts.first else { throw WeightSpaceError.shapeMismatch("cannot batch an empty list") }
        for (k, p) in parts.enumerated() {
            guard p.layerCount == first.layerCount,
                  zip(p.weights, first.weights).allSatisfy({ $0.shape.dropFirst() == $1.shape.dropFirst() }),
                  zip(p.biases, first.biases).allSatisfy({ $0.shape.dropFirst() == $1.shape.dropFirst() }) else {
                throw WeightSpaceError.shapeMismatch("member \(k) has a different architecture or channel count")
            }
        }
        return WeightSpaceFeatures(
            unchecked: (0..<first.layerCount).map { i in Tensor.concatenate(parts.map { $0.weights[i] }, alongAxis: 0) },
            biases: (0..<first.layerCount).map { i in Tensor.concatenate(parts.map { $0.biases[i] }, alongAxis: 0) })
    }

    /// Splits the batch into single-member feature sets.
    public func unbatched() -> [WeightSpaceFeatures] { (0..<batchSize).map { member($0) } }

    // MARK: Flat views

    /// Every scalar of each member in layer order (weight then bias per layer), `[B, C·total]`:
    /// the input of the flat-MLP baseline.
    public var flattened: Tensor {
        let parts = zip(weights, biases).flatMap { [$0.reshaped([batchSize, -1]), $1.reshaped([batchSize, -1])] }
        return Tensor.concatenate(parts, alongAxis: 1)
    }
}
