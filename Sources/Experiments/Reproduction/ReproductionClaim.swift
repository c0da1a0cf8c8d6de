/// A claim of a paper that a reproduction table can check on its own numbers.
public struct ReproductionClaim: Codable, Sendable, Equatable {
    /// What is checked.
    public enum Check: Codable, Sendable, Equatable {
        /// Method `better`'s mean metric is at least method `worse`'s (in the metric's direction).
        case atLeast(better: String, worse: String)
        /// The method's metric on the augmented test set equals its plain metric up to Float32
        /// rounding (``ReproductionVerdicts/flatTolerance``).
        case flatUnder(model: String, augmentation: String)
        /// The method's metric on the augmented test set is below its plain metric by more than
        /// ``ReproductionVerdicts/flatTolerance``.
        case dropsUnder(model: String, augmentation: String)
    }

    /// The claim in words, e.g. "HNP ≥ NP in τ".
    public var text: String
    /// Where the paper makes it.
    public var source: String
    /// The table part it is checked on (`cnn-zoo`, …).
    public var part: String
    /// The check.
    public var check: Check

    /// A claim; see the properties.
    public init(_ text: String, source: String, part: String, check: Check) {
        self.text = text; self.source = source; self.part = part; self.check = check
    }
}
