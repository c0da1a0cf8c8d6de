import Tensors

// Convolution and pooling, each with its pullback beside it. Gradients are computed only for
// inputs that need them: in particular the (usually large) input gradient of a network's first
// convolution is skipped, since the data needs none.

extension Variable {
    /// The 2-D convolution (cross-correlation) of `x [N, C, H, W]` with `w [O, C, kh, kw]` plus an
    /// optional `bias [O]`, giving `[N, O, Ho, Wo]` (see `Tensor.conv2d`).
    ///
    /// Pullback: `dW = G × im2col(x)ᵀ` reusing the forward's im2col matrix, `dx = col2im(Wᵀ × G)`,
    /// `dbias = Σ_{n, p, q} G`. The im2col matrix is kept alive by the tape only when `w` needs a
    /// gradient.
    /// Traps on invalid shapes; check user-supplied ones with `Tensor.validateConv2dShapes`.
    public static func conv2d(_ x: Variable, _ w: Variable, bias: Variable? = nil,
                              stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) -> Variable {
        let g: Conv2dGeometry
        do {
            try Tensor.validateConv2dShapes(input: x.shape, weight: w.shape, bias: bias?.shape,
                                            stride: stride, padding: padding)
            g = try Conv2dGeometry(inputShape: x.shape, weightShape: w.shape, stride: stride, padding: padding)
        } catch {
            preconditionFailure("\(error)")
        }
        let columns = Tensor.im2col(x.value, geometry: g)
        let out = Tensor.conv2d(columns: columns, weight: w.value, bias: bias?.value, geometry: g)
        var selection: Tensor.Conv2dGradientSelection = []
        if x.requiresGradient { selection.insert(.input) }
        if w.requiresGradient { selection.insert(.weight) }
        if bias?.requiresGradient == true { selection.insert(.bias) }
        // Capture only what the selected gradients read.
        let keptColumns = selection.contains(.weight) ? columns : nil
        let keptWeight = selection.contains(.input) ? w.value : nil
        let inputs = bias.map { [x, w, $0] } ?? [x, w]
        let hasBias = bias != nil   // the pullback captures no Variable (and so no tape)
        return record(out, inputs: inputs) { grad in
            let d = Tensor.conv2dPullback(gradOutput: grad, weight: keptWeight, columns: keptColumns,
                                          geometry: g, computing: selection)
            return hasBias ? [d.input, d.weight, d.bias] : [d.input, d.weight]
        }
    }

    /// The mean of each `kh×kw` window of a `[N, C, H, W]` variable (stride defaults to the kernel).
    ///
    /// Pullback: each output gradient divided by kh·kw and added to every element of its window.
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Variable {
        let inputShape = shape
        return Variable.record(value.avgPool2d(kernel: kernel, stride: stride), inputs: [self]) { g in
            [Tensor.avgPool2dPullback(gradOutput: g, inputShape: inputShape, kernel: kernel, stride: stride)]
        }
    }

    /// The largest element of each `kh×kw` window of a `[N, C, H, W]` variable (stride defaults to
    /// the kernel).
    ///
    /// Pullback: each output gradient goes to the element that was its window's maximum (the
    /// first one on ties).
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Variable {
        let inputShape = shape
        let (out, indices) = value.maxPool2dWithIndices(kernel: kernel, stride: stride)
        return Variable.record(out, inputs: [self]) { g in
            [Tensor.maxPool2dPullback(gradOutput: g, indices: indices, inputShape: inputShape)]
        }
    }

    /// The mean over the spatial axes: `[N, C, H, W] → [N, C]`.
    ///
    /// Pullback: `g[n, c] / (H·W)` in every pixel of plane (n, c).
    public func globalAveragePool2d() -> Variable {
        let inputShape = shape
        return Variable.record(value.globalAveragePool2d(), inputs: [self]) { g in
            [Tensor.globalAveragePool2dPullback(gradOutput: g, inputShape: inputShape)]
        }
    }
}
