import Foundation
import Tensors
import Autograd
import Metanetworks
import Zoo

/// Rendering SIREN weight sets as images, differentiably in the weights — the forward pass of
/// INR editing (a metanetwork edits the weights; the loss is computed on the rendered image).
public enum SIRENRenderer {
    /// The coordinate grid SIREN zoo members are fitted on (``ZooModels/coordinateGrid(height:width:)``):
    /// `[height·width, 2]`, row-major over pixels, each row `(x, y)` in [−1, 1]² with x from the
    /// column and y from the row (pixel (r, c) → x = −1 + 2c/(W−1), y = −1 + 2r/(H−1)).
    ///
    /// Rendering a zoo member on this grid reproduces the image it was fitted to (tested against
    /// the zoo's recorded MSE); a (row, column) grid would render the image transposed.
    public static func coordinates(height: Int, width: Int) -> Tensor {
        ZooModels.coordinateGrid(height: height, width: width)
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

/// Image transforms that INR editing learns to apply in weight space (Zhou et al. 2023, *Neural
/// Functional Transformers*, §5.2).
public enum ImageEdit: String, Codable, Sendable, CaseIterable {
    case dilate, erode, gradient, contrast

    /// Applies the edit to images `[N, H, W]` (values in the SIRENs' output range).
    ///
    /// Dilation/erosion: 3×3 max/min filter; gradient: dilation − erosion (morphological
    /// gradient); contrast: (x − mean)·1.5 + mean per image.
    public func apply(_ images: Tensor) -> Tensor {
        precondition(images.rank == 3, "ImageEdit expects [N, H, W], got \(images.shape)")
        let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
        switch self {
        case .contrast:
            let mean = images.mean(alongAxes: [1, 2], keepingDimensions: true)
            return (images - mean) * 1.5 + mean
        case .gradient:
            return ImageEdit.dilate.apply(images) - ImageEdit.erode.apply(images)
        case .dilate, .erode:
            let isMax = self == .dilate
            var out = Tensor(zeros: images.shape)
            images.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<n {
                        for r in 0..<h {
                            for c in 0..<w {
                                var v = isMax ? -Float.infinity : Float.infinity
                                for dr in -1...1 {
                                    for dc in -1...1 {
                                        let rr = r + dr, cc = c + dc
                                        guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
                                        let x = src[(k * h + rr) * w + cc]
                                        v = isMax ? Swift.max(v, x) : Swift.min(v, x)
                                    }
                                }
                                dst[(k * h + r) * w + c] = v
                            }
                        }
                    }
                }
            }
            return out
        }
    }
}
