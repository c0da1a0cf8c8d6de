import Foundation

/// The verdicts of a reproduction table: each row against its paper number, each claim on the
/// rows. Every verdict carries one sentence saying why.
public enum ReproductionVerdicts {
    typealias Report = ReproductionReport

    /// The row's mean against the paper's number. Absolute numbers are compared only at `large`
    /// scale (the papers' regime); a smaller zoo is reported as not comparable, saying why.
    static func row(model: String, summary: Report.Summary, higherIsBetter: Bool, paper: PaperNumber?,
                    scale: ReproductionScale, zoo: Report.ZooUse) -> Report.Verdict {
        guard let paper else {
            return .init(status: .notComparable, sentence: "No paper number is recorded for \(model) in this table.")
        }
        let ours = String(format: "%.3f", summary.mean), theirs = String(format: "%.3f", paper.value)
        guard scale == .large else {
            return .init(status: .notComparable,
                         sentence: "Not comparable: the paper's \(theirs) is on \(paper.zoo); this \(scale.rawValue)-scale run's \(ours) is on \(zoo.members) members trained on \(zoo.data).")
        }
        let tolerance = Swift.max(2 * summary.sd, 2 * (paper.sd ?? 0), 0.01)
        let within = abs(summary.mean - paper.value) <= tolerance
        return .init(status: within ? .holds : .doesNotHold,
                     sentence: "\(ours) against the paper's \(theirs) (\(paper.source)): \(within ? "within" : "outside") the tolerance ±\(String(format: "%.3f", tolerance)) (2 sd or 0.01), on \(zoo.members) members trained on \(zoo.data) rather than \(paper.zoo).")
    }

    /// How far τ may move under a group action and still count as flat (and how far it must fall
    /// to count as a drop). An invariant model's predictions on acted-on members differ from the
    /// originals only by Float32 rounding (weights scaled by up to 100 are rounded differently),
    /// which can swap the order of two near-tied predictions: each swapped test pair moves τ by
    /// 2/(n(n−1)), 1.2e-4 for n = 180. Measured on the standard CNN table: Monomial-NFN moved by
    /// −1.2e-4 under scale [1, 100] (one pair of 16,110, on two of three seeds); HNP fell by 0.30.
    /// 0.002 allows about 16 such swaps among 16,110 pairs.
    static let flatTolerance = 0.002

    /// A claim checked on the rows of its part.
    static func claim(_ c: ReproductionClaim, rows: [Report.ReproductionRow]) -> Report.Verdict {
        func row(_ m: String) -> Report.ReproductionRow? { rows.first { $0.part == c.part && $0.method == m } }
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        switch c.check {
        case let .atLeast(better, worse):
            guard let a = row(better), let b = row(worse) else {
                return .init(status: .notComparable, sentence: "Not comparable: \(better) or \(worse) was not run.")
            }
            let ok = a.higherIsBetter ? a.summary.mean >= b.summary.mean : a.summary.mean <= b.summary.mean
            let seeds = a.summary.values.count
            let caveat = seeds < 3 ? " (\(seeds) seed: an observation, not a test)" : ""
            return .init(status: ok ? .holds : .doesNotHold,
                         sentence: "\(better) \(f(a.summary.mean)) ± \(f(a.summary.sd)) against \(worse) \(f(b.summary.mean)) ± \(f(b.summary.sd)) in \(a.metric)\(caveat).")
        case let .flatUnder(model, augmentation), let .dropsUnder(model, augmentation):
            guard let r = row(model), let moved = r.robustness[augmentation] else {
                return .init(status: .notComparable, sentence: "Not comparable: \(model) under \(augmentation) was not measured.")
            }
            let delta = moved.mean - r.summary.mean
            let acted = r.augmentedMembers[augmentation].map { " (\($0.actedOn) of \($0.of) test members acted on; the others, whose activation lacks that symmetry, were only permuted)" } ?? ""
            let flat = abs(delta) <= flatTolerance
            let change = String(format: "%.1e", delta)
            if case .flatUnder = c.check {
                return .init(status: flat ? .holds : .doesNotHold,
                             sentence: "\(model): \(f(r.summary.mean)) → \(f(moved.mean)) under \(augmentation) (change \(change); flat means within ±\(flatTolerance))\(acted).")
            }
            return .init(status: delta < -flatTolerance ? .holds : .doesNotHold,
                         sentence: "\(model): \(f(r.summary.mean)) → \(f(moved.mean)) under \(augmentation) (change \(change))\(acted).")
        }
    }
}
