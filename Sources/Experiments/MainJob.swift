import Foundation
import Tensors
import LinearAlgebra
import NeuralNetworks
import Datasets
import WeightSpace
import Zoo
import Training
import Metanetworks

/// The main job (`nfn demo`, `make demo`): build (or reuse) a Fashion-MNIST CNN zoo and a
/// transformer zoo, train the baselines and the equivariant metanetworks on each to predict test
/// accuracy from weights, run the robustness protocol, and write the report folder.
public enum MainJob {
    /// What the main job runs and where it writes.
    public struct Options: Sendable {
        /// A small, fast version (≈ 3 minutes on 2 cores) for end-to-end tests.
        public var quick = false
        /// Seeds the zoos (the transformer zoo uses seed + 1), the splits and the models.
        public var seed: UInt64 = 0
        /// Where zoos are generated and reused across runs.
        public var cacheDirectory = URL(fileURLWithPath: ".nfn-cache")
        /// Where the report folder is written.
        public var reportDirectory = URL(fileURLWithPath: "reports/demo")
        /// Fashion-MNIST IDX folder.
        public var dataDirectory = FashionMNIST.defaultDirectory
        /// Concurrent zoo members.
        public var workers = ProcessInfo.processInfo.activeProcessorCount
        /// The full job with the defaults above.
        public init() {}
    }

    /// The two zoo recipes of the main job.
    public static func zooSpecs(_ o: Options) -> (cnn: ZooSpec, transformer: ZooSpec) {
        var cnn = ZooSpec.defaults(for: .cnn)
        // Both zoos pinned to the tape engine: the README's main-job numbers were measured on them
        // (the member batch gives the same members to Float32 reassociation, not bit for bit).
        cnn.engine = .tape
        cnn.seed = o.seed
        cnn.members = o.quick ? 64 : 360
        cnn.data.path = o.dataDirectory.path
        cnn.data.trainLimit = o.quick ? 4_000 : 15_000
        cnn.data.testLimit = o.quick ? 1_000 : 2_000
        cnn.training.epochs = o.quick ? 1 : 2
        cnn.training.checkpointEpochs = [cnn.training.epochs]
        var transformer = ZooSpec.defaults(for: .transformer)
        // Pinned to SwiftNFN's first recipe: the README's main-job numbers were measured on it.
        // The reference recipe (the zoo default) is what `nfn reproduce` is for.
        transformer.recipe = nil
        transformer.training.sharedInitialization = nil
        transformer.engine = .tape
        transformer.seed = o.seed &+ 1
        transformer.members = o.quick ? 32 : 120
        transformer.data.path = o.dataDirectory.path
        transformer.data.trainLimit = o.quick ? 2_000 : 6_000
        transformer.data.testLimit = o.quick ? 1_000 : 2_000
        // Every epoch's checkpoint: more samples and a wider accuracy range from the same training
        // runs (the split keeps a member's checkpoints together). Measured on 120 members: with
        // 2 epochs (checkpoints 1, 2) no model ranked the zoo (STATNN τ 0.06) — accuracy after 2
        // epochs on 6,000 images is mostly luck; with 4 epochs (checkpoints 1–4) STATNN reaches 0.44.
        transformer.training.epochs = o.quick ? 2 : 4
        transformer.training.checkpointEpochs = Array(1...transformer.training.epochs)
        return (cnn, transformer)
    }

    /// The metanetwork training recipe.
    public static func trainingConfiguration(_ o: Options) -> MetanetworkTrainingConfiguration {
        MetanetworkTrainingConfiguration(epochs: o.quick ? 10 : 40, batchSize: 32, optimizer: .adam, learningRate: 1e-3,
                                         patience: o.quick ? 0 : 10, seed: o.seed, threads: o.workers)
    }

