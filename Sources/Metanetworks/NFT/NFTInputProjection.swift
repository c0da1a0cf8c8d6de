import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// The input projection of an NFT (Zhou et al. 2023, *Neural Functional Transformers*, §3.4):
/// any function g: ℝ^{c_in} → ℝ^C applied to every entry independently keeps NP-equivariance.
/// Two choices:
///
/// - ``Kind/fourier(features:scale:)`` — Gaussian random Fourier features (Rahimi & Recht; the
///   paper's choice, scale 3, 128 features): γ(x) = [sin(2π Bx), cos(2π Bx)] ∈ ℝ^{2m} with a fixed
///   B ∈ ℝ^{m×c_in}, B ~ N(0, scale²) (the reference's `GaussianFourierFeatureTransform`). B is a
///   fixed buffer, not trained, drawn from the constructor's generator. When 2m ≠ C a learned
///   pointwise linear map ℝ^{2m} → ℝ^C follows.
/// - ``Kind/linear`` — a learned pointwise linear map ℝ^{c_in} → ℝ^C.
///
/// Filter taps are left alone: the projection acts on each tap's channel vector (canonical axis 1).
///
/// **Group.** Pointwise: equivariant to every permutation of entries (𝒮_NP included).
/// **Shapes.** `[B, c_in, n_{i+1}, n_i, spatial…]` → `[B, C, …]` (biases alike).
/// **Initialisation.** Learned maps: Glorot uniform weight, zero bias.
/// **Parameters.** Fourier: 0, or 2m·C + C with mixing; linear: c_in·C + C.
/// - Complexity: O(dim 𝒰 · c_in · C) (plus O(dim 𝒰 · 2m · C) for the mixing map).
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let project = try NFTInputProjection(inputChannels: 1, channels: 16, kind: .fourier(features: 8, scale: 3), rng: &rng)
/// let lifted = project(features)      // 1 channel → 16 channels
/// ```
public final class NFTInputProjection: Module, WeightSpaceLayer {
    /// How scalars become channel vectors.
    public enum Kind: Sendable, Equatable, Codable {
        /// m random Fourier frequencies with standard deviation `scale`: 2m channels.
        case fourier(features: Int, scale: Float)
        /// A learned linear map.
        case linear
    }

    /// B, `[m, c_in]` (Fourier only; fixed).
    public let frequencies: Tensor?
    /// `[C, c_in]` (linear) or `[C, 2m]` (Fourier with mixing).
    public let weight: Parameter?
    /// `[C]`, with `weight`.
    public let bias: Parameter?
    public let inputChannels: Int
    /// C.
    public let channels: Int
    public let kind: Kind

    /// - Throws: ``ModuleError/invalidConfiguration(_:)`` for non-positive sizes or scale.
    public init(inputChannels: Int, channels: Int, kind: Kind, rng: inout SeededGenerator) throws {
        guard inputChannels > 0, channels > 0 else {
            throw ModuleError.invalidConfiguration("NFTInputProjection: need positive channel counts, got \(inputChannels) → \(channels)")
        }
        self.inputChannels = inputChannels
        self.channels = channels
        self.kind = kind
        var mapIn = inputChannels
        switch kind {
        case let .fourier(m, scale):
            guard m > 0, scale > 0, scale.isFinite else {
                throw ModuleError.invalidConfiguration("NFTInputProjection: Fourier needs features > 0 and a positive scale, got \(m), \(scale)")
            }
            frequencies = Tensor.normal([m, inputChannels], std: scale, rng: &rng)
            mapIn = 2 * m
        case .linear:
            frequencies = nil
        }
        if frequencies == nil || mapIn != channels {
            weight = Parameter(Initializer.glorotUniform.sample([channels, mapIn], fanIn: mapIn, fanOut: channels, rng: &rng))
            bias = Parameter(Tensor(zeros: [channels]))
        } else {
            weight = nil
            bias = nil
        }
        super.init()
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        input.map(project)
    }

    /// `[B, c_in, rest…]` → `[B, C, rest…]`, as matrix products over the channel axis (no permutes).
    private func project(_ x: Variable) -> Variable {
        precondition(x.rank >= 3 && x.shape[1] == inputChannels,
                     "NFTInputProjection: expected \(inputChannels) input channels, got shape \(x.shape)")
        let b = x.shape[0], rest = Array(x.shape.dropFirst(2))
        var h = x.reshaped([b, inputChannels, -1])                                 // [B, c_in, R]
        let tape = x.tape
        if let f = frequencies {
            let bf = tape?.constant(f * (2 * Float.pi)) ?? Variable(f * (2 * Float.pi))
            let z = Variable.matmul(bf, h)                                         // [B, m, R]
            h = Variable.concatenate([z.sin(), z.cos()], alongAxis: 1)             // [B, 2m, R]
        }
        if let w = weight, let bias {
            h = Variable.matmul(w.variable(on: tape), h) + bias.variable(on: tape).reshaped([channels, 1])
        }
        return h.reshaped([b, channels] + rest)
    }
}
