import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The INR2ARRAY decoder (Zhou et al. 2023, *Neural Functional Transformers*, §4): a hypernetwork
/// that turns each latent row z_m ∈ ℝ^d into the weights of a small SIREN φ_m, which renders patch m
/// of the image (see ``PatchGrid``):
///
/// θ_m = θ₀ + A · ReLU(H z_m + h),   patch_m(x) = φ(x; θ_m) for x on the patch's coordinate grid,
///
/// with φ the SIREN forward of ``SIRENRenderer`` (sine hidden layers with ω₀, a linear output).
/// θ₀ is the output layer's bias, initialised to one SIREN initialisation draw, and A starts at
/// Kaiming-normal / 100 (the hypernetwork initialisation of Sitzmann et al. 2020, *Implicit Neural
/// Representations with Periodic Activation Functions*, which the reference AllanYangZhou/nfn
/// follows): an untrained decoder already emits well-conditioned SIRENs.
///
/// **Batching.** All B·M patch SIRENs of a batch are one ``WeightSpaceVariables`` batch, so each
/// SIREN layer is one strided-batched GEMM over the B·M networks, and the hypernetwork is one
/// GEMM per layer over the B·M latent rows.
///
/// **Shapes.** `[B, M, d]` → `[B, M, ph·pw]`. **Parameters.** (d + 1)·h + (h + 1)·P with P the
/// patch SIREN's parameter count.
/// - Complexity: O(B M (d h + h P)) for the hypernetwork, O(B M · ph pw · P) for rendering.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let grid = try PatchGrid(height: 28, width: 28, patches: 16)
/// let decoder = try PatchSIRENDecoder(latentDimension: 32, grid: grid, configuration: .init(), rng: &rng)
/// let patches = decoder(latents)      // [B, 16, 49]
/// ```
public final class PatchSIRENDecoder: Module {
    /// Hyper-parameters.
    public struct Configuration: Sendable, Equatable, Codable {
        /// Hidden widths of each patch SIREN (2 inputs, 1 output around them).
        public var sirenHiddenWidths: [Int]
        /// ω₀ of the patch SIRENs' sine layers.
        public var frequency: Float
        /// Hidden width h of the hypernetwork.
        public var hypernetworkHidden: Int

        public init(sirenHiddenWidths: [Int] = [16], frequency: Float = 30, hypernetworkHidden: Int = 64) {
            self.sirenHiddenWidths = sirenHiddenWidths; self.frequency = frequency; self.hypernetworkHidden = hypernetworkHidden
        }
    }

    /// z ↦ ReLU(H z + h).
    public let hidden: Dense
    /// ↦ A · + θ₀.
    public let output: Dense
    public let grid: PatchGrid
    public let configuration: Configuration
    /// d.
    public let latentDimension: Int
    /// The patch SIRENs' weight space, `[2, hidden…, 1]`.
    public let sirenArchitecture: FeedforwardArchitecture

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive sizes or frequency.
    public init(latentDimension: Int, grid: PatchGrid, configuration c: Configuration = .init(),
                rng: inout SeededGenerator) throws {
        guard latentDimension > 0, c.hypernetworkHidden > 0, c.sirenHiddenWidths.allSatisfy({ $0 > 0 }),
              c.frequency > 0, c.frequency.isFinite else {
            throw ModuleError.invalidConfiguration("PatchSIRENDecoder: need positive sizes and frequency, got d=\(latentDimension), hidden=\(c.hypernetworkHidden), SIREN \(c.sirenHiddenWidths), ω₀=\(c.frequency)")
        }
        self.grid = grid
        self.configuration = c
        self.latentDimension = latentDimension
        sirenArchitecture = try FeedforwardArchitecture.siren(widths: [2] + c.sirenHiddenWidths + [1])
        let p = sirenArchitecture.parameterCount
        hidden = Dense(latentDimension, c.hypernetworkHidden, initializer: .heNormal, rng: &rng)
        let base = SIREN(inputs: 2, hiddenWidths: c.sirenHiddenWidths, outputs: 1, frequency: c.frequency, rng: &rng)
        output = Dense(c.hypernetworkHidden, p, initializer: .normal(std: (2 / Float(c.hypernetworkHidden)).squareRoot() / 100),
                       rng: &rng)
        // θ₀: the SIREN's parameters in (W₀, b₀, W₁, b₁, …) order, the order `sirenWeights` reads.
        output.bias!.value = Tensor.concatenate(base.parameters.map { $0.value.reshaped([-1]) }, alongAxis: 0)
        super.init()
    }

    /// P, the parameters of one patch SIREN.
    public var sirenParameterCount: Int { sirenArchitecture.parameterCount }

    /// The patch SIRENs' weights for latent rows `[N, d]`: N one-channel SIRENs.
    public func sirenWeights(_ rows: Variable) -> WeightSpaceVariables {
        let flat = output(hidden(rows).relu())                                     // [N, P]
        let n = rows.shape[0], widths = sirenArchitecture.widths
        var weights: [Variable] = [], biases: [Variable] = [], offset = 0
        for i in 0..<(widths.count - 1) {
            let (fanIn, fanOut) = (widths[i], widths[i + 1])
            weights.append(flat.slice(axis: 1, offset..<(offset + fanIn * fanOut)).reshaped([n, 1, fanOut, fanIn]))
            offset += fanIn * fanOut
            biases.append(flat.slice(axis: 1, offset..<(offset + fanOut)).reshaped([n, 1, fanOut]))
            offset += fanOut
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }

    /// The rendered patches `[B, M, ph·pw]` of a latent array `[B, M, d]`.
    public func callAsFunction(_ latents: Variable) -> Variable {
        precondition(latents.rank == 3 && latents.shape[1] == grid.count && latents.shape[2] == latentDimension,
                     "PatchSIRENDecoder: expected latents [B, \(grid.count), \(latentDimension)], got \(latents.shape)")
        let (b, m) = (latents.shape[0], latents.shape[1])
        let sirens = sirenWeights(latents.reshaped([b * m, latentDimension]))
        return SIRENRenderer.render(sirens, coordinates: grid.coordinates, frequency: configuration.frequency)
            .reshaped([b, m, grid.pixelsPerPatch])
    }
}
