import Tensors
import Autograd
import NeuralNetworks

/// The classifier on INR2ARRAY latent arrays (Zhou et al. 2023, *Neural Functional Transformers*,
/// §4 and §5.1): a small transformer over the M latent rows,
///
/// x_m = P z_m + p_m,   x ← TransformerBlock(x) (pre-LayerNorm, residual) × blocks,
/// logits = W · mean_m LN(x_m) + b.
///
/// The rows are ordered (row m describes patch m), so each gets a learned position embedding p_m;
/// the mean pool then sees every row once. The reference AllanYangZhou/nfn reads a first token
/// instead; a mean pool uses every row's output.
///
/// **Shapes.** `[B, M, d]` → `[B, classes]`.
/// **Parameters.** (d + 1)·D + M·D + blocks·(4D² + 4D + (D + 1)·2D + (2D + 1)·D) + 2D + (D + 1)·classes
/// (per block: four bias-free attention maps, two LayerNorms, the 2D-wide feed-forward).
/// - Complexity: per block O(B M D² + B M² D).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let classify = try LatentArrayClassifier(rows: 16, latentDimension: 32, configuration: .init(classes: 10), rng: &rng)
/// let logits = classify(latents)      // [B, 10]
/// ```
public final class LatentArrayClassifier: Module {
    /// Hyper-parameters.
    public struct Configuration: Sendable, Equatable, Codable {
        /// D, the token width.
        public var width: Int
        /// Transformer blocks.
        public var blocks: Int
        /// Attention heads, dividing D.
        public var heads: Int
        /// Output logits.
        public var classes: Int

        public init(width: Int = 32, blocks: Int = 2, heads: Int = 2, classes: Int = 10) {
            self.width = width; self.blocks = blocks; self.heads = heads; self.classes = classes
        }
    }

    /// P: d → D.
    public let projection: Dense
    /// p₁ … p_M, `[M, D]`.
    public let positions: Parameter
    public let blocks: [TransformerBlock]
    public let norm: LayerNorm
    public let head: Dense
    public let configuration: Configuration
    /// M, d.
    public let rows: Int, latentDimension: Int

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive sizes or heads not
    ///   dividing the width.
    public init(rows: Int, latentDimension: Int, configuration c: Configuration, rng: inout SeededGenerator) throws {
        guard rows > 0, latentDimension > 0, c.width > 0, c.blocks >= 0, c.heads > 0, c.width % c.heads == 0, c.classes > 0 else {
            throw ModuleError.invalidConfiguration("LatentArrayClassifier: need positive sizes with heads dividing the width, got M=\(rows), d=\(latentDimension), D=\(c.width), heads=\(c.heads), classes=\(c.classes)")
        }
        self.rows = rows; self.latentDimension = latentDimension; configuration = c
        projection = Dense(latentDimension, c.width, rng: &rng)
        positions = Parameter(Tensor.normal([rows, c.width], std: 0.02, rng: &rng))
        blocks = (0..<c.blocks).map { _ in
            TransformerBlock(modelDimension: c.width, heads: c.heads, keyDimension: c.width / c.heads,
                             valueDimension: c.width / c.heads, feedForwardDimension: 2 * c.width, rng: &rng)
        }
        norm = LayerNorm(c.width)
        head = Dense(c.width, c.classes, rng: &rng)
        super.init()
    }

    /// Logits `[B, classes]` of latent arrays `[B, M, d]`.
    public func callAsFunction(_ latents: Variable) -> Variable {
        precondition(latents.rank == 3 && latents.shape[1] == rows && latents.shape[2] == latentDimension,
                     "LatentArrayClassifier: expected [B, \(rows), \(latentDimension)], got \(latents.shape)")
        var x = projection(latents) + positions.variable(on: latents.tape).reshaped([1, rows, configuration.width])
        for block in blocks { x = block(x) }
        return head(norm(x).mean(alongAxes: [1]))
    }
}
