import Foundation
import LinearAlgebra
import Tensors
import NeuralNetworks
import Datasets
import Autograd

/// Small-CNN zoo members (``SmallCNN``) trained in lockstep without the tape, in a channels-last
/// layout: every activation is `[rows, channels]` with rows = (image, y, x), so each convolution
/// is one GEMM `[rows, kh·kw·C] × [kh·kw·C, F]` straight into the next layer's input.
///
/// **Why channels-last.** The tape's convolutions (``Tensor/conv2d(columns:weight:bias:geometry:)``)
/// keep NCHW, so every layer reorders its GEMM product to NCHW and back in the backward pass, and
/// builds its im2col matrix one element at a time. Here a patch row is `kh` runs of `kw·C`
/// contiguous floats (48 for 16 channels), the product needs no reordering, the bias is the
/// GEMM's starting value, and the backward scatter adds whole runs.
///
/// **Why one member at a time.** A member's GEMMs already span `batch × pixels` rows (10,816 for
/// the first layer at batch 64 on 28×28 images), so stacking members would not make them more
/// efficient, and one member's activations (≈ 3 MB) already exceed a core's L2 cache: the members
/// of a batch run one after another through one set of buffers, and memory does not grow with K.
///
/// **Same in any batch, not bit-identical to the tape.** A member's numbers never depend on which
/// members share its step, so a zoo is byte-identical for every K, shard and resume. Against the
/// tape path the GEMMs sum the same products in another order (taps before channels, the batch
/// not chunked), so weights agree to Float32 reassociation, not bit for bit; the test
/// `cnnMembersAgreeWithTheTapePath` states the measured difference. Which engine made a zoo is in
/// its spec (``ZooEngine``).
final class CNNMemberBatch: SequentialMemberBatch {
    /// One valid (unpadded) convolution of the network in channels-last form.
    private struct ConvolutionShape {
        let inChannels: Int, height: Int, width: Int
        let outChannels: Int
        let kernelHeight: Int, kernelWidth: Int
        let strideHeight: Int, strideWidth: Int
        var outHeight: Int { (height - kernelHeight) / strideHeight + 1 }
        var outWidth: Int { (width - kernelWidth) / strideWidth + 1 }
        /// Output pixels per image.
        var pixels: Int { outHeight * outWidth }
        /// Floats per patch row: kh·kw·C.
        var patch: Int { kernelHeight * kernelWidth * inChannels }
        /// Floats of one kernel row of a patch: kw·C, contiguous in a channels-last image.
        var run: Int { kernelWidth * inChannels }
    }

    /// The member networks; their parameter values are the master copy the optimizers update.
    let members: [SmallCNN]
    /// The largest mini-batch a step may bring (evaluation runs in chunks of this many images).
    let capacity: Int
    private let convolutions: [ConvolutionShape]
    private let classes: Int
    private let filters: Int
    private let inputImageShape: [Int]                 // [C, H, W]
    private let input: FloatBuffer                     // [B·H·W, C]
    private let columns: [FloatBuffer]                 // per layer: [B·P, patch]
    private let preActivations: [FloatBuffer]          // per layer: [B·P, F], x·W + b
    private let activated: [FloatBuffer]               // per layer: [B·P, F], the activation of it
    private let dropped: [FloatBuffer]                 // per layer: [B·P, F], after dropout (empty without dropout)
    private let masks: [FloatBuffer]                   // per layer: [B·P, F], the dropout mask channels-last
    private let pooled: FloatBuffer                    // [B, F]
    private let logits: FloatBuffer                    // [B, classes]
    private let logProbabilities: FloatBuffer          // [B, classes]
    private let logitGradient: FloatBuffer             // [B, classes]
    private let pooledGradient: FloatBuffer            // [B, F]
    private var upstream: FloatBuffer                  // [B·P, F] of the widest layer
    private var downstream: FloatBuffer
    private let columnGradient: FloatBuffer            // [B·P, patch] of the largest non-first layer
    private let kernels: [FloatBuffer]                 // per layer: [F, patch], the weights in (i, j, c) order
    private let kernelGradients: [FloatBuffer]
    /// Parameter paths: each convolution's and the classifier's (weight, bias).
    private let convolutionPaths: [(weight: String, bias: String)]
    private let classifierPaths: (weight: String, bias: String)

