import Foundation
import LinearAlgebra
import Tensors
import Autograd
import NeuralNetworks
import Datasets

/// Small-Transformer zoo members (``SmallTransformer``) trained in lockstep without the tape:
/// every activation is a `[images·tokens, width]` row block in buffers allocated once, each
/// dense layer is one GEMM over all tokens of the mini-batch, and attention runs per (image,
/// head) on strided views of the stacked Q, K, V rows.
///
/// A tape step of this network records about ninety operations, each allocating its result and
/// a pullback closure, and the head split and merge are permute-and-copy passes; here the heads
/// are read in place (leading dimension `h·e`), the bias is the GEMM's starting value, and the
/// three projections' input gradients accumulate into one buffer (β = 1).
///
/// Covers the zoo's transformer: non-affine LayerNorms, no skip connections, attention without
/// biases (``ZooModels`` builds exactly that; anything else is refused at init). Like
/// ``CNNMemberBatch``, members run one after another through one set of buffers (a member's GEMMs
/// already span `batch × tokens` rows), a member's numbers never depend on its batch, and they
/// agree with the tape to Float32 reassociation (test `transformerStepEqualsTheTape`).
final class TransformerMemberBatch: SequentialMemberBatch {
    /// One encoder block's activations for a mini-batch (rows = images·tokens).
    private struct BlockBuffers {
        let firstNormalized: FloatBuffer     // [R, D], LN₁(x)
        let firstInverseStd: FloatBuffer     // [R]
        let queries: FloatBuffer             // [R, h·dk]
        let keys: FloatBuffer                // [R, h·dk]
        let values: FloatBuffer              // [R, h·dv]
        let probabilities: FloatBuffer       // [images·h, T, T], the attention weights
        let merged: FloatBuffer              // [R, h·dv], the heads' outputs side by side
        let attended: FloatBuffer            // [R, D], merged·W_O (before dropout)
        let attentionMask: FloatBuffer       // [R, D] (empty without dropout)
        let secondInput: FloatBuffer         // [R, D], the attention sublayer's output (after dropout)
        let secondNormalized: FloatBuffer    // [R, D], LN₂(·)
        let secondInverseStd: FloatBuffer    // [R]
        let hiddenPre: FloatBuffer           // [R, D_A], W_A·x + a
        let hidden: FloatBuffer              // [R, D_A], ReLU of it
        let output: FloatBuffer              // [R, D], W_B·hidden + β (before dropout)
        let feedForwardMask: FloatBuffer     // [R, D] (empty without dropout)
        let blockOutput: FloatBuffer         // [R, D], after dropout
    }

    /// The member networks; their parameter values are the master copy the optimizers update.
    let members: [SmallTransformer]
    let capacity: Int
    private let configuration: SmallTransformer.Configuration
    private let tokens: Int
    private let patchFloats: Int
    private let patches: FloatBuffer           // [B·T, C·P·P]
    private let embedded: FloatBuffer          // [B·T, D], patches·Wᵀ + b + PE
    private let embeddingMask: FloatBuffer     // [B·T, D] (empty without dropout)
    private let embeddedDropped: FloatBuffer   // [B·T, D] (empty without dropout)
    private let blockBuffers: [BlockBuffers]
    private let finalNormalized: FloatBuffer   // [B·T, D]
    private let finalInverseStd: FloatBuffer   // [B·T]
    private let pooled: FloatBuffer            // [B, D]
    private let classifierPre: FloatBuffer     // [B, D]
    private let classifierHidden: FloatBuffer  // [B, D]
    private let logits: FloatBuffer            // [B, classes]
    private let logProbabilities: FloatBuffer
    private let logitGradient: FloatBuffer
    // Gradient scratch.
    private var upstream: FloatBuffer          // [B·T, max(D, D_A, h·dv)]
    private var downstream: FloatBuffer
    private let hiddenGradient: FloatBuffer    // [B·T, D_A]
    private let queryGradient: FloatBuffer     // [B·T, h·dk]
    private let keyGradient: FloatBuffer
    private let valueGradient: FloatBuffer     // [B·T, h·dv]
    private let scoreGradient: FloatBuffer     // [T, T]
    private let smallGradient: FloatBuffer     // [B, D]
    private let pooledGradient: FloatBuffer    // [B, D]
    private let projectionGradient: FloatBuffer // [D, h·max(dk, dv)]
    /// The stacked projections `[D, h·e]` of the member at hand, per block: Q, K, V.
    private let stackedProjections: [[FloatBuffer]]
    /// Per member: its parameters' paths (the same paths, but each member's own objects).
    private let parameterPaths: [[ObjectIdentifier: String]]

