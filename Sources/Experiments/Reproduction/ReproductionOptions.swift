import Foundation
import Datasets

/// Where a reproduction reads and writes, and how much of it runs.
public struct ReproductionOptions: Sendable {
    /// The scale.
    public var scale: ReproductionScale = .standard
    /// Seeds 0..<seeds (nil: the scale's ``ReproductionScale/defaultSeeds``).
    public var seeds: Int?
    /// Where zoos are generated, in folders named by their spec hash, and reused.
    public var cacheDirectory = URL(fileURLWithPath: ".nfn-cache/reproduce")
    /// Where `reproduction.json`, `reproduction.md` and the training checkpoints go (nil:
    /// `reports/reproduce/EXP-SCALE`).
    public var outputDirectory: URL?
    /// The Fashion-MNIST IDX folder (standard and large scales).
    public var dataDirectory = FashionMNIST.defaultDirectory
    /// Zoo members trained concurrently.
    public var workers = ProcessInfo.processInfo.activeProcessorCount

    /// The defaults above.
    public init() {}

    /// The most seeds a run may ask for.
    public static let maximumSeeds = 100

    /// The seeds this run uses.
    ///
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` for fewer than 1 or more than ``maximumSeeds``.
    public func seedList() throws -> [UInt64] {
        let n = seeds ?? scale.defaultSeeds
        guard (1...Self.maximumSeeds).contains(n) else {
            throw ExperimentError.invalidArgument("--seeds must be in 1...\(Self.maximumSeeds), got \(n)")
        }
        return (0..<n).map(UInt64.init)
    }

    /// The output folder for `experiment`.
    public func output(for experiment: String) -> URL {
        outputDirectory ?? URL(fileURLWithPath: "reports/reproduce/\(experiment)-\(scale.rawValue)")
    }
}
