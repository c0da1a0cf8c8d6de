import Tensors
import Autograd

/// An array-like value a weight space can be made of: a ``Tensor`` (plain features) or a
/// ``Variable`` (differentiable features on a tape).
///
/// The weight-space containers (``FeedforwardWeightSpace``, ``TransformerBlockWeights``,
/// ``TransformerWeightSpace``) are generic over this protocol, so their structural operations —
/// mapping, combining, batching, slicing members — are written once for both element kinds.
public protocol WeightSpaceElement {
    /// The element's shape.
    var shape: [Int] { get }
    /// The number of axes.
    var rank: Int { get }
    /// Entrywise sum (with broadcasting).
    static func + (lhs: Self, rhs: Self) -> Self
    /// The same entries in a new shape of equal element count.
    func reshaped(_ newShape: [Int]) -> Self
    /// The entries with index in `range` along `axis`.
    func slice(axis: Int, _ range: Range<Int>) -> Self
    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    func gathering(_ indices: [Int], alongAxis axis: Int) -> Self
    /// Joins elements of equal shape except along `axis`.
    static func concatenate(_ parts: [Self], alongAxis axis: Int) -> Self
}

extension Tensor: WeightSpaceElement {}
extension Variable: WeightSpaceElement {}

/// A batch of feed-forward weight sets with feature channels, in one canonical layout:
/// `weights[i]` is `[batch, channel, n_{i+1}, n_i, spatial…]` and `biases[i]` is
/// `[batch, channel, n_{i+1}]` (0-based layer index i; rows are output neurons).
///
/// Raw networks have one channel; metanetwork layers map C channels to C′. All layers share the
/// batch size and channel count. The element is a ``Tensor`` for plain features
/// (``WeightSpaceFeatures``) or a ``Variable`` for differentiable ones (``WeightSpaceVariables``,
/// what metanetwork layers take and return, so a metanetwork trains with the ordinary tape).
public struct FeedforwardWeightSpace<Element: WeightSpaceElement> {
    /// Per-layer weights, `[B, C, n_{i+1}, n_i, spatial…]`.
    public var weights: [Element]
    /// Per-layer biases, `[B, C, n_{i+1}]`.
    public var biases: [Element]

