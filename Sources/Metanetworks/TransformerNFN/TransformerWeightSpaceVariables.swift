import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// One transformer encoder block's weights as differentiable features: the ``Variable``
/// counterpart of ``TransformerBlockFeatures``, in the same layout and orientation (matrices act
/// on row vectors from the right, x·W).
///
/// Shapes: `query`/`key` `[B, C, h, D, D_k]`, `value` `[B, C, h, D, D_v]`, `output`
/// `[B, C, h, D_v, D]`, `feedForwardInWeight` (W_A) `[B, C, D, D_A]`, `feedForwardInBias` (b_A)
/// `[B, C, D_A]`, `feedForwardOutWeight` (W_B) `[B, C, D_A, D]`, `feedForwardOutBias` (b_B)
/// `[B, C, D]`. Transformer-NFN layers (``TransformerNFNLinear``) take and return these, so a
/// metanetwork over transformer weights trains with the ordinary tape.
public struct TransformerBlockVariables {
    /// W_Q, `[B, C, h, D, D_k]`.
    public var query: Variable
    /// W_K, `[B, C, h, D, D_k]`.
    public var key: Variable
    /// W_V, `[B, C, h, D, D_v]`.
    public var value: Variable
    /// W_O, `[B, C, h, D_v, D]`.
    public var output: Variable
    /// W_A, `[B, C, D, D_A]`.
    public var feedForwardInWeight: Variable
    /// b_A, `[B, C, D_A]`.
    public var feedForwardInBias: Variable
    /// W_B, `[B, C, D_A, D]`.
    public var feedForwardOutWeight: Variable
    /// b_B, `[B, C, D]`.
    public var feedForwardOutBias: Variable

    public init(query: Variable, key: Variable, value: Variable, output: Variable,
                feedForwardInWeight: Variable, feedForwardInBias: Variable,
                feedForwardOutWeight: Variable, feedForwardOutBias: Variable) {
        self.query = query; self.key = key; self.value = value; self.output = output
        self.feedForwardInWeight = feedForwardInWeight; self.feedForwardInBias = feedForwardInBias
        self.feedForwardOutWeight = feedForwardOutWeight; self.feedForwardOutBias = feedForwardOutBias
    }

    /// Builds a block from eight variables in ``variables`` order.
    public init(variables v: [Variable]) {
        precondition(v.count == 8, "a transformer block has 8 tensors, got \(v.count)")
        self.init(query: v[0], key: v[1], value: v[2], output: v[3], feedForwardInWeight: v[4],
                  feedForwardInBias: v[5], feedForwardOutWeight: v[6], feedForwardOutBias: v[7])
    }

    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: TransformerBlockFeatures, tape: Tape? = nil) {
        self.init(variables: features.tensors.map { tape?.constant($0) ?? Variable($0) })
    }

    /// All eight variables in declaration order (Q, K, V, O, W_A, b_A, W_B, b_B).
    public var variables: [Variable] {
        [query, key, value, output, feedForwardInWeight, feedForwardInBias, feedForwardOutWeight, feedForwardOutBias]
    }

    /// The current values.
    public var features: TransformerBlockFeatures { TransformerBlockFeatures(tensors: variables.map(\.value)) }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { variables.lazy.compactMap(\.tape).first }
    /// B.
    public var batchSize: Int { query.shape[0] }
    /// C.
    public var channelCount: Int { query.shape[1] }
    /// Heads h, model width D, D_k, D_v, D_A.
    public var dimensions: (heads: Int, model: Int, key: Int, value: Int, feedForward: Int) {
        (query.shape[2], query.shape[3], query.shape[4], value.shape[4], feedForwardInWeight.shape[3])
    }

    /// Applies `transform` to every variable.
    public func map(_ transform: (Variable) -> Variable) -> TransformerBlockVariables {
        TransformerBlockVariables(variables: variables.map(transform))
    }

    /// Applies `transform` to the four feed-forward tensors (W_A, b_A, W_B, b_B) only, leaving
    /// Q, K, V, O alone — how Transformer-NFN applies its ReLU: the GL(D_k)/GL(D_v) action does not
    /// commute with a pointwise nonlinearity, the permutations π_O, π_A do.
    public func mapFeedForward(_ transform: (Variable) -> Variable) -> TransformerBlockVariables {
        var out = self
        out.feedForwardInWeight = transform(feedForwardInWeight)
        out.feedForwardInBias = transform(feedForwardInBias)
        out.feedForwardOutWeight = transform(feedForwardOutWeight)
        out.feedForwardOutBias = transform(feedForwardOutBias)
        return out
    }
}

/// The differentiable weight space of a ``SmallTransformer``: the ``Variable`` counterpart of
/// ``TransformerWeightSpaceFeatures`` (patch embedding and classifier as feed-forward
/// ``WeightSpaceVariables``, encoder blocks as ``TransformerBlockVariables``).
public struct TransformerWeightSpaceVariables {
    public var embedding: WeightSpaceVariables
    public var blocks: [TransformerBlockVariables]
    public var classifier: WeightSpaceVariables

    public init(embedding: WeightSpaceVariables, blocks: [TransformerBlockVariables], classifier: WeightSpaceVariables) {
        self.embedding = embedding
        self.blocks = blocks
        self.classifier = classifier
    }

    /// Features as constants on `tape` (or tape-less for inference).
    public init(_ features: TransformerWeightSpaceFeatures, tape: Tape? = nil) {
        self.init(embedding: WeightSpaceVariables(features.embedding, tape: tape),
                  blocks: features.blocks.map { TransformerBlockVariables($0, tape: tape) },
                  classifier: WeightSpaceVariables(features.classifier, tape: tape))
    }

    /// The current values.
    public var features: TransformerWeightSpaceFeatures {
        TransformerWeightSpaceFeatures(embedding: embedding.value, blocks: blocks.map(\.features),
                                       classifier: classifier.value)
    }

    /// The tape the features are recorded on, if any.
    public var tape: Tape? { embedding.tape ?? blocks.lazy.compactMap(\.tape).first ?? classifier.tape }
    /// B.
    public var batchSize: Int { embedding.batchSize }
}

/// A metanetwork mapping a batch of transformer weight spaces to one vector per network,
/// `[B, outputs]` (e.g. a predicted test accuracy) — the transformer counterpart of
/// ``WeightSpaceModel``.
public protocol TransformerWeightSpaceModel: AnyObject {
    /// The forward pass on the input's tape (or tape-less).
    func callAsFunction(_ input: TransformerWeightSpaceVariables) throws -> Variable
    /// Throws a ``ModuleError/invalidInput(_:)`` describing the first shape mismatch or NaN/∞.
    func validate(_ features: TransformerWeightSpaceFeatures) throws
}

extension TransformerWeightSpaceModel {
    /// Validated inference without a tape: `[B, outputs]`.
    /// - Throws: whatever ``validate(_:)`` or the forward pass throws.
    public func predict(_ features: TransformerWeightSpaceFeatures) throws -> Tensor {
        try validate(features)
        if let m = self as? Module { m.eval() }
        return try self(TransformerWeightSpaceVariables(features)).value
    }
}