    var classCount: Int { classes }
    var lossBuffers: (logits: FloatBuffer, logProbabilities: FloatBuffer, logitGradient: FloatBuffer) {
        (logits, logProbabilities, logitGradient)
    }

    /// - Parameters:
    ///   - members: networks of one architecture (activations and dropout rates may differ).
    ///   - imageShape: `[C, H, W]` of the images they take.
    ///   - capacity: the largest mini-batch a step may bring (> 0).
    /// - Throws: ``ZooError/invalidSpec(_:)`` when there are no members, their shapes differ, a
    ///   convolution is padded or has no bias, or the images are too small for three convolutions.
    init(members: [SmallCNN], imageShape: [Int], capacity: Int) throws {
        guard let first = members.first else { throw ZooError.invalidSpec("a CNN member batch needs at least one member") }
        guard capacity > 0 else { throw ZooError.invalidSpec("a CNN member batch needs a batch size > 0, got \(capacity)") }
        guard imageShape.count == 3 else { throw ZooError.invalidSpec("image shape \(imageShape) is not [C, H, W]") }
        func shapes(_ m: SmallCNN) -> [[Int]] {
            [m.conv1, m.conv2, m.conv3].map { $0.weight.shape } + [m.classifier.weight.shape]
        }
        guard members.allSatisfy({ shapes($0) == shapes(first) }) else {
            throw ZooError.invalidSpec("the CNNs of a member batch must share one architecture")
        }
        var shapesOut: [ConvolutionShape] = []
        var (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        for conv in [first.conv1, first.conv2, first.conv3] {
            guard conv.padding == (0, 0), conv.bias != nil, conv.inChannels == c else {
                throw ZooError.invalidSpec("a CNN member batch needs unpadded convolutions with biases on \(c)-channel inputs")
            }
            let (kh, kw) = conv.kernelSize
            let shape = ConvolutionShape(inChannels: c, height: h, width: w, outChannels: conv.outChannels,
                                         kernelHeight: kh, kernelWidth: kw, strideHeight: conv.stride.0, strideWidth: conv.stride.1)
            guard h >= kh, w >= kw else {
                throw ZooError.invalidSpec("images of \(imageShape) are too small for the CNN's convolutions")
            }
            shapesOut.append(shape)
            (c, h, w) = (shape.outChannels, shape.outHeight, shape.outWidth)
        }
        guard first.classifier.bias != nil, first.classifier.inFeatures == c else {
            throw ZooError.invalidSpec("the CNN classifier must take the \(c) pooled channels and have a bias")
        }
        let anyDropout = members.contains { $0.dropout.rate > 0 }
        let perImage = Double(imageShape.reduce(1, *) + 4 * c + 3 * first.classifier.outFeatures)
            + shapesOut.reduce(0.0) { total, l in
                total + Double(l.pixels) * Double(2 * l.patch + l.outChannels * (anyDropout ? 6 : 4))
            }
        try MemberBatchSize.checkBuffers(floats: Double(capacity) * perImage,
                                         for: "a CNN member batch of \(capacity) images of \(imageShape)")
        self.members = members
        self.capacity = capacity
        convolutions = shapesOut
        classes = first.classifier.outFeatures
        filters = c
        inputImageShape = imageShape
        let b = capacity
        input = FloatBuffer(count: b * imageShape.reduce(1, *))
        columns = shapesOut.map { FloatBuffer(count: b * $0.pixels * $0.patch) }
        preActivations = shapesOut.map { FloatBuffer(count: b * $0.pixels * $0.outChannels) }
        activated = shapesOut.map { FloatBuffer(count: b * $0.pixels * $0.outChannels) }
        dropped = shapesOut.map { FloatBuffer(count: anyDropout ? b * $0.pixels * $0.outChannels : 0) }
        masks = shapesOut.map { FloatBuffer(count: anyDropout ? b * $0.pixels * $0.outChannels : 0) }
        pooled = FloatBuffer(count: b * c)
        pooledGradient = FloatBuffer(count: b * c)
        logits = FloatBuffer(count: b * classes)
        logProbabilities = FloatBuffer(count: b * classes)
        logitGradient = FloatBuffer(count: b * classes)
        let widest = shapesOut.map { b * $0.pixels * $0.outChannels }.max() ?? 1
        upstream = FloatBuffer(count: widest)
        downstream = FloatBuffer(count: widest)
        columnGradient = FloatBuffer(count: shapesOut.dropFirst().map { b * $0.pixels * $0.patch }.max() ?? 1)
        kernels = shapesOut.map { FloatBuffer(count: $0.outChannels * $0.patch) }
        kernelGradients = shapesOut.map { FloatBuffer(count: $0.outChannels * $0.patch) }
        let paths = Dictionary(uniqueKeysWithValues: first.namedParameters().map { (ObjectIdentifier($0.parameter), $0.path) })
        func pathsOf(weight: Parameter, bias: Parameter?) throws -> (String, String) {
            guard let wp = paths[ObjectIdentifier(weight)], let bias, let bp = paths[ObjectIdentifier(bias)] else {
                throw ZooError.invalidSpec("a CNN layer without a bias cannot be batched")
            }
            return (wp, bp)
        }
        convolutionPaths = try [first.conv1, first.conv2, first.conv3].map { try pathsOf(weight: $0.weight, bias: $0.bias) }
        classifierPaths = try pathsOf(weight: first.classifier.weight, bias: first.classifier.bias)
    }

    // MARK: Forward

    /// Copies the images at `indices` into ``input``, channels-last.
    func load(_ dataset: LabeledImageDataset, indices: ArraySlice<Int>) {
        let (c, h, w) = (inputImageShape[0], inputImageShape[1], inputImageShape[2])
        precondition(dataset.imageShape == inputImageShape, "images of \(dataset.imageShape) do not match the CNN's \(inputImageShape)")
        let plane = h * w, image = c * plane
        dataset.images.withUnsafeBufferPointer { src in
            for (row, index) in indices.enumerated() {
                let s = src.baseAddress! + index * image, d = input.base + row * image
                if c == 1 {
                    d.update(from: s, count: plane)
                } else {
                    for p in 0..<plane { for ch in 0..<c { d[p * c + ch] = s[ch * plane + p] } }
                }
            }
        }
    }

    /// Runs member `member` on the first `rows` images of ``input``, leaving every layer's buffers
    /// and the logits; in training mode with dropout, draws the network's masks as the tape would.
    func forward(member: Int, images rows: Int, training: Bool) {
        let network = members[member]
        let convs = [network.conv1, network.conv2, network.conv3]
        let rate = training ? network.dropout.rate : 0
        var x = UnsafePointer(input.base)
        for (l, shape) in convolutions.enumerated() {
            let f = shape.outChannels, m = rows * shape.pixels
            loadKernel(convs[l].weight.value, shape: shape, into: kernels[l].base)
            im2row(x, shape: shape, rows: rows, into: columns[l].base)
            let pre = preActivations[l].base
            // The bias is the GEMM's starting value (β = 1): no zeroing pass, no bias pass.
            convs[l].bias!.value.withUnsafeBufferPointer { bias in RowKernels.fill(pre, rows: m, with: bias.baseAddress!, width: f) }
            BLAS.gemm(.none, .transpose, m: m, n: f, k: shape.patch, a: columns[l].base, lda: shape.patch,
                      b: kernels[l].base, ldb: shape.patch, beta: 1, c: pre, ldc: f)
            let out = activated[l].base, n = m * f
            switch network.activation {
            case .relu: RowKernels.relu(pre, into: out, count: n)
            case .tanh: VectorTanh.tanh(pre, into: out, count: n)
            case .sine: VectorSine.sincos(pre, sine: out, cosine: nil, count: n)
            case .identity: out.update(from: pre, count: n)
            }
            x = UnsafePointer(out)
            if rate > 0, let mask = network.dropout.nextMask(shape: [rows, f, shape.outHeight, shape.outWidth]) {
                // The tape's mask is NCHW; entry (n, o, p) scales row (n, p), channel o.
                let d = masks[l].base, y = dropped[l].base, p = shape.pixels
                mask.withUnsafeBufferPointer { src in
                    for image in 0..<rows {
                        for o in 0..<f {
                            let s = src.baseAddress! + (image * f + o) * p
                            for q in 0..<p { d[(image * p + q) * f + o] = s[q] }
                        }
                    }
                }
                for i in 0..<n { y[i] = out[i] * d[i] }
                x = UnsafePointer(y)
            }
        }
        // Global average pooling over each image's pixels, then the classifier.
        let last = convolutions[convolutions.count - 1]
        let f = last.outChannels
        RowKernels.meanOfRowGroups(x, groups: rows, rowsPerGroup: last.pixels, width: f, into: pooled.base)
        network.classifier.bias!.value.withUnsafeBufferPointer { bias in
            RowKernels.fill(logits.base, rows: rows, with: bias.baseAddress!, width: classes)
        }
        network.classifier.weight.value.withUnsafeBufferPointer { w in
            BLAS.gemm(.none, .transpose, m: rows, n: classes, k: f, a: pooled.base, lda: f,
                      b: w.baseAddress!, ldb: f, beta: 1, c: logits.base, ldc: classes)
        }
    }

    /// `kernel[o, (i·kw + j)·C + c] = weight[o, c, i, j]`: the filter bank with its taps outermost,
    /// matching the order of a channels-last patch row.
    private func loadKernel(_ weight: Tensor, shape: ConvolutionShape, into kernel: UnsafeMutablePointer<Float>) {
        let (c, kh, kw) = (shape.inChannels, shape.kernelHeight, shape.kernelWidth)
        weight.withUnsafeBufferPointer { src in
            for o in 0..<shape.outChannels {
                let s = src.baseAddress! + o * c * kh * kw, d = kernel + o * shape.patch
                for ch in 0..<c { for i in 0..<kh { for j in 0..<kw { d[(i * kw + j) * c + ch] = s[(ch * kh + i) * kw + j] } } }
            }
        }
    }

    /// The patch rows of `rows` channels-last images: row (n, y, x) holds, for each kernel row i,
    /// the `kw·C` contiguous floats of input row `y·sh + i` from column `x·sw`.
    private func im2row(_ x: UnsafePointer<Float>, shape s: ConvolutionShape, rows: Int, into cols: UnsafeMutablePointer<Float>) {
        let (ho, wo, run, c) = (s.outHeight, s.outWidth, s.run, s.inChannels)
        let imageStride = s.height * s.width * c, lineStride = s.width * c
        var d = cols
        for n in 0..<rows {
            let image = x + n * imageStride
            for y in 0..<ho {
                for xo in 0..<wo {
                    let origin = image + (y * s.strideHeight) * lineStride + xo * s.strideWidth * c
                    if run == 3 {
                        // One channel, three taps per kernel row (the first layer on grayscale
                        // images): copy without a loop per run.
                        for i in 0..<s.kernelHeight {
                            let src = origin + i * lineStride
                            d[0] = src[0]; d[1] = src[1]; d[2] = src[2]
                            d += 3
                        }
                        continue
                    }
                    for i in 0..<s.kernelHeight {
                        let src = origin + i * lineStride
                        RowKernels.copy(src, to: d, count: run)
                        d += run
                    }
                }
            }
        }
    }

    /// The adjoint of ``im2row(_:shape:rows:into:)``: sets `dx` (`rows` channels-last images of the
    /// layer's input) to the sum of every patch row's gradient at the places it was read from.
    private func row2im(_ cols: UnsafePointer<Float>, shape s: ConvolutionShape, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        let (ho, wo, run, c) = (s.outHeight, s.outWidth, s.run, s.inChannels)
        let imageStride = s.height * s.width * c, lineStride = s.width * c
        dx.update(repeating: 0, count: rows * imageStride)
        var g = cols
        for n in 0..<rows {
            let image = dx + n * imageStride
            for y in 0..<ho {
                for xo in 0..<wo {
                    let origin = image + (y * s.strideHeight) * lineStride + xo * s.strideWidth * c
                    for i in 0..<s.kernelHeight {
                        let dst = origin + i * lineStride
                        RowKernels.add(g, to: dst, count: run)
                        g += run
                    }
                }
            }
        }
    }

    // MARK: Backward

    /// The gradients of the step's loss (dL/dlogits in ``logitGradient``) with respect to every
    /// parameter of member `member`, by parameter path, in the parameters' own shapes.
    func backward(member: Int, images rows: Int) -> [String: Tensor] {
        let network = members[member]
        var gradients: [String: Tensor] = [:]
        let last = convolutions[convolutions.count - 1]
        let f = last.outChannels, p = last.pixels
        // Classifier: dW = Gᵀ·pooled, db = Σ rows of G, dpooled = G·W.
        var dWeight = Tensor(uninitializedShape: [classes, f]), dBias = Tensor(zeros: [classes])
        dWeight.withUnsafeMutableBufferPointer { dw in
            BLAS.gemmIntoZeros(.transpose, .none, m: classes, n: f, k: rows, a: logitGradient.base, lda: classes,
                      b: pooled.base, ldb: f, c: dw.baseAddress!, ldc: f)
        }
        dBias.withUnsafeMutableBufferPointer { db in
            for r in 0..<rows { for k in 0..<classes { db[k] += logitGradient.base[r * classes + k] } }
        }
        gradients[classifierPaths.weight] = dWeight
        gradients[classifierPaths.bias] = dBias
        network.classifier.weight.value.withUnsafeBufferPointer { w in
            BLAS.gemmIntoZeros(.none, .none, m: rows, n: f, k: classes, a: logitGradient.base, lda: classes,
                      b: w.baseAddress!, ldb: f, c: pooledGradient.base, ldc: f)
        }
        // Global average pooling: every pixel of an image gets its channel's gradient / P.
        RowKernels.meanOfRowGroupsPullback(pooledGradient.base, groups: rows, rowsPerGroup: p, width: f, into: upstream.base)
        let rate = network.dropout.rate
        for l in stride(from: convolutions.count - 1, through: 0, by: -1) {
            let shape = convolutions[l]
            let fl = shape.outChannels, m = rows * shape.pixels, n = m * fl
            let g = upstream.base
            if rate > 0 { RowKernels.multiply(g, by: masks[l].base, count: n) }
            let pre = preActivations[l].base
            switch network.activation {
            case .relu: RowKernels.reluPullback(g, preActivation: pre, count: n)
            case .tanh:
                let y = activated[l].base
                for i in 0..<n { g[i] = g[i] * (1 - y[i] * y[i]) }
            case .sine: VectorSine.multiplyByCosine(g, pre, into: g, count: n)
            case .identity: break
            }
            var db = Tensor(zeros: [fl])
            db.withUnsafeMutableBufferPointer { RowKernels.addColumnSums(g, rows: m, width: fl, into: $0.baseAddress!) }
            BLAS.gemmIntoZeros(.transpose, .none, m: fl, n: shape.patch, k: m, a: g, lda: fl,
                      b: columns[l].base, ldb: shape.patch, c: kernelGradients[l].base, ldc: shape.patch)
            gradients[convolutionPaths[l].weight] = filterGradient(kernelGradients[l].base, shape: shape)
            gradients[convolutionPaths[l].bias] = db
            if l > 0 {
                BLAS.gemmIntoZeros(.none, .none, m: m, n: shape.patch, k: fl, a: g, lda: fl,
                          b: kernels[l].base, ldb: shape.patch, c: columnGradient.base, ldc: shape.patch)
                row2im(columnGradient.base, shape: shape, rows: rows, into: downstream.base)
                swap(&upstream, &downstream)
            }
        }
        return gradients
    }

    /// The inverse of ``loadKernel(_:shape:into:)``: a `[F, C, kh, kw]` tensor from (i, j, c) order.
    private func filterGradient(_ kernel: UnsafePointer<Float>, shape: ConvolutionShape) -> Tensor {
        let (c, kh, kw) = (shape.inChannels, shape.kernelHeight, shape.kernelWidth)
        var t = Tensor(uninitializedShape: [shape.outChannels, c, kh, kw])
        t.withUnsafeMutableBufferPointer { dst in
            for o in 0..<shape.outChannels {
                let s = kernel + o * shape.patch, d = dst.baseAddress! + o * c * kh * kw
                for ch in 0..<c { for i in 0..<kh { for j in 0..<kw { d[(ch * kh + i) * kw + j] = s[(i * kw + j) * c + ch] } } }
            }
        }
        return t
    }
}

/// Elementwise and row passes over the member batches' row blocks, eight lanes at a time: a
/// branch on each element's sign does not vectorise, and a copy call per 16-float row costs more
/// than the copy.
enum RowKernels {
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Lanes { load(UnsafePointer(p)) }
    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