    var classCount: Int { configuration.classes }
    var lossBuffers: (logits: FloatBuffer, logProbabilities: FloatBuffer, logitGradient: FloatBuffer) {
        (logits, logProbabilities, logitGradient)
    }

    /// - Throws: ``ZooError/invalidSpec(_:)`` when there are no members, their configurations
    ///   differ, or the network is not the zoo's (affine norms, skips, attention biases, patches
    ///   that do not tile the images).
    init(members: [SmallTransformer], imageShape: [Int], capacity: Int) throws {
        guard let first = members.first else { throw ZooError.invalidSpec("a transformer member batch needs at least one member") }
        guard capacity > 0 else { throw ZooError.invalidSpec("a transformer member batch needs a batch size > 0, got \(capacity)") }
        let c = first.configuration
        guard members.allSatisfy({ $0.configuration.withoutDropout == c.withoutDropout }) else {
            throw ZooError.invalidSpec("the transformers of a member batch must share one architecture")
        }
        guard imageShape == [c.inputChannels, c.imageSize, c.imageSize], c.imageSize % c.patchSize == 0 else {
            throw ZooError.invalidSpec("images of \(imageShape) do not fit the transformer's \(c.imageSize)×\(c.imageSize) input tiled by \(c.patchSize)")
        }
        let zooShaped = !c.residual && first.finalNorm.scale == nil && first.patchEmbedding.bias != nil
            && first.classifierHidden.bias != nil && first.classifierOutput.bias != nil
            && first.blocks.allSatisfy { b in
                b.norm1.scale == nil && b.norm2.scale == nil && b.attention.queryBias == nil && b.attention.keyBias == nil
                    && b.attention.valueBias == nil && b.attention.outputBias == nil
                    && b.feedForwardIn.bias != nil && b.feedForwardOut.bias != nil
            }
        guard zooShaped else {
            throw ZooError.invalidSpec("a transformer member batch covers the zoo's network only (non-affine norms, no skips, attention without biases)")
        }
        let side = c.imageSize / c.patchSize
        let tokens = side * side, patchFloats = c.inputChannels * c.patchSize * c.patchSize
        let rows = capacity * tokens, d = c.modelDimension, h = c.heads
        let qk = h * c.keyDimension, v = h * c.valueDimension, da = c.feedForwardDimension
        // Per token row: the patch, the embedding (and its dropout), per block every activation
        // below, the final norm, and the gradient scratch; per image, the attention weights.
        let perRow = Double(patchFloats + 3 * d + 2 + 2 * Swift.max(d, da, v, qk) + da + 2 * qk + v)
            + Double(c.blockCount) * Double(7 * d + 2 + 2 * qk + 2 * v + 2 * da + 2 * d)
        try MemberBatchSize.checkBuffers(floats: Double(rows) * perRow + Double(capacity * h * tokens * tokens * c.blockCount),
                                         for: "a transformer member batch of \(capacity) images of \(imageShape)")
        self.members = members
        self.capacity = capacity
        configuration = c
        self.tokens = tokens
        self.patchFloats = patchFloats
        let dropout = members.contains { $0.configuration.dropout > 0 }
        func buffer(_ n: Int, when: Bool = true) -> FloatBuffer { FloatBuffer(count: when ? n : 0) }
        patches = buffer(rows * patchFloats)
        embedded = buffer(rows * d)
        embeddingMask = buffer(rows * d, when: dropout)
        embeddedDropped = buffer(rows * d, when: dropout)
        blockBuffers = (0..<c.blockCount).map { _ in
            BlockBuffers(firstNormalized: buffer(rows * d), firstInverseStd: buffer(rows), queries: buffer(rows * qk),
                         keys: buffer(rows * qk), values: buffer(rows * v),
                         probabilities: buffer(capacity * h * tokens * tokens), merged: buffer(rows * v),
                         attended: buffer(rows * d), attentionMask: buffer(rows * d, when: dropout),
                         secondInput: buffer(rows * d), secondNormalized: buffer(rows * d), secondInverseStd: buffer(rows),
                         hiddenPre: buffer(rows * da), hidden: buffer(rows * da), output: buffer(rows * d),
                         feedForwardMask: buffer(rows * d, when: dropout), blockOutput: buffer(rows * d))
        }
        finalNormalized = buffer(rows * d)
        finalInverseStd = buffer(rows)
        pooled = buffer(capacity * d)
        classifierPre = buffer(capacity * d)
        classifierHidden = buffer(capacity * d)
        logits = buffer(capacity * c.classes)
        logProbabilities = buffer(capacity * c.classes)
        logitGradient = buffer(capacity * c.classes)
        let widest = Swift.max(d, da, v, qk)
        upstream = buffer(rows * widest)
        downstream = buffer(rows * widest)
        hiddenGradient = buffer(rows * da)
        queryGradient = buffer(rows * qk)
        keyGradient = buffer(rows * qk)
        valueGradient = buffer(rows * v)
        scoreGradient = buffer(tokens * tokens)
        smallGradient = buffer(capacity * d)
        pooledGradient = buffer(capacity * d)
        projectionGradient = buffer(d * Swift.max(qk, v))
        stackedProjections = (0..<c.blockCount).map { _ in [buffer(d * qk), buffer(d * qk), buffer(d * v)] }
        parameterPaths = members.map { m in
            Dictionary(uniqueKeysWithValues: m.namedParameters().map { (ObjectIdentifier($0.parameter), $0.path) })
        }
    }

