import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// Fixed sinusoidal IO positional encodings appended as channels (Zhou et al. 2023, *Permutation
/// Equivariant Neural Functionals*; reference `IOSinusoidalEncoding` in AllanYangZhou/nfn): they
/// break the symmetry of the input and output neurons so that an NP metanetwork behaves like an
/// HNP one.
///
/// For a position p ∈ linspace(−1, 1, count):
/// enc(p) = [sin(π s p) for s ∈ S] ++ [cos(π s p) for s ∈ S] ++ [p], S = linspace(1, maxFrequency/2, bands),
/// so `2·bands + 1` values (13 with the defaults maxFrequency 10, 6 bands). Appended to every
/// weight and bias of layer i (1-based, L layers):
/// - enc(layer position of i), positions linspace(−1, 1, L) (zeros when `encodeLayers` is false);
/// - plus, for W⁽¹⁾, enc(input index k) along its columns (broadcast over rows and taps);
/// - plus, for W⁽ᴸ⁾ and v⁽ᴸ⁾, enc(output index j) along their rows (broadcast over columns and taps).
///
/// **Choice (code quirk).** For a conv last layer the reference code's output branch reuses the
/// *input* encoding (`out_enc_i = inp_enc_i.unsqueeze(-1)`), adding the wrong vector along the
/// wrong axis. Here the output encoding is always added along the rows of W⁽ᴸ⁾, broadcast over
/// columns and taps, as the text describes. (The Small CNN Zoo's last layer is dense, where both
/// agree.)
///
/// **Group.** HNP-equivariant (the appended channels are constant along hidden-neuron axes); not
/// NP-equivariant. **Shape.** C channels → C + 2·bands + 1. No parameters.
///
/// ```swift
/// let encode = SinusoidalIOEncoding(widths: [1, 16, 16, 16, 10], layerCount: 4)
/// print(encode.outputChannels(forInput: 1))   // 14
/// ```
/// - Complexity: O(B · (2·bands + 1) · total weights) to materialise the channels.
public final class SinusoidalIOEncoding: Module, WeightSpaceLayer {
    public let inputWidth: Int
    public let outputWidth: Int
    public let layerCount: Int
    public let maxFrequency: Float
    public let bands: Int
    public let encodeLayers: Bool
    /// enc per layer `[L, d]`, per input neuron `[n_0, d]`, per output neuron `[n_L, d]`.
    let layerCodes: [[Float]], inputCodes: [[Float]], outputCodes: [[Float]]

    /// - Parameters:
    ///   - widths: n_0 … n_L (only n_0 and n_L matter).
    ///   - layerCount: L (defaults to `widths.count − 1`).
    public init(widths: [Int], layerCount: Int? = nil, maxFrequency: Float = 10, bands: Int = 6, encodeLayers: Bool = true) {
        precondition(widths.count >= 2 && bands >= 1, "SinusoidalIOEncoding needs n_0 … n_L and bands ≥ 1")
        inputWidth = widths[0]
        outputWidth = widths[widths.count - 1]
        self.layerCount = layerCount ?? widths.count - 1
        self.maxFrequency = maxFrequency
        self.bands = bands
        self.encodeLayers = encodeLayers
        let d = 2 * bands + 1
        layerCodes = encodeLayers
            ? SinusoidalIOEncoding.linspace(self.layerCount).map { SinusoidalIOEncoding.encode($0, maxFrequency: maxFrequency, bands: bands) }
            : Array(repeating: [Float](repeating: 0, count: d), count: self.layerCount)
        inputCodes = SinusoidalIOEncoding.linspace(inputWidth).map { SinusoidalIOEncoding.encode($0, maxFrequency: maxFrequency, bands: bands) }
        outputCodes = SinusoidalIOEncoding.linspace(outputWidth).map { SinusoidalIOEncoding.encode($0, maxFrequency: maxFrequency, bands: bands) }
        super.init()
    }

    public convenience init(architecture: FeedforwardArchitecture, maxFrequency: Float = 10, bands: Int = 6, encodeLayers: Bool = true) {
        self.init(widths: architecture.widths, maxFrequency: maxFrequency, bands: bands, encodeLayers: encodeLayers)
    }

    /// The number of appended channels, 2·bands + 1.
    public var encodingChannels: Int { 2 * bands + 1 }

    /// C + 2·bands + 1.
    public func outputChannels(forInput channels: Int) -> Int { channels + encodingChannels }

    /// `count` points evenly spaced in [−1, 1] (torch.linspace; a single point is −1).
    static func linspace(_ count: Int) -> [Float] {
        if count == 1 { return [-1] }
        return (0..<count).map { -1 + 2 * Float($0) / Float(count - 1) }
    }

