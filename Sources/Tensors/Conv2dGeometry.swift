/// The sizes of one 2-D convolution: input `[N, C, H, W]`, weight `[O, C, kh, kw]`,
/// output `[N, O, Ho, Wo]` with `Ho = (H + 2·ph − kh) / sh + 1` (floor), likewise `Wo`.
///
/// Build it with ``init(inputShape:weightShape:stride:padding:)``, which validates the shapes and
/// throws ``TensorError/shapeMismatch(_:)`` with a message naming the problem.
public struct Conv2dGeometry: Sendable, Hashable, CustomStringConvertible {
    /// Batch size N.
    public let batch: Int
    /// Input channels C.
    public let inChannels: Int
    /// Input height H.
    public let height: Int
    /// Input width W.
    public let width: Int
    /// Output channels O.
    public let outChannels: Int
    /// Kernel height kh.
    public let kernelHeight: Int
    /// Kernel width kw.
    public let kernelWidth: Int
    /// Vertical stride sh (≥ 1).
    public let strideHeight: Int
    /// Horizontal stride sw (≥ 1).
    public let strideWidth: Int
    /// Zero padding added above and below (≥ 0).
    public let paddingHeight: Int
    /// Zero padding added left and right (≥ 0).
    public let paddingWidth: Int
    /// Output height Ho.
    public let outHeight: Int
    /// Output width Wo.
    public let outWidth: Int

    /// Validates the shapes and derives the output size.
    ///
    /// - Throws: ``TensorError/shapeMismatch(_:)`` when the input or weight is not rank 4, their
    ///   channel counts differ, a stride is < 1, a padding is < 0, or the kernel is larger than
    ///   the padded input.
    public init(inputShape: [Int], weightShape: [Int], stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0)) throws {
        if let problem = Tensor.conv2dShapeProblem(input: inputShape, weight: weightShape, bias: nil,
                                                   stride: stride, padding: padding) {
            throw TensorError.shapeMismatch(problem)
        }
        self.init(validInput: inputShape, weight: weightShape, stride: stride, padding: padding)
    }

    /// The same, trapping with the validation message instead of throwing (for internal callers
    /// whose shapes are a programming matter).
    init(checkedInput input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: (Int, Int)) {
        if let problem = Tensor.conv2dShapeProblem(input: input, weight: weight, bias: bias,
                                                   stride: stride, padding: padding) {
            preconditionFailure(problem)
        }
        self.init(validInput: input, weight: weight, stride: stride, padding: padding)
    }

    private init(validInput input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int)) {
        batch = input[0]; inChannels = input[1]; height = input[2]; width = input[3]
        outChannels = weight[0]; kernelHeight = weight[2]; kernelWidth = weight[3]
        (strideHeight, strideWidth) = stride
        (paddingHeight, paddingWidth) = padding
        outHeight = (height + 2 * paddingHeight - kernelHeight) / strideHeight + 1
        outWidth = (width + 2 * paddingWidth - kernelWidth) / strideWidth + 1
    }

    /// `[N, C, H, W]`.
    public var inputShape: [Int] { [batch, inChannels, height, width] }
    /// `[O, C, kh, kw]`.
    public var weightShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
    /// `[N, O, Ho, Wo]`.
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    /// `[C·kh·kw, N·Ho·Wo]`, the shape of ``Tensor/im2col(_:geometry:)``'s result.
    public var columnShape: [Int] { [patchSize, batch * outHeight * outWidth] }
    /// C·kh·kw: the length of one receptive field, the inner dimension of the forward gemm.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }

    public var description: String {
        "conv2d \(inputShape) * \(weightShape) stride (\(strideHeight), \(strideWidth)) "
            + "padding (\(paddingHeight), \(paddingWidth)) → \(outputShape)"
    }

    /// The output positions `o` in `0..<outCount` whose input coordinate `o·stride − pad + offset`
    /// lies in `0..<inCount`; the rest read zero padding.
    @inline(__always)
    static func validRange(outCount: Int, stride: Int, pad: Int, offset: Int, inCount: Int) -> Range<Int> {
        let a = pad - offset                      // need o·stride ≥ a
        let lo = a <= 0 ? 0 : (a + stride - 1) / stride
        let b = inCount - 1 + pad - offset        // need o·stride ≤ b
        let hi = b < 0 ? 0 : b / stride + 1
        let l = Swift.min(lo, outCount), h = Swift.min(hi, outCount)
        return l..<Swift.max(l, h)
    }
}

extension Tensor {
    // MARK: Validation

    /// What is wrong with a convolution's shapes, or nil when they are valid.
    static func conv2dShapeProblem(input: [Int], weight: [Int], bias: [Int]?,
                                   stride: (Int, Int), padding: (Int, Int)) -> String? {
        guard input.count == 4 else {
            return "conv2d input must be rank 4 [N, C, H, W], got shape \(input)"
        }
        guard weight.count == 4 else {
            return "conv2d weight must be rank 4 [O, C, kh, kw], got shape \(weight)"
        }
        guard input.allSatisfy({ $0 >= 0 }), weight.allSatisfy({ $0 >= 0 }) else {
            return "conv2d shapes must not have negative dimensions: input \(input), weight \(weight)"
        }
        guard input[1] == weight[1] else {
            return "conv2d channel mismatch: input \(input) has \(input[1]) channels, weight \(weight) expects \(weight[1])"
        }
        guard stride.0 >= 1, stride.1 >= 1 else {
            return "conv2d stride must be ≥ 1, got (\(stride.0), \(stride.1))"
        }
        guard padding.0 >= 0, padding.1 >= 0 else {
            return "conv2d padding must be ≥ 0, got (\(padding.0), \(padding.1))"
        }
        guard weight[2] >= 1, weight[3] >= 1 else {
            return "conv2d kernel must be at least 1×1, weight shape is \(weight)"
        }
        let paddedH = input[2] + 2 * padding.0, paddedW = input[3] + 2 * padding.1
        guard weight[2] <= paddedH, weight[3] <= paddedW else {
            return "conv2d kernel \(weight[2])×\(weight[3]) is larger than the padded input \(paddedH)×\(paddedW) "
                + "(input \(input), padding (\(padding.0), \(padding.1)))"
        }
        if let bias, bias != [weight[0]] {
            return "conv2d bias must have shape [\(weight[0])] (one per output channel), got \(bias)"
        }
        return nil
    }

    /// Checks the shapes of a convolution before running it on user-supplied data.
    ///
    /// ``conv2d(_:_:bias:stride:padding:)`` traps on the same conditions; call this first at an
    /// API boundary to report them instead.
    /// - Throws: ``TensorError/shapeMismatch(_:)`` for a rank other than 4, a channel mismatch
    ///   between input and weight, a bias that is not `[O]`, a stride < 1, a negative padding, or a
    ///   kernel larger than the padded input.
    public static func validateConv2dShapes(input: [Int], weight: [Int], bias: [Int]? = nil,
                                            stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) throws {
        if let problem = conv2dShapeProblem(input: input, weight: weight, bias: bias, stride: stride, padding: padding) {
            throw TensorError.shapeMismatch(problem)
        }
    }
}
