import Foundation
import Tensors
import NeuralNetworks

/// The module names of a PyTorch vision transformer's `state_dict`, for mapping it onto
/// ``SmallTransformer``.
///
/// The defaults are the Small Transformer Zoo's `VisionTransformer` (`vision_task/model.py` in
/// Fsoft-AIC/Transformer-NFN, the code of Tran et al. 2025); with ``prefix`` `P` and block template
/// `encoder`, block `i`'s names start `P` + `encoder.i.`:
///
/// | PyTorch name (default) | PyTorch shape | our path | our shape | conversion |
/// | --- | --- | --- | --- | --- |
/// | `embedding.conv1.weight` | `[D, C, P, P]` | `patchEmbedding.weight` | same | copy |
/// | `embedding.conv1.bias` | `[D]` | `patchEmbedding.bias` | same | copy |
/// | `embedding.pos_embedding` | `[T, D]` or `[1, T, D]` | — (fixed) | — | checked against ``SmallTransformer/sinusoidalEncoding(tokens:dimension:)`` (±1e-4), not stored; T gives the image side √T·P |
/// | `encoder.i.attention.queries.weight` | `[h·D_k, D]` | `blocks.i.attention.query` | `[h, D, D_k]` | reshape `[h, D_k, D]`, swap the last two axes |
/// | `encoder.i.attention.keys.weight` | `[h·D_k, D]` | `blocks.i.attention.key` | `[h, D, D_k]` | same |
/// | `encoder.i.attention.values.weight` | `[h·D_v, D]` | `blocks.i.attention.value` | `[h, D, D_v]` | same |
/// | `encoder.i.attention.out_projection.weight` | `[D, h·D_v]` | `blocks.i.attention.output` | `[h, D_v, D]` | transpose to `[h·D_v, D]`, reshape |
/// | `encoder.i.fc1.weight` / `.bias` | `[D_A, D]` / `[D_A]` | `blocks.i.feedForwardIn.weight` / `.bias` | same | copy |
/// | `encoder.i.fc2.weight` / `.bias` | `[D, D_A]` / `[D]` | `blocks.i.feedForwardOut.weight` / `.bias` | same | copy |
/// | `classifier.fc1.weight` / `.bias` | `[D, D]` / `[D]` | `classifierHidden.weight` / `.bias` | same | copy |
/// | `classifier.fc2.weight` / `.bias` | `[K, D]` / `[K]` | `classifierOutput.weight` / `.bias` | same | copy |
///
/// The LayerNorms are non-affine (no tensors); the number of heads h is not visible in the
/// shapes and is given separately. Head i of a PyTorch projection is rows `i·D_k ..< (i+1)·D_k` of
/// its weight (the model reshapes `[B, T, h·D_k]` to `[B, T, h, D_k]`), which is what the reshape
/// above selects. Any other tensor in the `state_dict` — an attention bias, affine LayerNorm
/// weights, a CLS token — is an error: ``SmallTransformer`` has no place for it.
public struct SmallTransformerStateDictNames: Sendable, Equatable {
    /// A prefix before every name (`module.` after `DataParallel`); `nil` tries `""`, `module.`
    /// and `model.` and takes the first under which the patch embedding is found.
    public var prefix: String?
    /// The patch-embedding convolution.
    public var patchEmbedding = "embedding.conv1"
    /// The positional-encoding buffer (`nil`: none is stored).
    public var positionalEncoding: String? = "embedding.pos_embedding"
    /// The list of blocks; block i is `blocks.i.`.
    public var blocks = "encoder"
    /// Inside a block: the four attention projections (Linear layers without bias).
    public var query = "attention.queries", key = "attention.keys", value = "attention.values",
               output = "attention.out_projection"
    /// Inside a block: the feed-forward layers.
    public var feedForwardIn = "fc1", feedForwardOut = "fc2"
    /// The classifier's hidden and output layers.
    public var classifierHidden = "classifier.fc1", classifierOutput = "classifier.fc2"

    /// The Small Transformer Zoo's names (prefix detected).
    public init(prefix: String? = nil) { self.prefix = prefix }

