import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// `nfn check-equivariance --model inr2array-nft|inr2array-nfn`: the INR2ARRAY models on the
/// default SIREN zoo weight space (2→32→32→1 rendering 28 × 28 images), small size.
public enum INR2ArrayInvarianceRunner {
    /// Whether `name` names an INR2ARRAY model.
    public static func isINR2ArrayModel(_ name: String) -> Bool { INR2ArrayKind(rawValue: name) != nil }

    /// Evaluates the model on 4 random SIREN weight sets and on `trials` random elements of each
    /// neuron group, and reports the largest relative change of the latent array and the logits
    /// together (the logits are a function of the array; a change in either shows).
    ///
    /// - Throws: ``ExperimentError/unknownModel(_:)`` for a name that is not an INR2ARRAY model.
    public static func run(_ name: String, trials: Int = 10, seed: UInt64 = 0) throws -> EquivarianceReport {
        guard let kind = INR2ArrayKind(rawValue: name) else { throw ExperimentError.unknownModel(name) }
        var rng = SeededGenerator(seed: seed)
        let arch = try FeedforwardArchitecture.siren(widths: [2, 32, 32, 1])
        let model = try kind.make(architecture: arch, imageHeight: 28, imageWidth: 28, classes: 10, size: .small, rng: &rng)
        model.eval()
        let weights = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.weightShape(layer: $0), std: 0.3, rng: &rng) }
        let biases = (0..<arch.layerCount).map { Tensor.normal([4, 1] + arch.biasShape(layer: $0), std: 0.1, rng: &rng) }
        let u = try WeightSpaceFeatures(weights: weights, biases: biases)
        func outputs(_ f: WeightSpaceFeatures) throws -> Tensor {
            let z = try model.checkedLatents(f)
            let logits = model.logits(latents: Variable(z)).value
            return Tensor.concatenate([z.reshaped([f.batchSize, -1]), logits], alongAxis: 1)
        }
        let reference = try outputs(u)
        var deviations: [String: Float] = [:], expected: [String: Bool] = [:]
        for group in NeuronGroupElement.Kind.allCases {
            var worst: Float = 0
            for _ in 0..<trials {
                let moved = try (0..<u.batchSize).map { i -> WeightSpaceFeatures in
                    let g = NeuronGroupElement.random(widths: u.widths, kind: group, scaleRange: (1, 10), rng: &rng)
                    return try g.apply(to: u.member(i))
                }
                worst = Swift.max(worst, FunctionalEquivalence.relativeDeviation(reference, try outputs(try WeightSpaceFeatures.batched(moved))))
            }
            deviations[EquivarianceCheckRunner.groupName(group)] = worst
            expected[EquivarianceCheckRunner.groupName(group)] = kind.invariantTo.contains(group)
        }
        return EquivarianceReport(model: name, architecture: "siren-2-32-32-1 (28x28)", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: deviations, expected_invariant: expected)
    }
}
