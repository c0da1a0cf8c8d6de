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
    static let nftTable4 = "Zhou et al. 2023, Neural Functional Transformers, Table 4, CIFAR-10-GS"
    static let nftTable1 = "Zhou et al. 2023, Neural Functional Transformers, Table 1, FashionMNIST"
    static let fashionSIRENs = "SIRENs of the Fashion-MNIST images (the datasets of Zhou et al. 2023)"

    /// Generalization prediction (Kendall τ) on the Small CNN Zoo.
    public static let cnnGeneralization: [String: PaperNumber] = [
        "hnp": PaperNumber(0.934, sd: 0.001, source: nfnTable1, zoo: smallCNNZoo),
        "np": PaperNumber(0.922, sd: 0.001, source: nfnTable1, zoo: smallCNNZoo),
        "statnn": PaperNumber(0.915, sd: 0.002, source: nfnTable1, zoo: smallCNNZoo),
        "nft": PaperNumber(0.926, sd: 0.001, source: nftTable4, zoo: smallCNNZoo),
    ]

    /// INR classification test accuracy on Fashion-MNIST SIRENs, the data of the `standard` and
    /// `large` SIREN zoos (72.7 % in the paper is 0.727 here; ± is the paper's standard error over
    /// three runs). The paper's NFN row is the better of its NP and HNP variants, so it stands beside both.
    public static let inrClassification: [String: PaperNumber] = [
        "np": PaperNumber(0.756, sd: 0.0107, source: nftTable1 + ", NFN (the better of NP and HNP)", zoo: fashionSIRENs),
        "hnp": PaperNumber(0.756, sd: 0.0107, source: nftTable1 + ", NFN (the better of NP and HNP)", zoo: fashionSIRENs),
        "nft": PaperNumber(0.727, sd: 0.0005, source: nftTable1, zoo: fashionSIRENs),
        "inr2array-nft": PaperNumber(0.793, sd: 0, source: nftTable1, zoo: fashionSIRENs),
    ]
}
