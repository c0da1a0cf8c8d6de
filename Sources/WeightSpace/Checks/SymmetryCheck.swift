import Foundation
import Tensors
import Autograd
import NeuralNetworks

/// The network families a symmetry check can build.
public enum NetworkFamily: String, Codable, Sendable, CaseIterable {
    /// `mlp`: an ``MLP`` with widths `[d, 32, 32, 10]`; `cnn`: the Small CNN Zoo ``SmallCNN``;
    /// `siren`: a ``SIREN`` `[d, 32, 32, 1]`; `transformer`: the default ``SmallTransformer`` (28×28
    /// images). `d` is the input width.
    case mlp, cnn, siren, transformer
}

/// The groups a symmetry check can sample from.
public enum SymmetryGroup: String, Codable, Sendable, CaseIterable {
    /// Hidden-neuron permutations.
    case hnp
    /// All-neuron permutations (inputs and outputs too): never a true symmetry.
    case np
    /// Hidden permutations × positive per-neuron scales.
    case scale
    /// Hidden permutations × per-neuron sign flips.
    case sign
    /// Head permutations × GL(D_k) × GL(D_v) per head (× π_O, π_A for residual-free blocks).
    case attention
}

/// What `nfn check-symmetry` reports.
public struct SymmetryCheckReport: Codable, Sendable, Equatable {
    /// The ``NetworkFamily`` raw value, e.g. `"mlp"`.
    public var family: String
    /// The ``SymmetryGroup`` raw value, e.g. `"hnp"`.
    public var group: String
    /// The hidden activation's raw value (always `"relu"` for transformers).
    public var activation: String
    /// Whether theory says the group preserves this family's function.
    public var is_true_symmetry: Bool
    /// Number of random group elements (and broken variants) applied, ≥ 1.
    public var trials: Int
    /// Seed of the generator for the network's weights and the group elements.
    public var seed: UInt64
    /// Number of scalars in the checked network.
    public var parameters: Int
    /// Free-text description of the inputs, as passed to
    /// ``SymmetryCheck/run(family:group:activation:trials:seed:inputs:inputDescription:)``.
    public var inputs: String
    /// max over trials of max|f(x) − f_g(x)| / max|f(x)| under random elements of the group.
    public var true_symmetry_max_rel_dev: Float
    /// The broken variant applied as the "false symmetry" (what was left out).
    public var false_symmetry: String
    /// max and min over trials of the same deviation under the broken variant.
    public var false_symmetry_max_rel_dev: Float
    /// The minimum over trials of that deviation: far above Float32 rounding when the check has power.
    public var false_symmetry_min_rel_dev: Float
    /// For transformer checks: the largest 2-norm condition number of the sampled GL matrices.
    public var max_condition_number: Float?
}

/// Acts on real networks with random group elements and measures how much their function moves —
/// the functional-equivalence check behind `nfn check-symmetry` and the weight-space tests.
public enum SymmetryCheck {
    /// Whether `group` is a symmetry of `family` networks with `activation`.
    public static func isTrueSymmetry(family: NetworkFamily, group: SymmetryGroup, activation: Activation) -> Bool {
        switch group {
        case .hnp: return family != .transformer
        case .np: return false
        case .scale: return family != .transformer && (activation == .relu || activation == .identity)
        case .sign: return family != .transformer && (activation == .tanh || activation == .sine || activation == .identity)
        case .attention: return family == .transformer
        }
    }

    /// The default hidden activation of a family (sine for SIREN, ReLU otherwise).
    public static func defaultActivation(for family: NetworkFamily) -> Activation {
        family == .siren ? .sine : .relu
    }

    /// Inputs suited to a family, from a batch of images `[N, 1, H, W]`: images for CNNs and
    /// transformers, flattened images for MLPs, and the pixel-coordinate grid for SIRENs.
    public static func inputs(for family: NetworkFamily, images: Tensor) -> Tensor {
        switch family {
        case .cnn, .transformer: return images
        case .mlp: return images.reshaped([images.shape[0], -1])
        case .siren:
            return SIRENRenderer.coordinates(height: images.shape[2], width: images.shape[3])
        }
    }

