import Foundation

/// How big a reproduction is: `quick` for tests (about a minute, synthetic digits), `standard` for
/// a machine of two cores (about an hour per experiment, Fashion-MNIST zoos), `large` for the
/// papers' regime (zoos of thousands of members, the papers' training lengths; resumable).
public enum ReproductionScale: String, Codable, Sendable, CaseIterable {
    case quick, standard, large

    /// Seeds when `--seeds` is not given: one for `quick`, three otherwise (mean ± sd needs ≥ 3).
    public var defaultSeeds: Int { self == .quick ? 1 : 3 }

    /// The scale named `name`.
    ///
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` naming the scales for an unknown name.
    public init(named name: String) throws {
        guard let s = ReproductionScale(rawValue: name) else {
            throw ExperimentError.invalidArgument("unknown scale '\(name)' (expected one of: \(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = s
    }
}
