import Tensors
import Autograd

/// A 2-D convolution over NCHW inputs: `[N, C, H, W] → [N, O, Ho, Wo]`.
///
/// `weight` is `[outChannels, inChannels, kh, kw]` (PyTorch layout; the weight-space layout
/// `[out, in, spatial…]`). Implemented as im2col + one sgemm per batch.
/// Initialisation: weight from `initializer` with fan-in C·kh·kw, bias zeros by default.
public final class Conv2d: Module, Layer {
    /// `[outChannels, inChannels, kh, kw]`.
    public let weight: Parameter
    /// `[outChannels]`, or nil.
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

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

    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.conv2d(x, weight.variable(on: x.tape), bias: bias?.variable(on: x.tape),
                        stride: stride, padding: padding)
    }
}
