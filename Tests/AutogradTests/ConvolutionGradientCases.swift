import Autograd
import Tensors
import _TestSupport

/// Spreads normal samples to distinct values 0.1 apart (in a random order), so that no max-pool
/// window has a tie that a finite-difference step of 1e-2 could flip.
private func distinctValues(_ t: Tensor) -> Tensor {
    let order = t.scalars.enumerated().sorted { $0.element < $1.element }.map(\.offset)
    var scalars = [Float](repeating: 0, count: t.count)
    for (rank, index) in order.enumerated() { scalars[index] = Float(rank) * 0.1 - Float(t.count) * 0.05 }
    return Tensor(shape: t.shape, scalars: scalars)
}

extension GradientTable {
    /// Convolution and pooling: gradients with respect to input, weight and bias, with and without
    /// stride and padding, including non-square kernels.
    static let convolution: [GradientCase] = [
        GradientCase("conv2d(_:_:bias:stride:padding:): stride 1 padding 0 (x, w, bias)", shapes: [[2, 3, 5, 5], [4, 3, 3, 3], [4]]) {
            Variable.conv2d($0[0], $0[1], bias: $0[2])
        },
        GradientCase("conv2d(_:_:bias:stride:padding:): stride 1 padding 1 (x, w, bias)", shapes: [[2, 2, 4, 5], [3, 2, 3, 3], [3]]) {
            Variable.conv2d($0[0], $0[1], bias: $0[2], padding: (1, 1))
        },
        GradientCase("conv2d(_:_:bias:stride:padding:): stride 2 padding 0 (x, w)", shapes: [[3, 1, 7, 7], [2, 1, 3, 3]]) {
            Variable.conv2d($0[0], $0[1], stride: (2, 2))
        },
        GradientCase("conv2d(_:_:bias:stride:padding:): stride 2 padding 1 (x, w, bias)", shapes: [[2, 3, 6, 6], [2, 3, 3, 3], [2]]) {
            Variable.conv2d($0[0], $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1))
        },
        GradientCase("conv2d(_:_:bias:stride:padding:): non-square kernel, mixed stride/padding", shapes: [[2, 2, 5, 6], [3, 2, 2, 3], [3]]) {
            Variable.conv2d($0[0], $0[1], bias: $0[2], stride: (1, 2), padding: (1, 0))
        },
        GradientCase("conv2d(_:_:bias:stride:padding:): chain (two layers)", shapes: [[2, 1, 9, 9], [3, 1, 3, 3], [3, 3, 3, 3]]) {
            Variable.conv2d(Variable.conv2d($0[0], $0[1], stride: (2, 2)), $0[2], padding: (1, 1))
        },
        GradientCase("avgPool2d(kernel:stride:): 2×2", shapes: [[2, 3, 4, 5]]) { $0[0].avgPool2d(kernel: (2, 2)) },
        GradientCase("avgPool2d(kernel:stride:): 3×2 stride 1×2 (overlapping)", shapes: [[2, 2, 5, 6]]) {
            $0[0].avgPool2d(kernel: (3, 2), stride: (1, 2))
        },
        GradientCase("maxPool2d(kernel:stride:): 2×2", shapes: [[2, 3, 4, 4]], transform: { _, t in distinctValues(t) }) {
            $0[0].maxPool2d(kernel: (2, 2))
        },
        GradientCase("maxPool2d(kernel:stride:): 3×3 stride 2 (overlapping)", shapes: [[1, 2, 7, 7]],
                     transform: { _, t in distinctValues(t) }) {
            $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2))
        },
        GradientCase("globalAveragePool2d(): global average", shapes: [[3, 4, 3, 5]]) { $0[0].globalAveragePool2d() },
        GradientCase("conv2d(_:_:bias:stride:padding:): → globalAveragePool2d", shapes: [[2, 2, 6, 6], [3, 2, 3, 3], [3]]) {
            Variable.conv2d($0[0], $0[1], bias: $0[2], stride: (2, 2)).globalAveragePool2d()
        },
    ]
}
