import Tensors
import NeuralNetworks
import WeightSpace

/// The split of an H × W image into a g × g grid of equal patches, one per row of an INR2ARRAY
/// latent array (Zhou et al. 2023, *Neural Functional Transformers*, §4: the latent array is
/// spatial, each latent vector describes one region of the image).
///
/// Patch m = r·g + c covers rows r·ph ..< (r+1)·ph and columns c·pw ..< (c+1)·pw, with
/// ph = H / g and pw = W / g (both must divide exactly). Each patch SIREN is evaluated on the
/// patch's own coordinate grid, ``SIRENRenderer``'s grid for a ph × pw image (local coordinates in
/// [−1, 1]²): every patch network then works on the same domain, so one hypernetwork serves all
/// patches.
///
/// ```swift
/// let grid = try PatchGrid(height: 28, width: 28, patches: 16)    // 4 × 4 patches of 7 × 7
/// let patches = try grid.patches(of: images)                     // [B, 28, 28] → [B, 16, 49]
/// ```
public struct PatchGrid: Sendable, Equatable, Codable {
    /// H, W of the image.
    public let height: Int, width: Int
    /// g, patches per side (M = g²).
    public let side: Int

    /// - Parameter patches: M, a perfect square g² with g dividing both H and W.
    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` otherwise.
    public init(height: Int, width: Int, patches: Int) throws {
        let g = Int(Double(max(patches, 0)).squareRoot().rounded())
        guard height > 0, width > 0, patches > 0, g * g == patches else {
            throw ModuleError.invalidConfiguration("PatchGrid: need a positive image size and a square patch count M = g², got \(height)×\(width) and M = \(patches)")
        }
        guard height % g == 0, width % g == 0 else {
            throw ModuleError.invalidConfiguration("PatchGrid: a \(g)×\(g) grid does not divide a \(height)×\(width) image; choose M = g² with g dividing both sides")
        }
        self.height = height; self.width = width; side = g
    }

    /// M = g².
    public var count: Int { side * side }
    /// ph, pw.
    public var patchHeight: Int { height / side }
    public var patchWidth: Int { width / side }
    /// ph · pw.
    public var pixelsPerPatch: Int { patchHeight * patchWidth }

    /// The coordinates every patch SIREN is evaluated on: `[ph·pw, 2]`, row-major over the patch.
    public var coordinates: Tensor { SIRENRenderer.coordinates(height: patchHeight, width: patchWidth) }

    /// `[B, H, W]` images → `[B, M, ph·pw]` patches (patch-major, row-major inside each patch).
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` for another image shape.
    public func patches(of images: Tensor) throws -> Tensor {
        guard images.rank == 3, images.shape[1] == height, images.shape[2] == width else {
            throw ModuleError.invalidInput("PatchGrid: expected images [B, \(height), \(width)], got \(images.shape)")
        }
        let (g, ph, pw) = (side, patchHeight, patchWidth)
        // [B, g, ph, g, pw] → [B, g, g, ph, pw].
        return images.reshaped([images.shape[0], g, ph, g, pw]).permuted([0, 1, 3, 2, 4])
            .reshaped([images.shape[0], count, ph * pw])
    }

    /// The inverse of ``patches(of:)``: `[B, M, ph·pw]` → `[B, H, W]`.
    ///
    /// - Throws: ``ModuleError/invalidInput(_:)`` for another patch shape.
    public func image(fromPatches patches: Tensor) throws -> Tensor {
        guard patches.rank == 3, patches.shape[1] == count, patches.shape[2] == pixelsPerPatch else {
            throw ModuleError.invalidInput("PatchGrid: expected patches [B, \(count), \(pixelsPerPatch)], got \(patches.shape)")
        }
        let (g, ph, pw) = (side, patchHeight, patchWidth)
        return patches.reshaped([patches.shape[0], g, g, ph, pw]).permuted([0, 1, 3, 2, 4])
            .reshaped([patches.shape[0], height, width])
    }
}
