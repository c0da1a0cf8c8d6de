import Foundation
import Zoo

/// The zoo recipes of the reproduction tables, per scale.
///
/// - `quick`: synthetic digits (no download), a few dozen members — a smoke test of the whole
///   pipeline, not a measurement.
/// - `standard`: Fashion-MNIST, zoos sized so one experiment takes about an hour on two cores.
/// - `large`: the papers' regime in size (tens of thousands of CNNs as in the Small CNN Zoo, one
///   SIREN per training image, thousands of transformers); on Fashion-MNIST unless the spec's data
///   is changed, so the zoo is the papers' in size and recipe, not in data set.
public enum ReproductionZoos {
    static func synthetic(_ spec: inout ZooSpec, train: Int, test: Int) {
        spec.data = ZooDataSpec(kind: .synthetic, pixelRange: spec.family == .siren ? .unit : .symmetric,
                                syntheticTrainCount: train, syntheticTestCount: test)
    }

    static func fashion(_ spec: inout ZooSpec, _ o: ReproductionOptions, train: Int?, test: Int?) {
        spec.data.kind = .fashionMNIST
        spec.data.path = o.dataDirectory.path
        spec.data.trainLimit = train
        spec.data.testLimit = test
    }

    /// CNN zoos (the Small CNN Zoo's hyper-parameter space: ReLU and tanh members).
    public static func cnn(_ scale: ReproductionScale, _ o: ReproductionOptions) -> ZooSpec {
        var s = ZooSpec.defaults(for: .cnn)
        // Pinned to the tape engine: the tables in Docs/Reproduction.md were measured on its zoos,
        // and a cached zoo is found by its spec.
        s.engine = .tape
        switch scale {
        case .quick:
            s.members = 48
            synthetic(&s, train: 256, test: 128)
            s.training.epochs = 2
            s.training.checkpointEpochs = [1, 2]
            s.training.batchSize = 32
        case .standard:
            s.members = 360
            fashion(&s, o, train: 15_000, test: 2_000)
            s.training.epochs = 2
            s.training.checkpointEpochs = [1, 2]
        case .large:
            s.members = 30_000
            fashion(&s, o, train: nil, test: nil)
            s.training.epochs = 10
            s.training.checkpointEpochs = [1, 2, 5, 10]
        }
        return s
    }

    /// SIREN zoos (one SIREN per image).
    public static func siren(_ scale: ReproductionScale, _ o: ReproductionOptions) -> ZooSpec {
        var s = ZooSpec.defaults(for: .siren)
        switch scale {
        case .quick:
            s.members = 40
            synthetic(&s, train: 256, test: 128)
            s.training = ZooTrainingSpec(epochs: 30, checkpointEpochs: [30], batchSize: 1)
            s.architecture.hiddenWidths = [16, 16]
        case .standard:
            s.members = 3_000
            fashion(&s, o, train: nil, test: nil)
        case .large:
            s.members = 60_000
            fashion(&s, o, train: nil, test: nil)
        }
        return s
    }

    /// Transformer zoos (the Small Transformer Zoo's reference recipe).
    public static func transformer(_ scale: ReproductionScale, _ o: ReproductionOptions) -> ZooSpec {
        var s = ZooSpec.defaults(for: .transformer)
        s.engine = .tape   // as the CNN zoos: the measured tables' zoos
        switch scale {
        case .quick:
            s.members = 16
            synthetic(&s, train: 96, test: 64)
            s.training.epochs = 2
            s.training.checkpointEpochs = [1, 2]
        case .standard:
            s.members = 120
            fashion(&s, o, train: 6_000, test: 2_000)
            s.training.epochs = 4
            s.training.checkpointEpochs = [1, 2, 3, 4]
        case .large:
            s.members = 5_000
            fashion(&s, o, train: nil, test: nil)
            s.training.epochs = 10
            s.training.checkpointEpochs = Array(1...10)
        }
        return s
    }

    /// The first 16 hex digits of the 64-bit FNV-1a hash of the spec's canonical JSON (sorted
    /// keys): equal specs share a zoo folder, a changed spec gets a new one.
    public static func specHash(_ spec: ZooSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try encoder.encode(spec) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(format: "%016llx", h)
    }
}
