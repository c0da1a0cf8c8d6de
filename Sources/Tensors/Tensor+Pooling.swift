// 2-D pooling over the last two axes of an NCHW tensor, without padding.
//
// Windows are `kernel = (kh, kw)` and move by `stride = (sh, sw)` (the kernel by default, i.e.
// non-overlapping windows); the output is `[N, C, Ho, Wo]` with `Ho = (H − kh) / sh + 1` (floor),
// so trailing rows/columns that do not fill a window are dropped, as in PyTorch's default.

extension Tensor {
    /// What is wrong with a pooling's shapes, or nil when they are valid.
    static func pool2dShapeProblem(input: [Int], kernel: (Int, Int), stride: (Int, Int)) -> String? {
        guard input.count == 4 else { return "pool2d input must be rank 4 [N, C, H, W], got shape \(input)" }
        guard input.allSatisfy({ $0 >= 0 }) else { return "pool2d input shape \(input) has a negative dimension" }
        guard kernel.0 >= 1, kernel.1 >= 1 else { return "pool2d kernel must be at least 1×1, got \(kernel.0)×\(kernel.1)" }
        guard stride.0 >= 1, stride.1 >= 1 else { return "pool2d stride must be ≥ 1, got (\(stride.0), \(stride.1))" }
        guard kernel.0 <= input[2], kernel.1 <= input[3] else {
            return "pool2d kernel \(kernel.0)×\(kernel.1) is larger than the input \(input[2])×\(input[3]) (shape \(input))"
        }
        return nil
    }

    /// Checks the shapes of ``avgPool2d(kernel:stride:)`` / ``maxPool2d(kernel:stride:)`` before
    /// running them on user-supplied data.
    /// - Throws: ``TensorError/shapeMismatch(_:)`` for a rank other than 4, a kernel smaller than
    ///   1×1 or larger than the input, or a stride < 1.
    public static func validatePool2dShapes(input: [Int], kernel: (Int, Int), stride: (Int, Int)? = nil) throws {
        if let problem = pool2dShapeProblem(input: input, kernel: kernel, stride: stride ?? kernel) {
            throw TensorError.shapeMismatch(problem)
        }
    }

    /// The output shape of a pooling, trapping on invalid shapes.
    static func pool2dOutputShape(_ input: [Int], kernel: (Int, Int), stride: (Int, Int)) -> [Int] {
        if let problem = pool2dShapeProblem(input: input, kernel: kernel, stride: stride) { preconditionFailure(problem) }
        return [input[0], input[1], (input[2] - kernel.0) / stride.0 + 1, (input[3] - kernel.1) / stride.1 + 1]
    }

    // MARK: Average pooling

