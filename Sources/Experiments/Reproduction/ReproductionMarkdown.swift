import Foundation

/// `reproduction.md`: the table (ours beside the paper's), the claims with their verdicts, the
/// zoos and the recipe.
public enum ReproductionMarkdown {
    /// The Markdown page of a report.
    public static func render(_ r: ReproductionReport) -> String {
        func f(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "–" }
        func pm(_ s: ReproductionReport.Summary) -> String { s.values.count > 1 ? "\(f(s.mean)) ± \(f(s.sd))" : f(s.mean) }
        var lines = ["# \(r.title)", "",
                     "Experiment `\(r.experiment)`, scale `\(r.scale.rawValue)`, seeds \(r.seeds.map(String.init).joined(separator: ", ")) (mean ± sample sd over seeds); made by `nfn reproduce \(r.experiment) --scale \(r.scale.rawValue) --seeds \(r.seeds.count)`.", ""]
        if r.scale == .quick {
            lines += ["**Quick scale**: a few dozen members on synthetic digits — a check that the pipeline runs, not a measurement to compare with the papers.", ""]
        }
        var parts: [String] = []
        for row in r.rows where !parts.contains(row.part) { parts.append(row.part) }
        for part in parts {
            let rows = r.rows.filter { $0.part == part }
            // Shorter names first, so "scale [1, 10]" comes before "scale [1, 100]".
            let augmentations = Array(Set(rows.flatMap(\.robustness.keys))).sorted { ($0.count, $0) < ($1.count, $1) }
            let thresholds = Array(Set(rows.flatMap(\.otherMetrics.keys).filter { $0.hasPrefix("tau_acc_ge_") && $0 != "tau_acc_ge_0.50" })).sorted()
            let metric = rows.first.map { $0.metric + ($0.higherIsBetter ? " ↑" : " ↓") } ?? ""
            lines.append("## \(part)")
            lines.append("")
            var header = "| method | \(metric) | paper | parameters | training s |"
            var rule = "| --- | --- | --- | ---: | ---: |"
            for t in thresholds { header += " \(t.replacingOccurrences(of: "tau_acc_ge_", with: "τ, acc ≥ ")) |"; rule += " --- |" }
            for a in augmentations { header += " \(a) |"; rule += " --- |" }
            header += " verdict |"; rule += " --- |"
            lines += [header, rule]
            for row in rows {
                let paper = row.paper.map { p in p.sd.map { "\(f(p.value)) ± \(f($0))" } ?? f(p.value) } ?? "–"
                var line = "| \(row.method) | \(pm(row.summary)) | \(paper) | \(row.parameters) | \(String(format: "%.1f", row.trainingSeconds.mean)) |"
                for t in thresholds { line += " \(row.otherMetrics[t].map(pm) ?? "–") |" }
                for a in augmentations {
                    let acted = row.augmentedMembers[a].map { " (\($0.actedOn)/\($0.of))" } ?? ""
                    line += " \(row.robustness[a].map(pm) ?? "–")\(acted) |"
                }
                line += " \(row.verdict.status.rawValue) |"
                lines.append(line)
            }
            lines.append("")
            if !augmentations.isEmpty {
                lines += ["Robustness columns: the metric on test sets each moved by its own random group element; (k/n): k of n test members (summed over seeds) were acted on in full, the others' activation lacks that symmetry, so they were only permuted.", ""]
            }
            for row in rows { lines.append("- **\(row.method)**: \(row.verdict.sentence)") }
            lines.append("")
        }
        if !r.claims.isEmpty {
            lines += ["## Claims", ""]
            for c in r.claims {
                lines.append("- \(c.claim.text) (\(c.claim.source)): **\(c.verdict.status.rawValue)** — \(c.verdict.sentence)")
            }
            lines.append("")
        }
        lines += ["## Zoos and recipe", ""]
        for z in r.zoos {
            lines.append("- \(z.part): \(z.members) members, \(z.data); spec hash `\(z.specHash)`; \(z.generatedNow) trained in this run.")
        }
        for n in r.notes { lines.append("- \(n)") }
        lines.append(String(format: "- wall time %.1f s", r.wallSeconds))
        return lines.joined(separator: "\n") + "\n"
    }
}
