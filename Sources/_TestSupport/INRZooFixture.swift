import Foundation
import Datasets
import Zoo

/// One tiny SIREN zoo shared by the INR task tests, generated once per test process into a
/// temporary folder: 60 members (Fashion-MNIST training images 0..<60 when the data set is
/// installed, else ``SyntheticDigits``), hidden [16, 16], 150 Adam steps, seed 7.
public enum INRZooFixture {
    public static let members = 60

    public static var usesFashionMNIST: Bool { FashionMNIST.isAvailable(split: .train) && FashionMNIST.isAvailable(split: .test) }

    public static func spec() -> ZooSpec {
        var s = ZooSpec.defaults(for: .siren)
        s.members = members
        s.seed = 7
        s.architecture.hiddenWidths = [16, 16]
        s.training = ZooTrainingSpec(epochs: 150, checkpointEpochs: [150], batchSize: 1)
        if usesFashionMNIST {
            s.data.trainLimit = members
            s.data.testLimit = 10
        } else {
            s.data = ZooDataSpec(kind: .synthetic, pixelRange: .unit, syntheticTrainCount: members, syntheticTestCount: 10)
        }
        return s
    }

    /// The zoo folder (generated on first use).
    public static let directory: Result<URL, any Error> = Result {
        let dir = makeTemporaryDirectory("inr-zoo")
        _ = try ZooGenerator.generate(spec: spec(), into: dir, options: ZooGenerationOptions(workers: 2))
        return dir
    }

    public static func zoo() throws -> URL { try directory.get() }

    /// A tiny classifier zoo (MLP family, synthetic data), for the "not a SIREN zoo" errors.
    public static let mlpZoo: Result<URL, any Error> = Result {
        var s = ZooSpec.defaults(for: .mlp)
        s.members = 2
        s.data = ZooDataSpec(kind: .synthetic, syntheticTrainCount: 64, syntheticTestCount: 32)
        s.architecture.hiddenWidths = [8]
        s.training = ZooTrainingSpec(epochs: 1, checkpointEpochs: [1], batchSize: 32)
        let dir = makeTemporaryDirectory("inr-mlp-zoo")
        _ = try ZooGenerator.generate(spec: s, into: dir, options: ZooGenerationOptions(workers: 1))
        return dir
    }
}
