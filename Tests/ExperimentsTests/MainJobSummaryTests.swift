import Foundation
import Testing
@testable import Experiments

/// The main job's results page (`summary.md`, committed as `Docs/MainJobResults.md`) and the
/// README's results section that quotes it.
@Suite struct MainJobSummaryTests {
    static func report() -> ExperimentReport {
        ExperimentReport(title: "SwiftNFN main job: predicting test accuracy from weights", results: [
            ModelResult(model: "statnn", zoo: "cnn-zoo-seed0", task: "generalization", parameters: 80_641,
                        trainingSeconds: 1.4786, epochs: 17, bestEpoch: 7,
                        metrics: ["tau": 0.64789, "r2": 0.69460],
                        robustness: ["permutation": 0.64789, "scale [1, 10]": 0.013263, "scale [1, 100]": -0.33368],
                        configuration: ["seed": "0", "train/val/test": "216/54/90"]),
            ModelResult(model: "transformer-nfn", zoo: "transformer-zoo-seed1", task: "generalization",
                        parameters: 17_476_641, trainingSeconds: 80.44, epochs: 26, bestEpoch: 16,
                        metrics: ["tau": -0.05213, "r2": -0.3311],
                        robustness: ["heads × GL (κ ≤ 100)": -0.05213],
                        configuration: ["seed": "0", "train/val/test": "288/72/120"]),
        ], notes: [
            "cnn-zoo: 360 checkpoints of 360 members at epoch(s) 2, test accuracy min 0.035 / median 0.438 / max 0.779",
            "claim: equivariant ≥ STATNN ≥ flat MLP in τ (CNN zoo): holds — best equivariant 0.674, STATNN 0.648, MLP 0.412",
            "total wall time 1201.6 s, 2 worker(s), BLAS threads 2",
        ])
    }

    @Test func pageStatesEveryNumberOfTheReport() {
        let page = MainJobSummary(report: Self.report()).markdown
        #expect(page.contains("**SwiftNFN main job: predicting test accuracy from weights**, seed 0."))
        #expect(page.contains("Total wall time 1201.6 s (20.0 min), 2 worker(s), BLAS threads 2."))
        #expect(page.contains("| zoo | model | τ | R² | parameters | training (s) | best epoch | train/val/test | τ permutation | τ scale [1, 10] | τ scale [1, 100] | τ heads × GL (κ ≤ 100) |"))
        #expect(page.contains("| cnn-zoo-seed0 | statnn | 0.648 | 0.695 | 80,641 | 1.5 | 7 | 216/54/90 (60/15/25 %) | 0.648 | 0.013 | -0.334 | – |"))
        #expect(page.contains("| transformer-zoo-seed1 | transformer-nfn | -0.052 | -0.331 | 17,476,641 | 80.4 | 16 | 288/72/120 (60/15/25 %) | – | – | – | -0.052 |"))
        #expect(page.contains("## Zoos\n\n- cnn-zoo: 360 checkpoints of 360 members at epoch(s) 2, test accuracy min 0.035 / median 0.438 / max 0.779\n"))
        #expect(page.contains("- equivariant ≥ STATNN ≥ flat MLP in τ (CNN zoo): holds — best equivariant 0.674, STATNN 0.648, MLP 0.412\n"))
        #expect(!page.contains("claim:"))
    }

    @Test func groupingAndSplitFormats() {
        #expect(MainJobSummary.grouped(0) == "0")
        #expect(MainJobSummary.grouped(999) == "999")
        #expect(MainJobSummary.grouped(1_000) == "1,000")
        #expect(MainJobSummary.grouped(4_803_841) == "4,803,841")
        #expect(MainJobSummary.split("10/5/5") == "10/5/5 (50/25/25 %)")
        #expect(MainJobSummary.split("not/a/split") == "not/a/split")
        #expect(MainJobSummary.split(nil) == "–")
    }

    /// The page rendered from a written report folder's results.json equals the page rendered
    /// from the report itself, which is what `nfn demo --rewrite-summary` relies on.
    @Test func pageFromResultsJSONEqualsPageFromReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("main-job-summary-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.report().write(to: dir)
        #expect(try MainJobSummary(reportDirectory: dir).markdown == MainJobSummary(report: Self.report()).markdown)
        #expect(throws: ExperimentError.self) { try MainJobSummary(reportDirectory: dir.appendingPathComponent("missing")) }
    }

    /// Number tokens as a reader reads them: thousands separators dropped, the typographic minus
    /// as "-", a comma between digits only when it groups thousands (so "[1,10]" is 1 and 10).
    static func numbers(in text: String) -> [String] {
        text.replacingOccurrences(of: "−", with: "-")
            .matches(of: /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?/)
            .map { String($0.output).replacingOccurrences(of: ",", with: "") }
    }

    @Test func numberTokens() {
        #expect(Self.numbers(in: "τ −0.052, 2,609,905 parameters, [1,10], 0.035–0.779, 60/15/25")
                == ["-0.052", "2609905", "1", "10", "0.035", "0.779", "60", "15", "25"])
    }

    /// Every number between the README's `<!-- main-job-results` and `<!-- /main-job-results -->`
    /// markers appears on Docs/MainJobResults.md: after a rerun of `make demo` changes a number,
    /// the README fails here until it quotes the new one.
    @Test func readmeQuotesTheResultsPage() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("Docs/MainJobResults.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- main-job-results"))
        let end = try #require(readme.range(of: "<!-- /main-job-results -->"))
        let opening = try #require(readme[start.upperBound...].range(of: "-->"))
        let section = readme[opening.upperBound..<end.lowerBound]
        let quoted = Self.numbers(in: String(section))
        #expect(quoted.count >= 60, "the README's results section should hold the main table")
        let available = Set(Self.numbers(in: page))
        let missing = quoted.filter { !available.contains($0) }
        #expect(missing.isEmpty, "README numbers not on Docs/MainJobResults.md: \(missing)")
        #expect(page.contains("Written by `nfn demo`"))
    }
}
