import ArgumentParser
import Foundation
import SwiftNFN

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine finished nfn train runs into one table (mean ± sd of each model's test metric over its runs) and one plot.",
        discussion: """
        Each RUN is an nfn train --out folder. Runs of the same task, zoo and model (e.g. several \
        seeds) are one row: τ for generalization, accuracy for INR classification, MSE for INR \
        editing. The table is printed; with --out DIR, comparison.md, comparison.json and a strip \
        plot per metric (comparison-METRIC.svg, and .png when rsvg-convert is installed) are written there.
        """)

    @Argument(help: "Run folders (nfn train --out).") var runs: [String]
    @Option(help: "Folder for comparison.md, comparison.json and the plots.") var out: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let comparison = try RunComparison(runs: runs.map { URL(fileURLWithPath: $0) })
            if let out { try comparison.write(to: URL(fileURLWithPath: out)) }
            if output.json { try printJSON(comparison) } else { print(comparison.markdown) }
        } catch {
            fail(error)
        }
    }
}
