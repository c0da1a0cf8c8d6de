import Tensors
import Autograd

/// A 2-D convolution over NCHW inputs: `[N, C, H, W] → [N, O, Ho, Wo]`.
///
/// `weight` is `[outChannels, inChannels, kh, kw]` (PyTorch layout; the weight-space layout
/// `[out, in, spatial…]`). Implemented as im2col + sgemm with the whole batch folded into the
/// gemm columns (chunked to stay in cache).
/// Initialisation: weight from `initializer` with fan-in C·kh·kw, bias zeros by default.
public final class Conv2d: Module, Layer {
    /// `[outChannels, inChannels, kh, kw]`.
    public let weight: Parameter
    /// `[outChannels]`, or nil.
    public let bias: Parameter?
    /// (vertical, horizontal) step between kernel applications, each ≥ 1.
    public let stride: (Int, Int)
    /// (vertical, horizontal) zero padding added to both sides of each spatial axis.
    public let padding: (Int, Int)

    /// C, the input channel count.
    public var inChannels: Int { weight.shape[1] }
    /// O, the output channel count.
    public var outChannels: Int { weight.shape[0] }
    /// (kh, kw), the kernel's spatial size.
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    /// Creates an `inChannels → outChannels` convolution with freshly sampled weights.
    ///
    /// - Parameters:
    ///   - kernelSize: (kh, kw).
    ///   - stride: (sh, sw), each ≥ 1; output size is Ho = ⌊(H + 2·ph − kh) / sh⌋ + 1, likewise Wo.
    ///   - padding: (ph, pw) ≥ 0 zeros on each side.
    ///   - bias: whether to add a learned `[outChannels]` bias.
    ///   - initializer: weight initialiser, with fan-in C·kh·kw and fan-out O·kh·kw.
    ///   - biasInitializer: bias initialiser (same fans); zeros by default.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias: Bool = true,
                initializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                rng: inout SeededGenerator) {
        let fanIn = inChannels * kernelSize.0 * kernelSize.1
        let fanOut = outChannels * kernelSize.0 * kernelSize.1
        weight = Parameter(initializer.sample([outChannels, inChannels, kernelSize.0, kernelSize.1],
                                              fanIn: fanIn, fanOut: fanOut, rng: &rng))
        self.bias = bias ? Parameter(biasInitializer.sample([outChannels], fanIn: fanIn, fanOut: fanOut, rng: &rng)) : nil
        self.stride = stride
        self.padding = padding
        super.init()
    }

    /// `[N, C, H, W] → [N, O, Ho, Wo]`; traps if the input is not rank 4 with C channels, or if the
    /// padded input is smaller than the kernel (check with `Tensor.validateConv2dShapes` first).
    /// - Complexity: O(N·O·C·kh·kw·Ho·Wo) in sgemm, plus a `[C·kh·kw, N·Ho·Wo]` im2col buffer (kept by
    ///   the tape for the weight gradient when recording).
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.conv2d(x, weight.variable(on: x.tape), bias: bias?.variable(on: x.tape),
                        stride: stride, padding: padding)
    }
}