    /// Runs everything; `log` receives progress lines.
    public static func run(_ o: Options, log: @escaping @Sendable (String) -> Void) throws -> ExperimentReport {
        let start = Date()
        let (cnnSpec, transformerSpec) = zooSpecs(o)
        var report = ExperimentReport(title: "SwiftNFN main job: predicting test accuracy from weights" + (o.quick ? " (quick)" : ""))
        let config = trainingConfiguration(o)
        let size: MetanetworkKind.Size = o.quick ? .small : .standard
        let zoos: [(String, ZooSpec, [String], any GeneralizationWeightSpace.Type)] = [
            ("cnn-zoo", cnnSpec, ["statnn", "mlp", "hnp", "nft", "monomial", "quasi-monomial"], FeedforwardZooWeights.self),
            ("transformer-zoo", transformerSpec, ["transformer-statnn", "transformer-mlp", "transformer-nfn", "quasi-transformer-nfn"],
             TransformerZooWeights.self),
        ]
        for (name, spec, models, space) in zoos {
            let dir = o.cacheDirectory.appendingPathComponent("\(name)\(o.quick ? "-quick" : "")-seed\(spec.seed)")
            log("[\(name)] generating or reusing \(spec.members) members in \(dir.path)")
            let step = Swift.max(1, spec.members / 10)
            let zooStart = Date()
            let z = try ZooGenerator.generate(spec: spec, into: dir, options: ZooGenerationOptions(workers: o.workers) { p in
                if p.present % step == 0 || p.remaining == 0 { log("[\(name)] \(p.line)") }
            })
            log("[\(name)] \(z.members) members ready (\(z.generated) trained now)")
            // The zoo's cost, beside the results it led to (0 trained: the cache was reused).
            let zooSeconds = String(format: "%.1f", Date().timeIntervalSince(zooStart))
            report.notes.append("\(name): \(z.members) members ready in \(zooSeconds) s, \(z.generated) of them trained in this run with \(o.workers) worker(s)")
            let (notes, results) = try runZoo(space, name: name, directory: dir, spec: spec, models: models, options: o,
                                              configuration: config, size: size, log: log)
            report.notes += notes
            report.results += results
        }
        report.notes += claimChecks(report.results)
        report.notes.append(String(format: "total wall time %.1f s, %d worker(s), BLAS threads %d", Date().timeIntervalSince(start), o.workers, BLAS.threadCount))
        try report.write(to: o.reportDirectory)
        // The results page the README quotes (Docs/MainJobResults.md after a full `make demo`).
        try MainJobSummary(report: report).write(to: o.reportDirectory.appendingPathComponent(MainJobSummary.fileName))
        return report
    }

    /// Trains every model of one zoo (of weight space `Space`) on one member-grouped split.
    static func runZoo<Space: GeneralizationWeightSpace>(
        _: Space.Type, name: String, directory: URL, spec: ZooSpec, models: [String], options o: Options,
        configuration: MetanetworkTrainingConfiguration, size: MetanetworkKind.Size, log: @Sendable (String) -> Void
    ) throws -> (notes: [String], results: [ModelResult]) {
        typealias Task = GeneralizationExperiment<Space>
        let data = try Task.load(zoo: directory, epochs: spec.training.sortedCheckpointEpochs)
        let accuracies = data.targets.sorted()
        let note = "\(name): \(data.targets.count) checkpoints of \(Set(data.members).count) members at epoch(s) \(data.epochs.map(String.init).joined(separator: ", ")) (\(data.skipped) diverged/non-finite left out), test accuracy min \(fmt(accuracies.first)) / median \(fmt(accuracies[accuracies.count / 2])) / max \(fmt(accuracies.last)); \(spec.members) members, \(spec.training.epochs) epoch(s) on \(spec.data.trainLimit ?? 60_000) training images, accuracy on \(spec.data.testLimit ?? 10_000) test images"
        let split = try Task.split(data, trainFraction: 0.6, validationFraction: 0.15, seed: o.seed)
        var results: [ModelResult] = []
        for model in models {
            log("[\(name)] training \(model)")
            let r = try Task.run(model: model, data: data, split: split, configuration: configuration, size: size)
            log("[\(name)] \(model): τ = \(fmt(r.metrics["tau"])), R² = \(fmt(r.metrics["r2"])), \(r.parameters) parameters, \(String(format: "%.1f", r.trainingSeconds)) s")
            results.append(r)
        }
        return ([note], results)
    }

