import Tensors
import Autograd
import NeuralNetworks

/// One transformer encoder block's weights as weight-space features, with leading `[B, C]` axes.
///
/// Orientation follows the Transformer-NFN math (Tran et al. 2025, *Equivariant Neural Functional
/// Networks for Transformers*, and its reference code Fsoft-AIC/Transformer-NFN): every matrix acts
/// on row vectors from the right (x·W), so W_Q⁽ʰ⁾ is `[D, D_k]`, W_O⁽ʰ⁾ is `[D_v, D]`, W_A is
/// `[D, D_A]` and W_B is `[D_A, D]`. (Dense layers store `[out, in]`; conversion transposes.)
///
/// The element is a ``Tensor`` (``TransformerBlockFeatures``) or a ``Variable``
/// (``TransformerBlockVariables``, what Transformer-NFN layers take and return).
public struct TransformerBlockWeights<Element: WeightSpaceElement> {
    /// W_Q, `[B, C, h, D, D_k]`.
    public var query: Element
    /// W_K, `[B, C, h, D, D_k]`.
    public var key: Element
    /// W_V, `[B, C, h, D, D_v]`.
    public var value: Element
    /// W_O, `[B, C, h, D_v, D]`.
    public var output: Element
    /// W_A, `[B, C, D, D_A]` (rows: block input features permuted by π_O; columns: FFN hidden units, π_A).
    public var feedForwardInWeight: Element
    /// b_A, `[B, C, D_A]`.
    public var feedForwardInBias: Element
    /// W_B, `[B, C, D_A, D]`.
    public var feedForwardOutWeight: Element
    /// b_B, `[B, C, D]`.
    public var feedForwardOutBias: Element

    /// Wraps the eight elements as given; shapes are not checked (see the property comments for the
    /// expected ones).
    public init(query: Element, key: Element, value: Element, output: Element,
                feedForwardInWeight: Element, feedForwardInBias: Element,
                feedForwardOutWeight: Element, feedForwardOutBias: Element) {
        self.query = query; self.key = key; self.value = value; self.output = output
        self.feedForwardInWeight = feedForwardInWeight; self.feedForwardInBias = feedForwardInBias
        self.feedForwardOutWeight = feedForwardOutWeight; self.feedForwardOutBias = feedForwardOutBias
    }

    /// All eight elements in declaration order (Q, K, V, O, W_A, b_A, W_B, b_B).
    public var elements: [Element] {
        [query, key, value, output, feedForwardInWeight, feedForwardInBias, feedForwardOutWeight, feedForwardOutBias]
    }

    /// Builds a block from eight elements in ``elements`` order; traps unless there are eight.
    public init(elements e: [Element]) {
        precondition(e.count == 8, "a transformer block has 8 tensors, got \(e.count)")
        self.init(query: e[0], key: e[1], value: e[2], output: e[3], feedForwardInWeight: e[4],
                  feedForwardInBias: e[5], feedForwardOutWeight: e[6], feedForwardOutBias: e[7])
    }

    /// B.
    public var batchSize: Int { query.shape[0] }
    /// C.
    public var channelCount: Int { query.shape[1] }
    /// Heads h, model width D, D_k, D_v, D_A.
    public var dimensions: (heads: Int, model: Int, key: Int, value: Int, feedForward: Int) {
        (query.shape[2], query.shape[3], query.shape[4], value.shape[4], feedForwardInWeight.shape[3])
    }

    /// Applies `transform` to every element.
    public func map(_ transform: (Element) -> Element) -> TransformerBlockWeights {
        TransformerBlockWeights(elements: elements.map(transform))
    }

    /// Applies `transform` to every element, changing the element kind.
    public func mapElements<Other: WeightSpaceElement>(_ transform: (Element) -> Other) -> TransformerBlockWeights<Other> {
        TransformerBlockWeights<Other>(elements: elements.map(transform))
    }

    /// Applies `transform` to the four feed-forward elements (W_A, b_A, W_B, b_B) only, leaving
    /// Q, K, V, O alone — how Transformer-NFN applies its ReLU: the GL(D_k)/GL(D_v) action does not
    /// commute with a pointwise nonlinearity, the permutations π_O, π_A do.
    public func mapFeedForward(_ transform: (Element) -> Element) -> TransformerBlockWeights {
        var out = self
        out.feedForwardInWeight = transform(feedForwardInWeight)
        out.feedForwardInBias = transform(feedForwardInBias)
        out.feedForwardOutWeight = transform(feedForwardOutWeight)
        out.feedForwardOutBias = transform(feedForwardOutBias)
        return out
    }
}

extension TransformerBlockWeights: Equatable where Element: Equatable {}
extension TransformerBlockWeights: Sendable where Element: Sendable {}

/// One transformer block's weights as tensors (see ``TransformerBlockWeights``).
public typealias TransformerBlockFeatures = TransformerBlockWeights<Tensor>

/// One transformer encoder block's weights as differentiable features: the ``Variable``
/// counterpart of ``TransformerBlockFeatures``, in the same layout and orientation (matrices act
/// on row vectors from the right, x·W).
public typealias TransformerBlockVariables = TransformerBlockWeights<Variable>

