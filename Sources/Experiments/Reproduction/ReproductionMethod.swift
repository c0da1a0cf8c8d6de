/// One row of a reproduction table: a model the task builds by name, and the paper's number for it.
public struct ReproductionMethod: Codable, Sendable, Equatable {
    /// The name the task's catalog builds (`hnp`, `transformer-nfn`, …).
    public var model: String
    /// The paper's number for it, when the paper reports one.
    public var paper: PaperNumber?

    /// A method; see the properties.
    public init(_ model: String, paper: PaperNumber? = nil) {
        self.model = model; self.paper = paper
    }
}

/// The method list of every reproduction table. Adding a method to a table is one line here (the
/// model itself is added to its catalog, `MetanetworkKind` or `TransformerMetanetworkKind`).
public enum ReproductionMethods {
    /// Zhou et al. 2023 (*Permutation Equivariant Neural Functionals*, Table 1), Zhou et al. 2023
    /// (*Neural Functional Transformers*) and Tran et al. 2024 (Monomial-NFN) on CNN zoos.
    public static let cnnGeneralization: [ReproductionMethod] = [
        .init("statnn", paper: PaperNumbers.cnnGeneralization["statnn"]),
        .init("mlp"),
        .init("np", paper: PaperNumbers.cnnGeneralization["np"]),
        .init("hnp", paper: PaperNumbers.cnnGeneralization["hnp"]),
        .init("nft", paper: PaperNumbers.cnnGeneralization["nft"]),
        .init("monomial"),
        .init("graph-nn"),   // Kofinas et al. 2024, the baseline of the quasi-equivariance paper's Table 1
        // The reference code's recipes beside SwiftNFN's (AllanYangZhou/nfn): its NP predictor and
        // its three NFT choices; the paper's numbers were measured with these.
        .init("np-reference", paper: PaperNumbers.cnnGeneralization["np"]),
        .init("nft-reference", paper: PaperNumbers.cnnGeneralization["nft"]),
    ]

    /// INR classification on SIREN zoos.
    public static let inrClassification: [ReproductionMethod] = [
        .init("np", paper: PaperNumbers.inrClassification["np"]),
        .init("hnp", paper: PaperNumbers.inrClassification["hnp"]),
        .init("nft", paper: PaperNumbers.inrClassification["nft"]),
        .init("inr2array-nft", paper: PaperNumbers.inrClassification["inr2array-nft"]),   // Zhou et al. 2023 (Neural Functional Transformers, §4)
        .init("graph-nn"),
    ]

    /// INR editing (dilation) on SIREN zoos.
    public static let inrEditing: [ReproductionMethod] = [
        .init("np"),
        .init("hnp"),
        .init("nft"),
    ]

    /// Tran et al. 2025 (Transformer-NFN) on transformer zoos.
    public static let transformerGeneralization: [ReproductionMethod] = [
        .init("transformer-statnn"),
        .init("transformer-mlp"),
        .init("transformer-nfn"),
    ]

    /// Tran et al. 2026 (quasi-equivariance), CNN part: the strict model and its quasi version.
    public static let quasiCNN: [ReproductionMethod] = [
        .init("monomial"),
        .init("quasi-monomial"),
    ]

    /// Tran et al. 2026 (quasi-equivariance), transformer part.
    public static let quasiTransformer: [ReproductionMethod] = [
        .init("transformer-nfn"),
        .init("quasi-transformer-nfn"),
        .init("relaxed-quasi-transformer-nfn"),
    ]
}