    // MARK: Forward

    /// Row (image, token) of ``patches``: the token's P×P patch of every channel, in the patch
    /// embedding's weight order (c, i, j).
    func load(_ dataset: LabeledImageDataset, indices: ArraySlice<Int>) {
        let c = configuration, p = c.patchSize, s = c.imageSize, side = s / p
        precondition(dataset.imageShape == [c.inputChannels, s, s], "images of \(dataset.imageShape) do not fit the transformer")
        let image = c.inputChannels * s * s
        dataset.images.withUnsafeBufferPointer { src in
            var d = patches.base
            for index in indices {
                let x = src.baseAddress! + index * image
                for ty in 0..<side {
                    for tx in 0..<side {
                        for ch in 0..<c.inputChannels {
                            for i in 0..<p {
                                let row = x + (ch * s + ty * p + i) * s + tx * p
                                for j in 0..<p { d[j] = row[j] }
                                d += p
                            }
                        }
                    }
                }
            }
        }
    }

    func forward(member: Int, images: Int, training: Bool) {
        let network = members[member]
        let c = configuration, d = c.modelDimension, rows = images * tokens
        // Patch embedding, then the positional encoding.
        Rows.linear(patches.base, rows: rows, inputs: patchFloats, weight: network.patchEmbedding.weight.value,
                    bias: network.patchEmbedding.bias!.value, outputs: d, into: embedded.base)
        network.positionalEncoding.withUnsafeBufferPointer { pe in
            for image in 0..<images {
                let e = embedded.base + image * tokens * d
                for i in 0..<(tokens * d) { e[i] += pe[i] }
            }
        }
        var x = UnsafePointer(embedded.base)
        if training, let mask = network.dropout.nextMask(shape: [images, tokens, d]) {
            x = Rows.applyMask(mask, to: embedded.base, into: embeddedDropped.base, keeping: embeddingMask.base, count: rows * d)
        }
        for (b, block) in network.blocks.enumerated() {
            x = forwardBlock(block, buffers: blockBuffers[b], stacked: stackedProjections[b], input: x, images: images, training: training)
        }
        Rows.layerNorm(x, rows: rows, width: d, epsilon: network.finalNorm.epsilon, into: finalNormalized.base, inverseStd: finalInverseStd.base)
        // Mean over tokens, then Dense → ReLU → Dense.
        RowKernels.meanOfRowGroups(finalNormalized.base, groups: images, rowsPerGroup: tokens, width: d, into: pooled.base)
        Rows.linear(pooled.base, rows: images, inputs: d, weight: network.classifierHidden.weight.value,
                    bias: network.classifierHidden.bias!.value, outputs: d, into: classifierPre.base)
        RowKernels.relu(classifierPre.base, into: classifierHidden.base, count: images * d)
        Rows.linear(classifierHidden.base, rows: images, inputs: d, weight: network.classifierOutput.weight.value,
                    bias: network.classifierOutput.bias!.value, outputs: c.classes, into: logits.base)
    }

