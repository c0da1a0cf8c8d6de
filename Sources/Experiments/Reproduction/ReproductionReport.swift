import Foundation

/// What `nfn reproduce EXP` writes (`reproduction.json`; the schema is in Docs/Reproduction.md).
public struct ReproductionReport: Codable, Sendable {
    /// The schema name and version of this file.
    public static let schemaVersion = "swiftnfn.reproduction/1"
    /// ``schemaVersion`` when written.
    public var schema: String
    /// The experiment's name (`cnn-generalization`, …).
    public var experiment: String
    /// Its title.
    public var title: String
    /// The scale run.
    public var scale: ReproductionScale
    /// The seeds run (each seeds a split, a model initialisation and the batch order).
    public var seeds: [UInt64]
    /// The zoos used, one per table part.
    public var zoos: [ZooUse]
    /// One row per (part, method).
    public var rows: [ReproductionRow]
    /// The papers' claims, checked on this run's rows.
    public var claims: [ClaimVerdict]
    /// Free-form notes (recipes, what was reused).
    public var notes: [String]
    /// Wall-clock seconds of the whole run.
    public var wallSeconds: Double

    /// A zoo of one table part.
    public struct ZooUse: Codable, Sendable, Equatable {
        /// The part (`cnn-zoo`, `transformer-zoo`, `siren-zoo`).
        public var part: String
        /// The zoo folder (named by the spec hash, so an identical spec reuses it).
        public var directory: String
        /// The first 16 hex digits of the FNV-1a hash of the zoo spec's canonical JSON.
        public var specHash: String
        /// Members in the zoo.
        public var members: Int
        /// Members trained by this run (0: the zoo was reused as it was).
        public var generatedNow: Int
        /// The data the members were trained on.
        public var data: String
    }

    /// A metric summarised over seeds.
    public struct Summary: Codable, Sendable, Equatable {
        /// The mean over seeds.
        public var mean: Double
        /// The sample standard deviation over seeds (0 for one seed).
        public var sd: Double
        /// Each seed's value, in seed order.
        public var values: [Double]

        /// The summary of `values` (NaN mean for none).
        public init(_ values: [Double]) {
            self.values = values
            let n = Double(values.count)
            mean = values.isEmpty ? .nan : values.reduce(0, +) / n
            let m = mean
            sd = values.count < 2 ? 0 : (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot()
        }
    }

    /// How a row or a claim compares with the paper.
    public enum Status: String, Codable, Sendable {
        case holds
        case doesNotHold = "does-not-hold"
        case notComparable = "not-comparable"
    }

    /// A status with the one sentence that explains it.
    public struct Verdict: Codable, Sendable, Equatable {
        /// The status.
        public var status: Status
        /// One sentence: what was compared and why it holds, does not, or cannot be compared.
        public var sentence: String
    }

    /// One method's line.
    public struct ReproductionRow: Codable, Sendable, Equatable {
        /// The table part.
        public var part: String
        /// The model name.
        public var method: String
        /// The main metric's name (`tau`, `accuracy`, `mse`).
        public var metric: String
        /// Whether a larger metric is better.
        public var higherIsBetter: Bool
        /// The main metric over seeds.
        public var summary: Summary
        /// Every other test metric over seeds (R², MSE, τ above accuracy thresholds, …).
        public var otherMetrics: [String: Summary]
        /// The main metric on group-augmented test sets, by augmentation.
        public var robustness: [String: Summary]
        /// Per augmentation, the test members it acted on in full, summed over seeds, and the test
        /// members in all (the others' activation lacks the symmetry, so they were only permuted).
        public var augmentedMembers: [String: ActedOn]
        /// Trainable parameters of the model.
        public var parameters: Int
        /// Training wall-clock seconds over seeds.
        public var trainingSeconds: Summary
        /// The paper's number, when one is recorded.
        public var paper: PaperNumber?
        /// This row against the paper.
        public var verdict: Verdict
    }

    /// Members acted on by an augmentation, of all test members.
    public struct ActedOn: Codable, Sendable, Equatable {
        /// Members moved by the whole augmentation.
        public var actedOn: Int
        /// Test members in all.
        public var of: Int
    }

    /// A claim and its verdict on this run.
    public struct ClaimVerdict: Codable, Sendable, Equatable {
        /// The claim.
        public var claim: ReproductionClaim
        /// Its verdict here.
        public var verdict: Verdict
    }
}

extension ReproductionReport.ReproductionRow {
    enum CodingKeys: String, CodingKey {
        case part, method, metric, higherIsBetter, summary, otherMetrics, robustness, augmentedMembers, parameters,
             trainingSeconds, paper, verdict
    }

    /// Encodes every field, `paper` as `null` when there is none, so a reader always finds it.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(part, forKey: .part)
        try c.encode(method, forKey: .method)
        try c.encode(metric, forKey: .metric)
        try c.encode(higherIsBetter, forKey: .higherIsBetter)
        try c.encode(summary, forKey: .summary)
        try c.encode(otherMetrics, forKey: .otherMetrics)
        try c.encode(robustness, forKey: .robustness)
        try c.encode(augmentedMembers, forKey: .augmentedMembers)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(trainingSeconds, forKey: .trainingSeconds)
        try c.encode(paper, forKey: .paper)
        try c.encode(verdict, forKey: .verdict)
    }
}