    /// The mean of each `kh×kw` window of the last two axes of a `[N, C, H, W]` tensor.
    ///
    /// `stride` defaults to `kernel` (non-overlapping windows). Traps on invalid shapes (see
    /// ``validatePool2dShapes(input:kernel:stride:)``).
    /// - Complexity: O(N·C·Ho·Wo·kh·kw).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
        let stride = stride ?? kernel
        let outShape = Tensor.pool2dOutputShape(shape, kernel: kernel, stride: stride)
        let out = Tensor(uninitializedShape: outShape)
        let (H, W, Ho, Wo) = (shape[2], shape[3], outShape[2], outShape[3])
        let (kh, kw) = kernel, (sh, sw) = stride
        let scale = 1 / Float(kh * kw)
        let src = buffer.base, dst = out.buffer.base
        for plane in 0..<(shape[0] * shape[1]) {
            let image = src + plane * H * W, o = dst + plane * Ho * Wo
            for p in 0..<Ho {
                for q in 0..<Wo {
                    var acc: Float = 0
                    var row = image + p * sh * W + q * sw
                    for _ in 0..<kh {
                        for j in 0..<kw { acc += row[j] }
                        row += W
                    }
                    o[p * Wo + q] = acc * scale
                }
            }
        }
        return out
    }

    /// d loss / d x of ``avgPool2d(kernel:stride:)``: each output gradient spread evenly over its
    /// window (overlapping windows add up).
    /// - Complexity: O(N·C·(H·W + Ho·Wo·kh·kw)).
    public static func avgPool2dPullback(gradOutput: Tensor, inputShape: [Int], kernel: (Int, Int),
                                         stride: (Int, Int)? = nil) -> Tensor {
        let stride = stride ?? kernel
        let outShape = pool2dOutputShape(inputShape, kernel: kernel, stride: stride)
        precondition(gradOutput.shape == outShape,
                     "avgPool2d backward: gradient shape \(gradOutput.shape) ≠ output shape \(outShape)")
        let dx = Tensor(zeros: inputShape)
        let (H, W, Ho, Wo) = (inputShape[2], inputShape[3], outShape[2], outShape[3])
        let (kh, kw) = kernel, (sh, sw) = stride
        let scale = 1 / Float(kh * kw)
        let src = gradOutput.buffer.base, dst = dx.buffer.base
        for plane in 0..<(inputShape[0] * inputShape[1]) {
            let image = dst + plane * H * W, g = src + plane * Ho * Wo
            for p in 0..<Ho {
                for q in 0..<Wo {
                    let v = g[p * Wo + q] * scale
                    var row = image + p * sh * W + q * sw
                    for _ in 0..<kh {
                        for j in 0..<kw { row[j] += v }
                        row += W
                    }
                }
            }
        }
        return dx
    }

    // MARK: Max pooling

    /// The largest element of each `kh×kw` window of the last two axes of a `[N, C, H, W]` tensor.
    ///
    /// `stride` defaults to `kernel`. A NaN in a window propagates to its output. Traps on invalid
    /// shapes (see ``validatePool2dShapes(input:kernel:stride:)``).
    /// - Complexity: O(N·C·Ho·Wo·kh·kw).
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
        maxPool2dWithIndices(kernel: kernel, stride: stride).output
    }

    /// ``maxPool2d(kernel:stride:)`` together with, for each output element, the flat (row-major)
    /// index into `self` of the element it took — the first maximum of its window on ties.
    ///
    /// The indices are what ``maxPool2dPullback(gradOutput:indices:inputShape:)`` needs.
    public func maxPool2dWithIndices(kernel: (Int, Int), stride: (Int, Int)? = nil) -> (output: Tensor, indices: [Int]) {
        let stride = stride ?? kernel
        let outShape = Tensor.pool2dOutputShape(shape, kernel: kernel, stride: stride)
        let out = Tensor(uninitializedShape: outShape)
        let (H, W, Ho, Wo) = (shape[2], shape[3], outShape[2], outShape[3])
        let (kh, kw) = kernel, (sh, sw) = stride
        let src = buffer.base, dst = out.buffer.base
        let indices = [Int](unsafeUninitializedCapacity: out.count) { idx, initialized in
            for plane in 0..<(shape[0] * shape[1]) {
                let base = plane * H * W, o = plane * Ho * Wo
                for p in 0..<Ho {
                    for q in 0..<Wo {
                        var bestIndex = base + p * sh * W + q * sw
                        var best = src[bestIndex]
                        for i in 0..<kh {
                            let rowStart = base + (p * sh + i) * W + q * sw
                            for j in 0..<kw {
                                let v = src[rowStart + j]
                                if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = rowStart + j }
                            }
                        }
                        dst[o + p * Wo + q] = best
                        idx[o + p * Wo + q] = bestIndex
                    }
                }
            }
            initialized = out.count
        }
        return (out, indices)
    }

    /// d loss / d x of ``maxPool2d(kernel:stride:)``: each output gradient routed to the element
    /// that was the window's maximum (`indices` from ``maxPool2dWithIndices(kernel:stride:)``).
    /// - Complexity: O(N·C·H·W).
    public static func maxPool2dPullback(gradOutput: Tensor, indices: [Int], inputShape: [Int]) -> Tensor {
        precondition(indices.count == gradOutput.count,
                     "maxPool2d backward: \(indices.count) indices for a gradient of \(gradOutput.count) elements")
        let dx = Tensor(zeros: inputShape)
        let g = gradOutput.buffer.base, d = dx.buffer.base, n = dx.count
        indices.withUnsafeBufferPointer { idx in
            for k in 0..<idx.count {
                precondition(idx[k] >= 0 && idx[k] < n, "maxPool2d backward: index \(idx[k]) out of range")
                d[idx[k]] += g[k]
            }
        }
        return dx
    }

    // MARK: Global average pooling

    /// The mean over the last two axes: `[N, C, H, W] → [N, C]`.
    /// - Complexity: O(count).
    public func globalAveragePool2d() -> Tensor {
        precondition(rank == 4, "globalAveragePool2d needs a rank-4 [N, C, H, W] tensor, got shape \(shape)")
        let planes = shape[0] * shape[1], area = shape[2] * shape[3]
        let out = Tensor(uninitializedShape: [shape[0], shape[1]])
        let scale = 1 / Float(area)   // ∞·0 = NaN for an empty plane, like the mean of nothing
        let src = buffer.base, dst = out.buffer.base
        for k in 0..<planes {
            let s = src + k * area
            var acc: Float = 0
            for i in 0..<area { acc += s[i] }
            dst[k] = acc * scale
        }
        return out
    }

    /// d loss / d x of ``globalAveragePool2d()``: `g[n, c] / (H·W)` in every pixel of plane (n, c).
    public static func globalAveragePool2dPullback(gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        precondition(inputShape.count == 4 && gradOutput.shape == [inputShape[0], inputShape[1]],
                     "globalAveragePool2d backward: gradient shape \(gradOutput.shape) does not match input \(inputShape)")
        let area = inputShape[2] * inputShape[3]
        let dx = Tensor(uninitializedShape: inputShape)
        let scale = 1 / Float(Swift.max(area, 1))
        let g = gradOutput.buffer.base, d = dx.buffer.base
        for k in 0..<gradOutput.count { (d + k * area).update(repeating: g[k] * scale, count: area) }
        return dx
    }
}