    /// One block: x → Drop(MHA(LN₁ x)) → Drop(W_B ReLU(W_A LN₂(·) + a) + β). Returns its output.
    private func forwardBlock(_ block: TransformerBlock, buffers o: BlockBuffers, stacked: [FloatBuffer],
                              input x: UnsafePointer<Float>, images: Int, training: Bool) -> UnsafePointer<Float> {
        let c = configuration, d = c.modelDimension, h = c.heads, dk = c.keyDimension, dv = c.valueDimension
        let rows = images * tokens
        Rows.layerNorm(x, rows: rows, width: d, epsilon: block.norm1.epsilon, into: o.firstNormalized.base, inverseStd: o.firstInverseStd.base)
        let attention = block.attention
        for (k, parameter) in [attention.query, attention.key, attention.value].enumerated() {
            Rows.stackHeads(parameter.value, into: stacked[k].base)
        }
        for (k, target) in [o.queries, o.keys, o.values].enumerated() {
            let width = k == 2 ? h * dv : h * dk
            BLAS.gemmIntoZeros(.none, .none, m: rows, n: width, k: d, a: o.firstNormalized.base, lda: d,
                      b: stacked[k].base, ldb: width, c: target.base, ldc: width)
        }
        // Per (image, head): P = softmax(Q Kᵀ / √dk), merged = P V, heads side by side.
        let scale = 1 / Float(dk).squareRoot()
        for image in 0..<images {
            for head in 0..<h {
                let q = o.queries.base + image * tokens * h * dk + head * dk
                let k = o.keys.base + image * tokens * h * dk + head * dk
                let v = o.values.base + image * tokens * h * dv + head * dv
                let p = o.probabilities.base + (image * h + head) * tokens * tokens
                BLAS.gemmIntoZeros(.none, .transpose, m: tokens, n: tokens, k: dk, alpha: scale, a: q, lda: h * dk,
                          b: k, ldb: h * dk, c: p, ldc: tokens)
                for t in 0..<tokens { Rows.softmax(p + t * tokens, length: tokens) }
                BLAS.gemmIntoZeros(.none, .none, m: tokens, n: dv, k: tokens, a: p, lda: tokens, b: v, ldb: h * dv,
                          c: o.merged.base + image * tokens * h * dv + head * dv, ldc: h * dv)
            }
        }
        attention.output.value.withUnsafeBufferPointer { w in   // [h, dv, D] is [h·dv, D]
            BLAS.gemmIntoZeros(.none, .none, m: rows, n: d, k: h * dv, a: o.merged.base, lda: h * dv,
                      b: w.baseAddress!, ldb: d, c: o.attended.base, ldc: d)
        }
        var a = UnsafePointer(o.attended.base)
        if training, let mask = block.dropout.nextMask(shape: [images, tokens, d]) {
            a = Rows.applyMask(mask, to: o.attended.base, into: o.secondInput.base, keeping: o.attentionMask.base, count: rows * d)
        } else {
            o.secondInput.base.update(from: a, count: rows * d)
            a = UnsafePointer(o.secondInput.base)
        }
        Rows.layerNorm(a, rows: rows, width: d, epsilon: block.norm2.epsilon, into: o.secondNormalized.base, inverseStd: o.secondInverseStd.base)
        let da = c.feedForwardDimension
        Rows.linear(o.secondNormalized.base, rows: rows, inputs: d, weight: block.feedForwardIn.weight.value,
                    bias: block.feedForwardIn.bias!.value, outputs: da, into: o.hiddenPre.base)
        RowKernels.relu(o.hiddenPre.base, into: o.hidden.base, count: rows * da)
        Rows.linear(o.hidden.base, rows: rows, inputs: da, weight: block.feedForwardOut.weight.value,
                    bias: block.feedForwardOut.bias!.value, outputs: d, into: o.output.base)
        if training, let mask = block.dropout.nextMask(shape: [images, tokens, d]) {
            return Rows.applyMask(mask, to: o.output.base, into: o.blockOutput.base, keeping: o.feedForwardMask.base, count: rows * d)
        }
        o.blockOutput.base.update(from: o.output.base, count: rows * d)
        return UnsafePointer(o.blockOutput.base)
    }