extension TransformerBlockWeights where Element == Tensor {
    /// All eight tensors in declaration order.
    public var tensors: [Tensor] { elements }

    /// Builds a block from eight tensors in ``tensors`` order.
    public init(tensors t: [Tensor]) { self.init(elements: t) }
}

extension TransformerBlockWeights where Element == Variable {
    /// Builds a block from eight variables in ``variables`` order.
    public init(variables v: [Variable]) { self.init(elements: v) }

    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: TransformerBlockFeatures, tape: Tape? = nil) {
        self.init(elements: features.tensors.map { tape?.constant($0) ?? Variable($0) })
    }

    /// All eight variables in declaration order (Q, K, V, O, W_A, b_A, W_B, b_B).
    public var variables: [Variable] { elements }

    /// The current values.
    public var features: TransformerBlockFeatures { mapElements(\.value) }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { variables.lazy.compactMap(\.tape).first }
}

/// The weight space of a ``SmallTransformer``: its encoder blocks (where the attention symmetry
/// acts), plus the patch embedding and the classifier MLP as ordinary feed-forward features.
///
/// The element is a ``Tensor`` (``TransformerWeightSpaceFeatures``) or a ``Variable``
/// (``TransformerWeightSpaceVariables``).
public struct TransformerWeightSpace<Element: WeightSpaceElement> {
    /// Patch embedding: weight `[B, C, D, C_in, p, p]` and bias `[B, C, D]` as a one-layer
    /// feed-forward weight space.
    public var embedding: FeedforwardWeightSpace<Element>
    /// The encoder blocks.
    public var blocks: [TransformerBlockWeights<Element>]
    /// The classifier `Dense(D, D) → ReLU → Dense(D, classes)`.
    public var classifier: FeedforwardWeightSpace<Element>

    /// Wraps the parts as given; their batch sizes and channel counts are not checked.
    public init(embedding: FeedforwardWeightSpace<Element>, blocks: [TransformerBlockWeights<Element>],
                classifier: FeedforwardWeightSpace<Element>) {
        self.embedding = embedding
        self.blocks = blocks
        self.classifier = classifier
    }

    /// The number of networks in the batch.
    public var batchSize: Int { embedding.batchSize }

    /// Every element (embedding, blocks, classifier) in a fixed order.
    public var allElements: [Element] {
        embedding.weights + embedding.biases + blocks.flatMap(\.elements) + classifier.weights + classifier.biases
    }

    /// Applies `transform` to every element, changing the element kind.
    public func mapElements<Other: WeightSpaceElement>(_ transform: (Element) -> Other) -> TransformerWeightSpace<Other> {
        TransformerWeightSpace<Other>(embedding: embedding.mapElements(transform),
                                      blocks: blocks.map { $0.mapElements(transform) },
                                      classifier: classifier.mapElements(transform))
    }

    /// Joins single-architecture feature sets along the batch axis.
    ///
    /// - Throws: ``WeightSpaceError/shapeMismatch(_:)`` for an empty list or members with
    ///   different block counts or shapes.
    public static func batched(_ parts: [TransformerWeightSpace]) throws -> TransformerWeightSpace {
        guard let first = parts.first else { throw WeightSpaceError.shapeMismatch("cannot batch an empty list") }
        guard parts.allSatisfy({ $0.blocks.count == first.blocks.count }) else {
            throw WeightSpaceError.shapeMismatch("members have different block counts")
        }
        let blocks = (0..<first.blocks.count).map { bi in
            TransformerBlockWeights(elements: (0..<8).map { ti in
                Element.concatenate(parts.map { $0.blocks[bi].elements[ti] }, alongAxis: 0)
            })
        }
        return TransformerWeightSpace(
            embedding: try FeedforwardWeightSpace.batched(parts.map(\.embedding)), blocks: blocks,
            classifier: try FeedforwardWeightSpace.batched(parts.map(\.classifier)))
    }

    /// The features of one member (batch size 1).
    public func member(_ i: Int) -> TransformerWeightSpace {
        TransformerWeightSpace(
            embedding: embedding.member(i),
            blocks: blocks.map { $0.map { $0.slice(axis: 0, i..<(i + 1)) } },
            classifier: classifier.member(i))
    }

    /// Members at `indices`, in order.
    public func gathering(members indices: [Int]) -> TransformerWeightSpace {
        TransformerWeightSpace(
            embedding: embedding.gathering(members: indices),
            blocks: blocks.map { $0.map { $0.gathering(indices, alongAxis: 0) } },
            classifier: classifier.gathering(members: indices))
    }
}

extension TransformerWeightSpace: Equatable where Element: Equatable {}
extension TransformerWeightSpace: Sendable where Element: Sendable {}

/// The weight space of a ``SmallTransformer`` as tensors (see ``TransformerWeightSpace``).
public typealias TransformerWeightSpaceFeatures = TransformerWeightSpace<Tensor>

/// The differentiable weight space of a ``SmallTransformer``: the ``Variable`` counterpart of
/// ``TransformerWeightSpaceFeatures`` (patch embedding and classifier as feed-forward
/// ``WeightSpaceVariables``, encoder blocks as ``TransformerBlockVariables``).
public typealias TransformerWeightSpaceVariables = TransformerWeightSpace<Variable>

