import Foundation
import Training
import Metanetworks
import Zoo

/// The experiments `nfn reproduce` runs, one per paper table. A new table is one entry in
/// ``experiments``; a new method of a table one line in ``ReproductionMethods``.
public enum ReproductionRegistry {
    /// Every experiment, in `--list` order.
    public static let experiments: [ReproductionExperiment] = [
        cnnGeneralization, inrClassification, inrEditing, transformerGeneralization, quasiAblations,
    ]

    /// The experiment named `name`.
    ///
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` naming the experiments for an unknown name.
    public static func experiment(named name: String) throws -> ReproductionExperiment {
        guard let e = experiments.first(where: { $0.name == name }) else {
            throw ExperimentError.invalidArgument("unknown experiment '\(name)' (expected one of: \(experiments.map(\.name).joined(separator: ", ")))")
        }
        return e
    }

    /// The metanetwork training recipe at a scale. `large` is the NFN paper's generalization
    /// recipe (Zhou et al. 2023, *Permutation Equivariant Neural Functionals*, Table 12: Adam,
    /// learning rate 1e-3, batch 8, 50 epochs).
    public static func training(_ scale: ReproductionScale) -> MetanetworkTrainingConfiguration {
        switch scale {
        case .quick: return MetanetworkTrainingConfiguration(epochs: 8, batchSize: 16, optimizer: .adam, learningRate: 1e-3, patience: 0)
        case .standard: return MetanetworkTrainingConfiguration(epochs: 40, batchSize: 32, optimizer: .adam, learningRate: 1e-3, patience: 10)
        case .large: return MetanetworkTrainingConfiguration(epochs: 50, batchSize: 8, optimizer: .adam, learningRate: 1e-3, patience: 0)
        }
    }

    static func feedforwardPart(_ name: String, methods: [ReproductionMethod]) -> ReproductionPart {
        ReproductionPart(name: name, metric: "tau", higherIsBetter: true, methods: methods,
                         modelNames: FeedforwardGeneralization.modelNames, zooSpec: ReproductionZoos.cnn, training: training,
                         run: ReproductionPart.runner(FeedforwardGeneralization.self) { zoo, spec in
                             try FeedforwardGeneralization.load(zoo: zoo, epochs: spec.training.sortedCheckpointEpochs)
                         })
    }

    static func transformerPart(_ name: String, methods: [ReproductionMethod]) -> ReproductionPart {
        var part = ReproductionPart(name: name, metric: "tau", higherIsBetter: true, methods: methods,
                                    modelNames: TransformerGeneralization.modelNames, zooSpec: ReproductionZoos.transformer,
                                    training: training,
                                    run: ReproductionPart.runner(TransformerGeneralization.self) { zoo, spec in
                                        try TransformerGeneralization.load(zoo: zoo, epochs: spec.training.sortedCheckpointEpochs)
                                    })
        // Tran et al. 2025 (Transformer-NFN) also rank the members above accuracy thresholds,
        // where the easy separation of failed runs no longer helps.
        part.accuracyThresholds = [0.2, 0.4, 0.6, 0.8]
        return part
    }

    static let nfn = "Zhou et al. 2023, Permutation Equivariant Neural Functionals"
    static let nft = "Zhou et al. 2023, Neural Functional Transformers"
    static let monomial = "Tran et al. 2024, Monomial Matrix Group Equivariant NFNs"
    static let transformerNFN = "Tran et al. 2025, Equivariant Neural Functional Networks for Transformers"
    static let quasi = "Tran et al. 2026, Quasi-Equivariant Metanetworks"

    /// Generalization prediction on CNN zoos, with the robustness columns.
    public static let cnnGeneralization = ReproductionExperiment(
        name: "cnn-generalization",
        title: "Predicting CNN generalization (Kendall τ), with τ on permuted and rescaled test sets",
        parts: [feedforwardPart("cnn-zoo", methods: ReproductionMethods.cnnGeneralization)],
        claims: [
            ReproductionClaim("HNP ≥ NP in τ", source: "\(nfn), Table 1", part: "cnn-zoo", check: .atLeast(better: "hnp", worse: "np")),
            ReproductionClaim("NP ≥ STATNN in τ", source: "\(nfn), Table 1", part: "cnn-zoo", check: .atLeast(better: "np", worse: "statnn")),
            ReproductionClaim("NFT ≥ STATNN in τ", source: "\(nft), §5.3", part: "cnn-zoo", check: .atLeast(better: "nft", worse: "statnn")),
            ReproductionClaim("Monomial-NFN's τ is unchanged by scale [1, 100] augmentation", source: "\(monomial), §6.1",
                              part: "cnn-zoo", check: .flatUnder(model: "monomial", augmentation: "scale [1, 100]")),
            ReproductionClaim("HNP's τ drops under scale [1, 100] augmentation", source: "\(monomial), §6.1",
                              part: "cnn-zoo", check: .dropsUnder(model: "hnp", augmentation: "scale [1, 100]")),
        ])

    /// INR classification on SIREN zoos.
    public static let inrClassification = ReproductionExperiment(
        name: "inr-classification",
        title: "Classifying SIRENs by the image class they represent (test accuracy)",
        parts: [ReproductionPart(name: "siren-zoo", metric: "accuracy", higherIsBetter: true,
                                 methods: ReproductionMethods.inrClassification,
                                 modelNames: INRClassificationExperiment.modelNames, zooSpec: ReproductionZoos.siren,
                                 training: training,
                                 run: ReproductionPart.runner(INRClassificationExperiment.self) { zoo, _ in
                                     try INRClassificationExperiment.load(zoo: zoo)
                                 })],
        claims: [
            ReproductionClaim("INR2ARRAY-NFT ≥ NFT in accuracy", source: "\(nft), Table 1", part: "siren-zoo",
                              check: .atLeast(better: "inr2array-nft", worse: "nft")),
            ReproductionClaim("INR2ARRAY-NFT ≥ NFN (HNP) in accuracy", source: "\(nft), Table 1", part: "siren-zoo",
                              check: .atLeast(better: "inr2array-nft", worse: "hnp")),
        ])

    /// INR editing (dilation) on SIREN zoos.
    public static let inrEditing = ReproductionExperiment(
        name: "inr-editing",
        title: "Editing SIRENs to represent dilated images (test MSE of the edited image)",
        parts: [ReproductionPart(name: "siren-zoo", metric: "mse", higherIsBetter: false,
                                 methods: ReproductionMethods.inrEditing,
                                 modelNames: INREditingExperiment.modelNames, zooSpec: ReproductionZoos.siren,
                                 training: training,
                                 run: ReproductionPart.runner(INREditingExperiment.self) { zoo, _ in
                                     try INREditingExperiment.load(zoo: zoo, edit: .dilate)
                                 })],
        claims: [])

    /// Generalization prediction on transformer zoos, with τ above accuracy thresholds.
    public static let transformerGeneralization = ReproductionExperiment(
        name: "transformer-generalization",
        title: "Predicting transformer generalization (Kendall τ, overall and above accuracy thresholds)",
        parts: [transformerPart("transformer-zoo", methods: ReproductionMethods.transformerGeneralization)],
        claims: [
            ReproductionClaim("Transformer-NFN ≥ STATNN in τ", source: transformerNFN, part: "transformer-zoo",
                              check: .atLeast(better: "transformer-nfn", worse: "transformer-statnn")),
            ReproductionClaim("Transformer-NFN ≥ flat MLP in τ", source: transformerNFN, part: "transformer-zoo",
                              check: .atLeast(better: "transformer-nfn", worse: "transformer-mlp")),
        ])

    /// Strict equivariant models against their quasi-equivariant versions, on a CNN and a
    /// transformer zoo.
    public static let quasiAblations = ReproductionExperiment(
        name: "quasi-ablations",
        title: "Quasi-equivariant metanetworks against their strictly equivariant bases (Kendall τ)",
        parts: [feedforwardPart("cnn-zoo", methods: ReproductionMethods.quasiCNN),
                transformerPart("transformer-zoo", methods: ReproductionMethods.quasiTransformer)],
        claims: [
            ReproductionClaim("Monomial-NFN Quasi ≥ Monomial-NFN in τ", source: "\(quasi), §5.1", part: "cnn-zoo",
                              check: .atLeast(better: "quasi-monomial", worse: "monomial")),
            ReproductionClaim("Transformer-NFN Quasi ≥ Transformer-NFN in τ", source: "\(quasi), §5.3", part: "transformer-zoo",
                              check: .atLeast(better: "quasi-transformer-nfn", worse: "transformer-nfn")),
            ReproductionClaim("Relaxed Transformer-NFN Quasi ≥ Transformer-NFN in τ", source: "\(quasi), §4.3", part: "transformer-zoo",
                              check: .atLeast(better: "relaxed-quasi-transformer-nfn", worse: "transformer-nfn")),
        ])
}