    /// Wraps elements already known to be consistent (used by layers that preserve structure).
    public init(unchecked weights: [Element], biases: [Element]) {
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

    /// Applies `transform` to every weight and bias.
    public func map(_ transform: (Element) -> Element) -> FeedforwardWeightSpace {
        FeedforwardWeightSpace(unchecked: weights.map(transform), biases: biases.map(transform))
    }

    /// Applies `transform` to every weight and bias, changing the element kind (e.g. a
    /// ``Variable``'s `value`).
    public func mapElements<Other: WeightSpaceElement>(_ transform: (Element) -> Other) -> FeedforwardWeightSpace<Other> {
        FeedforwardWeightSpace<Other>(unchecked: weights.map(transform), biases: biases.map(transform))
    }

    /// Combines two feature sets of equal structure entry by entry.
    public static func zipWith(_ a: FeedforwardWeightSpace, _ b: FeedforwardWeightSpace,
                               _ combine: (Element, Element) -> Element) -> FeedforwardWeightSpace {
        FeedforwardWeightSpace(unchecked: zip(a.weights, b.weights).map(combine),
                               biases: zip(a.biases, b.biases).map(combine))
    }

    /// Entrywise sum (residual connections).
    public static func + (a: FeedforwardWeightSpace, b: FeedforwardWeightSpace) -> FeedforwardWeightSpace {
        zipWith(a, b, +)
    }

    // MARK: Batching

    /// The features of batch members `range` (copies).
    public func members(_ range: Range<Int>) -> FeedforwardWeightSpace {
        map { $0.slice(axis: 0, range) }
    }

    /// The features of one member (batch size 1).
    public func member(_ index: Int) -> FeedforwardWeightSpace { members(index..<(index + 1)) }

    /// Batch members at `indices` (in that order; repeats allowed).
    public func gathering(members indices: [Int]) -> FeedforwardWeightSpace {
        map { $0.gathering(indices, alongAxis: 0) }
    }

    /// Joins feature sets of the same architecture and channel count along the batch axis.
    ///
    /// - Throws: ``WeightSpaceError/shapeMismatch(_:)`` for an empty list or members of different
    ///   architectures or channel counts.
    public static func batched(_ parts: [FeedforwardWeightSpace]) throws -> FeedforwardWeightSpace {
        guard let first = parts.first else { throw WeightSpaceError.shapeMismatch("cannot batch an empty list") }
        for (k, p) in parts.enumerated() {
            guard p.layerCount == first.layerCount,
                  zip(p.weights, first.weights).allSatisfy({ $0.shape.dropFirst() == $1.shape.dropFirst() }),
                  zip(p.biases, first.biases).allSatisfy({ $0.shape.dropFirst() == $1.shape.dropFirst() }) else {
                throw WeightSpaceError.shapeMismatch("member \(k) has a different architecture or channel count")
            }
        }
        return FeedforwardWeightSpace(
            unchecked: (0..<first.layerCount).map { i in Element.concatenate(parts.map { $0.weights[i] }, alongAxis: 0) },
            biases: (0..<first.layerCount).map { i in Element.concatenate(parts.map { $0.biases[i] }, alongAxis: 0) })
    }

    /// Splits the batch into single-member feature sets.
    public func unbatched() -> [FeedforwardWeightSpace] { (0..<batchSize).map { member($0) } }

    // MARK: Flat views

    /// Every scalar of each member in layer order (weight then bias per layer), `[B, C·total]`:
    /// the input of the flat-MLP baseline.
    public var flattened: Element {
        let parts = zip(weights, biases).flatMap { [$0.reshaped([batchSize, -1]), $1.reshaped([batchSize, -1])] }
        return Element.concatenate(parts, alongAxis: 1)
    }
}

extension FeedforwardWeightSpace: Equatable where Element: Equatable {}
extension FeedforwardWeightSpace: Sendable where Element: Sendable {}

/// A batch of feed-forward weight sets as plain tensors (see ``FeedforwardWeightSpace`` for the
/// layout).
public typealias WeightSpaceFeatures = FeedforwardWeightSpace<Tensor>

/// Differentiable feed-forward weight-space features: the ``Variable`` counterpart of
/// ``WeightSpaceFeatures``, in the same canonical layout (`weights[i]`:
/// `[B, C, n_{i+1}, n_i, spatial…]`, `biases[i]`: `[B, C, n_{i+1}]`).
///
/// Metanetwork layers take and return these, so a metanetwork trains with the ordinary tape.
public typealias WeightSpaceVariables = FeedforwardWeightSpace<Variable>

extension FeedforwardWeightSpace where Element == Tensor {
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
        self.init(unchecked: weights, biases: biases)
    }

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

    /// The largest |a − b| over all tensors, relative to the largest |b| (0 when both are zero).
    public func maxRelativeDeviation(from reference: WeightSpaceFeatures) -> Float {
        var num: Float = 0, den: Float = 0
        for (x, y) in zip(weights + biases, reference.weights + reference.biases) {
            num = Swift.max(num, x.maxAbsDifference(y))
            den = Swift.max(den, Swift.max(y.abs().max(), 0))
        }
        return den > 0 ? num / den : num
    }
}

extension FeedforwardWeightSpace where Element == Variable {
    /// Wraps per-layer variables; traps unless there is one bias per weight and at least one layer.
    /// Shapes are not checked (``WeightSpaceFeatures/init(weights:biases:)`` is the checked wrapper).
    public init(weights: [Variable], biases: [Variable]) {
        precondition(weights.count == biases.count && !weights.isEmpty, "need one bias per weight")
        self.init(unchecked: weights, biases: biases)
    }

    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: WeightSpaceFeatures, tape: Tape? = nil) {
        self.init(weights: features.weights.map { tape?.constant($0) ?? Variable($0) },
                  biases: features.biases.map { tape?.constant($0) ?? Variable($0) })
    }

    /// The current values.
    public var value: WeightSpaceFeatures { mapElements(\.value) }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { weights.first?.tape ?? biases.first?.tape }
}
