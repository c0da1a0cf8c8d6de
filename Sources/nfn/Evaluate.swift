import ArgumentParser
import Foundation
import SwiftNFN

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a finished nfn train run: rebuild its model, load its best weights, report τ / R² / MSE and robustness.",
        discussion: """
        Without --zoo the run's own test split is evaluated, which reproduces the test numbers nfn train \
        reported. With --zoo every member of that zoo is evaluated (it must have the run's weight space). \
        The report goes to RUN/evaluation (or RUN/evaluation-ZOONAME), or to --report.
        """)

    @Option(name: .customLong("run"), help: "The run folder (nfn train --out).") var runFolder: String
    @Option(help: "Evaluate on every member of this zoo instead of the run's test split.") var zoo: String?
    @Option(help: "Report folder (default: RUN/evaluation or RUN/evaluation-ZOONAME).") var report: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let r = try ExperimentRunner.evaluate(run: URL(fileURLWithPath: runFolder), zoo: zoo.map { URL(fileURLWithPath: $0) },
                                                  reportDirectory: report.map { URL(fileURLWithPath: $0) })
            if output.json, let result = r.results.first {
                try printJSON(result)
            } else {
                print(r.markdown)
                if let result = r.results.first { print(metricsSummary(result)) }
            }
        } catch {
            fail(error)
        }
    }
}

/// The test metrics of a result, one per line: τ, R², MSE, τ on accuracy ≥ 0.5, and the
/// robustness τs.
func metricsSummary(_ r: ModelResult) -> String {
    func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
    var lines = ["τ \(f(r.metrics["tau"]))   R² \(f(r.metrics["r2"]))   MSE \(f(r.metrics["mse"]))   τ (accuracy ≥ 0.5) \(f(r.metrics["tau_acc_ge_0.50"]))"]
    for (name, tau) in r.robustness.sorted(by: { $0.key < $1.key }) { lines.append("τ \(name): \(f(tau))") }
    return lines.joined(separator: "\n")
}
