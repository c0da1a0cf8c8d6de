import Testing
import Tensors

/// One convolution configuration for the table-driven tests.
struct ConvConfig: CustomStringConvertible, Sendable {
    var n, c, h, w, o, kh, kw: Int
    var stride: (Int, Int)
    var padding: (Int, Int)
    var bias: Bool

    var description: String {
        "x[\(n),\(c),\(h),\(w)] w[\(o),\(c),\(kh),\(kw)] s\(stride) p\(padding)\(bias ? " +b" : "")"
    }
}

let configs: [ConvConfig] = [
    ConvConfig(n: 1, c: 1, h: 5, w: 5, o: 1, kh: 3, kw: 3, stride: (1, 1), padding: (0, 0), bias: false),
    ConvConfig(n: 2, c: 3, h: 7, w: 6, o: 4, kh: 3, kw: 3, stride: (1, 1), padding: (1, 1), bias: true),
    ConvConfig(n: 3, c: 1, h: 9, w: 8, o: 5, kh: 3, kw: 3, stride: (2, 2), padding: (0, 0), bias: true),
    ConvConfig(n: 4, c: 3, h: 8, w: 9, o: 2, kh: 3, kw: 3, stride: (2, 2), padding: (1, 1), bias: false),
    ConvConfig(n: 2, c: 3, h: 6, w: 7, o: 3, kh: 2, kw: 4, stride: (1, 2), padding: (1, 0), bias: true),
    ConvConfig(n: 1, c: 3, h: 5, w: 5, o: 2, kh: 1, kw: 5, stride: (2, 1), padding: (0, 2), bias: true),
    ConvConfig(n: 4, c: 1, h: 4, w: 4, o: 3, kh: 4, kw: 4, stride: (1, 1), padding: (0, 0), bias: true),
    ConvConfig(n: 2, c: 2, h: 3, w: 3, o: 2, kh: 5, kw: 5, stride: (3, 3), padding: (2, 2), bias: true),
]

/// The textbook 7-loop convolution (N, O, Ho, Wo, C, kh, kw), in Double.
private func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int), padding: (Int, Int)) -> Tensor {
    let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (O, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let Ho = (H + 2 * padding.0 - kh) / stride.0 + 1, Wo = (W + 2 * padding.1 - kw) / stride.1 + 1
    var y = Tensor(zeros: [N, O, Ho, Wo])
    for n in 0..<N {
        for o in 0..<O {
            for p in 0..<Ho {
                for q in 0..<Wo {
                    var acc = Double(b?[o] ?? 0)
                    for c in 0..<C {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let r = p * stride.0 - padding.0 + i, s = q * stride.1 - padding.1 + j
                                guard r >= 0, r < H, s >= 0, s < W else { continue }
                                acc += Double(x[n, c, r, s]) * Double(w[o, c, i, j])
                            }
                        }
                    }
                    y[n, o, p, q] = Float(acc)
                }
            }
        }
    }
    return y
}

/// The largest |a − b| / max(1, |b|).
private func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a[flat: i] - b[flat: i]) / max(1, abs(b[flat: i]))) }
    return worst
}

/// ⟨a, b⟩ in Double.
private func dot(_ a: Tensor, _ b: Tensor) -> Double {
    var acc: Double = 0
    for i in 0..<a.count { acc += Double(a[flat: i]) * Double(b[flat: i]) }
    return acc
}

@Suite struct ConvolutionTests {
    @Test(arguments: configs)
    func conv2dMatchesNaiveReference(_ cfg: ConvConfig) {
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.normal([cfg.n, cfg.c, cfg.h, cfg.w], rng: &rng)
        let w = Tensor.normal([cfg.o, cfg.c, cfg.kh, cfg.kw], rng: &rng)
        let b = cfg.bias ? Tensor.normal([cfg.o], rng: &rng) : nil
        let y = Tensor.conv2d(x, w, bias: b, stride: cfg.stride, padding: cfg.padding)
        let expected = naiveConv2d(x, w, b, stride: cfg.stride, padding: cfg.padding)
        #expect(y.shape == expected.shape)
        #expect(maxRelativeDifference(y, expected) < 1e-5, "\(cfg)")
    }

