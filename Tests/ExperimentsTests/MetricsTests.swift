import Foundation
import Testing
import Tensors
@testable import Experiments
import Training
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct MetricsTests {
    @Test func kendallTauMatchesKnownValues() {
        #expect(abs(Metrics.kendallTauB([1, 2, 3, 4], [1, 2, 3, 4]) - 1) < 1e-12)
        #expect(abs(Metrics.kendallTauB([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12)
        #expect(abs(Metrics.kendallTauB([1, 2, 3], [1, 3, 2]) - 1.0 / 3) < 1e-12)
        // With ties (scipy.stats.kendalltau([1,2,2,3],[1,3,2,2]) = 0.4 exactly... computed by hand:
        // pairs: (1,2):c (1,3):c (1,4):c (2,3):tx (2,4):c? x 2<3, y 3>2 → d; (3,4): x 2<3, y 2=2 → ty.
        // nc=3, nd=1, tx=1, ty=1 → (3−1)/√(5·5) = 0.4.
        #expect(abs(Metrics.kendallTauB([1, 2, 2, 3], [1, 3, 2, 2]) - 0.4) < 1e-12)
        #expect(Metrics.kendallTauB([1, 1, 1], [1, 2, 3]).isNaN)
        #expect(Metrics.kendallTauB([1], [1]).isNaN)
        #expect(Metrics.kendallTauB([1, .nan], [1, 2]).isNaN)
    }

    @Test func fastKendallTauAgreesWithTheQuadraticDefinition() {
        var rng = SeededGenerator(seed: 1)
        for trial in 0..<200 {
            let n = 2 + trial % 40
            // Few distinct values so ties are common.
            let levels = 1 + trial % 7
            let x = (0..<n).map { _ in Double(rng.next() % UInt64(levels)) }
            let y = (0..<n).map { _ in Double(rng.next() % UInt64(levels + 2)) }
            let fast = Metrics.kendallTauB(x, y), slow = Metrics.kendallTauBReference(x, y)
            #expect(fast.isNaN == slow.isNaN)
            if !fast.isNaN { #expect(abs(fast - slow) < 1e-12, "n=\(n): \(fast) vs \(slow)") }
        }
    }

    @Test func kendallTauScalesToLargeInputs() {
        var rng = SeededGenerator(seed: 2)
        let x = (0..<200_000).map { _ in Double(rng.nextUnitFloat()) }
        let y = x.map { $0 + 0.1 * Double(rng.nextNormal()) }
        let start = Date()
        let tau = Metrics.kendallTauB(x, y)
        #expect(tau > 0.5 && tau < 1)
        #expect(Date().timeIntervalSince(start) < 5)   // O(n²) would be ~2·10¹⁰ pair visits
    }

    @Test func rSquaredAndThresholdSubsets() {
        #expect(abs(Metrics.rSquared(predicted: [1, 2, 3], actual: [1, 2, 3]) - 1) < 1e-12)
        #expect(abs(Metrics.rSquared(predicted: [2, 2, 2], actual: [1, 2, 3])) < 1e-12)
        let (tau, count) = Metrics.kendallTauB(predicted: [0.1, 0.9, 0.5, 0.7], actual: [0.2, 0.8, 0.6, 0.65], actualAtLeast: 0.6)
        #expect(count == 3)
        #expect(abs(tau - 1) < 1e-12)
    }

    @Test func svgChartsAreWellFormed() throws {
        let scatter = SVGPlot.scatter(x: [0.1, 0.5, 0.9], y: [0.2, 0.4, 0.95], title: "τ = 0.82 <test & check>",
                                      xLabel: "true accuracy", yLabel: "predicted")
        let lines = SVGPlot.lines([.init(name: "train", points: [(1, 0.5), (2, 0.3)]),
                                   .init(name: "val", points: [(1, 0.6), (2, .nan)])],
                                  title: "loss", xLabel: "epoch", yLabel: "loss")
        for svg in [scatter, lines] {
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
            #expect(svg.hasPrefix("<svg"))
        }
        #expect(scatter.contains("&lt;test &amp; check&gt;"))
        #expect(scatter.components(separatedBy: "<circle").count - 1 == 3)
    }

    @Test func axesTickAtRoundValues() {
        // The values a report once labelled 0.0284, 0.235, 0.442 and −0.55, 7.97, 16.5.
        let accuracy = SVGPlot.axis([0.0284, 0.442])
        #expect(accuracy.ticks.map { SVGPlot.label($0, step: accuracy.step) } == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"])
        let epochs = SVGPlot.axis([1, 16], integer: true)
        #expect(epochs.ticks.map { SVGPlot.label($0, step: epochs.step) } == ["0", "5", "10", "15", "20"])
        #expect(SVGPlot.axis([1, 30], integer: true).ticks == [0, 10, 20, 30])
        let few = SVGPlot.axis([1, 3], integer: true)
        #expect(few.step == 1 && few.ticks == [1, 2, 3])
        let tau = SVGPlot.axis([-0.12, 0.71])
        #expect(tau.ticks.map { SVGPlot.label($0, step: tau.step) } == ["-0.2", "0.0", "0.2", "0.4", "0.6", "0.8"])
        let flat = SVGPlot.axis([0.5, 0.5])
        #expect(flat.ticks.first! < 0.5 && flat.ticks.last! > 0.5)
    }

    @Test func learningCurvesMarkTheBestEpochAndKeepTheLegendOutside() {
        let svg = SVGPlot.lines([.init(name: "hnp", points: [(1, 0.2), (2, 0.5), (3, 0.4)], marked: 2)],
                                title: "validation τ", xLabel: "epoch", yLabel: "τ", integerX: true, width: 640)
        #expect(svg.contains("best epoch"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)   // the marked point and its legend key
        // The plot area ends left of the legend's text.
        #expect(svg.contains("<rect x=\"70.0\" y=\"44.0\" width=\"550.0\""))
        #expect(svg.contains("width=\"\(640 + 30 + 75)\""))   // room for "best epoch" beside the plot
    }
}