    static func fmt(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }
    static func fmt(_ x: Float?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }

    /// Checks the orderings the seed papers claim against this run's numbers and says, either way,
    /// whether each holds.
    public static func claimChecks(_ results: [ModelResult]) -> [String] {
        func tau(_ zoo: String, _ model: String) -> Double? { results.first { $0.zoo.hasPrefix(zoo) && $0.model == model }?.metrics["tau"] }
        func rob(_ zoo: String, _ model: String, _ aug: String) -> Double? {
            results.first { $0.zoo.hasPrefix(zoo) && $0.model == model }?.robustness[aug]
        }
        func params(_ zoo: String, _ model: String) -> Int? { results.first { $0.zoo.hasPrefix(zoo) && $0.model == model }?.parameters }
        func verdict(_ ok: Bool?) -> String { ok.map { $0 ? "holds" : "does NOT hold" } ?? "not measured" }
        var notes: [String] = []
        let equivariant = ["hnp", "nft", "monomial", "quasi-monomial"].compactMap { tau("cnn", $0) }
        if let best = equivariant.max(), let s = tau("cnn", "statnn"), let m = tau("cnn", "mlp") {
            notes.append("claim: equivariant ≥ STATNN ≥ flat MLP in τ (CNN zoo): \(verdict(best >= s && s >= m)) — best equivariant \(fmt(best)), STATNN \(fmt(s)), MLP \(fmt(m))")
        }
        if let mo = tau("cnn", "monomial"), let h = tau("cnn", "hnp"), let pm = params("cnn", "monomial"), let ph = params("cnn", "hnp") {
            notes.append("claim: Monomial-NFN close to HNP (|Δτ| ≤ 0.05) with far fewer parameters: \(verdict(abs(mo - h) <= 0.05 && pm < ph)) — τ \(fmt(mo)) vs \(fmt(h)), parameters \(pm) vs \(ph)")
        }
        let aug = "scale [1, 100]"
        if let mo = tau("cnn", "monomial"), let moA = rob("cnn", "monomial", aug), let h = tau("cnn", "hnp"), let hA = rob("cnn", "hnp", aug),
           let s = tau("cnn", "statnn"), let sA = rob("cnn", "statnn", aug) {
            let flat = abs(moA - mo) <= 1e-6
            let drops = hA < h && sA < s
            notes.append("claim: Monomial-NFN flat under \(aug) augmentation where HNP and STATNN drop: \(verdict(flat && drops)) — Monomial \(fmt(mo))→\(fmt(moA)), HNP \(fmt(h))→\(fmt(hA)), STATNN \(fmt(s))→\(fmt(sA))")
        }
        if let t = tau("transformer", "transformer-nfn"), let s = tau("transformer", "transformer-statnn"), let m = tau("transformer", "transformer-mlp") {
            notes.append("claim: Transformer-NFN above the STATNN and MLP baselines (transformer zoo): \(verdict(t > s && t > m)) — \(fmt(t)) vs \(fmt(s)) / \(fmt(m))")
        }
        for (zoo, q, base) in [("cnn", "quasi-monomial", "monomial"), ("transformer", "quasi-transformer-nfn", "transformer-nfn")] {
            if let tq = tau(zoo, q), let tb = tau(zoo, base) {
                notes.append("claim: \(q) ≥ \(base) in τ: \(verdict(tq >= tb)) — \(fmt(tq)) vs \(fmt(tb))")
            }
        }
        return notes
    }
}