    /// The Small Transformer Zoo's `VisionTransformer` names.
    public static let smallTransformerZoo = SmallTransformerStateDictNames()
}

/// Converts a vision transformer `state_dict` to ``SmallTransformer`` parameters (see
/// ``SmallTransformerStateDictNames`` for the mapping).
public enum SmallTransformerStateDict {
    /// The configuration the `state_dict` implies and its tensors by our parameter paths.
    ///
    /// - Parameters:
    ///   - heads: h (not visible in the shapes).
    ///   - imageSize: the image side when the `state_dict` has no positional encoding to infer it
    ///     from (default 28).
    /// - Throws: ``ZooError/importFailed(file:detail:)`` naming `source` for a missing or
    ///   unexpected tensor, shapes that do not chain, a head count that does not divide the
    ///   projections, or a positional encoding that is not the sinusoidal one.
    public static func parameters(from stateDict: [String: Tensor], names: SmallTransformerStateDictNames = .smallTransformerZoo,
                                  heads: Int, imageSize: Int? = nil, source: String = "state_dict")
        throws -> (configuration: SmallTransformer.Configuration, parameters: [String: Tensor]) {
        func fail(_ d: String) -> ZooError { ZooError.importFailed(file: source, detail: d) }
        guard heads >= 1 else { throw fail("heads must be ≥ 1") }
        let candidates = names.prefix.map { [$0] } ?? ["", "module.", "model."]
        guard let prefix = candidates.first(where: { stateDict[$0 + names.patchEmbedding + ".weight"] != nil }) else {
            throw fail("no tensor '\(candidates[0] + names.patchEmbedding).weight' (the patch embedding); tensors: \(stateDict.keys.sorted().prefix(8).joined(separator: ", "))")
        }
        var used = Set<String>()
        func take(_ name: String, rank: Int) throws -> Tensor {
            let full = prefix + name
            guard let t = stateDict[full] else { throw fail("missing tensor '\(full)'") }
            guard t.rank == rank else { throw fail("tensor '\(full)' has shape \(t.shape), expected rank \(rank)") }
            used.insert(full)
            return t
        }
        func expect(_ t: Tensor, _ shape: [Int], _ name: String) throws {
            guard t.shape == shape else { throw fail("tensor '\(prefix + name)' has shape \(t.shape), expected \(shape)") }
        }
        var out: [String: Tensor] = [:]
        let pw = try take(names.patchEmbedding + ".weight", rank: 4)
        let (d, c, p) = (pw.shape[0], pw.shape[1], pw.shape[2])
        guard pw.shape[3] == p else { throw fail("the patch embedding kernel \(pw.shape) is not square") }
        let pb = try take(names.patchEmbedding + ".bias", rank: 1)
        try expect(pb, [d], names.patchEmbedding + ".bias")
        out["patchEmbedding.weight"] = pw
        out["patchEmbedding.bias"] = pb

        var side = imageSize ?? 28
        if let pe = names.positionalEncoding, let t = stateDict[prefix + pe] {
            used.insert(prefix + pe)
            let tokens = t.count / max(d, 1)
            guard t.shape.last == d, tokens * d == t.count, t.shape.dropLast().reduce(1, *) == tokens else {
                throw fail("positional encoding '\(prefix + pe)' has shape \(t.shape), expected [tokens, \(d)]")
            }
            let s = Int(Double(tokens).squareRoot().rounded())
            guard s * s == tokens else { throw fail("positional encoding '\(prefix + pe)' has \(tokens) tokens, not a square number of patches") }
            let reference = SmallTransformer.sinusoidalEncoding(tokens: tokens, dimension: d)
            let diff = t.reshaped([tokens, d]).maxAbsDifference(reference)
            guard diff <= 1e-4 else {
                throw fail("positional encoding '\(prefix + pe)' differs from the fixed sinusoidal encoding SmallTransformer adds (max |Δ| = \(diff))")
            }
            side = s * p
        }

        var blockCount = 0
        while stateDict["\(prefix)\(names.blocks).\(blockCount).\(names.query).weight"] != nil { blockCount += 1 }
        guard blockCount >= 1 else { throw fail("no encoder block: missing '\(prefix)\(names.blocks).0.\(names.query).weight'") }
        var dk = 0, dv = 0, da = 0
        for i in 0..<blockCount {
            let b = "\(names.blocks).\(i)."
            let q = try take(b + names.query + ".weight", rank: 2)
            let k = try take(b + names.key + ".weight", rank: 2)
            let v = try take(b + names.value + ".weight", rank: 2)
            let o = try take(b + names.output + ".weight", rank: 2)
            guard q.shape[1] == d, q.shape[0] % heads == 0, v.shape[0] % heads == 0 else {
                throw fail("block \(i): query \(q.shape) / value \(v.shape) projections do not fit D = \(d) and \(heads) heads")
            }
            if i == 0 { dk = q.shape[0] / heads; dv = v.shape[0] / heads }
            try expect(q, [heads * dk, d], b + names.query + ".weight")
            try expect(k, [heads * dk, d], b + names.key + ".weight")
            try expect(v, [heads * dv, d], b + names.value + ".weight")
            try expect(o, [d, heads * dv], b + names.output + ".weight")
            let f1 = try take(b + names.feedForwardIn + ".weight", rank: 2)
            if i == 0 { da = f1.shape[0] }
            try expect(f1, [da, d], b + names.feedForwardIn + ".weight")
            let f1b = try take(b + names.feedForwardIn + ".bias", rank: 1)
            try expect(f1b, [da], b + names.feedForwardIn + ".bias")
            let f2 = try take(b + names.feedForwardOut + ".weight", rank: 2)
            try expect(f2, [d, da], b + names.feedForwardOut + ".weight")
            let f2b = try take(b + names.feedForwardOut + ".bias", rank: 1)
            try expect(f2b, [d], b + names.feedForwardOut + ".bias")
            let ours = "blocks.\(i)."
            // [h·e, D] → [h, e, D] → [h, D, e]
            out[ours + "attention.query"] = q.reshaped([heads, dk, d]).permuted([0, 2, 1])
            out[ours + "attention.key"] = k.reshaped([heads, dk, d]).permuted([0, 2, 1])
            out[ours + "attention.value"] = v.reshaped([heads, dv, d]).permuted([0, 2, 1])
            // [D, h·Dv] → [h·Dv, D] → [h, Dv, D]
            out[ours + "attention.output"] = o.transposed().reshaped([heads, dv, d])
            out[ours + "feedForwardIn.weight"] = f1
            out[ours + "feedForwardIn.bias"] = f1b
            out[ours + "feedForwardOut.weight"] = f2
            out[ours + "feedForwardOut.bias"] = f2b
        }
        let h1 = try take(names.classifierHidden + ".weight", rank: 2)
        try expect(h1, [d, d], names.classifierHidden + ".weight")
        let h1b = try take(names.classifierHidden + ".bias", rank: 1)
        try expect(h1b, [d], names.classifierHidden + ".bias")
        let h2 = try take(names.classifierOutput + ".weight", rank: 2)
        let classes = h2.shape[0]
        try expect(h2, [classes, d], names.classifierOutput + ".weight")
        let h2b = try take(names.classifierOutput + ".bias", rank: 1)
        try expect(h2b, [classes], names.classifierOutput + ".bias")
        out["classifierHidden.weight"] = h1
        out["classifierHidden.bias"] = h1b
        out["classifierOutput.weight"] = h2
        out["classifierOutput.bias"] = h2b

        if let extra = stateDict.keys.sorted().first(where: { !used.contains($0) }) {
            throw fail("unexpected tensor '\(extra)' \(stateDict[extra]!.shape): SmallTransformer has no such parameter (attention biases, affine LayerNorms and CLS tokens are not supported)")
        }
        guard side % p == 0 else { throw fail("image side \(side) is not a multiple of the patch size \(p)") }
        var config = SmallTransformer.Configuration()
        config.inputChannels = c
        config.imageSize = side
        config.patchSize = p
        config.modelDimension = d
        config.heads = heads
        config.keyDimension = dk
        config.valueDimension = dv
        config.feedForwardDimension = da
        config.blockCount = blockCount
        config.classes = classes
        config.residual = false
        config.dropout = 0
        return (config, out)
    }
}
