import Foundation
import Testing
import Tensors
import NeuralNetworks
import WeightSpace
import Experiments

/// The robustness protocol acts on a member only with a group that is a symmetry of its
/// activation: positive scales for ReLU, sign flips for odd activations, permutations for all.
@Suite struct RobustnessSymmetryTests {
    /// Four members (ReLU, tanh, ReLU, tanh) of one small MLP weight space.
    static func mixedZoo() throws -> (WeightSpaceFeatures, [Activation]) {
        var rng = SeededGenerator(seed: 11)
        let models = (0..<4).map { _ in MLP(widths: [3, 5, 2], rng: &rng) }
        return (try WeightSpaceFeatures(models: models), [.relu, .tanh, .relu, .tanh])
    }

    /// Sorted absolute values of a member's hidden incoming weights: unchanged by permutations and
    /// sign flips, changed by any scale ≠ 1.
    static func magnitudes(_ f: WeightSpaceFeatures, member i: Int) -> [Float] {
        f.member(i).weights[0].scalars.map(abs).sorted()
    }

    /// Sorted signed values: unchanged by permutations only.
    static func values(_ f: WeightSpaceFeatures, member i: Int) -> [Float] {
        f.member(i).weights[0].scalars.sorted()
    }

    @Test func aTanhMemberIsNeverScaled() throws {
        let (features, activations) = try Self.mixedZoo()
        for seed: UInt64 in [1, 2, 3] {
            let moved = try Robustness.augment(features, with: .scaling(low: 1, high: 100), activations: activations, seed: seed)
            #expect(moved.actedOn == 2)
            for i in [1, 3] { #expect(Self.values(moved.features, member: i) == Self.values(features, member: i)) }
            // The control: the ReLU members were scaled.
            for i in [0, 2] { #expect(Self.magnitudes(moved.features, member: i) != Self.magnitudes(features, member: i)) }
        }
    }

    @Test func aReLUMemberIsNeverSignFlipped() throws {
        let (features, activations) = try Self.mixedZoo()
        for seed: UInt64 in [1, 2, 3] {
            let moved = try Robustness.augment(features, with: .sign, activations: activations, seed: seed)
            #expect(moved.actedOn == 2)
            for i in [0, 2] { #expect(Self.values(moved.features, member: i) == Self.values(features, member: i)) }
            // The control: some tanh member's signed weights changed (its magnitudes did not).
            #expect([1, 3].contains { Self.values(moved.features, member: $0) != Self.values(features, member: $0) })
            for i in [1, 3] { #expect(Self.magnitudes(moved.features, member: i) == Self.magnitudes(features, member: i)) }
        }
    }

    @Test func oddAndHomogeneousActivationsAreActedOn() {
        #expect(NeuronGroupElement.Kind.signFlip.isSymmetry(of: .sine))
        #expect(NeuronGroupElement.Kind.signFlip.isSymmetry(of: .identity))
        #expect(NeuronGroupElement.Kind.positiveScaling.isSymmetry(of: .identity))
        #expect(!NeuronGroupElement.Kind.positiveScaling.isSymmetry(of: .sine))
        #expect(!NeuronGroupElement.Kind.allPermutation.isSymmetry(of: .relu))
    }

    @Test func aMismatchedActivationListIsRefused() throws {
        let (features, _) = try Self.mixedZoo()
        #expect(throws: ExperimentError.self) {
            _ = try Robustness.augment(features, with: .permutation, activations: [.relu], seed: 0)
        }
    }
}