    /// Runs `trials` random elements of `group` (and as many broken variants) on a freshly
    /// initialised network of `family` evaluated on `inputs` (see ``inputs(for:images:)``).
    ///
    /// - Throws: ``WeightSpaceError/unsupported(_:)`` when the group does not act on that family's
    ///   weight space (e.g. `attention` on an MLP), or input-shape errors.
    public static func run(family: NetworkFamily, group: SymmetryGroup, activation: Activation? = nil,
                           trials: Int = 20, seed: UInt64 = 0, inputs: Tensor,
                           inputDescription: String = "") throws -> SymmetryCheckReport {
        let act = activation ?? defaultActivation(for: family)
        var rng = SeededGenerator(seed: seed)
        guard trials >= 1 else { throw WeightSpaceError.unsupported("trials must be ≥ 1") }
        if family == .transformer {
            guard group == .attention else {
                throw WeightSpaceError.unsupported("group \(group.rawValue) acts on feed-forward weight spaces; use --group attention for transformers")
            }
            return try runTransformer(trials: trials, seed: seed, rng: &rng, inputs: inputs, inputDescription: inputDescription)
        }
        guard group != .attention else {
            throw WeightSpaceError.unsupported("group attention acts on multi-head attention weights; use --family transformer")
        }
        let model = try makeFeedforward(family: family, activation: act, inputs: inputs, rng: &rng)
        let reference = FunctionalEquivalence.outputs(of: model, on: inputs)
        let original = WeightSpaceFeatures(model: model)
        let widths = original.widths
        var trueDev: Float = 0, falseMax: Float = 0, falseMin = Float.infinity
        let kind: NeuronGroupElement.Kind = switch group {
        case .hnp: .hiddenPermutation
        case .np: .allPermutation
        case .scale: .positiveScaling
        default: .signFlip
        }
        for _ in 0..<trials {
            let g = NeuronGroupElement.random(widths: widths, kind: kind, rng: &rng)
            try model.load(g.apply(to: original))
            trueDev = Swift.max(trueDev, FunctionalEquivalence.relativeDeviation(reference, FunctionalEquivalence.outputs(of: model, on: inputs)))
            try model.load(brokenVariant(of: group, original, rng: &rng))
            let d = FunctionalEquivalence.relativeDeviation(reference, FunctionalEquivalence.outputs(of: model, on: inputs))
            falseMax = Swift.max(falseMax, d)
            falseMin = Swift.min(falseMin, d)
        }
        try model.load(original)
        return SymmetryCheckReport(
            family: family.rawValue, group: group.rawValue, activation: act.rawValue,
            is_true_symmetry: isTrueSymmetry(family: family, group: group, activation: act),
            trials: trials, seed: seed, parameters: model.parameterCount, inputs: inputDescription,
            true_symmetry_max_rel_dev: trueDev, false_symmetry: brokenDescription(group),
            false_symmetry_max_rel_dev: falseMax, false_symmetry_min_rel_dev: falseMin, max_condition_number: nil)
    }

    /// A network of the family for these inputs, initialised from `rng`.
    static func makeFeedforward(family: NetworkFamily, activation: Activation, inputs: Tensor,
                                rng: inout SeededGenerator) throws -> any WeightSpaceConvertible {
        switch family {
        case .mlp:
            guard inputs.rank == 2 else { throw WeightSpaceError.shapeMismatch("MLP inputs must be [N, features], got \(inputs.shape)") }
            return MLP(widths: [inputs.shape[1], 32, 32, 10], activation: activation, rng: &rng)
        case .cnn:
            guard inputs.rank == 4, inputs.shape[2] >= 15, inputs.shape[3] >= 15 else {
                throw WeightSpaceError.shapeMismatch("CNN inputs must be images [N, C, H≥15, W≥15], got \(inputs.shape)")
            }
            return SmallCNN(SmallCNN.Configuration(inputChannels: inputs.shape[1], activation: activation), rng: &rng)
        case .siren:
            guard inputs.rank == 2 else { throw WeightSpaceError.shapeMismatch("SIREN inputs must be coordinates [N, d], got \(inputs.shape)") }
            guard activation == .sine else { throw WeightSpaceError.unsupported("SIRENs use sine activations") }
            return SIREN(inputs: inputs.shape[1], hiddenWidths: [32, 32], outputs: 1, rng: &rng)
        case .transformer:
            throw WeightSpaceError.unsupported("transformers are not feed-forward weight spaces")
        }
    }

