import Foundation
import Testing
@testable import Experiments

/// The claim verdicts of `nfn reproduce` on constructed rows: "flat" tolerates the Float32
/// reordering of a near-tied pair, and nothing larger.
@Suite struct ReproductionVerdictTests {
    typealias Report = ReproductionReport

    static func row(_ method: String, tau: [Double], scaled: [Double]) -> Report.ReproductionRow {
        Report.ReproductionRow(part: "cnn-zoo", method: method, metric: "tau", higherIsBetter: true, summary: .init(tau),
                               otherMetrics: [:], robustness: ["scale [1, 100]": .init(scaled)],
                               augmentedMembers: ["scale [1, 100]": .init(actedOn: 266, of: 540)], parameters: 1,
                               trainingSeconds: .init([1]), paper: nil, verdict: .init(status: .notComparable, sentence: ""))
    }

    static func verdict(_ check: ReproductionClaim.Check, _ rows: [Report.ReproductionRow]) -> Report.Verdict {
        ReproductionVerdicts.claim(ReproductionClaim("claim", source: "test", part: "cnn-zoo", check: check), rows: rows)
    }

    @Test func flatToleratesOneReorderedPairButNotAChange() {
        // The standard table's Monomial-NFN: one of 16,110 test pairs swapped on two seeds.
        let monomial = Self.row("monomial", tau: [0.5931635, 0.6077301, 0.6482379], scaled: [0.5930391, 0.6076055, 0.6481134])
        let flat = Self.verdict(.flatUnder(model: "monomial", augmentation: "scale [1, 100]"), [monomial])
        #expect(flat.status == .holds, "\(flat.sentence)")
        #expect(flat.sentence.contains("-1.2e-04") && flat.sentence.contains("266 of 540"), "\(flat.sentence)")
        // A model that moves by 0.01 is not flat, and does drop.
        let moved = Self.row("hnp", tau: [0.60, 0.62], scaled: [0.59, 0.61])
        #expect(Self.verdict(.flatUnder(model: "hnp", augmentation: "scale [1, 100]"), [moved]).status == .doesNotHold)
        #expect(Self.verdict(.dropsUnder(model: "hnp", augmentation: "scale [1, 100]"), [moved]).status == .holds)
        // Rounding alone is not a drop.
        #expect(Self.verdict(.dropsUnder(model: "monomial", augmentation: "scale [1, 100]"), [monomial]).status == .doesNotHold)
        // A claim on a row that was not run is not comparable.
        #expect(Self.verdict(.flatUnder(model: "nft", augmentation: "scale [1, 100]"), [monomial]).status == .notComparable)
    }

    @Test func atLeastComparesMeansInTheMetricsDirection() {
        let a = Self.row("hnp", tau: [0.70, 0.66], scaled: [0.5, 0.5])
        let b = Self.row("np", tau: [0.63, 0.64], scaled: [0.5, 0.5])
        #expect(Self.verdict(.atLeast(better: "hnp", worse: "np"), [a, b]).status == .holds)
        #expect(Self.verdict(.atLeast(better: "np", worse: "hnp"), [a, b]).status == .doesNotHold)
        #expect(Self.verdict(.atLeast(better: "np", worse: "hnp"), [a, b]).sentence.contains("2 seed: an observation"))
    }
}
