import Foundation
import TensorIO

/// Finished runs side by side (`nfn report RUN...`): every run folder's test result, grouped by
/// task, zoo and model, with the main metric's mean ± standard deviation over the runs (seeds)
/// and one plot per metric showing each run and the mean.
public struct RunComparison: Codable, Sendable {
    /// One model on one zoo: the main metric over the runs that trained it.
    public struct Row: Codable, Sendable, Equatable {
        /// The task (`generalization`, `inr-classification`, `inr-editing`).
        public var task: String
        /// The zoo the runs trained on.
        public var zoo: String
        /// The model name.
        public var model: String
        /// The task's main test metric: `tau` (generalization), `accuracy` (INR classification),
        /// `mse` (INR editing).
        public var metric: String
        /// The metric of each run, in the order the runs were given.
        public var values: [Double]
        /// The runs' seeds (from their configurations), aligned with `values`.
        public var seeds: [String]
        /// Parameters of the model (of the first run).
        public var parameters: Int
        /// Mean over the runs.
        public var mean: Double
        /// Sample standard deviation over the runs (nil for a single run).
        public var standardDeviation: Double?
    }

    /// The rows, by task, zoo and model (first appearance order).
    public var rows: [Row]
    /// The run folders read.
    public var runs: [String]

    /// The main metric of a task.
    public static func mainMetric(task: String) -> String {
        switch task {
        case "inr-classification": return "accuracy"
        case "inr-editing": return "mse"
        default: return "tau"
        }
    }

    /// Reads `RUN/results.json` of every run folder (`nfn train --out`) and groups the results.
    ///
    /// - Throws: ``ExperimentError/invalidRun(_:)`` naming a folder without a readable
    ///   `results.json` (an unfinished or foreign folder), or for an empty list.
    public init(runs: [URL]) throws {
        guard !runs.isEmpty else { throw ExperimentError.invalidRun("no run folders given") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var results: [ModelResult] = []
        for run in runs {
            let url = run.appendingPathComponent("results.json")
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ExperimentError.invalidRun("\(run.path) has no results.json; is it a finished nfn train output folder?")
            }
            do {
                // A regular file only: a FIFO named results.json would block the read forever.
                let data = try RegularFile.read(url, limit: 1 << 30)
                if let problem = StructureScan.jsonProblem(data, maximumDepth: 64) {
                    throw ExperimentError.invalidRun("\(url.path): \(problem)")
                }
                results += try decoder.decode(ExperimentReport.self, from: data).results
            } catch {
                throw ExperimentError.invalidRun("\(url.path) is not an nfn report: \(error)")
            }
        }
        self.init(results: results, runs: runs.map(\.path))
    }

    /// Groups `results` by task, zoo and model.
    public init(results: [ModelResult], runs: [String] = []) {
        var order: [String] = [], groups: [String: [ModelResult]] = [:]
        for r in results {
            let key = "\(r.task)\u{1}\(r.zoo)\u{1}\(r.model)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        rows = order.compactMap { key in
            guard let group = groups[key], let first = group.first else { return nil }
            let metric = Self.mainMetric(task: first.task)
            let values = group.map { $0.metrics[metric] ?? .nan }
            let mean = values.reduce(0, +) / Double(values.count)
            let sd = values.count > 1
                ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : nil
            return Row(task: first.task, zoo: first.zoo, model: first.model, metric: metric, values: values,
                       seeds: group.map { $0.configuration["seed"] ?? "?" }, parameters: first.parameters,
                       mean: mean, standardDeviation: sd)
        }
        self.runs = runs
    }

    /// The comparison as a Markdown table: mean ± sd, runs, seeds and parameters per model.
    public var markdown: String {
        var s = "| task | zoo | model | metric | mean ± sd | runs | seeds | parameters |\n|---|---|---|---|---:|---:|---|---:|\n"
        for r in rows {
            let sd = r.standardDeviation.map { " ± " + ExperimentReport.fmt($0) } ?? ""
            s += "| \(r.task) | \(r.zoo) | \(r.model) | \(r.metric) | \(ExperimentReport.fmt(r.mean))\(sd) | \(r.values.count) | \(r.seeds.joined(separator: ", ")) | \(r.parameters) |\n"
        }
        return s
    }

    /// Writes `comparison.md`, `comparison.json` and one `comparison-METRIC.svg` per metric (each
    /// run a dot, the mean a bar, one column per zoo and model), plus PNGs when `rsvg-convert` is
    /// installed, into `directory` (created if needed).
    ///
    /// - Returns: the files written.
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` for a folder that is (or is inside) a zoo,
    ///   or is a file: nfn never writes into a zoo.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try ExperimentRunner.checkOutputLocation(directory, option: "--out")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var files: [(String, Data)] = [("comparison.json", try encoder.encode(self)), ("comparison.md", Data(markdown.utf8))]
        for metric in Array(Set(rows.map(\.metric))).sorted() {
            let chosen = rows.filter { $0.metric == metric }
            let zoos = Set(chosen.map(\.zoo))
            let svg = SVGPlot.strip(categories: chosen.map { zoos.count > 1 ? "\($0.model) (\($0.zoo))" : $0.model },
                                    values: chosen.map(\.values),
                                    title: "test \(metric) per model (each dot one run, bar the mean)", yLabel: metric)
            files.append(("comparison-\(metric).svg", Data(svg.utf8)))
        }
        return try ReportFolder.write(files, to: directory)
    }
}
