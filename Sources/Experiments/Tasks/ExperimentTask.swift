import Foundation
import Zoo

/// The experiments `nfn train` and `nfn evaluate` can run; each is carried out by a
/// ``MetanetworkTask`` type (generalization by one per weight space).
public enum ExperimentTask: String, Codable, Sendable, CaseIterable {
    /// Predict a network's test accuracy from its weights (CNN, MLP and transformer zoos).
    case generalization
    /// Classify implicit neural representations (SIREN zoos) by the class of the image they encode.
    case inrClassification = "inr-classification"
    /// Learn a weight-space edit of SIRENs that applies an image transform (see ``ImageEdit``).
    case inrEditing = "inr-editing"

    /// Parses a task name; the error lists the valid names.
    public init(name: String) throws {
        guard let t = ExperimentTask(rawValue: name) else {
            throw ExperimentError.invalidConfiguration(
                "unknown task '\(name)'; valid tasks: \(ExperimentTask.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = t
    }

    /// The types that carry the task out, one per kind of zoo it accepts.
    public var implementations: [any MetanetworkTask.Type] {
        switch self {
        case .generalization: return [FeedforwardGeneralization.self, TransformerGeneralization.self]
        case .inrClassification: return [INRClassificationExperiment.self]
        case .inrEditing: return [INREditingExperiment.self]
        }
    }

    /// Every model name the task accepts, over all zoo kinds.
    public var modelNames: [String] {
        var seen = Set<String>()
        return implementations.flatMap { $0.modelNames }.filter { seen.insert($0).inserted }
    }

    /// The implementation for a zoo of `family` (when none accepts it, the first, whose loading
    /// then refuses the zoo with the reason).
    public func implementation(for family: ZooFamily) -> any MetanetworkTask.Type {
        implementations.first { $0.accepts(family) } ?? implementations[0]
    }
}
