import Tensors
import Autograd
import NeuralNetworks

/// One transformer encoder block's weights as weight-space features, with leading `[B, C]` axes.
///
/// Orientation follows the Transformer-NFN math (Tran et al. 2025, *Equivariant Neural Functional
/// Networks for Transformers*, and its reference code Fsoft-AIC/Transformer-NFN): every matrix acts
/// on row vectors from the right (x·W), so W_Q⁽ʰ⁾ is `[D, D_k]`, W_O⁽ʰ⁾ is `[D_v, D]`, W_A is
/// `[D, D_A]` and W_B is `[D_A, D]`. (Dense layers store `[out, in]`; conversion transposes.)
public struct TransformerBlockFeatures: Equatable, Sendable {
    /// W_Q, `[B, C, h, D, D_k]`.
    public var query: Tensor
    /// W_K, `[B, C, h, D, D_k]`.
    public var key: Tensor
    /// W_V, `[B, C, h, D, D_v]`.
    public var value: Tensor
    /// W_O, `[B, C, h, D_v, D]`.
    public var output: Tensor
    /// W_A, `[B, C, D, D_A]` (rows: block input features permuted by π_O; columns: FFN hidden units, π_A).
    public var feedForwardInWeight: Tensor
    /// b_A, `[B, C, D_A]`.
    public var feedForwardInBias: Tensor
    /// W_B, `[B, C, D_A, D]`.
    public var feedForwardOutWeight: Tensor
    /// b_B, `[B, C, D]`.
    public var feedForwardOutBias: Tensor

    /// Wraps the eight tensors as given; shapes are not checked (see the property comments for the
    /// expected ones).
    public init(query: Tensor, key: Tensor, value: Tensor, output: Tensor,
                feedForwardInWeight: Tensor, feedForwardInBias: Tensor,
                feedForwardOutWeight: Tensor, feedForwardOutBias: Tensor) {
        self.query = query; self.key = key; self.value = value; self.output = output
        self.feedForwardInWeight = feedForwardInWeight; self.feedForwardInBias = feedForwardInBias
        self.feedForwardOutWeight = feedForwardOutWeight; self.feedForwardOutBias = feedForwardOutBias
    }

    /// All eight tensors in declaration order.
    public var tensors: [Tensor] {
        [query, key, value, output, feedForwardInWeight, feedForwardInBias, feedForwardOutWeight, feedForwardOutBias]
    }

    /// Builds a block from eight tensors in ``tensors`` order.
    public init(tensors t: [Tensor]) {
        self.init(query: t[0], key: t[1], value: t[2], output: t[3], feedForwardInWeight: t[4],
                  feedForwardInBias: t[5], feedForwardOutWeight: t[6], feedForwardOutBias: t[7])
    }

    /// Heads h, model width D, D_k, D_v, D_A.
    public var dimensions: (heads: Int, model: Int, key: Int, value: Int, feedForward: Int) {
        (query.shape[2], query.shape[3], query.shape[4], value.shape[4], feedForwardInWeight.shape[3])
    }

    /// Applies `transform` to every tensor.
    public func map(_ transform: (Tensor) -> Tensor) -> TransformerBlockFeatures {
        TransformerBlockFeatures(tensors: tensors.map(transform))
    }
}

/// The weight space of a ``SmallTransformer``: its encoder blocks (where the attention symmetry
/// acts), plus the patch embedding and the classifier MLP as ordinary feed-forward features.
public struct TransformerWeightSpaceFeatures: Equatable, Sendable {
    /// Patch embedding: weight `[B, C, D, C_in, p, p]` and bias `[B, C, D]` as a one-layer
    /// feed-forward weight space.
    public var embedding: WeightSpaceFeatures
    /// The encoder blocks.
    public var blocks: [TransformerBlockFeatures]
    /// The classifier `Dense(D, D) → ReLU → Dense(D, classes)`.
    public var classifier: WeightSpaceFeatures

    /// Wraps the parts as given; their batch sizes and channel counts are not checked.
    public init(embedding: WeightSpaceFeatures, blocks: [TransformerBlockFeatures], classifier: WeightSpaceFeatures) {
        self.embedding = embedding
        self.blocks = blocks
        self.classifier = classifier
    }

    /// The number of networks in the batch.
    public var batchSize: Int { embedding.batchSize }

    /// Every tensor (embedding, blocks, classifier) in a fixed order.
    public var allTensors: [Tensor] {
        embedding.weights + embedding.biases + blocks.flatMap(\.tensors) + classifier.weights + classifier.biases
    }

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
        embedding = WeightSpaceFeatures(unchecked: [lift(model.patchEmbedding.weight.value)],
                                        biases: [lift(model.patchEmbedding.bias!.value)])
        blocks = model.blocks.map { b in
            TransformerBlockFeatures(
                query: lift(b.attention.query.value), key: lift(b.attention.key.value),
                value: lift(b.attention.value.value), output: lift(b.attention.output.value),
                feedForwardInWeight: lift(b.feedForwardIn.weight.value.transposed()),
                feedForwardInBias: lift(b.feedForwardIn.bias!.value),
                feedForwardOutWeight: lift(b.feedForwardOut.weight.value.transposed()),
                feedForwardOutBias: lift(b.feedForwardOut.bias!.value))
        }
        classifier = WeightSpaceFeatures(
            unchecked: [lift(model.classifierHidden.weight.value), lift(model.classifierOutput.weight.value)],
            biases: [lift(model.classifierHidden.bias!.value), lift(model.classifierOutput.bias!.value)])
    }

    /// Joins single-architecture feature sets along the batch axis.
    public static func batched(_ parts: [TransformerWeightSpaceFeatures]) throws -> TransformerWeightSpaceFeatures {
        guard let first = parts.first else { throw WeightSpaceError.shapeMismatch("cannot batch an empty list") }
        guard parts.allSatisfy({ $0.blocks.count == first.blocks.count }) else {
            throw WeightSpaceError.shapeMismatch("members have different block counts")
        }
        let blocks = (0..<first.blocks.count).map { bi in
            TransformerBlockFeatures(tensors: (0..<8).map { ti in
                Tensor.concatenate(parts.map { $0.blocks[bi].tensors[ti] }, alongAxis: 0)
            })
        }
        return TransformerWeightSpaceFeatures(
            embedding: try WeightSpaceFeatures.batched(parts.map(\.embedding)), blocks: blocks,
            classifier: try WeightSpaceFeatures.batched(parts.map(\.classifier)))
    }
}

extension TransformerWeightSpaceFeatures {
    /// The features of one member (batch size 1).
    public func member(_ i: Int) -> TransformerWeightSpaceFeatures {
        TransformerWeightSpaceFeatures(
            embedding: embedding.member(i),
            blocks: blocks.map { $0.map { $0.slice(axis: 0, i..<(i + 1)) } },
            classifier: classifier.member(i))
    }

    /// Members at `indices`, in order.
    public func gathering(members indices: [Int]) -> TransformerWeightSpaceFeatures {
        TransformerWeightSpaceFeatures(
            embedding: embedding.gathering(members: indices),
            blocks: blocks.map { $0.map { $0.gathering(indices, alongAxis: 0) } },
            classifier: classifier.gathering(members: indices))
    }
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
