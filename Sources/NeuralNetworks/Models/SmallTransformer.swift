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
    public struct Configuration: Codable, Sendable, Equatable {
        public var inputChannels = 1, imageSize = 28, patchSize = 4
        public var modelDimension = 32, heads = 2, keyDimension = 16, valueDimension = 16
        public var feedForwardDimension = 64, blockCount = 2, classes = 10
        public var residual = false
        public var dropout: Float = 0
        public init() {}
    }

    public let configuration: Configuration
    public let patchEmbedding: Conv2d
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let classifierHidden: Dense
    public let classifierOutput: Dense
    public let dropout: Dropout
    /// The fixed sinusoidal encoding `[tokens, D]` (not a parameter).
    public let positionalEncoding: Tensor

    public init(_ c: Configuration = Configuration(), initStandardDeviation: Float? = nil, rng: inout SeededGenerator) {
        configuration = c
        let initializer: Initializer = initStandardDeviation.map { .normal(std: $0) } ?? .glorotUniform
        patchEmbedding = Conv2d(c.inputChannels, c.modelDimension, kernelSize: (c.patchSize, c.patchSize),
                                stride: (c.patchSize, c.patchSize), initializer: initializer, rng: &rng)
        blocks = (0..<c.blockCount).map { _ in
            TransformerBlock(modelDimension: c.modelDimension, heads: c.heads, keyDimension: c.keyDimension,
                             valueDimension: c.valueDimension, feedForwardDimension: c.feedForwardDimension,
                             residual: c.residual, affineNorm: false, dropout: c.dropout, rng: &rng)
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

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = embed(x)
        for block in blocks { h = block(h) }
        let pooled = finalNorm(h).mean(alongAxes: [1])              // [N, D]
        return classifierOutput(classifierHidden(pooled).relu())
    }
}
