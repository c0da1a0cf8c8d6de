import LinearAlgebra

// 2-D convolution in NCHW layout, by im2col and sgemm with the batch folded into the gemm.
//
// Layout choice. The column matrix is `[C·kh·kw, N·Ho·Wo]`: row r = (c, i, j) holds, for every
// output pixel of every sample, the input element that kernel tap (i, j) of channel c sees.
// - Building it copies runs of `Wo` input elements (contiguous when the stride is 1), so im2col
//   is a sequence of short row copies rather than a transpose.
// - The forward product `W [O, C·kh·kw] × cols` is `[O][N][P]` (P = Ho·Wo) while NCHW wants
//   `[N][O][P]`: the reordering moves whole contiguous runs of P elements and is fused with the
//   bias addition.
// - The backward pass reorders the output gradient G to `[O, N·P]` (fused with the bias
//   gradient's sums), then `dW = G × colsᵀ` (the batch folded into the inner dimension) and
//   `dcols = Wᵀ × G` followed by col2im. The forward's column matrix is reused for dW, so im2col
//   runs once per training step.
// The alternative `[N·P, C·kh·kw]` layout (im2row) makes the gemm produce `[N][P][O]`, which needs a
// strided transpose to reach NCHW (forward) and from NCHW (backward): dearer than moving runs of P.
//
// Cache blocking. The gemms run over chunks of whole samples whose products (`[O, chunk·P]`, and
// in the backward pass `[C·kh·kw, chunk·P]`) fit in a core's L2 cache, so each product is reordered
// or scattered by col2im while it is still in cache instead of making a round trip through DRAM,
// and the scratch buffers are small enough to be recycled by the allocator without page faults.
// Each gemm still spans many samples (hundreds to thousands of columns), so BLAS runs efficiently.

extension Conv2dGeometry {
    /// Floats of gemm product per chunk: ~256 KiB, half a typical per-core L2 cache.
    static let chunkFloats = 64 * 1024

    /// Samples per chunk when each output pixel needs `rowsPerPixel` floats of scratch.
    func samplesPerChunk(rowsPerPixel: Int) -> Int {
        let perSample = Swift.max(1, rowsPerPixel * outHeight * outWidth)
        return Swift.max(1, Swift.min(batch, Conv2dGeometry.chunkFloats / perSample))
    }
}

extension Tensor {
    // MARK: Forward

    /// The 2-D cross-correlation of a batch of images with a bank of filters (what deep-learning
    /// frameworks call convolution), NCHW layout.
    ///
    /// `y[n, o, p, q] = b[o] + Σ_{c,i,j} w[o, c, i, j] · x[n, c, p·sh − ph + i, q·sw − pw + j]`, reading
    /// zero outside the input. Shapes: `x [N, C, H, W]`, `w [O, C, kh, kw]`, `bias [O]` →
    /// `[N, O, Ho, Wo]` with `Ho = (H + 2·ph − kh) / sh + 1` (floor).
    ///
    /// Traps on invalid shapes; use ``validateConv2dShapes(input:weight:bias:stride:padding:)`` to
    /// check user-supplied ones.
    /// - Complexity: O(N·O·Ho·Wo·C·kh·kw) in sgemm, plus O(C·kh·kw·N·Ho·Wo) memory for the im2col
    ///   matrix.
    public static func conv2d(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil,
                              stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = Conv2dGeometry(checkedInput: x.shape, weight: w.shape, bias: bias?.shape,
                               stride: stride, padding: padding)
        return conv2d(columns: im2col(x, geometry: g), weight: w, bias: bias, geometry: g)
    }

    /// The im2col matrix of `x`: shape `[C·kh·kw, N·Ho·Wo]` with
    /// `cols[(c·kh + i)·kw + j, (n·Ho + p)·Wo + q] = x[n, c, p·sh − ph + i, q·sw − pw + j]` (zero in
    /// the padding).
    ///
    /// The convolution is then `W.reshaped([O, C·kh·kw]) × cols`, and the weight gradient is
    /// `G × colsᵀ`: a training step computes this once in the forward pass and hands it to
    /// ``conv2dPullback(gradOutput:weight:columns:geometry:computing:)``.
    /// - Complexity: O(C·kh·kw·N·Ho·Wo); every element is written once, with no zero-fill pass
    ///   (with padding, the input is first copied into a zero-padded buffer: O(N·C·H·W) more).
    public static func im2col(_ x: Tensor, geometry g: Conv2dGeometry) -> Tensor {
        precondition(x.shape == g.inputShape, "im2col: input shape \(x.shape) does not match \(g)")
        let cols = Tensor(uninitializedShape: g.columnShape)
        if cols.count > 0 {
            let kernels = Conv2dKernels(g, maxSamples: g.batch)
            kernels.im2col(x.buffer.base, samples: 0..<g.batch, into: cols.buffer.base,
                           columnStride: g.batch * g.outHeight * g.outWidth)
        }
        return cols
    }