    /// Every one of `rows` rows of `width` floats set to `row`.
    static func fill(_ d: UnsafeMutablePointer<Float>, rows: Int, with row: UnsafePointer<Float>, width: Int) {
        if width == 16 {
            let (a, b) = (load(row), load(row + 8))
            for r in 0..<rows { store(a, d + r * 16); store(b, d + r * 16 + 8) }
        } else {
            for r in 0..<rows { RowKernels.copy(row, to: d + r * width, count: width) }
        }
    }

    /// `out[g] = mean of rows g·r ..< (g + 1)·r` of `x` (`width` floats each): global average
    /// pooling of channels-last images, mean pooling of token rows.
    static func meanOfRowGroups(_ x: UnsafePointer<Float>, groups: Int, rowsPerGroup r: Int, width: Int,
                                into out: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(r)
        for g in 0..<groups {
            let d = out + g * width
            d.update(repeating: 0, count: width)
            for row in 0..<r { add(x + (g * r + row) * width, to: d, count: width) }
            for k in 0..<width { d[k] *= scale }
        }
    }

    /// The pullback of ``meanOfRowGroups(_:groups:rowsPerGroup:width:into:)``: every row of group
    /// g gets `gradient[g] / r`.
    static func meanOfRowGroupsPullback(_ gradient: UnsafePointer<Float>, groups: Int, rowsPerGroup r: Int, width: Int,
                                        into dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(r)
        for g in 0..<groups {
            let s = gradient + g * width
            for row in 0..<r {
                let d = dx + (g * r + row) * width
                for k in 0..<width { d[k] = s[k] * scale }
            }
        }
    }

