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
        let u = try EquivarianceCheckRunner.randomWeightSets(arch, rng: &rng)
        let (deviations, expected) = try EquivarianceCheckRunner.groupSweep(u, trials: trials, invariantTo: kind.invariantTo, rng: &rng) { f in
            let z = try model.checkedLatents(f)
            let logits = model.logits(latents: Variable(z)).value
            return Tensor.concatenate([z.reshaped([f.batchSize, -1]), logits], alongAxis: 1)
        }
        return EquivarianceReport(model: name, architecture: "siren-2-32-32-1 (28x28)", parameters: model.parameterCount,
                                  trials: trials, seed: seed, invariance_max_rel_dev: deviations, expected_invariant: expected)
    }
}