    /// The convolution from a precomputed im2col matrix (see ``im2col(_:geometry:)``).
    /// - Complexity: sgemm `[O, C·kh·kw] × [C·kh·kw, N·Ho·Wo]` in cache-sized chunks of samples, each
    ///   reordered to NCHW with the bias added while in cache.
    public static func conv2d(columns: Tensor, weight w: Tensor, bias: Tensor? = nil,
                              geometry g: Conv2dGeometry) -> Tensor {
        precondition(columns.shape == g.columnShape, "conv2d: columns shape \(columns.shape) does not match \(g)")
        precondition(w.shape == g.weightShape, "conv2d: weight shape \(w.shape) does not match \(g)")
        if let bias {
            precondition(bias.shape == [g.outChannels], "conv2d: bias shape \(bias.shape) must be [\(g.outChannels)]")
        }
        let O = g.outChannels, K = g.patchSize, P = g.outHeight * g.outWidth, N = g.batch, NP = N * P
        let out = Tensor(uninitializedShape: g.outputShape)
        if out.count == 0 { return out }
        let d = out.buffer.base, b = bias?.buffer.base
        if K == 0 {
            // No receptive field (C = 0): the output is the bias alone.
            for n in 0..<N { for o in 0..<O { (d + (n * O + o) * P).update(repeating: b?[o] ?? 0, count: P) } }
            return out
        }
        if N == 1 {
            // [O, P] is already NCHW for one sample.
            BLAS.gemm(.none, .none, m: O, n: P, k: K, a: w.buffer.base, lda: K,
                      b: columns.buffer.base, ldb: NP, c: d, ldc: P)
            if let b {
                for o in 0..<O {
                    let row = d + o * P, bo = b[o]
                    for q in 0..<P { row[q] += bo }
                }
            }
            return out
        }
        let chunk = g.samplesPerChunk(rowsPerPixel: O)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: O * chunk * P)
        defer { product.deallocate() }
        for n0 in stride(from: 0, to: N, by: chunk) {
            let count = Swift.min(chunk, N - n0), width = count * P
            BLAS.gemm(.none, .none, m: O, n: width, k: K, a: w.buffer.base, lda: K,
                      b: columns.buffer.base + n0 * P, ldb: NP, c: product, ldc: width)
            // product[o, n·P + q] → out[n0 + n, o, q] (+ bias[o]).
            for n in 0..<count {
                for o in 0..<O {
                    let s = product + o * width + n * P, t = d + ((n0 + n) * O + o) * P
                    if let b {
                        let bo = b[o]
                        for q in 0..<P { t[q] = s[q] + bo }
                    } else {
                        t.update(from: s, count: P)
                    }
                }
            }
        }
        return out
    }

    // MARK: Backward

    /// Which gradients ``conv2dPullback(gradOutput:weight:columns:geometry:computing:)`` computes.
    public struct Conv2dGradientSelection: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// d loss / d x.
        public static let input = Conv2dGradientSelection(rawValue: 1)
        /// d loss / d w.
        public static let weight = Conv2dGradientSelection(rawValue: 2)
        /// d loss / d bias.
        public static let bias = Conv2dGradientSelection(rawValue: 4)
        /// All three.
        public static let all: Conv2dGradientSelection = [.input, .weight, .bias]
    }

    /// The gradients of ``conv2d(_:_:bias:stride:padding:)`` given the output gradient, sharing one
    /// pass over `gradOutput` between them.
    ///
    /// With `G` the output gradient as `[O, N·Ho·Wo]`:
    /// - `dW = G × colsᵀ`, where `columns` is ``im2col(_:geometry:)`` of the forward input;
    /// - `dx = col2im(Wᵀ × G)`, the scatter-add of each column back onto its input pixels;
    /// - `dbias[o] = Σ_{n,p,q} G[n, o, p, q]`.
    ///
    /// `weight` is needed only for the input gradient and `columns` only for the weight gradient;
    /// unselected gradients are nil. Skip what is not needed: the input gradient of a network's
    /// first layer usually is not.
    /// - Complexity: O(N·O·Ho·Wo·C·kh·kw) per selected gemm, run in cache-sized chunks of samples.
    public static func conv2dPullback(
        gradOutput: Tensor, weight: Tensor?, columns: Tensor?, geometry g: Conv2dGeometry,
        computing selection: Conv2dGradientSelection = .all
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(gradOutput.shape == g.outputShape,
                     "conv2d backward: gradient shape \(gradOutput.shape) does not match \(g)")
        let wantInput = selection.contains(.input), wantWeight = selection.contains(.weight)
        var w: UnsafePointer<Float>? = nil
        if wantInput {
            guard let weight else { preconditionFailure("conv2d backward: the input gradient needs the weight") }
            precondition(weight.shape == g.weightShape,
                         "conv2d backward: weight shape \(weight.shape) does not match \(g)")
            w = UnsafePointer(weight.buffer.base)
        }
        var cols: UnsafePointer<Float>? = nil
        if wantWeight {
            guard let columns else { preconditionFailure("conv2d backward: the weight gradient needs the im2col columns") }
            precondition(columns.shape == g.columnShape,
                         "conv2d backward: columns shape \(columns.shape) does not match \(g)")
            cols = UnsafePointer(columns.buffer.base)
        }
        let O = g.outChannels, K = g.patchSize, P = g.outHeight * g.outWidth, N = g.batch, NP = N * P
        let dBias = selection.contains(.bias) ? Tensor(zeros: [O]) : nil
        // Degenerate sizes: every requested gradient is zero (or empty).
        if !(wantInput || wantWeight) || NP == 0 || O == 0 || K == 0 {
            if let dBias { accumulateBiasGradient(gradOutput, into: dBias.buffer.base) }
            return (wantInput ? Tensor(zeros: g.inputShape) : nil, wantWeight ? Tensor(zeros: g.weightShape) : nil, dBias)
        }
        let dWeight = wantWeight ? Tensor(uninitializedShape: g.weightShape) : nil
        let dInput = wantInput ? Tensor(uninitializedShape: g.inputShape) : nil

        let chunk = g.samplesPerChunk(rowsPerPixel: O + (wantInput ? K : 0))
        let kernels = Conv2dKernels(g, maxSamples: chunk)
        let src = gradOutput.buffer.base, db = dBias?.buffer.base
        // G for one chunk as [O, chunk·P] (not needed when a chunk is one sample: G[n] is [O, P]).
        let gChunk: UnsafeMutablePointer<Float>? = chunk > 1 ? .allocate(capacity: O * chunk * P) : nil
        let dcols: UnsafeMutablePointer<Float>? = wantInput ? .allocate(capacity: K * chunk * P) : nil
        defer { gChunk?.deallocate(); dcols?.deallocate() }

        for n0 in stride(from: 0, to: N, by: chunk) {
            let count = Swift.min(chunk, N - n0), width = count * P
            let gm: UnsafePointer<Float>
            if count == 1 {
                gm = UnsafePointer(src + n0 * O * P)
                if let db {
                    for o in 0..<O {
                        let s = gm + o * P
                        var acc: Float = 0
                        for q in 0..<P { acc += s[q] }
                        db[o] += acc
                    }
                }
            } else {
                let t = gChunk!
                for n in 0..<count {
                    for o in 0..<O {
                        let s = src + ((n0 + n) * O + o) * P, row = t + o * width + n * P
                        if let db {
                            var acc: Float = 0
                            for q in 0..<P { let v = s[q]; row[q] = v; acc += v }
                            db[o] += acc
                        } else {
                            row.update(from: s, count: P)
                        }
                    }
                }
                gm = UnsafePointer(t)
            }
            if let cols, let dw = dWeight?.buffer.base {
                BLAS.gemm(.none, .transpose, m: O, n: K, k: width, a: gm, lda: width,
                          b: cols + n0 * P, ldb: NP, beta: n0 == 0 ? 0 : 1, c: dw, ldc: K)
            }
            if let w, let dcols, let dx = dInput?.buffer.base {
                BLAS.gemm(.transpose, .none, m: K, n: width, k: O, a: w, lda: K,
                          b: gm, ldb: width, c: dcols, ldc: width)
                kernels.col2im(UnsafePointer(dcols), columnStride: width, samples: n0..<(n0 + count), into: dx)
            }
        }
        return (dInput, dWeight, dBias)
    }

    /// Adds the sums over N, Ho, Wo of a `[N, O, Ho, Wo]` gradient to `db[0..<O]`.
    private static func accumulateBiasGradient(_ gradOutput: Tensor, into db: UnsafeMutablePointer<Float>) {
        let (N, O) = (gradOutput.shape[0], gradOutput.shape[1])
        let P = gradOutput.shape[2] * gradOutput.shape[3]
        let s = gradOutput.buffer.base
        for n in 0..<N {
            for o in 0..<O {
                let row = s + (n * O + o) * P
                var acc: Float = 0
                for q in 0..<P { acc += row[q] }
                db[o] += acc
            }
        }
    }

    /// d loss / d x of ``conv2d(_:_:bias:stride:padding:)``: `col2im(Wᵀ × G)`.
    ///
    /// `inputShape` is the forward input's shape (it cannot always be recovered from the output:
    /// strided convolutions drop trailing rows/columns).
    public static func conv2dInputPullback(gradOutput: Tensor, weight: Tensor, inputShape: [Int],
                                           stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = Conv2dGeometry(checkedInput: inputShape, weight: weight.shape, bias: nil,
                               stride: stride, padding: padding)
        return conv2dPullback(gradOutput: gradOutput, weight: weight, columns: nil, geometry: g,
                              computing: .input).input!
    }

    /// d loss / d w of ``conv2d(_:_:bias:stride:padding:)``: `G × im2col(x)ᵀ`, the batch folded into
    /// the gemm's inner dimension. (A training step should pass the forward's columns to
    /// ``conv2dPullback(gradOutput:weight:columns:geometry:computing:)`` instead of recomputing them.)
    public static func conv2dWeightPullback(gradOutput: Tensor, input: Tensor, weightShape: [Int],
                                            stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) -> Tensor {
        let g = Conv2dGeometry(checkedInput: input.shape, weight: weightShape, bias: nil,
                               stride: stride, padding: padding)
        return conv2dPullback(gradOutput: gradOutput, weight: nil, columns: im2col(input, geometry: g),
                              geometry: g, computing: .weight).weight!
    }

    /// d loss / d bias of ``conv2d(_:_:bias:stride:padding:)``: the output gradient `[N, O, Ho, Wo]`
    /// summed over N, Ho and Wo.
    public static func conv2dBiasPullback(gradOutput: Tensor) -> Tensor {
        precondition(gradOutput.rank == 4,
                     "conv2d bias gradient needs a rank-4 [N, O, Ho, Wo] gradient, got \(gradOutput.shape)")
        let db = Tensor(zeros: [gradOutput.shape[1]])
        accumulateBiasGradient(gradOutput, into: db.buffer.base)
        return db
    }
}

