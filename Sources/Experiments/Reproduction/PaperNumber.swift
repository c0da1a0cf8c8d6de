/// A number a paper reports for one method, in the units of SwiftNFN's metric (accuracies as
/// fractions), with where it stands.
public struct PaperNumber: Codable, Sendable, Equatable {
    /// The reported mean.
    public var value: Double
    /// The reported standard deviation (nil when the paper gives none).
    public var sd: Double?
    /// Paper, table and column, e.g. "Zhou et al. 2023, Permutation Equivariant Neural Functionals, Table 1, CIFAR-10-GS".
    public var source: String
    /// The zoo the paper measured on, e.g. "Small CNN Zoo CIFAR-10-GS (≈ 30,000 CNNs)".
    public var zoo: String

    /// A paper number; see the properties.
    public init(_ value: Double, sd: Double? = nil, source: String, zoo: String) {
        self.value = value; self.sd = sd; self.source = source; self.zoo = zoo
    }
}

/// The paper numbers the reproduction tables print beside their own. Only numbers read in the
/// papers are here; a method without one is reported as not comparable.
public enum PaperNumbers {
    static let nfnTable1 = "Zhou et al. 2023, Permutation Equivariant Neural Functionals, Table 1, CIFAR-10-GS"
    static let smallCNNZoo = "Small CNN Zoo CIFAR-10-GS (Unterthiner et al. 2020; tens of thousands of CNNs)"
    static let nfnTable2 = "Zhou et al. 2023, Permutation Equivariant Neural Functionals, Table 2, MNIST INRs"
    static let mnistSIRENs = "SIRENs of the MNIST images (one per image)"

    /// Generalization prediction (Kendall τ) on the Small CNN Zoo.
    public static let cnnGeneralization: [String: PaperNumber] = [
        "hnp": PaperNumber(0.934, sd: 0.001, source: nfnTable1, zoo: smallCNNZoo),
        "np": PaperNumber(0.922, sd: 0.001, source: nfnTable1, zoo: smallCNNZoo),
        "statnn": PaperNumber(0.915, sd: 0.002, source: nfnTable1, zoo: smallCNNZoo),
    ]

    /// INR classification test accuracy (92.5 % in the paper is 0.925 here).
    public static let inrClassification: [String: PaperNumber] = [
        "hnp": PaperNumber(0.925, sd: 0.00071, source: nfnTable2, zoo: mnistSIRENs),
        "np": PaperNumber(0.929, sd: 0.00218, source: nfnTable2, zoo: mnistSIRENs),
    ]
}
