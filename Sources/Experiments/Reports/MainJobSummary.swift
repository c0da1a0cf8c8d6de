import Foundation
import TensorIO

/// The main job's results page: one Markdown file with the numbers a reader quotes — Kendall τ,
/// R², parameters and training time per model, the robustness columns, the zoos' sizes and
/// accuracy spread, the total wall time, and the checks of the seed papers' claims.
///
/// `nfn demo` writes it beside its report as `summary.md`; the full `make demo` copies it to
/// `Docs/MainJobResults.md`, the page the README's measured numbers come from (a test checks
/// every number of the README's results section against that page, so a rerun that changes a
/// number makes a stale README fail). It is rendered from an ``ExperimentReport`` alone, so it can
/// be rewritten from a finished run's `results.json` (`nfn demo --rewrite-summary`).
public struct MainJobSummary: Sendable {
    /// The file name inside the report folder.
    public static let fileName = "summary.md"

    /// The report the page is rendered from.
    public var report: ExperimentReport

    /// The page of `report`.
    public init(report: ExperimentReport) {
        self.report = report
    }

    /// The page of the finished report in `directory` (its `results.json`).
    ///
    /// - Throws: ``ExperimentError/invalidRun(_:)`` when the folder has no readable `results.json`.
    public init(reportDirectory directory: URL) throws {
        let url = directory.appendingPathComponent("results.json")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            report = try decoder.decode(ExperimentReport.self, from: Data(contentsOf: url))
        } catch {
            throw ExperimentError.invalidRun("cannot read the report \(url.path): \(error)")
        }
    }

    /// The robustness columns in reading order: the feed-forward groups from small to large, then
    /// the transformer group, then any other augmentation by name.
    static func robustnessColumns(_ results: [ModelResult]) -> [String] {
        let present = Set(results.flatMap { $0.robustness.keys })
        let preferred = ["permutation", "scale [1, 10]", "scale [1, 100]"].filter(present.contains)
        let rest = present.subtracting(preferred).sorted()
        return preferred + rest
    }

    /// "216/54/90 (60/15/25 %)" from a result's `train/val/test` member counts; the counts alone
    /// when they do not parse.
    static func split(_ counts: String?) -> String {
        guard let counts else { return "–" }
        let parts = counts.split(separator: "/").compactMap { Int($0) }
        let total = parts.reduce(0, +)
        guard parts.count == 3, total > 0 else { return counts }
        let percent = parts.map { String(Int((100 * Double($0) / Double(total)).rounded())) }.joined(separator: "/")
        return "\(counts) (\(percent) %)"
    }

    /// `1234567` → `1,234,567`: the README's style, so numbers read the same in both places.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func fmt(_ x: Double?, _ digits: Int = 3) -> String { ExperimentReport.fmt(x, digits) }

    /// The total wall time the main job notes ("total wall time 1201.6 s, …"), in seconds.
    var wallSeconds: Double? {
        for note in report.notes {
            if let m = note.firstMatch(of: /total wall time ([0-9]+(?:\.[0-9]+)?) s/) { return Double(m.output.1) }
        }
        return nil
    }

    /// The page.
    public var markdown: String {
        let results = report.results
        let seed = results.first?.configuration["seed"]
        var s = "# Main job results\n\n"
        s += "Written by `nfn demo` as `\(Self.fileName)` beside its report; the full `make demo` copies it to "
        s += "`Docs/MainJobResults.md`. Do not edit it by hand: rerun the job. The README quotes these numbers, "
        s += "and a test checks every number of the README's results section against this page.\n\n"
        s += "**\(report.title)**" + (seed.map { ", seed \($0)" } ?? "") + "."
        if let wall = wallSeconds {
            s += " Total wall time \(String(format: "%.1f", wall)) s (\(String(format: "%.1f", wall / 60)) min)"
            if let note = report.notes.first(where: { $0.hasPrefix("total wall time") }),
               let detail = note.split(separator: ",", maxSplits: 1).dropFirst().first {
                s += ",\(detail)"
            }
            s += "."
        }
        s += "\n\n"

        let zooNotes = report.notes.filter { !$0.hasPrefix("claim:") && !$0.hasPrefix("total wall time") }
        if !zooNotes.isEmpty {
            s += "## Zoos\n\n" + zooNotes.map { "- \($0)\n" }.joined() + "\n"
        }

        if !results.isEmpty {
            let columns = Self.robustnessColumns(results)
            s += "## Test metrics per model\n\n"
            s += "τ: Kendall τ-b between predicted and true test accuracy on the held-out members (split by member); "
            s += "R² of the same predictions; the τ columns after the split repeat τ on the same test members, "
            s += "each moved by its own random group element (– where the group does not act on that zoo).\n\n"
            s += "| zoo | model | τ | R² | parameters | training (s) | best epoch | train/val/test |"
            s += columns.map { " τ \($0) |" }.joined() + "\n"
            s += "|---|---|---:|---:|---:|---:|---:|---:|" + columns.map { _ in "---:|" }.joined() + "\n"
            for r in results {
                s += "| \(r.zoo) | \(r.model) | \(Self.fmt(r.metrics["tau"])) | \(Self.fmt(r.metrics["r2"])) | "
                s += "\(Self.grouped(r.parameters)) | \(Self.fmt(r.trainingSeconds, 1)) | \(r.bestEpoch) | "
                s += "\(Self.split(r.configuration["train/val/test"])) |"
                s += columns.map { " \(Self.fmt(r.robustness[$0])) |" }.joined() + "\n"
            }
            s += "\n"
        }

        let claims = report.notes.filter { $0.hasPrefix("claim:") }
        if !claims.isEmpty {
            s += "## The seed papers' claims, checked on these zoos\n\n"
            s += claims.map { "- \($0.dropFirst("claim: ".count))\n" }.joined()
        }
        return s
    }

    /// Writes the page to `url`, atomically (a temporary file, then a rename).
    ///
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` naming the file that could not be written.
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(Data(markdown.utf8), to: url)
        } catch {
            throw ExperimentError.invalidArgument("could not write \(url.path): \(error)")
        }
    }
}