// MARK: - im2col / col2im kernels

/// im2col and its adjoint for one geometry, as long gathers driven by an offset table.
///
/// For a block of B samples, `offsets[(b·Ho + p)·Wo + q]` is the position of input pixel
/// `(p·sh, q·sw)` of sample b relative to the block's first image. Row (c, i, j) of the column
/// matrix is then `cols[k] = x[tap(c, i, j) + offsets[k]]` for k in 0..<B·Ho·Wo: one branch-free
/// loop of a few thousand elements per row, however small the images are (a 2×2 output costs no
/// more per element than a 13×13 one). Zero padding is handled by working on a zero-padded copy
/// of the input (forward) or of the input gradient (backward), so the loops never test bounds.
private final class Conv2dKernels {
    let g: Conv2dGeometry
    /// Padded image sizes.
    let paddedHeight: Int, paddedWidth: Int
    /// Samples per block, and the offsets of one block (B·Ho·Wo entries).
    let blockSamples: Int
    let offsets: UnsafeMutablePointer<Int>

    /// Gather lengths of about this many elements: long enough to amortise the loop, short enough
    /// for the offsets (8 bytes each) and a block's images to stay in cache.
    static let targetRowLength = 4096

    init(_ g: Conv2dGeometry, maxSamples: Int) {
        self.g = g
        paddedHeight = g.height + 2 * g.paddingHeight
        paddedWidth = g.width + 2 * g.paddingWidth
        let P = g.outHeight * g.outWidth
        let perBlock = Swift.max(1, Conv2dKernels.targetRowLength / Swift.max(1, P))
        let blocks = (Swift.max(1, maxSamples) + perBlock - 1) / perBlock
        blockSamples = (Swift.max(1, maxSamples) + blocks - 1) / blocks   // balanced blocks
        offsets = .allocate(capacity: Swift.max(1, blockSamples * P))
        let sampleStride = g.inChannels * paddedHeight * paddedWidth
        var k = 0
        for b in 0..<blockSamples {
            for p in 0..<g.outHeight {
                let rowStart = b * sampleStride + p * g.strideHeight * paddedWidth
                for q in 0..<g.outWidth {
                    offsets[k] = rowStart + q * g.strideWidth
                    k += 1
                }
            }
        }
    }