extension TransformerWeightSpace where Element == Tensor {
    /// Every tensor (embedding, blocks, classifier) in a fixed order.
    public var allTensors: [Tensor] { allElements }

    /// The largest |self − reference| relative to the largest |reference| entry.
    public func maxRelativeDeviation(from reference: TransformerWeightSpaceFeatures) -> Float {
        var num: Float = 0, den: Float = 0
        for (x, y) in zip(allTensors, reference.allTensors) {
            num = Swift.max(num, x.maxAbsDifference(y))
            den = Swift.max(den, y.abs().max())
        }
        return den > 0 ? num / den : num
    }

    /// One model's weights (batch 1, one channel).
    public init(model: SmallTransformer) {
        func lift(_ t: Tensor) -> Tensor { t.expandingShape(at: 0).expandingShape(at: 0) }
        let embedding = WeightSpaceFeatures(unchecked: [lift(model.patchEmbedding.weight.value)],
                                            biases: [lift(model.patchEmbedding.bias!.value)])
        let blocks = model.blocks.map { b in
            TransformerBlockFeatures(
                query: lift(b.attention.query.value), key: lift(b.attention.key.value),
                value: lift(b.attention.value.value), output: lift(b.attention.output.value),
                feedForwardInWeight: lift(b.feedForwardIn.weight.value.transposed()),
                feedForwardInBias: lift(b.feedForwardIn.bias!.value),
                feedForwardOutWeight: lift(b.feedForwardOut.weight.value.transposed()),
                feedForwardOutBias: lift(b.feedForwardOut.bias!.value))
        }
        let classifier = WeightSpaceFeatures(
            unchecked: [lift(model.classifierHidden.weight.value), lift(model.classifierOutput.weight.value)],
            biases: [lift(model.classifierHidden.bias!.value), lift(model.classifierOutput.bias!.value)])
        self.init(embedding: embedding, blocks: blocks, classifier: classifier)
    }
}

extension TransformerWeightSpace where Element == Variable {
    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: TransformerWeightSpaceFeatures, tape: Tape? = nil) {
        self.init(embedding: WeightSpaceVariables(features.embedding, tape: tape),
                  blocks: features.blocks.map { TransformerBlockVariables($0, tape: tape) },
                  classifier: WeightSpaceVariables(features.classifier, tape: tape))
    }

    /// The current values.
    public var features: TransformerWeightSpaceFeatures { mapElements(\.value) }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { embedding.tape ?? blocks.lazy.compactMap(\.tape).first ?? classifier.tape }
}

extension SmallTransformer {
    /// Replaces this model's parameters with member `member`, channel `channel` of `features`.
    ///
    /// - Throws: ``WeightSpaceError`` on a block-count or shape mismatch or a NaN/∞; on error the
    ///   model is unchanged.
    public func load(_ features: TransformerWeightSpaceFeatures, member: Int = 0, channel: Int = 0) throws {
        guard features.blocks.count == blocks.count else {
            throw WeightSpaceError.shapeMismatch("features have \(features.blocks.count) blocks, model has \(blocks.count)")
        }
        guard member >= 0, member < features.batchSize, channel >= 0, channel < features.embedding.channelCount else {
            throw WeightSpaceError.shapeMismatch("member \(member) / channel \(channel) out of range")
        }
        func pick(_ t: Tensor) -> Tensor {
            t.slice(axis: 0, member..<(member + 1)).slice(axis: 1, channel..<(channel + 1)).reshaped(Array(t.shape.dropFirst(2)))
        }
        var assignments: [(Parameter, Tensor)] = [
            (patchEmbedding.weight, pick(features.embedding.weights[0])),
            (patchEmbedding.bias!, pick(features.embedding.biases[0])),
            (classifierHidden.weight, pick(features.classifier.weights[0])),
            (classifierHidden.bias!, pick(features.classifier.biases[0])),
            (classifierOutput.weight, pick(features.classifier.weights[1])),
            (classifierOutput.bias!, pick(features.classifier.biases[1])),
        ]
        for (b, f) in zip(blocks, features.blocks) {
            assignments += [
                (b.attention.query, pick(f.query)), (b.attention.key, pick(f.key)),
                (b.attention.value, pick(f.value)), (b.attention.output, pick(f.output)),
                (b.feedForwardIn.weight, pick(f.feedForwardInWeight).transposed()),
                (b.feedForwardIn.bias!, pick(f.feedForwardInBias)),
                (b.feedForwardOut.weight, pick(f.feedForwardOutWeight).transposed()),
                (b.feedForwardOut.bias!, pick(f.feedForwardOutBias)),
            ]
        }
        for (p, v) in assignments {
            guard p.value.shape == v.shape else {
                throw WeightSpaceError.shapeMismatch("parameter of shape \(p.value.shape) given \(v.shape)")
            }
            if v.hasNonFinite { throw WeightSpaceError.nonFinite("transformer member \(member)") }
        }
        for (p, v) in assignments { p.value = v }
    }
}
