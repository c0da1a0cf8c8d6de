import Foundation
import SwiftNFN

/// The tree-ensemble rows: an XGBoost fit on STATNN features through SwiftNFN's wrapper of
/// Debian's libxgboost beside the Python xgboost package fitting the same matrix with the same
/// parameters (python/xgboost_reference.py), in alternating rounds.
///
/// The data: `members` random Small-CNN-Zoo weight sets, their 56 per-layer statistics, and a
/// target that depends on them non-linearly (so the trees have something to split on).
func treeEnsembleRows(members: Int, rounds: Int, repeats: Int, threads: Int, pythonDirectory: String) throws -> [BenchmarkRow] {
    var rng = SeededGenerator(seed: 5)
    let statistics = smallCNNZooBatch(members, rng: &rng).layerStatistics().reshaped([members, -1])
    let columns = statistics.shape[1]
    let s = statistics.scalars
    let labels = (0..<members).map { i -> Float in
        let row = s[(i * columns)..<((i + 1) * columns)]
        let spread = row.enumerated().filter { $0.offset % 14 == 1 }.map(\.element).reduce(0, +)   // weight variances
        return 1 / (1 + exp(-(spread - 0.35) * 8)) + Float.random(in: -0.02...0.02, using: &rng)
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-bench-trees-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let featuresURL = folder.appendingPathComponent("features.npy"), labelsURL = folder.appendingPathComponent("labels.npy")
    try NumpyArray.write(statistics, to: featuresURL)
    try NumpyArray.write(Tensor(labels), to: labelsURL)

    // Both sides start from the mean target (Python's xgboost ≥ 2.0 would estimate it, Debian's 1.7 would not).
    let baseScore = labels.reduce(0, +) / Float(members)
    var cases: [(name: String, key: String, kind: TreeEnsembleKind, h: TreeEnsembleHyperparameters)] = []
    for kind in TreeEnsembleKind.allCases {
        var h = kind.defaults
        h.threads = threads
        cases.append(("\(kind.rawValue) fit (\(h.rounds) round(s) × \(h.parallelTrees) tree(s), depth \(h.maxDepth)) on STATNN features of \(members) Small-CNN-Zoo nets",
                      kind.rawValue, kind, h))
    }
    var parameters: [String: Any] = [:]
    for c in cases {
        var p = c.h.xgboostParameters(kind: c.kind, seed: 0, baseScore: baseScore)
        p.removeValue(forKey: "nthread")
        parameters[c.key] = ["params": p, "rounds": c.h.rounds]
    }
    let parametersJSON = String(decoding: try JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys]), as: UTF8.self)

    var rows: [BenchmarkRow] = []
    var oursByCase: [String: [Double]] = [:], refsByCase: [String: [Double]] = [:], ratiosByCase: [String: [Double]] = [:]
    var summaries: [String: TreeEnsembleSummary] = [:]
    var python: [String: [String: Any]] = [:]
    var available = true
    for _ in 0..<rounds {
        for c in cases {
            var booster: XGBoostBooster?
            let ms = median(Clock.samples(repeats: repeats, warmup: 0) {
                // The same work as Python's DMatrix(x, label=y) + xgb.train(params, d, rounds).
                guard let train = try? XGBoostMatrix(features: statistics, labels: labels),
                      let b = try? XGBoostBooster(training: train) else { return }
                try? b.setParameters(c.h.xgboostParameters(kind: c.kind, seed: 0, baseScore: baseScore))
                for r in 0..<c.h.rounds { try? b.update(round: r, training: train) }
                booster = b
            })
            oursByCase[c.key, default: []].append(ms)
            if let booster { summaries[c.key] = try TreeEnsembleSummary(booster) }
        }
        guard available, let r = pythonResults(script: "\(pythonDirectory)/xgboost_reference.py", module: "xgboost", threads: threads,
                                               repeats: repeats, extra: ["--features", featuresURL.path, "--labels", labelsURL.path,
                                                                         "--params", parametersJSON]) else { available = false; continue }
        python = r
        for c in cases {
            guard let ref = r[c.key]?["median_ms"] as? Double, let ours = oursByCase[c.key]?.last else { continue }
            refsByCase[c.key, default: []].append(ref)
            ratiosByCase[c.key, default: []].append(ours / ref)
        }
    }
    for c in cases {
        let ours = summaries[c.key].map { "ours \($0.trees) trees / \($0.leaves) leaves (libxgboost \(xgboostVersion))" } ?? ""
        let theirs = python[c.key].map { p in
            "; Python \(p["trees"] ?? "?") trees / \(p["leaves"] ?? "?") leaves (xgboost \(p["version"] ?? "?"))"
        } ?? ""
        rows.append(BenchmarkRow(name: c.name, ours_median_ms: median(oursByCase[c.key] ?? []),
                                 reference: available ? "Python xgboost package (same matrix, same parameters)" : "Python xgboost (not installed: skipped)",
                                 reference_median_ms: available ? median(refsByCase[c.key] ?? []) : nil,
                                 ratio_kind: "ours time ÷ Python xgboost time (≤ 1 is no slower)",
                                 ratio: available ? median(ratiosByCase[c.key] ?? []) : nil,
                                 note: ours + theirs))
    }
    return rows
}
