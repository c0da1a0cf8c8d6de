import Foundation
import Tensors
import Autograd

/// The Small Transformer Zoo's vision transformer (MNIST-/Fashion-MNIST-Transformers):
/// a 4×4/stride-4 patch embedding (28×28 → 49 tokens of width D), a fixed sinusoidal positional
/// encoding, dropout, `blockCount` encoder blocks without residual connections and with
/// non-affine LayerNorms, a final non-affine LayerNorm, mean pooling over tokens, and a
/// classifier `Dense(D, D) → ReLU → Dense(D, classes)`.
///
/// With the defaults (D = 32, 2 heads of 16, FFN 64, 2 blocks, 10 classes) it has
/// 544 + 2·8,288 + 1,386 = 18,506 parameters.
public final class SmallTransformer: Module, Layer {
    /// The hyper-parameters; the defaults give the 18,506-parameter network described above.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Input channels (1), square image side in pixels (28), and patch side P (4), which is both the
        /// patch-embedding kernel and its stride, giving ⌊imageSize / P⌋² tokens.
        public var inputChannels = 1, imageSize = 28, patchSize = 4
        /// Token width D (32), heads h (2), and per-head key and value widths D_k, D_v (16 each).
        public var modelDimension = 32, heads = 2, keyDimension = 16, valueDimension = 16
        /// Feed-forward hidden width D_A (64), number of encoder blocks (2), and output logits (10).
        public var feedForwardDimension = 64, blockCount = 2, classes = 10
        /// Whether the encoder blocks keep their skip connections; `false`, as in the zoo.
        public var residual = false
        /// Dropout rate in [0, 1) after the embedding and inside every block; 0 (off) by default.
        public var dropout: Float = 0
        /// A configuration with every field at its default; set fields afterwards.
        public init() {}
    }

    /// The configuration that built this network.
    public let configuration: Configuration
    /// The patch embedding, a `Conv2d(C, D)` with kernel and stride P:
    /// `[N, C, S, S] → [N, D, ⌊S/P⌋, ⌊S/P⌋]`.
    public let patchEmbedding: Conv2d
    /// The `blockCount` encoder blocks, non-affine LayerNorms, residual as configured.
    public let blocks: [TransformerBlock]
    /// The non-affine LayerNorm applied to the last block's output before pooling.
    public let finalNorm: LayerNorm
    /// The classifier's hidden layer, `Dense(D, D)`, followed by ReLU.
    public let classifierHidden: Dense
    /// The classifier's output layer, `Dense(D, classes)`.
    public let classifierOutput: Dense
    /// Applied to the embedded tokens (after the positional encoding is added).
    public let dropout: Dropout
    /// The fixed sinusoidal encoding `[tokens, D]` (not a parameter).
    public let positionalEncoding: Tensor

    /// Creates the network with weights sampled from `rng`.
    ///
    /// - Parameters:
    ///   - initStandardDeviation: when given, the patch embedding and both classifier layers draw
    ///     their weights from N(0, std²) instead of Glorot uniform; the encoder blocks use their
    ///     defaults unless `initializeEveryLayer`.
    ///   - initializeEveryLayer: the Transformer-NFN zoo's recipe (Tran et al., 2025, reference
    ///     code Fsoft-AIC/Transformer-NFN): *every* weight — patch embedding, Q, K, V, O, both
    ///     feed-forward layers, classifier — from a normal truncated at ±2 std with
    ///     `initStandardDeviation`, every bias zero. Ignored without a standard deviation.
    public init(_ c: Configuration = Configuration(), initStandardDeviation: Float? = nil,
                initializeEveryLayer: Bool = false, rng: inout SeededGenerator) {
        configuration = c
        let everyLayer = initializeEveryLayer && initStandardDeviation != nil
        let initializer: Initializer = initStandardDeviation.map { everyLayer ? .truncatedNormal(std: $0) : .normal(std: $0) }
            ?? .glorotUniform
        patchEmbedding = Conv2d(c.inputChannels, c.modelDimension, kernelSize: (c.patchSize, c.patchSize),
                                stride: (c.patchSize, c.patchSize), initializer: initializer, rng: &rng)
        blocks = (0..<c.blockCount).map { _ in
            TransformerBlock(modelDimension: c.modelDimension, heads: c.heads, keyDimension: c.keyDimension,
                             valueDimension: c.valueDimension, feedForwardDimension: c.feedForwardDimension,
                             residual: c.residual, affineNorm: false, dropout: c.dropout,
                             initializer: everyLayer ? initializer : .glorotUniform, rng: &rng)
        }
        finalNorm = LayerNorm(c.modelDimension, affine: false)
        classifierHidden = Dense(c.modelDimension, c.modelDimension, initializer: initializer, rng: &rng)
        classifierOutput = Dense(c.modelDimension, c.classes, initializer: initializer, rng: &rng)
        dropout = Dropout(rate: c.dropout, seed: rng.next())
        let side = c.imageSize / c.patchSize
        positionalEncoding = SmallTransformer.sinusoidalEncoding(tokens: side * side, dimension: c.modelDimension)
        super.init()
    }

    /// PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(t / 10000^(2i/D)).
    public static func sinusoidalEncoding(tokens: Int, dimension: Int) -> Tensor {
        Tensor(shape: [tokens, dimension]) { flat in
            let t = flat / dimension, j = flat % dimension
            let angle = Double(t) / pow(10_000, Double(2 * (j / 2)) / Double(dimension))
            return Float(j % 2 == 0 ? sin(angle) : cos(angle))
        }
    }

    /// The token sequence fed to the first block: `[N, tokens, D]`.
    public func embed(_ x: Variable) -> Variable {
        let p = patchEmbedding(x)                                   // [N, D, s, s]
        let n = p.shape[0], d = p.shape[1]
        let tokens = p.reshaped([n, d, -1]).permuted([0, 2, 1])     // [N, T, D]
        let pe = x.tape?.constant(positionalEncoding) ?? Variable(positionalEncoding)
        return dropout(tokens + pe)
    }

    /// Logits `[N, classes]` for images `[N, C, imageSize, imageSize]`; other image sizes trap (the token
    /// count must match the positional encoding).
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = embed(x)
        for block in blocks { h = block(h) }
        let pooled = finalNorm(h).mean(alongAxes: [1])              // [N, D]
        return classifierOutput(classifierHidden(pooled).relu())
    }
}
