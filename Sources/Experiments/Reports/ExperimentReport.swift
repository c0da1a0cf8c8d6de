import Foundation
import Training

/// One trained model's line in a results table.
public struct ModelResult: Codable, Sendable, Equatable {
    /// The model name (e.g. "HNP", "STATNN").
    public var model: String
    /// The zoo (and so the weight space) it was trained on.
    public var zoo: String
    /// The task ("generalization", "inr-classification", "inr-editing").
    public var task: String
    /// Trainable scalars of the metanetwork.
    public var parameters: Int
    /// Wall-clock training time.
    public var trainingSeconds: Double
    /// Epochs run.
    public var epochs: Int
    /// The epoch whose weights were kept (best validation metric).
    public var bestEpoch: Int
    /// Test metrics: for generalization prediction τ, R², MSE; for classification accuracy.
    public var metrics: [String: Double]
    /// τ (or accuracy) on group-augmented test sets, by augmentation name.
    public var robustness: [String: Double]
    /// The configuration that produced the numbers.
    public var configuration: [String: String]
    /// Per-epoch training loss and validation metric.
    public var learningCurve: [MetanetworkEpoch]
    /// Test-set predictions (for the scatter plot).
    public var predictions: [Double]?
    /// Test-set true values, aligned with `predictions`.
    public var actual: [Double]?
    /// For each robustness augmentation, how many test members it acted on in full: the others'
    /// activation lacks that symmetry, so they were only permuted (nil in reports written before
    /// the count existed).
    public var augmentedMembers: [String: Int]?

    /// A result row; see the properties for each field.
    public init(model: String, zoo: String, task: String, parameters: Int, trainingSeconds: Double, epochs: Int,
                bestEpoch: Int, metrics: [String: Double], robustness: [String: Double] = [:],
                configuration: [String: String] = [:], learningCurve: [MetanetworkEpoch] = [],
                predictions: [Double]? = nil, actual: [Double]? = nil) {
        self.model = model; self.zoo = zoo; self.task = task; self.parameters = parameters
        self.trainingSeconds = trainingSeconds; self.epochs = epochs; self.bestEpoch = bestEpoch
        self.metrics = metrics; self.robustness = robustness; self.configuration = configuration
        self.learningCurve = learningCurve; self.predictions = predictions; self.actual = actual
    }
}

extension ModelResult {
    /// The row of a trained model: epochs, best epoch and learning curve from its `history`.
    public init(model: String, zoo: String, task: String, parameters: Int, trainingSeconds: Double,
                history: MetanetworkTrainingHistory, metrics: [String: Double], robustness: [String: Double],
                configuration: [String: String], predictions: [Double]? = nil, actual: [Double]? = nil) {
        self.init(model: model, zoo: zoo, task: task, parameters: parameters, trainingSeconds: trainingSeconds,
                  epochs: history.epochs.count, bestEpoch: history.bestEpoch, metrics: metrics, robustness: robustness,
                  configuration: configuration, learningCurve: history.epochs, predictions: predictions, actual: actual)
    }
}

/// A results folder: `results.json` (every number with the configuration that made it),
/// `results.md` (the comparison and robustness tables), and SVG plots (predicted-vs-true scatter
/// per model with τ in the title, learning curves per zoo).
public struct ExperimentReport: Codable, Sendable {
    /// The report heading.
    public var title: String
    /// One row per trained model.
    public var results: [ModelResult]
    /// Free-form facts about the run (zoo sizes, seeds, machine, checks of the seeds' claims).
    public var notes: [String]

    /// A report with a title, rows and notes.
    public init(title: String, results: [ModelResult] = [], notes: [String] = []) {
        self.title = title; self.results = results; self.notes = notes
    }

    static func fmt(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, x.isFinite else { return "–" }
        return String(format: "%.\(digits)f", x)
    }

    /// The comparison table: one row per model, τ / R² / parameters / training time.
    public var comparisonTable: String {
        var s = "| zoo | model | τ | R² | parameters | training (s) | best epoch |\n|---|---|---:|---:|---:|---:|---:|\n"
        for r in results {
            s += "| \(r.zoo) | \(r.model) | \(Self.fmt(r.metrics["tau"])) | \(Self.fmt(r.metrics["r2"])) | \(r.parameters) | \(Self.fmt(r.trainingSeconds, 1)) | \(r.bestEpoch) |\n"
        }
        return s
    }

    /// The robustness table: τ on the original and on each augmented test set.
    public var robustnessTable: String {
        let names = Array(Set(results.flatMap { $0.robustness.keys })).sorted()
        guard !names.isEmpty else { return "" }
        var s = "| zoo | model | τ original | " + names.map { "τ \($0)" }.joined(separator: " | ") + " |\n"
        s += "|---|---|---:|" + names.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for r in results where !r.robustness.isEmpty {
            s += "| \(r.zoo) | \(r.model) | \(Self.fmt(r.metrics["tau"])) | " +
                names.map { Self.fmt(r.robustness[$0]) }.joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// The Markdown report.
    public var markdown: String {
        var s = "# \(title)\n\n## Comparison\n\n\(comparisonTable)\n"
        let rob = robustnessTable
        if !rob.isEmpty { s += "## Robustness to group-augmented test sets\n\n\(rob)\n" }
        if !notes.isEmpty { s += "## Notes\n\n" + notes.map { "- \($0)\n" }.joined() }
        return s
    }

    /// Writes the folder (created if needed). Every file is written to a temporary name and
    /// renamed, so an interrupted write never leaves a half-written report file.
    /// - Returns: the written file URLs.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        var files: [(String, Data)] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        files.append(("results.json", try encoder.encode(self)))
        files.append(("results.md", Data(markdown.utf8)))
        for r in results {
            let slug = "\(r.zoo)-\(r.model)".lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
            if let p = r.predictions, let a = r.actual, !p.isEmpty {
                let svg = SVGPlot.scatter(x: a, y: p, title: "\(r.model) on \(r.zoo): τ = \(Self.fmt(r.metrics["tau"]))",
                                          subtitle: "R² = \(Self.fmt(r.metrics["r2"])), \(p.count) test members",
                                          xLabel: "true test accuracy", yLabel: "predicted")
                files.append(("scatter-\(String(slug)).svg", Data(svg.utf8)))
            }
        }
        for zoo in Array(Set(results.map(\.zoo))).sorted() {
            let series = results.filter { $0.zoo == zoo && !$0.learningCurve.isEmpty }.map { r in
                SVGPlot.Series(name: r.model, points: r.learningCurve.map { (Double($0.epoch), $0.validationMetric) },
                               marked: Double(r.bestEpoch))
            }
            if !series.isEmpty {
                let tasks = Set(results.filter { $0.zoo == zoo }.map(\.task))
                let metric = tasks.count == 1 ? Self.validationMetricName(task: tasks.first ?? "") : "validation metric"
                let svg = SVGPlot.lines(series, title: "\(metric) per epoch — \(zoo)", xLabel: "epoch", yLabel: metric,
                                        integerX: true)
                files.append(("learning-curves-\(zoo).svg", Data(svg.utf8)))
            }
        }
        return try ReportFolder.write(files, to: directory)
    }

    /// The validation metric's name for a task's learning curves.
    static func validationMetricName(task: String) -> String {
        switch task {
        case ExperimentTask.generalization.rawValue: return "validation τ"
        case ExperimentTask.inrClassification.rawValue: return "validation accuracy"
        case ExperimentTask.inrEditing.rawValue: return "validation −MSE"
        default: return "validation metric"
        }
    }
}
