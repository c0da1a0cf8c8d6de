import Foundation
import TensorIO
import Training
import Metanetworks
import Zoo

/// Runs one reproduction experiment: builds (or reuses, by spec hash) each part's zoo, trains
/// every method for every seed with the scale's recipe, and writes `reproduction.json` and
/// `reproduction.md` to the output folder.
///
/// Resumable: zoos resume member by member, and each (method, seed) training run resumes from its
/// checkpoint in the cache (``trainingRuns(cache:zoo:size:)``), so an interrupted run started again
/// with the same arguments continues where it stopped, and a table that repeats another's
/// (model, zoo, seed) reuses its run.
public enum ReproductionRunner {
    /// The JSON file in the output folder.
    public static let jsonFileName = "reproduction.json"
    /// The Markdown file in the output folder.
    public static let markdownFileName = "reproduction.md"

    /// Runs `experiment` and writes its table.
    ///
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` for bad seeds or a method the part's task
    ///   cannot build, ``ExperimentError/invalidArgument(_:)`` when the output folder holds a
    ///   `reproduction.json` that is not one; zoo, data and training errors.
    public static func run(_ experiment: ReproductionExperiment, options o: ReproductionOptions,
                           log: @escaping @Sendable (String) -> Void) throws -> ReproductionReport {
        let start = Date()
        let seeds = try o.seedList()
        for part in experiment.parts {
            for m in part.methods where !part.modelNames.contains(m.model) {
                throw ExperimentError.invalidArgument("\(experiment.name): method '\(m.model)' is not a model of \(part.name) (\(part.modelNames.joined(separator: ", ")))")
            }
        }
        let out = o.output(for: experiment.name)
        try refuseForeignReport(in: out)
        let size: MetanetworkKind.Size = o.scale == .quick ? .small : .standard
        var zoos: [ReproductionReport.ZooUse] = [], rows: [ReproductionReport.ReproductionRow] = [], notes: [String] = []
        for part in experiment.parts {
            let spec = part.zooSpec(o.scale, o)
            let hash = try ReproductionZoos.specHash(spec)
            let dir = o.cacheDirectory.appendingPathComponent("\(spec.family.rawValue)-\(hash)")
            log("[\(part.name)] generating or reusing \(spec.members) members in \(dir.path)")
            let step = Swift.max(1, spec.members / 10)
            let z = try ZooGenerator.generate(spec: spec, into: dir, options: ZooGenerationOptions(workers: o.workers) { p in
                if p.present % step == 0 || p.remaining == 0 { log("[\(part.name)] \(p.line)") }
            })
            log("[\(part.name)] \(z.members) members ready (\(z.generated) trained now)")
            let use = ReproductionReport.ZooUse(part: part.name, directory: dir.path, specHash: hash, members: z.members,
                                                generatedNow: z.generated, data: dataDescription(spec))
            zoos.append(use)
            var configuration = part.training(o.scale)
            configuration.threads = o.workers   // each step on every worker thread; the numbers do not depend on it
            notes.append("\(part.name): \(configuration.optimizer.rawValue), learning rate \(configuration.learningRate), batch \(configuration.batchSize), ≤ \(configuration.epochs) epochs, patience \(configuration.patience), model size \(size.rawValue)")
            let results = try part.run(dir, spec, part.methods.map(\.model), seeds, configuration, size,
                                       trainingRuns(cache: o.cacheDirectory, zoo: dir, size: size)) { log("[\(part.name)] \($0)") }
            for method in part.methods {
                rows.append(row(method, part: part, results: results[method.model] ?? [], scale: o.scale, zoo: use))
            }
        }
        let claims = experiment.claims.map { ReproductionReport.ClaimVerdict(claim: $0, verdict: ReproductionVerdicts.claim($0, rows: rows)) }
        let report = ReproductionReport(schema: ReproductionReport.schemaVersion, experiment: experiment.name, title: experiment.title,
                                        scale: o.scale, seeds: seeds, zoos: zoos, rows: rows, claims: claims, notes: notes,
                                        wallSeconds: Date().timeIntervalSince(start))
        try write(report, to: out)
        return report
    }

    /// Where the (method, seed) training runs on the zoo in `zoo` are checkpointed:
    /// `CACHE/runs/ZOO-FOLDER/SIZE/TASK/MODEL-seedS.checkpoint` (the part's runner adds the task).
    /// Keyed by the zoo (its spec hash), the model size and the task, not by experiment, so two
    /// tables that train the same model for the same task on the same zoo (`cnn-generalization`
    /// and `quasi-ablations` both train Monomial-NFN on the CNN zoo) share one run; the trainer
    /// refuses a checkpoint whose configuration, model shape or data differ.
    static func trainingRuns(cache: URL, zoo: URL, size: MetanetworkKind.Size) -> URL {
        cache.appendingPathComponent("runs/\(zoo.lastPathComponent)/\(size.rawValue)")
    }

    /// One method's row from its per-seed results.
    static func row(_ method: ReproductionMethod, part: ReproductionPart, results: [ModelResult], scale: ReproductionScale,
                    zoo: ReproductionReport.ZooUse) -> ReproductionReport.ReproductionRow {
        typealias S = ReproductionReport.Summary
        let summary = S(results.map { $0.metrics[part.metric] ?? .nan })
        var other: [String: S] = [:]
        for key in Set(results.flatMap(\.metrics.keys)) where key != part.metric {
            other[key] = S(results.map { $0.metrics[key] ?? .nan })
        }
        for threshold in part.accuracyThresholds {
            let taus = results.map { r -> Double in
                guard let p = r.predictions, let a = r.actual else { return .nan }
                let keep = a.indices.filter { a[$0] >= threshold }
                return keep.count >= 2 ? Metrics.kendallTauB(keep.map { p[$0] }, keep.map { a[$0] }) : .nan
            }
            other[String(format: "tau_acc_ge_%.2f", threshold)] = S(taus)
        }
        var robustness: [String: S] = [:], acted: [String: ReproductionReport.ActedOn] = [:]
        // The test members: the generalization tasks keep their targets (`actual`); every task
        // records its split as "train/val/test" counts.
        func testCount(_ r: ModelResult) -> Int {
            r.actual?.count ?? r.configuration["train/val/test"].flatMap { $0.split(separator: "/").last.flatMap { Int($0) } } ?? 0
        }
        for key in Set(results.flatMap(\.robustness.keys)) {
            robustness[key] = S(results.map { $0.robustness[key] ?? .nan })
            let counts = results.compactMap { r in r.augmentedMembers?[key].map { ($0, testCount(r)) } }
            if counts.count == results.count {
                acted[key] = .init(actedOn: counts.map(\.0).reduce(0, +), of: counts.map(\.1).reduce(0, +))
            }
        }
        let verdict = ReproductionVerdicts.row(model: method.model, summary: summary, higherIsBetter: part.higherIsBetter,
                                               paper: method.paper, scale: scale, zoo: zoo)
        return .init(part: part.name, method: method.model, metric: part.metric, higherIsBetter: part.higherIsBetter,
                     summary: summary, otherMetrics: other, robustness: robustness, augmentedMembers: acted,
                     parameters: results.first?.parameters ?? 0, trainingSeconds: S(results.map(\.trainingSeconds)),
                     paper: method.paper, verdict: verdict)
    }

    static func dataDescription(_ spec: ZooSpec) -> String {
        switch spec.data.kind {
        case .synthetic:
            return "synthetic digits (\(spec.data.syntheticTrainCount) training images), \(spec.training.epochs) epoch(s)"
        default:
            let train = spec.data.trainLimit.map { "\($0)" } ?? "all"
            return "\(spec.data.kind.rawValue) (\(train) training images), \(spec.training.epochs) epoch(s)"
        }
    }

    /// A `reproduction.json` already in `folder` must be one of ours: anything else is not
    /// overwritten.
    static func refuseForeignReport(in folder: URL) throws {
        let url = folder.appendingPathComponent(jsonFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let data = try RegularFile.read(url, limit: 64 << 20)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard (try? decoder.decode(ReproductionReport.self, from: data)) != nil else {
            throw ExperimentError.invalidArgument("\(url.path) exists and is not a reproduction report; choose another --out")
        }
    }

    /// Writes `reproduction.json` and `reproduction.md` atomically.
    public static func write(_ report: ReproductionReport, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(try encoded(report), to: folder.appendingPathComponent(jsonFileName))
        try AtomicFile.write(Data(ReproductionMarkdown.render(report).utf8), to: folder.appendingPathComponent(markdownFileName))
    }

    /// The report as pretty JSON with sorted keys (NaN and ±∞ as strings).
    public static func encoded(_ report: ReproductionReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(report)
    }
}
