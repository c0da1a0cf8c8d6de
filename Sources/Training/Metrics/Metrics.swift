import Foundation

/// Rank-correlation and regression metrics for generalization prediction.
public enum Metrics {
    /// Kendall's τ-b between two equally long sequences, with ties handled:
    /// τ_b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)), n₀ = n(n−1)/2, n₁ / n₂ = pairs tied in x / in y.
    ///
    /// Computed with Knight's algorithm: sort by (x, y), count pairs tied in x and in (x, y), then
    /// count discordant pairs as the swaps of a merge sort on y. Returns NaN when either sequence
    /// is constant or fewer than two values are given, and NaN if any value is NaN.
    /// - Complexity: O(n log n).
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "kendallTauB needs equally long sequences, got \(x.count) and \(y.count)")
        let n = x.count
        guard n >= 2, !x.contains(where: \.isNaN), !y.contains(where: \.isNaN) else { return .nan }
        var order = Array(0..<n)
        order.sort { x[$0] != x[$1] ? x[$0] < x[$1] : y[$0] < y[$1] }
        let n0 = Double(n) * Double(n - 1) / 2

        // Pairs tied in x (n1) and tied in both (n3).
        var n1 = 0.0, n3 = 0.0
        var i = 0
        while i < n {
            var j = i + 1
            while j < n, x[order[j]] == x[order[i]] { j += 1 }
            let t = Double(j - i); n1 += t * (t - 1) / 2
            var k = i
            while k < j {
                var l = k + 1
                while l < j, y[order[l]] == y[order[k]] { l += 1 }
                let u = Double(l - k); n3 += u * (u - 1) / 2
                k = l
            }
            i = j
        }

        // Discordant pairs = inversions of y in this order (ties in y are not inversions).
        var ys = order.map { y[$0] }
        var buffer = ys
        let swaps = Double(mergeCountInversions(&ys, &buffer, 0, n))

        // Pairs tied in y (n2), from the now-sorted ys.
        var n2 = 0.0
        i = 0
        while i < n {
            var j = i + 1
            while j < n, ys[j] == ys[i] { j += 1 }
            let t = Double(j - i); n2 += t * (t - 1) / 2
            i = j
        }
        let concordantMinusDiscordant = n0 - n1 - n2 + n3 - 2 * swaps
        let denominator = ((n0 - n1) * (n0 - n2)).squareRoot()
        return denominator > 0 ? concordantMinusDiscordant / denominator : .nan
    }

    /// Sorts `a[lo..<hi]` ascending and returns the number of strict inversions.
    private static func mergeCountInversions(_ a: inout [Double], _ buf: inout [Double], _ lo: Int, _ hi: Int) -> Int {
        guard hi - lo > 1 else { return 0 }
        let mid = (lo + hi) / 2
        var count = mergeCountInversions(&a, &buf, lo, mid) + mergeCountInversions(&a, &buf, mid, hi)
        var i = lo, j = mid, k = lo
        while i < mid && j < hi {
            if a[j] < a[i] { buf[k] = a[j]; j += 1; count += mid - i } else { buf[k] = a[i]; i += 1 }
            k += 1
        }
        while i < mid { buf[k] = a[i]; i += 1; k += 1 }
        while j < hi { buf[k] = a[j]; j += 1; k += 1 }
        for t in lo..<hi { a[t] = buf[t] }
        return count
    }

    /// The O(n²) definition of τ-b, for checking ``kendallTauB(_:_:)`` on small inputs.
    public static func kendallTauBReference(_ x: [Double], _ y: [Double]) -> Double {
        let n = x.count
        guard n >= 2 else { return .nan }
        var nc = 0.0, nd = 0.0, tx = 0.0, ty = 0.0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tx += 1; continue }
                if dy == 0 { ty += 1; continue }
                if (dx > 0) == (dy > 0) { nc += 1 } else { nd += 1 }
            }
        }
        let d = ((nc + nd + tx) * (nc + nd + ty)).squareRoot()
        return d > 0 ? (nc - nd) / d : .nan
    }

    /// The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (NaN for constant y).
    public static func rSquared(predicted: [Double], actual: [Double]) -> Double {
        precondition(predicted.count == actual.count, "rSquared needs equally long sequences")
        guard !actual.isEmpty else { return .nan }
        let mean = actual.reduce(0, +) / Double(actual.count)
        var ssRes = 0.0, ssTot = 0.0
        for (p, a) in zip(predicted, actual) { ssRes += (a - p) * (a - p); ssTot += (a - mean) * (a - mean) }
        return ssTot > 0 ? 1 - ssRes / ssTot : .nan
    }

    /// Mean squared error.
    public static func meanSquaredError(predicted: [Double], actual: [Double]) -> Double {
        precondition(predicted.count == actual.count, "meanSquaredError needs equally long sequences")
        guard !actual.isEmpty else { return .nan }
        return zip(predicted, actual).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(actual.count)
    }

    /// τ-b restricted to members whose true value is ≥ `threshold` (the seeds' accuracy-threshold
    /// subsets), with the subset size.
    public static func kendallTauB(predicted: [Double], actual: [Double], actualAtLeast threshold: Double) -> (tau: Double, count: Int) {
        let keep = actual.indices.filter { actual[$0] >= threshold }
        return (kendallTauB(keep.map { predicted[$0] }, keep.map { actual[$0] }), keep.count)
    }
}
