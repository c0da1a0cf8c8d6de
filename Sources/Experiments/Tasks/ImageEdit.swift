import Tensors

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