    /// enc(p) = [sin(π s p)…, cos(π s p)…, p] for s ∈ linspace(1, maxFrequency/2, bands).
    public static func encode(_ p: Float, maxFrequency: Float = 10, bands: Int = 6) -> [Float] {
        let top = maxFrequency / 2
        let scales = (0..<bands).map { bands == 1 ? 1 : 1 + (top - 1) * Float($0) / Float(bands - 1) }
        return scales.map { Foundation.sin(Float.pi * $0 * p) } + scales.map { Foundation.cos(Float.pi * $0 * p) } + [p]
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        let L = layerCount
        precondition(input.layerCount == L && input.widths.first == inputWidth && input.widths.last == outputWidth,
                     "SinusoidalIOEncoding built for \(L) layers with n_0 = \(inputWidth), n_L = \(outputWidth); got widths \(input.widths)")
        let d = encodingChannels, b = input.batchSize
        var weights: [Variable] = [], biases: [Variable] = []
        for i in 0..<L {
            let w = input.weights[i], v = input.biases[i]
            let (n, m) = (w.shape[2], w.shape[3])
            let taps = w.shape.dropFirst(4).reduce(1, *)
            // One [d, n, m, taps] block, repeated over the batch.
            var block = [Float](repeating: 0, count: d * n * m * taps)
            for e in 0..<d {
                for j in 0..<n {
                    for k in 0..<m {
                        var value = layerCodes[i][e]
                        if i == 0 { value += inputCodes[k][e] }
                        if i == L - 1 { value += outputCodes[j][e] }
                        let base = ((e * n + j) * m + k) * taps
                        for t in 0..<taps { block[base + t] = value }
                    }
                }
            }
            var biasBlock = [Float](repeating: 0, count: d * n)
            for e in 0..<d {
                for j in 0..<n { biasBlock[e * n + j] = layerCodes[i][e] + (i == L - 1 ? outputCodes[j][e] : 0) }
            }
            var wShape = w.shape; wShape[1] = d
            var vShape = v.shape; vShape[1] = d
            let wCode = Tensor(shape: [1] + Array(wShape.dropFirst()), scalars: block).broadcast(to: wShape)
            let vCode = Tensor(shape: [1, d, n], scalars: biasBlock).broadcast(to: vShape)
            precondition(wShape[0] == b)
            weights.append(Variable.concatenate([w, PermutationOps.constant(wCode, like: w)], alongAxis: 1))
            biases.append(Variable.concatenate([v, PermutationOps.constant(vCode, like: v)], alongAxis: 1))
        }
        return WeightSpaceVariables(weights: weights, biases: biases)
    }
}

/// Random Fourier features of every scalar feature (Tancik et al. 2020; reference
/// `GaussianFourierFeatureTransform`), the input projection of NFN/NFT metanetworks.
///
/// For an entry x ∈ ℝ^C: y = [sin(2π Bᵀx), cos(2π Bᵀx)] ∈ ℝ^{2m}, with a fixed projection
/// `B [C, m]` drawn once from N(0, σ²) (σ = `scale`) with the given generator — a buffer, not a
/// trainable parameter.
///
/// **Group.** Acts on each entry alone, so equivariant to every neuron permutation; *not* to
/// scaling (Tran et al. 2024, *Monomial Matrix Group Equivariant NFNs*: only use it after a
/// scale-invariant map in monomial-equivariant models).
/// **Shape.** C channels → 2m channels. No parameters.
///
/// ```swift
/// var rng = SeededGenerator(seed: 3)
/// let fourier = GaussianFourierFeatures(inChannels: 1, features: 64, scale: 3, rng: &rng)
/// print(fourier.outChannels)   // 128
/// ```
/// - Complexity: O(B · C · m · total weights) (one BLAS product per tensor) plus the sin/cos.
public final class GaussianFourierFeatures: Module, WeightSpaceLayer {
    public let inChannels: Int
    public let features: Int
    public let scale: Float
    /// The fixed projection `[m, C]` (stored transposed for channels-first mixing).
    public let projection: Tensor

    public init(inChannels: Int, features: Int, scale: Float = 10, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && features > 0, "GaussianFourierFeatures needs positive sizes")
        self.inChannels = inChannels
        self.features = features
        self.scale = scale
        // 2π folded into the projection: one multiply fewer per entry.
        projection = Tensor.normal([features, inChannels], std: scale, rng: &rng) * (2 * Float.pi)
        super.init()
    }

    /// 2m.
    public var outChannels: Int { 2 * features }

    private func encode(_ x: Variable) -> Variable {
        let z = PermutationOps.channelMix(PermutationOps.constant(projection, like: x), x)
        return Variable.concatenate([z.sin(), z.cos()], alongAxis: 1)
    }

    public func callAsFunction(_ input: WeightSpaceVariables) -> WeightSpaceVariables {
        precondition(input.channelCount == inChannels, "GaussianFourierFeatures expects \(inChannels) channels, got \(input.channelCount)")
        return input.map(encode)
    }
}