    deinit { offsets.deallocate() }

    var hasPadding: Bool { g.paddingHeight > 0 || g.paddingWidth > 0 }

    /// Copies `count` images of C channels into a zero-padded buffer the caller deallocates.
    private func paddedCopy(_ x: UnsafePointer<Float>, images count: Int) -> UnsafeMutablePointer<Float> {
        let (H, W, Hp, Wp) = (g.height, g.width, paddedHeight, paddedWidth)
        let planes = count * g.inChannels
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, planes * Hp * Wp))
        padded.initialize(repeating: 0, count: planes * Hp * Wp)
        for plane in 0..<planes {
            let s = x + plane * H * W, d = padded + plane * Hp * Wp + g.paddingHeight * Wp + g.paddingWidth
            for r in 0..<H { (d + r * Wp).update(from: s + r * W, count: W) }
        }
        return padded
    }

    /// Writes the columns of `samples` to `cols` (row stride `columnStride`; column 0 is the first
    /// output pixel of `samples.lowerBound`). Every element in those columns is written.
    func im2col(_ x: UnsafePointer<Float>, samples: Range<Int>, into cols: UnsafeMutablePointer<Float>,
                columnStride ld: Int) {
        let C = g.inChannels, kh = g.kernelHeight, kw = g.kernelWidth
        let P = g.outHeight * g.outWidth
        let planeP = paddedHeight * paddedWidth, sampleStride = C * planeP
        let padded: UnsafeMutablePointer<Float>? =
            hasPadding ? paddedCopy(x + samples.lowerBound * C * g.height * g.width, images: samples.count) : nil
        defer { padded?.deallocate() }
        // Image of samples.lowerBound in the (possibly padded) source.
        let source = padded.map { UnsafePointer($0) } ?? x + samples.lowerBound * sampleStride
        let off = UnsafePointer(offsets)
        for blockStart in stride(from: 0, to: samples.count, by: blockSamples) {
            let n = Swift.min(blockSamples, samples.count - blockStart) * P
            let block = source + blockStart * sampleStride
            var row = cols + blockStart * P
            for c in 0..<C {
                for i in 0..<kh {
                    for j in 0..<kw {
                        let s = block + (c * planeP + i * paddedWidth + j)
                        var k = 0
                        while k < n { row[k] = s[off[k]]; k &+= 1 }
                        row += ld
                    }
                }
            }
        }
    }

    /// Sets the images of `samples` in `dx` to the scatter-add of their columns (laid out as
    /// ``im2col(_:samples:into:columnStride:)`` writes them): the adjoint of im2col.
    func col2im(_ cols: UnsafePointer<Float>, columnStride ld: Int, samples: Range<Int>,
                into dx: UnsafeMutablePointer<Float>) {
        let C = g.inChannels, kh = g.kernelHeight, kw = g.kernelWidth
        let (H, W, Hp, Wp) = (g.height, g.width, paddedHeight, paddedWidth)
        let P = g.outHeight * g.outWidth
        let planeP = Hp * Wp, sampleStride = C * planeP
        let first = dx + samples.lowerBound * C * H * W
        // Accumulate into dx directly, or into a padded buffer whose interior is copied out after.
        let target: UnsafeMutablePointer<Float>
        if hasPadding {
            target = .allocate(capacity: Swift.max(1, samples.count * sampleStride))
            target.initialize(repeating: 0, count: samples.count * sampleStride)
        } else {
            target = first
            target.update(repeating: 0, count: samples.count * sampleStride)
        }
        let off = UnsafePointer(offsets)
        for blockStart in stride(from: 0, to: samples.count, by: blockSamples) {
            let n = Swift.min(blockSamples, samples.count - blockStart) * P
            let block = target + blockStart * sampleStride
            var row = cols + blockStart * P
            for c in 0..<C {
                for i in 0..<kh {
                    for j in 0..<kw {
                        // Within one row every offset is distinct, so the adds do not collide.
                        let d = block + (c * planeP + i * Wp + j)
                        var k = 0
                        while k < n { d[off[k]] += row[k]; k &+= 1 }
                        row += ld
                    }
                }
            }
        }
        if hasPadding {
            for plane in 0..<(samples.count * C) {
                let s = target + plane * planeP + g.paddingHeight * Wp + g.paddingWidth, d = first + plane * H * W
                for r in 0..<H { (d + r * W).update(from: s + r * Wp, count: W) }
            }
            target.deallocate()
        }
    }
}