    // MARK: Backward

    func backward(member: Int, images: Int) -> [String: Tensor] {
        let network = members[member], paths = parameterPaths[member]
        let c = configuration, d = c.modelDimension, rows = images * tokens
        var gradients: [String: Tensor] = [:]
        func record(_ parameter: Parameter?, _ value: Tensor) {
            if let parameter, let path = paths[ObjectIdentifier(parameter)] { gradients[path] = value }
        }
        // Classifier: output layer, ReLU, hidden layer.
        let out = network.classifierOutput, hid = network.classifierHidden
        record(out.weight, Rows.weightGradient(logitGradient.base, rows: images, outputs: c.classes, input: classifierHidden.base, inputs: d))
        record(out.bias, Rows.columnSums(logitGradient.base, rows: images, width: c.classes))
        Rows.inputGradient(logitGradient.base, rows: images, outputs: c.classes, weight: out.weight.value, inputs: d, into: smallGradient.base)
        RowKernels.reluPullback(smallGradient.base, preActivation: classifierPre.base, count: images * d)
        record(hid.weight, Rows.weightGradient(smallGradient.base, rows: images, outputs: d, input: pooled.base, inputs: d))
        record(hid.bias, Rows.columnSums(smallGradient.base, rows: images, width: d))
        Rows.inputGradient(smallGradient.base, rows: images, outputs: d, weight: hid.weight.value, inputs: d, into: pooledGradient.base)
        // Mean over tokens, then the final LayerNorm.
        RowKernels.meanOfRowGroupsPullback(pooledGradient.base, groups: images, rowsPerGroup: tokens, width: d, into: downstream.base)
        Rows.layerNormPullback(downstream.base, normalized: finalNormalized.base, inverseStd: finalInverseStd.base,
                               rows: rows, width: d, into: upstream.base)
        for b in stride(from: network.blocks.count - 1, through: 0, by: -1) {
            backwardBlock(network.blocks[b], buffers: blockBuffers[b], stacked: stackedProjections[b],
                          images: images, record: record)
        }
        // Embedding dropout, then the patch embedding (the positional encoding is fixed).
        if network.dropout.rate > 0 { RowKernels.multiply(upstream.base, by: embeddingMask.base, count: rows * d) }
        let pe = network.patchEmbedding
        let dW = Rows.weightGradient(upstream.base, rows: rows, outputs: d, input: patches.base, inputs: patchFloats)
        record(pe.weight, dW.reshaped(pe.weight.shape))
        record(pe.bias, Rows.columnSums(upstream.base, rows: rows, width: d))
        return gradients
    }