    /// The backward kernels are the adjoints of the forward map: for any output gradient G,
    /// ⟨conv(x, w), G⟩ = ⟨x, dX(G)⟩ = ⟨w, dW(G)⟩ (conv is bilinear, bias aside), and dbias = Σ G.
    @Test(arguments: configs)
    func backwardKernelsAreAdjoints(_ cfg: ConvConfig) {
        var rng = SeededGenerator(seed: 12)
        let x = Tensor.normal([cfg.n, cfg.c, cfg.h, cfg.w], rng: &rng)
        let w = Tensor.normal([cfg.o, cfg.c, cfg.kh, cfg.kw], rng: &rng)
        let y = Tensor.conv2d(x, w, stride: cfg.stride, padding: cfg.padding)
        let g = Tensor.normal(y.shape, rng: &rng)
        let dx = Tensor.conv2dInputPullback(gradOutput: g, weight: w, inputShape: x.shape,
                                            stride: cfg.stride, padding: cfg.padding)
        let dw = Tensor.conv2dWeightPullback(gradOutput: g, input: x, weightShape: w.shape,
                                             stride: cfg.stride, padding: cfg.padding)
        let db = Tensor.conv2dBiasPullback(gradOutput: g)
        #expect(dx.shape == x.shape && dw.shape == w.shape && db.shape == [cfg.o])
        let reference = dot(y, g)
        let tolerance = 1e-4 * max(1, abs(reference))
        #expect(abs(dot(x, dx) - reference) < tolerance, "\(cfg): ⟨x, dX⟩")
        #expect(abs(dot(w, dw) - reference) < tolerance, "\(cfg): ⟨w, dW⟩")
        #expect(maxRelativeDifference(db, g.sum(alongAxes: [0, 2, 3])) < 1e-5)

        // The fused entry point agrees with the separate ones.
        let geometry = try! Conv2dGeometry(inputShape: x.shape, weightShape: w.shape,
                                           stride: cfg.stride, padding: cfg.padding)
        let all = Tensor.conv2dPullback(gradOutput: g, weight: w, columns: Tensor.im2col(x, geometry: geometry),
                                        geometry: geometry)
        #expect(all.input == dx && all.weight == dw)
        #expect(maxRelativeDifference(all.bias!, db) < 1e-6)
        let only = Tensor.conv2dPullback(gradOutput: g, weight: nil, columns: nil, geometry: geometry, computing: .bias)
        #expect(only.input == nil && only.weight == nil && only.bias != nil)
    }

    /// The input gradient, element by element, against the loops of the definition.
    @Test func backwardInputMatchesNaiveScatter() {
        var rng = SeededGenerator(seed: 13)
        let cfg = configs[3]
        let w = Tensor.normal([cfg.o, cfg.c, cfg.kh, cfg.kw], rng: &rng)
        let geometry = try! Conv2dGeometry(inputShape: [cfg.n, cfg.c, cfg.h, cfg.w], weightShape: w.shape,
                                           stride: cfg.stride, padding: cfg.padding)
        let g = Tensor.normal(geometry.outputShape, rng: &rng)
        var expected = Tensor(zeros: geometry.inputShape)
        for n in 0..<cfg.n { for o in 0..<cfg.o { for p in 0..<geometry.outHeight { for q in 0..<geometry.outWidth {
            for c in 0..<cfg.c { for i in 0..<cfg.kh { for j in 0..<cfg.kw {
                let r = p * cfg.stride.0 - cfg.padding.0 + i, s = q * cfg.stride.1 - cfg.padding.1 + j
                guard r >= 0, r < cfg.h, s >= 0, s < cfg.w else { continue }
                expected[n, c, r, s] += g[n, o, p, q] * w[o, c, i, j]
            } } }
        } } } }
        let dx = Tensor.conv2dInputPullback(gradOutput: g, weight: w, inputShape: geometry.inputShape,
                                            stride: cfg.stride, padding: cfg.padding)
        #expect(maxRelativeDifference(dx, expected) < 1e-5)
    }

