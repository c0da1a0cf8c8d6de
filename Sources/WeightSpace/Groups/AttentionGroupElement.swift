import Tensors
import NeuralNetworks

/// An element of the symmetry group of transformer encoder blocks (Tran et al. 2025, *Equivariant
/// Neural Functional Networks for Transformers*): per block, a head permutation τ, one M_i ∈
/// GL(D_k) and one N_i ∈ GL(D_v) per head, and — for the Small Transformer Zoo's residual-free
/// blocks — permutations π_O of the attention output / FFN input features and π_A of the FFN hidden
/// units.
///
/// Action on block weights (new head i takes old head τ(i)):
/// W_Q⁽ⁱ⁾ ← W_Q⁽ᵗ⁽ⁱ⁾⁾ M_i,  W_K⁽ⁱ⁾ ← W_K⁽ᵗ⁽ⁱ⁾⁾ M_i⁻ᵀ,  W_V⁽ⁱ⁾ ← W_V⁽ᵗ⁽ⁱ⁾⁾ N_i,  W_O⁽ⁱ⁾ ← N_i⁻¹ W_O⁽ᵗ⁽ⁱ⁾⁾ P_Oᵀ,
/// W_A ← P_O W_A P_Aᵀ, b_A ← P_A b_A, W_B ← P_A W_B, b_B unchanged,
/// where P_O permutes the D axis by π_O (new j ← old π_O⁻¹(j)) and P_A the D_A axis by π_A.
/// Scores (W_Q M)(W_K M⁻ᵀ)ᵀ = W_Q W_Kᵀ and values (W_V N)(N⁻¹ W_O) = W_V W_O are unchanged, and
/// a non-affine LayerNorm commutes with P_O, so the block computes the same function.
///
/// With residual connections, π_O would also have to permute the residual stream (the embedding,
/// every block and the classifier together); SwiftNFN drops it there (π_O = id, see
/// ``Options/featurePermutations``) and keeps heads × GL × π_A, which are symmetries either way.
public struct AttentionGroupElement: Sendable {
    /// One block's part of the element.
    public struct Block: Sendable {
        /// τ: new head i takes old head `headPermutation[i]`.
        public var headPermutation: [Int]
        /// M_i, `[D_k, D_k]` per head (indexed by the new head position).
        public var queryKey: [Tensor]
        /// N_i, `[D_v, D_v]` per head.
        public var valueOutput: [Tensor]
        /// π_O over the D output features of the attention (identity for residual blocks).
        public var outputPermutation: [Int]
        /// π_A over the D_A FFN hidden units.
        public var hiddenPermutation: [Int]

        /// A block element from its parts (validated when applied).
        public init(headPermutation: [Int], queryKey: [Tensor], valueOutput: [Tensor], outputPermutation: [Int],
                    hiddenPermutation: [Int]) {
            self.headPermutation = headPermutation; self.queryKey = queryKey; self.valueOutput = valueOutput
            self.outputPermutation = outputPermutation; self.hiddenPermutation = hiddenPermutation
        }
    }

    /// One part per encoder block, in block order.
    public var blocks: [Block]

    /// What to sample.
    public struct Options: Sendable {
        /// Sample π_O (only valid for residual-free blocks).
        public var featurePermutations = true
        /// Sample GL matrices (else identity matrices).
        public var generalLinear = true
        /// Sample head permutations.
        /// Sample π_A over the FFN hidden units (a symmetry with or without residuals).
        public var hiddenPermutations = true
        public var headPermutations = true
        /// 2-norm condition-number bound for every M_i and N_i (checked with LAPACK).
        public var maxConditionNumber: Float = 100
        /// Creates sampling options; the defaults sample the full group (π_A is always sampled).
        ///
        /// - Parameters:
        ///   - featurePermutations: sample π_O; `true` by default. Set `false` for residual blocks, where
        ///     π_O is not a symmetry.
        ///   - generalLinear: sample random M_i, N_i; `true` by default (else identities).
        ///   - headPermutations: sample τ; `true` by default (else the identity).
        ///   - maxConditionNumber: κ ≥ 1 bounding every sampled M_i and N_i; 100 by default. Larger values
        ///     make the inverses M_i⁻ᵀ, N_i⁻¹ less accurate in Float32.
        public init(featurePermutations: Bool = true, generalLinear: Bool = true, headPermutations: Bool = true,
                    hiddenPermutations: Bool = true, maxConditionNumber: Float = 100) {
            self.hiddenPermutations = hiddenPermutations
            self.featurePermutations = featurePermutations
            self.generalLinear = generalLinear
            self.headPermutations = headPermutations
            self.maxConditionNumber = maxConditionNumber
        }
    }

    /// Wraps per-block parts as given; they are checked against the features when applied.
    public init(blocks: [Block]) { self.blocks = blocks }