    /// From dL/d(block output) in ``upstream`` to dL/d(block input) in ``upstream``, recording
    /// the block's parameter gradients.
    private func backwardBlock(_ block: TransformerBlock, buffers o: BlockBuffers, stacked: [FloatBuffer],
                               images: Int, record: (Parameter?, Tensor) -> Void) {
        let c = configuration, d = c.modelDimension, h = c.heads, dk = c.keyDimension, dv = c.valueDimension
        let da = c.feedForwardDimension, rows = images * tokens
        let rate = block.dropout.rate
        // Feed-forward sublayer.
        if rate > 0 { RowKernels.multiply(upstream.base, by: o.feedForwardMask.base, count: rows * d) }
        record(block.feedForwardOut.weight, Rows.weightGradient(upstream.base, rows: rows, outputs: d, input: o.hidden.base, inputs: da))
        record(block.feedForwardOut.bias, Rows.columnSums(upstream.base, rows: rows, width: d))
        Rows.inputGradient(upstream.base, rows: rows, outputs: d, weight: block.feedForwardOut.weight.value, inputs: da, into: hiddenGradient.base)
        RowKernels.reluPullback(hiddenGradient.base, preActivation: o.hiddenPre.base, count: rows * da)
        record(block.feedForwardIn.weight, Rows.weightGradient(hiddenGradient.base, rows: rows, outputs: da, input: o.secondNormalized.base, inputs: d))
        record(block.feedForwardIn.bias, Rows.columnSums(hiddenGradient.base, rows: rows, width: da))
        Rows.inputGradient(hiddenGradient.base, rows: rows, outputs: da, weight: block.feedForwardIn.weight.value, inputs: d, into: downstream.base)
        Rows.layerNormPullback(downstream.base, normalized: o.secondNormalized.base, inverseStd: o.secondInverseStd.base,
                               rows: rows, width: d, into: upstream.base)
        // Attention sublayer: dropout, output projection, per-head attention, Q K V projections.
        if rate > 0 { RowKernels.multiply(upstream.base, by: o.attentionMask.base, count: rows * d) }
        let attention = block.attention
        var dOutput = Tensor(uninitializedShape: attention.output.shape)    // [h, dv, D] = mergedᵀ·G
        dOutput.withUnsafeMutableBufferPointer { dw in
            BLAS.gemmIntoZeros(.transpose, .none, m: h * dv, n: d, k: rows, a: o.merged.base, lda: h * dv,
                      b: upstream.base, ldb: d, c: dw.baseAddress!, ldc: d)
        }
        record(attention.output, dOutput)
        let mergedGradient = downstream.base                                 // [R, h·dv]
        attention.output.value.withUnsafeBufferPointer { w in
            BLAS.gemmIntoZeros(.none, .transpose, m: rows, n: h * dv, k: d, a: upstream.base, lda: d,
                      b: w.baseAddress!, ldb: d, c: mergedGradient, ldc: h * dv)
        }
        let scale = 1 / Float(dk).squareRoot()
        let ds = scoreGradient.base
        for image in 0..<images {
            for head in 0..<h {
                let qOffset = image * tokens * h * dk + head * dk, vOffset = image * tokens * h * dv + head * dv
                let p = o.probabilities.base + (image * h + head) * tokens * tokens
                let g = mergedGradient + vOffset
                // dV = Pᵀ·G; dP = G·Vᵀ; dS = P ⊙ (dP − Σ dP ⊙ P) / √dk.
                BLAS.gemmIntoZeros(.transpose, .none, m: tokens, n: dv, k: tokens, a: p, lda: tokens, b: g, ldb: h * dv,
                          c: valueGradient.base + vOffset, ldc: h * dv)
                BLAS.gemmIntoZeros(.none, .transpose, m: tokens, n: tokens, k: dv, a: g, lda: h * dv,
                          b: o.values.base + vOffset, ldb: h * dv, c: ds, ldc: tokens)
                for t in 0..<tokens { Rows.softmaxPullback(ds + t * tokens, probabilities: p + t * tokens, length: tokens, scale: scale) }
                // dQ = dS·K; dK = dSᵀ·Q.
                BLAS.gemmIntoZeros(.none, .none, m: tokens, n: dk, k: tokens, a: ds, lda: tokens, b: o.keys.base + qOffset, ldb: h * dk,
                          c: queryGradient.base + qOffset, ldc: h * dk)
                BLAS.gemmIntoZeros(.transpose, .none, m: tokens, n: dk, k: tokens, a: ds, lda: tokens, b: o.queries.base + qOffset, ldb: h * dk,
                          c: keyGradient.base + qOffset, ldc: h * dk)
            }
        }
        let projections: [(Parameter, FloatBuffer, Int)] = [(attention.query, queryGradient, h * dk),
                                                            (attention.key, keyGradient, h * dk),
                                                            (attention.value, valueGradient, h * dv)]
        for (k, (parameter, gradient, width)) in projections.enumerated() {
            // d(stacked [D, h·e]) = LN₁(x)ᵀ·dQ, unstacked to [h, D, e]; dLN₁ += dQ·stackedᵀ.
            BLAS.gemmIntoZeros(.transpose, .none, m: d, n: width, k: rows, a: o.firstNormalized.base, lda: d,
                      b: gradient.base, ldb: width, c: projectionGradient.base, ldc: width)
            record(parameter, Rows.unstackHeads(projectionGradient.base, shape: parameter.shape))
            BLAS.gemm(.none, .transpose, m: rows, n: d, k: width, a: gradient.base, lda: width,
                      b: stacked[k].base, ldb: width, beta: k == 0 ? 0 : 1, c: downstream.base, ldc: d)
        }
        Rows.layerNormPullback(downstream.base, normalized: o.firstNormalized.base, inverseStd: o.firstInverseStd.base,
                               rows: rows, width: d, into: upstream.base)
    }
}

