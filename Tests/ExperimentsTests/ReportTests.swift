import Foundation
import Testing
@testable import Experiments
import Training
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ReportTests {
    @Test func reportFolderHoldsJSONMarkdownAndPlots() throws {
        let curve = [MetanetworkEpoch(epoch: 1, trainLoss: 0.7, validationMetric: 0.3, seconds: 1),
                     MetanetworkEpoch(epoch: 2, trainLoss: 0.6, validationMetric: 0.5, seconds: 1)]
        let report = ExperimentReport(title: "test", results: [
            ModelResult(model: "HNP", zoo: "cnn", task: "generalization", parameters: 1234, trainingSeconds: 3.2,
                        epochs: 2, bestEpoch: 2, metrics: ["tau": 0.81, "r2": 0.6], robustness: ["scale [1, 10]": 0.2],
                        learningCurve: curve, predictions: [0.1, 0.5], actual: [0.2, 0.4]),
            ModelResult(model: "STATNN", zoo: "cnn", task: "generalization", parameters: 99, trainingSeconds: 1,
                        epochs: 2, bestEpoch: 1, metrics: ["tau": .nan], learningCurve: curve),
        ], notes: ["a note"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-report-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try report.write(to: dir)
        let plots = ["scatter-cnn-hnp", "learning-curves-cnn"]
        // A PNG beside each SVG exactly when Debian's rsvg-convert is installed.
        let pngs = PNGRenderer.converter == nil ? [] : plots.map { $0 + ".png" }
        #expect(Set(files.map(\.lastPathComponent)) == Set(["results.json", "results.md"] + plots.map { $0 + ".svg" } + pngs))
        if PNGRenderer.converter != nil {
            let png = try Data(contentsOf: dir.appendingPathComponent("scatter-cnn-hnp.png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let back = try decoder.decode(ExperimentReport.self, from: Data(contentsOf: dir.appendingPathComponent("results.json")))
        #expect(back.results.count == 2 && back.results[0].metrics["tau"] == 0.81)
        let md = try String(contentsOf: dir.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(md.contains("| cnn | HNP | 0.810 | 0.600 | 1234 | 3.2 | 2 |"))
        #expect(md.contains("| cnn | HNP | 0.810 | 0.200 |"))
        #expect(md.contains("| cnn | STATNN | – |"))
        for svg in files where svg.pathExtension == "svg" {
            #expect(XMLParser(data: try Data(contentsOf: svg)).parse())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains(".tmp") })
    }

    @Test func runsCombineIntoMeanAndSpreadPerModel() throws {
        func run(_ model: String, seed: Int, tau: Double) throws -> URL {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-compare-\(UUID())")
            let r = ModelResult(model: model, zoo: "cnn", task: "generalization", parameters: 10, trainingSeconds: 1,
                                epochs: 1, bestEpoch: 1, metrics: ["tau": tau], configuration: ["seed": "\(seed)"])
            try ExperimentReport(title: "run", results: [r]).write(to: dir)
            return dir
        }
        let runs = [try run("hnp", seed: 0, tau: 0.6), try run("statnn", seed: 0, tau: 0.5), try run("hnp", seed: 1, tau: 0.7)]
        defer { for r in runs { try? FileManager.default.removeItem(at: r) } }
        let comparison = try RunComparison(runs: runs)
        #expect(comparison.rows.map(\.model) == ["hnp", "statnn"])
        let hnp = comparison.rows[0]
        #expect(hnp.values == [0.6, 0.7] && hnp.seeds == ["0", "1"] && abs(hnp.mean - 0.65) < 1e-12)
        #expect(abs((hnp.standardDeviation ?? 0) - 0.0707107) < 1e-6)
        #expect(comparison.rows[1].standardDeviation == nil)
        #expect(comparison.markdown.contains("| generalization | cnn | hnp | tau | 0.650 ± 0.071 | 2 | 0, 1 | 10 |"))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-compare-out-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let files = try comparison.write(to: out).map(\.lastPathComponent)
        #expect(Set(files).isSuperset(of: ["comparison.md", "comparison.json", "comparison-tau.svg"]))
        let svg = try String(contentsOf: out.appendingPathComponent("comparison-tau.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3)
        // A folder that is not a finished run is an error naming it.
        #expect(throws: ExperimentError.self) { try RunComparison(runs: [out]) }
    }
}