    /// A batch large enough to be processed in several cache-sized chunks (the last one a single
    /// sample) and several im2col blocks gives the same output and gradients as convolving each
    /// sample on its own.
    @Test(arguments: [(stride: (1, 1), padding: (1, 1)), (stride: (2, 2), padding: (0, 0))])
    func batchedConvolutionMatchesPerSample(stride: (Int, Int), padding: (Int, Int)) throws {
        var rng = SeededGenerator(seed: 14)
        let (N, C, O) = (43, 3, 32)
        let x = Tensor.normal([N, C, 12, 12], rng: &rng)
        let w = Tensor.normal([O, C, 3, 3], rng: &rng)
        let b = Tensor.normal([O], rng: &rng)
        let geometry = try Conv2dGeometry(inputShape: x.shape, weightShape: w.shape, stride: stride, padding: padding)
        let y = Tensor.conv2d(x, w, bias: b, stride: stride, padding: padding)
        let g = Tensor.normal(y.shape, rng: &rng)
        let all = Tensor.conv2dPullback(gradOutput: g, weight: w, columns: Tensor.im2col(x, geometry: geometry),
                                        geometry: geometry)
        var dwSum = Tensor(zeros: w.shape), dbSum = Tensor(zeros: [O])
        var dxParts: [Tensor] = []
        for n in 0..<N {
            let xn = x.slice(axis: 0, n..<(n + 1)), gn = g.slice(axis: 0, n..<(n + 1))
            let one = try Conv2dGeometry(inputShape: xn.shape, weightShape: w.shape, stride: stride, padding: padding)
            let yn = Tensor.conv2d(xn, w, bias: b, stride: stride, padding: padding)
            #expect(maxRelativeDifference(y.slice(axis: 0, n..<(n + 1)), yn) < 1e-5, "sample \(n)")
            let d = Tensor.conv2dPullback(gradOutput: gn, weight: w, columns: Tensor.im2col(xn, geometry: one),
                                          geometry: one)
            dwSum += d.weight!
            dbSum += d.bias!
            dxParts.append(d.input!)
        }
        #expect(maxRelativeDifference(all.input!, Tensor.concatenate(dxParts, alongAxis: 0)) < 1e-5)
        #expect(maxRelativeDifference(all.weight!, dwSum) < 1e-4)
        #expect(maxRelativeDifference(all.bias!, dbSum) < 1e-4)
    }

    @Test func im2colLayout() {
        // x = 0..<16 on a 4×4 image, 2×2 kernel, stride 2: four disjoint patches.
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        let g = try! Conv2dGeometry(inputShape: x.shape, weightShape: [1, 1, 2, 2], stride: (2, 2))
        let cols = Tensor.im2col(x, geometry: g)
        #expect(cols.shape == [4, 4])
        // Row (i, j) lists tap (i, j) of the patches at (0,0), (0,2), (2,0), (2,2).
        #expect(cols.scalars == [0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15])
        // Padding reads zero.
        let gp = try! Conv2dGeometry(inputShape: [1, 1, 1, 1], weightShape: [1, 1, 3, 3], padding: (1, 1))
        let one = Tensor.im2col(Tensor(shape: [1, 1, 1, 1], scalars: [7]), geometry: gp)
        #expect(one.scalars == [0, 0, 0, 0, 7, 0, 0, 0, 0])
    }

    @Test func validationThrowsForBadShapes() {
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let TensorError.shapeMismatch(m) { return m } catch { return "\(error)" }
        }
        let rank = message { try Tensor.validateConv2dShapes(input: [1, 28, 28], weight: [4, 1, 3, 3]) }
        #expect(rank?.contains("rank 4") == true)
        let channels = message { try Tensor.validateConv2dShapes(input: [2, 3, 8, 8], weight: [4, 1, 3, 3]) }
        #expect(channels?.contains("channel mismatch") == true)
        let large = message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 5, 3]) }
        #expect(large?.contains("larger than the padded input") == true)
        // Padding can make room for the kernel.
        #expect(message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 5, 3], padding: (1, 0)) } == nil)
        let bias = message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 3, 3], bias: [3]) }
        #expect(bias?.contains("bias") == true)
        let stride = message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 3, 3], stride: (0, 1)) }
        #expect(stride?.contains("stride") == true)
        let pad = message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 3, 3], padding: (-1, 0)) }
        #expect(pad?.contains("padding") == true)
        #expect(message { _ = try Conv2dGeometry(inputShape: [1, 2, 4, 4], weightShape: [2, 1, 3, 3]) } != nil)
        #expect(message { try Tensor.validateConv2dShapes(input: [1, 1, 4, 4], weight: [2, 1, 3, 3], bias: [2]) } == nil)

        #expect(message { try Tensor.validatePool2dShapes(input: [1, 4, 4], kernel: (2, 2)) }?.contains("rank 4") == true)
        #expect(message { try Tensor.validatePool2dShapes(input: [1, 1, 4, 4], kernel: (5, 2)) }?.contains("larger") == true)
        #expect(message { try Tensor.validatePool2dShapes(input: [1, 1, 4, 4], kernel: (2, 2), stride: (1, 0)) } != nil)
        #expect(message { try Tensor.validatePool2dShapes(input: [1, 1, 4, 4], kernel: (2, 2)) } == nil)
    }

    @Test func geometryOutputSize() throws {
        let g = try Conv2dGeometry(inputShape: [128, 1, 28, 28], weightShape: [16, 1, 3, 3], stride: (2, 2))
        #expect(g.outputShape == [128, 16, 13, 13])
        #expect(g.columnShape == [9, 128 * 169])
        let p = try Conv2dGeometry(inputShape: [2, 3, 7, 6], weightShape: [4, 3, 3, 3], padding: (1, 1))
        #expect(p.outputShape == [2, 4, 7, 6])
    }
}

