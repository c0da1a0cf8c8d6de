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
            }
        } catch {
            fail(error)
        }
    }
}
