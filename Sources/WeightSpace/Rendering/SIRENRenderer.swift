import Foundation
import Tensors
import Autograd

/// Rendering SIREN weight sets as images, differentiably in the weights — the forward pass of
/// INR editing (a metanetwork edits the weights; the loss is computed on the rendered image).
public enum SIRENRenderer {
    /// The coordinate grid SIRENs are fitted on and rendered on (zoo generation, rendering and the
    /// symmetry checks all use this one grid): `[height·width, 2]`, row-major over pixels, each row
    /// `(x, y)` in [−1, 1]² with x from the column and y from the row
    /// (pixel (r, c) → x = −1 + 2c/(W−1), y = −1 + 2r/(H−1)).
    ///
    /// Rendering a zoo member on this grid reproduces the image it was fitted to (tested against
    /// the zoo's recorded MSE); a (row, column) grid would render the image transposed.
    public static func coordinates(height: Int, width: Int) -> Tensor {
        Tensor(shape: [height * width, 2]) { flat in
            let pixel = flat / 2, r = pixel / width, col = pixel % width
            if flat % 2 == 0 { return width > 1 ? -1 + 2 * Float(col) / Float(width - 1) : 0 }
            return height > 1 ? -1 + 2 * Float(r) / Float(height - 1) : 0
        }
    }

    /// Evaluates a batch of SIRENs given as one-channel weight-space features at `coordinates`
    /// (`[P, d]`): hidden layers sin(ω₀(h·Wᵀ + b)), a linear output layer. Returns `[B, P, outputs]`.
    ///
    /// Differentiable in the weights; every layer is one batched matmul over the B networks.
    public static func render(_ w: WeightSpaceVariables, coordinates: Tensor, frequency: Float = 30) -> Variable {
        precondition(w.channelCount == 1, "render expects raw weights (one channel), got \(w.channelCount)")
        let b = w.batchSize
        let coords = Tensor.stack(Array(repeating: coordinates, count: b))          // [B, P, d]
        var h = w.tape?.constant(coords) ?? Variable(coords)
        for i in 0..<w.layerCount {
            let weight = w.weights[i].squeezingShape(at: [1])                         // [B, out, in]
            let bias = w.biases[i].reshaped([b, 1, weight.shape[1]])                  // [B, 1, out]
            h = Variable.matmul(h, weight, transposeB: true) + bias
            if i < w.layerCount - 1 { h = (h * frequency).sin() }
        }
        return h
    }

    /// Renders one-output SIRENs as images `[B, height, width]` on ``coordinates(height:width:)``
    /// (differentiable in the weights).
    public static func images(_ w: WeightSpaceVariables, height: Int, width: Int, frequency: Float = 30) -> Variable {
        precondition(w.widths.last == 1, "images(_:) renders one-output SIRENs, got \(w.widths.last ?? 0) outputs")
        return render(w, coordinates: coordinates(height: height, width: width), frequency: frequency)
            .reshaped([w.batchSize, height, width])
    }
}