// MARK: - Pooling

/// Naive pooling over each window with `combine`, then `finish(window result, window size)`.
private func naivePool(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), max useMax: Bool) -> Tensor {
    let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let Ho = (H - kernel.0) / stride.0 + 1, Wo = (W - kernel.1) / stride.1 + 1
    var y = Tensor(zeros: [N, C, Ho, Wo])
    for n in 0..<N { for c in 0..<C { for p in 0..<Ho { for q in 0..<Wo {
        var values: [Float] = []
        for i in 0..<kernel.0 { for j in 0..<kernel.1 { values.append(x[n, c, p * stride.0 + i, q * stride.1 + j]) } }
        y[n, c, p, q] = useMax ? values.max()! : values.reduce(0, +) / Float(values.count)
    } } } }
    return y
}

@Suite struct PoolingTests {
    static let cases: [(shape: [Int], kernel: (Int, Int), stride: (Int, Int)?)] = [
        ([1, 1, 4, 4], (2, 2), nil),
        ([2, 3, 7, 6], (2, 2), nil),           // odd size: last row dropped
        ([3, 2, 8, 9], (3, 3), (2, 2)),        // overlapping windows
        ([2, 1, 6, 5], (2, 3), (1, 2)),        // non-square
    ]

    @Test func avgAndMaxPoolMatchNaive() {
        var rng = SeededGenerator(seed: 21)
        for c in Self.cases {
            let x = Tensor.normal(c.shape, rng: &rng)
            let stride = c.stride ?? c.kernel
            let avg = x.avgPool2d(kernel: c.kernel, stride: c.stride)
            let mx = x.maxPool2d(kernel: c.kernel, stride: c.stride)
            #expect(maxRelativeDifference(avg, naivePool(x, kernel: c.kernel, stride: stride, max: false)) < 1e-6)
            #expect(mx == naivePool(x, kernel: c.kernel, stride: stride, max: true))
        }
    }

    @Test func poolingBackwardIsAdjoint() {
        var rng = SeededGenerator(seed: 22)
        for c in Self.cases {
            let x = Tensor.normal(c.shape, rng: &rng)
            let avg = x.avgPool2d(kernel: c.kernel, stride: c.stride)
            let g = Tensor.normal(avg.shape, rng: &rng)
            // Average pooling is linear: ⟨avg(x), g⟩ = ⟨x, avgᵀ(g)⟩.
            let dx = Tensor.avgPool2dPullback(gradOutput: g, inputShape: x.shape, kernel: c.kernel, stride: c.stride)
            #expect(abs(dot(avg, g) - dot(x, dx)) < 1e-4 * max(1, abs(dot(avg, g))))
            // Max pooling routes each gradient to the argmax: ⟨max(x), g⟩ = ⟨x, dX⟩ too.
            let (mx, indices) = x.maxPool2dWithIndices(kernel: c.kernel, stride: c.stride)
            for k in 0..<mx.count { #expect(x[flat: indices[k]] == mx[flat: k]) }
            let dmx = Tensor.maxPool2dPullback(gradOutput: g, indices: indices, inputShape: x.shape)
            #expect(abs(dot(mx, g) - dot(x, dmx)) < 1e-4 * max(1, abs(dot(mx, g))))
        }
    }

    @Test func maxPoolPropagatesNaN() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, .nan, 3, 2])
        #expect(x.maxPool2d(kernel: (2, 2)).scalar.isNaN)
    }

    @Test func globalAveragePoolIsSpatialMean() {
        var rng = SeededGenerator(seed: 23)
        let x = Tensor.normal([3, 4, 5, 6], rng: &rng)
        let y = x.globalAveragePool2d()
        #expect(y.shape == [3, 4])
        #expect(maxRelativeDifference(y, x.mean(alongAxes: [2, 3])) < 1e-6)
        let g = Tensor.normal([3, 4], rng: &rng)
        let dx = Tensor.globalAveragePool2dPullback(gradOutput: g, inputShape: x.shape)
        #expect(abs(dot(y, g) - dot(x, dx)) < 1e-4 * max(1, abs(dot(y, g))))
    }
}