extension SmallTransformer.Configuration {
    /// The configuration with dropout 0: members of one architecture may differ in their rate.
    var withoutDropout: SmallTransformer.Configuration {
        var c = self
        c.dropout = 0
        return c
    }
}

/// Row-block building blocks of ``TransformerMemberBatch``: dense layers as GEMMs on `[rows, width]`
/// blocks, LayerNorm and softmax per row, and the head stacking of the attention projections.
private enum Rows {
    /// `y = x·Wᵀ + b` for `W [outputs, inputs]`, the bias as the GEMM's starting value.
    static func linear(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, weight: Tensor, bias: Tensor,
                       outputs: Int, into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { RowKernels.fill(y, rows: rows, with: $0.baseAddress!, width: outputs) }
        weight.withUnsafeBufferPointer { w in
            BLAS.gemm(.none, .transpose, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w.baseAddress!, ldb: inputs,
                      beta: 1, c: y, ldc: outputs)
        }
    }

    /// `dW = Gᵀ·x` as a `[outputs, inputs]` tensor.
    static func weightGradient(_ g: UnsafePointer<Float>, rows: Int, outputs: Int, input x: UnsafePointer<Float>, inputs: Int) -> Tensor {
        var t = Tensor(uninitializedShape: [outputs, inputs])
        t.withUnsafeMutableBufferPointer { dw in
            BLAS.gemmIntoZeros(.transpose, .none, m: outputs, n: inputs, k: rows, a: g, lda: outputs, b: x, ldb: inputs,
                      c: dw.baseAddress!, ldc: inputs)
        }
        return t
    }