    /// A random element for blocks of the given dimensions.
    ///
    /// - Throws: ``LinearAlgebraError`` if a well-conditioned sample cannot be made (κ < 1).
    public static func random(blockCount: Int, heads: Int, modelDimension d: Int, keyDimension dk: Int,
                              valueDimension dv: Int, feedForwardDimension da: Int, options: Options = Options(),
                              rng: inout SeededGenerator) throws -> AttentionGroupElement {
        var blocks: [Block] = []
        // Sample slightly inside the bound so Float32 rounding of the sampled entries cannot push
        // the measured condition number over it.
        let kappa = options.maxConditionNumber * 0.999
        for _ in 0..<blockCount {
            let tau = options.headPermutations ? rng.permutation(heads) : Array(0..<heads)
            var ms: [Tensor] = [], ns: [Tensor] = []
            for _ in 0..<heads {
                ms.append(options.generalLinear
                          ? try Tensor.randomWellConditioned(dk, maxConditionNumber: kappa, rng: &rng)
                          : Tensor.identity(dk))
                ns.append(options.generalLinear
                          ? try Tensor.randomWellConditioned(dv, maxConditionNumber: kappa, rng: &rng)
                          : Tensor.identity(dv))
            }
            blocks.append(Block(headPermutation: tau, queryKey: ms, valueOutput: ns,
                                outputPermutation: options.featurePermutations ? rng.permutation(d) : Array(0..<d),
                                hiddenPermutation: options.hiddenPermutations ? rng.permutation(da) : Array(0..<da)))
        }
        return AttentionGroupElement(blocks: blocks)
    }

    /// Applies the element to one block's features.
    ///
    /// - Throws: ``WeightSpaceError/shapeMismatch(_:)`` on mismatched dimensions, or a
    ///   ``LinearAlgebraError`` if a matrix is singular.
    public static func apply(_ g: Block, to f: TransformerBlockFeatures) throws -> TransformerBlockFeatures {
        let (h, d, dk, dv, da) = f.dimensions
        guard g.headPermutation.count == h, g.queryKey.count == h, g.valueOutput.count == h,
              g.queryKey.allSatisfy({ $0.shape == [dk, dk] }), g.valueOutput.allSatisfy({ $0.shape == [dv, dv] }),
              g.outputPermutation.count == d, g.hiddenPermutation.count == da else {
            throw WeightSpaceError.shapeMismatch("group element does not match block dimensions h=\(h) D=\(d) D_k=\(dk) D_v=\(dv) D_A=\(da)")
        }
        let piO = inversePermutation(g.outputPermutation), piA = inversePermutation(g.hiddenPermutation)
        let q = f.query.gathering(g.headPermutation, alongAxis: 2)
        let k = f.key.gathering(g.headPermutation, alongAxis: 2)
        let v = f.value.gathering(g.headPermutation, alongAxis: 2)
        let o = f.output.gathering(g.headPermutation, alongAxis: 2)
        var qs: [Tensor] = [], ks: [Tensor] = [], vs: [Tensor] = [], os: [Tensor] = []
        for i in 0..<h {
            let m = g.queryKey[i], n = g.valueOutput[i]
            let mInvT = try m.inverse().transposed(), nInv = try n.inverse()
            qs.append(Tensor.matmul(q.slice(axis: 2, i..<(i + 1)), m))
            ks.append(Tensor.matmul(k.slice(axis: 2, i..<(i + 1)), mInvT))
            vs.append(Tensor.matmul(v.slice(axis: 2, i..<(i + 1)), n))
            let oi = o.slice(axis: 2, i..<(i + 1))
            let lead = Array(oi.shape.dropLast(2))
            os.append(Tensor.matmul(nInv, oi.reshaped([-1, dv, d])).reshaped(lead + [dv, d]))
        }
        return TransformerBlockFeatures(
            query: Tensor.concatenate(qs, alongAxis: 2), key: Tensor.concatenate(ks, alongAxis: 2),
            value: Tensor.concatenate(vs, alongAxis: 2),
            output: Tensor.concatenate(os, alongAxis: 2).gathering(piO, alongAxis: 4),
            feedForwardInWeight: f.feedForwardInWeight.gathering(piO, alongAxis: 2).gathering(piA, alongAxis: 3),
            feedForwardInBias: f.feedForwardInBias.gathering(piA, alongAxis: 2),
            feedForwardOutWeight: f.feedForwardOutWeight.gathering(piA, alongAxis: 2),
            feedForwardOutBias: f.feedForwardOutBias)
    }

    /// Applies the element to every block of a transformer weight space (embedding and
    /// classifier are untouched).
    public func apply(to features: TransformerWeightSpaceFeatures) throws -> TransformerWeightSpaceFeatures {
        guard blocks.count == features.blocks.count else {
            throw WeightSpaceError.shapeMismatch("element has \(blocks.count) blocks, features have \(features.blocks.count)")
        }
        var out = features
        out.blocks = try zip(blocks, features.blocks).map { try AttentionGroupElement.apply($0, to: $1) }
        return out
    }

    /// Applies the element to a model's parameters in place.
    public func apply(to model: SmallTransformer) throws {
        try model.load(apply(to: TransformerWeightSpaceFeatures(model: model)))
    }
}

/// The inverse of a permutation given as images (`p[i]` = σ(i)).
public func inversePermutation(_ p: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: p.count)
    for (i, pi) in p.enumerated() { inv[pi] = i }
    return inv
}

extension Tensor {
    /// The n×n identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        Tensor(shape: [n, n]) { $0 / n == $0 % n ? 1 : 0 }
    }
}