    /// `d[0..<n] = s[0..<n]` for the short runs of a patch row (3 floats for a 1-channel 3×3
    /// kernel, 48 for 16 channels).
    @inline(__always)
    static func copy(_ s: UnsafePointer<Float>, to d: UnsafeMutablePointer<Float>, count n: Int) {
        var t = 0
        while t + 8 <= n { store(load(s + t), d + t); t += 8 }
        while t < n { d[t] = s[t]; t += 1 }
    }

    /// `d[0..<n] += s[0..<n]`.
    @inline(__always)
    static func add(_ s: UnsafePointer<Float>, to d: UnsafeMutablePointer<Float>, count n: Int) {
        var t = 0
        while t + 8 <= n { store(load(d + t) + load(s + t), d + t); t += 8 }
        while t < n { d[t] += s[t]; t += 1 }
    }

    /// `out = x > 0 ? x : 0` (NaN → 0, as the tape's ReLU).
    static func relu(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n {
            let v = load(x + i)
            store(v.replacing(with: 0, where: .!(v .> 0)), out + i)
            i += 8
        }
        while i < n { out[i] = x[i] > 0 ? x[i] : 0; i += 1 }
    }

    /// `g = x > 0 ? g : 0`, the ReLU's pullback.
    static func reluPullback(_ g: UnsafeMutablePointer<Float>, preActivation x: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n {
            store(load(g + i).replacing(with: 0, where: .!(load(x + i) .> 0)), g + i)
            i += 8
        }
        while i < n { g[i] = x[i] > 0 ? g[i] : 0; i += 1 }
    }

    /// `g *= m` elementwise.
    static func multiply(_ g: UnsafeMutablePointer<Float>, by m: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n { store(load(g + i) * load(m + i), g + i); i += 8 }
        while i < n { g[i] = g[i] * m[i]; i += 1 }
    }

    /// `sums[o] += Σ_r g[r, o]`, accumulated row by row.
    static func addColumnSums(_ g: UnsafePointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
        if width == 16 {
            var (a, b) = (load(sums), load(sums + 8))
            for r in 0..<rows { a += load(g + r * 16); b += load(g + r * 16 + 8) }
            store(a, sums); store(b, sums + 8)
        } else {
            for r in 0..<rows { for o in 0..<width { sums[o] += g[r * width + o] } }
        }
    }
}