    /// `dx = G·W` for `W [outputs, inputs]`.
    static func inputGradient(_ g: UnsafePointer<Float>, rows: Int, outputs: Int, weight: Tensor, inputs: Int,
                              into dx: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            BLAS.gemmIntoZeros(.none, .none, m: rows, n: inputs, k: outputs, a: g, lda: outputs, b: w.baseAddress!, ldb: inputs,
                      c: dx, ldc: inputs)
        }
    }

    /// `Σ_r g[r, ·]` as a tensor.
    static func columnSums(_ g: UnsafePointer<Float>, rows: Int, width: Int) -> Tensor {
        var t = Tensor(zeros: [width])
        t.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows { for k in 0..<width { s[k] += g[r * width + k] } }
        }
        return t
    }

    /// `y = mask ⊙ x` with the tape's `[images, tokens, D]` mask, which is already in row order;
    /// the mask is kept for the backward pass. Returns `y`.
    static func applyMask(_ mask: Tensor, to x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                          keeping kept: UnsafeMutablePointer<Float>, count n: Int) -> UnsafePointer<Float> {
        mask.withUnsafeBufferPointer { m in
            kept.update(from: m.baseAddress!, count: n)
            for i in 0..<n { y[i] = x[i] * m[i] }
        }
        return UnsafePointer(y)
    }

    /// Non-affine LayerNorm of each row (population variance), keeping 1/√(σ² + ε) per row;
    /// rows whose width is a multiple of 8 (the zoo's D = 32) are summed in eight lanes.
    static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, width n: Int, epsilon: Float,
                          into y: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(n)
        for r in 0..<rows {
            let xr = x + r * n, yr = y + r * n
            let mean = sum(xr, n) * scale
            var squares: Float = 0
            if n % 8 == 0 {
                var acc = RowKernels.Lanes()
                let m = RowKernels.Lanes(repeating: mean)
                for k in stride(from: 0, to: n, by: 8) { let c = RowKernels.load(xr + k) - m; acc += c * c }
                squares = acc.sum()
            } else {
                for k in 0..<n { let c = xr[k] - mean; squares += c * c }
            }
            let inv = 1 / (squares * scale + epsilon).squareRoot()
            inverseStd[r] = inv
            for k in 0..<n { yr[k] = (xr[k] - mean) * inv }
        }
    }

    /// `dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂))` per row.
    static func layerNormPullback(_ g: UnsafePointer<Float>, normalized x: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
                                  rows: Int, width n: Int, into dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(n)
        for r in 0..<rows {
            let gr = g + r * n, xr = x + r * n, dr = dx + r * n
            var sumG: Float = 0, sumGX: Float = 0
            if n % 8 == 0 {
                var a = RowKernels.Lanes(), b = RowKernels.Lanes()
                for k in stride(from: 0, to: n, by: 8) {
                    let gv = RowKernels.load(gr + k)
                    a += gv; b += gv * RowKernels.load(xr + k)
                }
                sumG = a.sum(); sumGX = b.sum()
            } else {
                for k in 0..<n { sumG += gr[k]; sumGX += gr[k] * xr[k] }
            }
            let meanG = sumG * scale, meanGX = sumGX * scale, inv = inverseStd[r]
            for k in 0..<n { dr[k] = inv * (gr[k] - meanG - xr[k] * meanGX) }
        }
    }

    /// Σ x[0..<n], in eight lanes where whole lanes fit.
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = RowKernels.Lanes(), k = 0
        while k + 8 <= n { acc += RowKernels.load(x + k); k += 8 }
        var total = acc.sum()
        while k < n { total += x[k]; k += 1 }
        return total
    }

    /// In-place softmax of one row (the exponentials eight lanes at a time, ``VectorExp``).
    static func softmax(_ x: UnsafeMutablePointer<Float>, length n: Int) {
        var m = -Float.infinity
        for k in 0..<n { m = Swift.max(m, x[k]) }
        for k in 0..<n { x[k] -= m }
        VectorExp.exp(x, into: x, count: n)
        let inv = 1 / sum(x, n)
        for k in 0..<n { x[k] *= inv }
    }

    /// In place, `dP → scale · P ⊙ (dP − Σ dP ⊙ P)` for one row.
    static func softmaxPullback(_ g: UnsafeMutablePointer<Float>, probabilities p: UnsafePointer<Float>, length n: Int, scale: Float) {
        var dot: Float = 0
        for k in 0..<n { dot += g[k] * p[k] }
        for k in 0..<n { g[k] = scale * (p[k] * (g[k] - dot)) }
    }

    /// Per-head weights `[h, D, e]` as one `[D, h·e]` matrix: column block i is head i.
    static func stackHeads(_ w: Tensor, into stacked: UnsafeMutablePointer<Float>) {
        let (h, d, e) = (w.shape[0], w.shape[1], w.shape[2])
        w.withUnsafeBufferPointer { src in
            for head in 0..<h { for row in 0..<d { for k in 0..<e { stacked[row * h * e + head * e + k] = src[(head * d + row) * e + k] } } }
        }
    }

    /// The inverse of ``stackHeads(_:into:)``.
    static func unstackHeads(_ stacked: UnsafePointer<Float>, shape: [Int]) -> Tensor {
        let (h, d, e) = (shape[0], shape[1], shape[2])
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { dst in
            for head in 0..<h { for row in 0..<d { for k in 0..<e { dst[(head * d + row) * e + k] = stacked[row * h * e + head * e + k] } } }
        }
        return t
    }
}