    static func brokenDescription(_ group: SymmetryGroup) -> String {
        switch group {
        case .hnp, .np: return "rows of W(1) and v(1) permuted without permuting the columns of W(2)"
        case .scale: return "rows of W(1) and v(1) scaled without the inverse scale on the columns of W(2)"
        case .sign: return "rows of W(1) and v(1) sign-flipped without flipping the columns of W(2)"
        case .attention: return "W_Q of head 0 multiplied by M without M^-T on W_K"
        }
    }

    /// The group's action with the compensating half left out on layer 2.
    static func brokenVariant(of group: SymmetryGroup, _ f: WeightSpaceFeatures,
                              rng: inout SeededGenerator) -> WeightSpaceFeatures {
        var out = f
        let n = f.widths[1]
        switch group {
        case .hnp, .np:
            var p = rng.permutation(n)
            if p == Array(0..<n), n > 1 { p.swapAt(0, 1) }
            out.weights[0] = f.weights[0].gathering(p, alongAxis: 2)
            out.biases[0] = f.biases[0].gathering(p, alongAxis: 2)
        case .scale, .sign:
            var d: [Float] = (0..<n).map { _ in
                group == .scale ? 0.5 + 1.5 * rng.nextUnitFloat() : (rng.next() & 1 == 0 ? 1 : -1)
            }
            if group == .sign, !d.contains(-1) { d[0] = -1 }
            var s = [Int](repeating: 1, count: f.weights[0].rank); s[2] = n
            out.weights[0] = f.weights[0] * Tensor(shape: s, scalars: d)
            out.biases[0] = f.biases[0] * Tensor(shape: [1, 1, n], scalars: d)
        case .attention:
            break
        }
        return out
    }

    static func runTransformer(trials: Int, seed: UInt64, rng: inout SeededGenerator, inputs: Tensor,
                               inputDescription: String) throws -> SymmetryCheckReport {
        guard inputs.rank == 4, inputs.shape[2] == 28, inputs.shape[3] == 28 else {
            throw WeightSpaceError.shapeMismatch("transformer inputs must be 28×28 images [N, C, 28, 28], got \(inputs.shape)")
        }
        var config = SmallTransformer.Configuration()
        config.inputChannels = inputs.shape[1]
        let model = SmallTransformer(config, rng: &rng)
        let reference = FunctionalEquivalence.outputs(of: model, on: inputs)
        let original = TransformerWeightSpaceFeatures(model: model)
        var trueDev: Float = 0, falseMax: Float = 0, falseMin = Float.infinity, maxCond: Float = 0
        for _ in 0..<trials {
            let g = try AttentionGroupElement.random(
                blockCount: config.blockCount, heads: config.heads, modelDimension: config.modelDimension,
                keyDimension: config.keyDimension, valueDimension: config.valueDimension,
                feedForwardDimension: config.feedForwardDimension, rng: &rng)
            for b in g.blocks {
                for m in b.queryKey + b.valueOutput { maxCond = Swift.max(maxCond, try m.conditionNumber()) }
            }
            try model.load(g.apply(to: original))
            trueDev = Swift.max(trueDev, FunctionalEquivalence.relativeDeviation(reference, FunctionalEquivalence.outputs(of: model, on: inputs)))
            // Broken: M on W_Q of head 0 of block 0 without M⁻ᵀ on W_K.
            var broken = original
            let m = g.blocks[0].queryKey[0]
            let q = broken.blocks[0].query
            let head0 = Tensor.matmul(q.slice(axis: 2, 0..<1), m)
            broken.blocks[0].query = Tensor.concatenate([head0, q.slice(axis: 2, 1..<q.shape[2])], alongAxis: 2)
            try model.load(broken)
            let d = FunctionalEquivalence.relativeDeviation(reference, FunctionalEquivalence.outputs(of: model, on: inputs))
            falseMax = Swift.max(falseMax, d)
            falseMin = Swift.min(falseMin, d)
        }
        try model.load(original)
        return SymmetryCheckReport(
            family: NetworkFamily.transformer.rawValue, group: SymmetryGroup.attention.rawValue, activation: "relu",
            is_true_symmetry: true, trials: trials, seed: seed, parameters: model.parameterCount,
            inputs: inputDescription, true_symmetry_max_rel_dev: trueDev, false_symmetry: brokenDescription(.attention),
            false_symmetry_max_rel_dev: falseMax, false_symmetry_min_rel_dev: falseMin, max_condition_number: maxCond)
    }
}
