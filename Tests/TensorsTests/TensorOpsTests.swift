import Foundation
import Testing
@_spi(Testing) import Tensors

// MARK: - Naive references

/// The row-major multi-index of flat position `flat` in `shape`.
private func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// The flat position of a multi-index in `shape`.
private func flatIndex(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// The element of `t` read at an index of the broadcast shape (NumPy rules, one element at a time).
private func broadcastRead(_ t: Tensor, _ index: [Int]) -> Float {
    let own = index.suffix(t.rank).enumerated().map { axis, i in t.shape[axis] == 1 ? 0 : i }
    return t[flat: flatIndex(own, t.shape)]
}

private func naiveBinary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    let shape = Tensor.broadcastShape(a.shape, b.shape)!
    return Tensor(shape: shape) { i in
        let index = multiIndex(i, shape)
        return op(broadcastRead(a, index), broadcastRead(b, index))
    }
}

/// A reduction over `axes` one element at a time; the result keeps the reduced axes with length 1.
private func naiveReduce(_ x: Tensor, _ axes: Set<Int>, initial: Float, _ combine: (Float, Float) -> Float) -> Tensor {
    let outShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    var out = Tensor(repeating: initial, shape: outShape)
    for i in 0..<x.count {
        var index = multiIndex(i, x.shape)
        for a in axes { index[a] = 0 }
        let o = flatIndex(index, outShape)
        out[flat: o] = combine(out[flat: o], x[flat: i])
    }
    return out
}

private func sample(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.normal(shape, rng: &rng)
}

// MARK: - Elementwise and broadcasting

@Suite struct BroadcastingTests {
    static let shapePairs: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([4], [3, 4]), ([3, 1], [1, 4]), ([2, 3, 4], [3, 1]),
        ([2, 1, 4], [3, 1]), ([], [2, 3]), ([2, 3], []), ([1], [2, 2, 2]), ([2, 3, 1, 5], [3, 4, 1]),
    ]

    @Test(arguments: shapePairs)
    func arithmeticMatchesNaiveReference(_ shapes: ([Int], [Int])) {
        let a = sample(shapes.0, seed: 1), b = sample(shapes.1, seed: 2).abs() + 0.5
        #expect(a + b == naiveBinary(a, b, +))
        #expect(a - b == naiveBinary(a, b, -))
        #expect(a * b == naiveBinary(a, b, *))
        #expect(a / b == naiveBinary(a, b, /))
        #expect(Tensor.maximum(a, b) == naiveBinary(a, b) { Swift.max($0, $1) })
        #expect(Tensor.minimum(a, b) == naiveBinary(a, b) { Swift.min($0, $1) })
    }

    @Test func broadcastShapeRules() {
        #expect(Tensor.broadcastShape([3, 1], [1, 4]) == [3, 4])
        #expect(Tensor.broadcastShape([5, 3, 4], [4]) == [5, 3, 4])
        #expect(Tensor.broadcastShape([], [2]) == [2])
        #expect(Tensor.broadcastShape([3], [4]) == nil)
        #expect(Tensor.broadcastShape([2, 3], [3, 3]) == nil)
    }

    @Test func broadcastAndSumToShapeAreAdjoint() {
        // ⟨broadcast(x), y⟩ = ⟨x, sumToShape(y)⟩ for every x, y.
        let x = sample([3, 1], seed: 3), y = sample([2, 3, 4], seed: 4)
        let lhs = (x.broadcast(to: [2, 3, 4]) * y).sum()
        let rhs = (x * y.sumToShape([3, 1])).sum()
        #expect(Swift.abs(lhs - rhs) < 1e-4)
        #expect(y.sumToShape([3, 1]).shape == [3, 1])
    }

    @Test func scalarOperandsMatchTensorOperands() {
        let a = sample([2, 3], seed: 5)
        #expect(a + 2 == a + Tensor(2))
        #expect(3 - a == Tensor(3) - a)
        #expect(a * 0.5 == a * Tensor(0.5))
        #expect(2 / (a.abs() + 1) == Tensor(2) / (a.abs() + 1))
    }
}

// MARK: - Reductions

@Suite struct ReductionTests {
    static let axisSets: [[Int]] = [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2], [-1]]

    @Test(arguments: axisSets)
    func reductionsMatchNaiveReference(_ axes: [Int]) {
        let x = sample([2, 3, 4], seed: 10)
        let normalised = Set(axes.map { $0 < 0 ? $0 + 3 : $0 })
        let n = Float(normalised.reduce(1) { $0 * x.shape[$1] })
        let sum = naiveReduce(x, normalised, initial: 0, +)
        let max = naiveReduce(x, normalised, initial: -.infinity) { Swift.max($0, $1) }
        let min = naiveReduce(x, normalised, initial: .infinity) { Swift.min($0, $1) }
        let kept = sum.shape, dropped = x.shape.enumerated().filter { !normalised.contains($0.offset) }.map(\.element)

        #expect(x.sum(alongAxes: axes, keepingDimensions: true).isApproximatelyEqual(to: sum, atol: 1e-5))
        #expect(x.sum(alongAxes: axes).shape == dropped)
        #expect(x.sum(alongAxes: axes).reshaped(kept).isApproximatelyEqual(to: sum, atol: 1e-5))
        #expect(x.mean(alongAxes: axes, keepingDimensions: true).isApproximatelyEqual(to: sum / n, atol: 1e-5))
        #expect(x.max(alongAxes: axes, keepingDimensions: true) == max)
        #expect(x.min(alongAxes: axes).reshaped(kept) == min)

        let mean = sum / n
        let squares = naiveReduce((x - mean).squared(), normalised, initial: 0, +)
        #expect(x.variance(alongAxes: axes, keepingDimensions: true).isApproximatelyEqual(to: squares / n, atol: 1e-5))
        #expect(x.variance(alongAxes: axes).shape == dropped)
    }

    @Test func wholeTensorReductions() {
        let x = Tensor(shape: [2, 3], scalars: [3, -1, 4, 1, -5, 9])
        #expect(x.sum() == 11)
        #expect(Swift.abs(x.mean() - 11 / 6) < 1e-6)
        #expect(x.max() == 9)
        #expect(x.min() == -5)
        #expect(x.argmax(alongAxis: 1) == [2, 2])
        #expect(x.argmax(alongAxis: 0) == [0, 0, 1])
        #expect(Tensor(shape: [4], scalars: [2, 7, 7, 1]).argmax(alongAxis: 0) == [1], "first index on ties")
    }

    @Test func sumAccumulatesInDouble() {
        // 2^24 + 1 + 1 + … stays at 2^24 in Float32 accumulation (each +1 rounds away); a Double
        // accumulator keeps all 998 ones (2^24 + 998 is even, so exactly representable in Float).
        var scalars = [Float](repeating: 1, count: 999)
        scalars[0] = 16_777_216
        #expect(Tensor(scalars).sum() == 16_777_216 + 998)
    }

    @Test func quantileMatchesHandComputedValues() {
        // Sorted: [1, 2, 3, 4, 10]. q = 0.3 → position 0.3·4 = 1.2 → 2 + 0.2·(3 − 2) = 2.2.
        let x = Tensor([4, 10, 1, 3, 2])
        #expect(Swift.abs(x.quantile(0.3) - 2.2) < 1e-6)
        #expect(x.quantile(0.5) == 3)
        #expect(x.quantile(0) == 1)
        #expect(x.quantile(1) == 10)
        // Position 0.9·4 = 3.6 → 4 + 0.6·(10 − 4) = 7.6.
        #expect(Swift.abs(x.quantile(0.9) - 7.6) < 1e-5)
    }
}

// MARK: - Shape operations

@Suite struct ShapeOpsTests {
    @Test func permuteMovesElementsAndRoundTrips() {
        let x = sample([2, 3, 4], seed: 20)
        let p = [2, 0, 1]
        let y = x.permuted(p)
        #expect(y.shape == [4, 2, 3])
        for i in 0..<y.count {
            let out = multiIndex(i, y.shape)
            var src = [0, 0, 0]
            for (k, axis) in p.enumerated() { src[axis] = out[k] }
            #expect(y[flat: i] == x[flat: flatIndex(src, x.shape)])
        }
        var inverse = [0, 0, 0]
        for (k, axis) in p.enumerated() { inverse[axis] = k }
        #expect(y.permuted(inverse) == x)
    }

    @Test func transposeSwapsAxesAndIsAnInvolution() {
        let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(m.transposed() == Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
        let x = sample([2, 3, 4], seed: 21)
        #expect(x.transposed().shape == [2, 4, 3])
        #expect(x.transposed(0, 2).shape == [4, 3, 2])
        #expect(x.transposed().transposed() == x)
        #expect(x.transposed(0, 2).transposed(0, 2) == x)
    }

    @Test func slicesConcatenateBackToTheOriginal() {
        let x = sample([3, 5, 2], seed: 22)
        for axis in 0..<3 {
            let length = x.shape[axis]
            let cut = length / 2
            let parts = [x.slice(axis: axis, 0..<cut), x.slice(axis: axis, cut..<length)]
            #expect(Tensor.concatenate(parts, alongAxis: axis) == x)
        }
        let middle = x.slice(axis: 1, 1..<3)
        #expect(middle.shape == [3, 2, 2])
        #expect(middle[2, 1, 0] == x[2, 2, 0])
        #expect(x[1] == x.slice(axis: 0, 1..<2).reshaped([5, 2]))
    }

    @Test func stackAddsAnAxis() {
        let a = sample([2, 3], seed: 23), b = sample([2, 3], seed: 24)
        let s0 = Tensor.stack([a, b], alongAxis: 0), s2 = Tensor.stack([a, b], alongAxis: -1)
        #expect(s0.shape == [2, 2, 3])
        #expect(s0[0] == a && s0[1] == b)
        #expect(s2.shape == [2, 3, 2])
        #expect(s2.slice(axis: 2, 1..<2).reshaped([2, 3]) == b)
    }

    @Test func gatherAndScatterAddAreAdjoint() {
        let x = sample([5, 3], seed: 25)
        let indices = [4, 0, 4, 2]
        let g = x.gathering(indices, alongAxis: 0)
        #expect(g.shape == [4, 3])
        #expect(g[0] == x[4] && g[1] == x[0] && g[2] == x[4] && g[3] == x[2])
        // ⟨gather(x), y⟩ = ⟨x, scatterAdd(y)⟩.
        let y = sample([4, 3], seed: 26)
        let scattered = y.scatterAdding(indices, alongAxis: 0, into: [5, 3])
        #expect(Swift.abs((g * y).sum() - (x * scattered).sum()) < 1e-4)
        // Repeated indices accumulate; untouched rows stay zero.
        #expect(scattered[4].isApproximatelyEqual(to: y[0] + y[2]))
        #expect(scattered[1] == Tensor(zeros: [3]))
        // Along a middle axis.
        let z = sample([2, 4, 3], seed: 27)
        let gz = z.gathering([3, 1], alongAxis: 1)
        #expect(gz.shape == [2, 2, 3])
        #expect(gz[1, 0, 2] == z[1, 3, 2])
    }

    @Test func padAndCropRoundTrip() {
        let x = sample([2, 3], seed: 28)
        let padding = [(before: 1, after: 2), (before: 0, after: 3)]
        let p = x.padded(padding, value: -7)
        #expect(p.shape == [5, 6])
        #expect(p[0, 0] == -7 && p[4, 5] == -7 && p[1, 3] == -7)
        #expect(p[1, 0] == x[0, 0] && p[2, 2] == x[1, 2])
        #expect(p.cropped(padding) == x)
        #expect((p.sum() - x.sum() - Float(p.count - x.count) * -7).magnitude < 1e-3)
    }

    @Test func expandAndSqueeze() {
        let x = sample([3, 4], seed: 29)
        #expect(x.expandingShape(at: 0).shape == [1, 3, 4])
        #expect(x.expandingShape(at: -1).shape == [3, 4, 1])
        #expect(x.expandingShape(at: 1).squeezingShape(at: [1]) == x)
        #expect(Tensor(zeros: [1, 3, 1]).squeezingShape().shape == [3])
    }

    @Test func oneHotRows() {
        let t = Tensor.oneHot([2, 0], classes: 3)
        #expect(t == Tensor(shape: [2, 3], scalars: [0, 0, 1, 1, 0, 0]))
    }
}

// MARK: - Softmax and normalisation

@Suite struct SoftmaxTests {
    @Test(arguments: [0, 1, 2, -1])
    func softmaxLanesSumToOne(_ axis: Int) {
        let x = sample([2, 3, 4], seed: 30) * 3
        let y = x.softmax(alongAxis: axis)
        #expect(y.shape == x.shape)
        #expect(y.min() > 0)
        let sums = y.sum(alongAxes: [axis])
        #expect(sums.isApproximatelyEqual(to: Tensor(ones: sums.shape), rtol: 0, atol: 1e-6))
    }

    @Test(arguments: [0, 1, -1])
    func softmaxMatchesDefinition(_ axis: Int) {
        let x = sample([3, 4], seed: 31)
        let e = x.exp()
        let expected = e / e.sum(alongAxes: [axis], keepingDimensions: true)
        #expect(x.softmax(alongAxis: axis).isApproximatelyEqual(to: expected, rtol: 1e-5, atol: 1e-7))
    }

    @Test func softmaxIsStableForLargeInputs() {
        let big = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -1000, -1001, -1002])
        let y = big.softmax(alongAxis: 1)
        #expect(!y.hasNonFinite)
        let small = Tensor(shape: [2, 3], scalars: [0, 1, 2, 0, -1, -2]).softmax(alongAxis: 1)
        #expect(y.isApproximatelyEqual(to: small, rtol: 1e-5, atol: 1e-7))
        // Same along a non-last axis.
        #expect(!big.transposed().softmax(alongAxis: 0).hasNonFinite)
        #expect(big.transposed().softmax(alongAxis: 0).isApproximatelyEqual(to: small.transposed(), atol: 1e-6))
    }

    @Test(arguments: [0, 1, 2])
    func logSoftmaxIsLogOfSoftmax(_ axis: Int) {
        let x = sample([2, 3, 4], seed: 32) * 2
        #expect(x.logSoftmax(alongAxis: axis).isApproximatelyEqual(to: x.softmax(alongAxis: axis).log(),
                                                                    rtol: 1e-5, atol: 1e-5))
    }

    @Test func logSoftmaxStaysFiniteWhereSoftmaxUnderflows() {
        let x = Tensor(shape: [1, 3], scalars: [0, -200, 1000])
        let y = x.logSoftmax(alongAxis: 1)
        #expect(!y.hasNonFinite)
        #expect(y.isApproximatelyEqual(to: Tensor(shape: [1, 3], scalars: [-1000, -1200, 0]), rtol: 1e-6))
    }

    @Test func softmaxPullbackMatchesTheJacobian() {
        // J = diag(y) − y yᵀ, so dx = Jᵀ g.
        let x = sample([5], seed: 33), g = sample([5], seed: 34)
        let y = x.softmax(alongAxis: 0)
        let dx = Tensor.softmaxPullback(output: y, gradient: g, alongAxis: 0)
        for i in 0..<5 {
            var expected: Float = 0
            for j in 0..<5 { expected += ((i == j ? y[j] : 0) - y[i] * y[j]) * g[j] }
            #expect(Swift.abs(dx[i] - expected) < 1e-6)
        }
        // log-softmax: ∂y_j/∂x_i = δ_ij − softmax_i, so dx_i = g_i − softmax_i Σ g.
        let ly = x.logSoftmax(alongAxis: 0)
        let ldx = Tensor.logSoftmaxPullback(output: ly, gradient: g, alongAxis: 0)
        #expect(ldx.isApproximatelyEqual(to: g - y * g.sum(), atol: 1e-6))
    }
}

@Suite struct LayerNormalizationTests {
    @Test(arguments: [1, 2, 3])
    func rowsHaveZeroMeanAndUnitVariance(_ trailingAxes: Int) {
        let x = sample([2, 3, 4], seed: 40) * 5 + 3
        let y = x.layerNormalized(trailingAxes: trailingAxes)
        let axes = Array((3 - trailingAxes)..<3)
        let mean = y.mean(alongAxes: axes), variance = y.variance(alongAxes: axes)
        #expect(mean.isApproximatelyEqual(to: Tensor(zeros: mean.shape), rtol: 0, atol: 1e-5))
        #expect(variance.isApproximatelyEqual(to: Tensor(ones: variance.shape), rtol: 0, atol: 1e-3))
    }

    @Test func matchesDefinitionAndReportsStatistics() {
        let x = sample([3, 6], seed: 41)
        let epsilon: Float = 0.1
        let (y, inverseStd) = x.layerNormalizedWithStatistics(trailingAxes: 1, epsilon: epsilon)
        let mu = x.mean(alongAxes: [1], keepingDimensions: true)
        let expectedInverse = (x.variance(alongAxes: [1]) + epsilon).sqrt().map { 1 / $0 }
        #expect(inverseStd.shape == [3])
        #expect(inverseStd.isApproximatelyEqual(to: expectedInverse, rtol: 1e-5))
        #expect(y.isApproximatelyEqual(to: (x - mu) * expectedInverse.reshaped([3, 1]), rtol: 1e-4, atol: 1e-5))
        #expect(x.layerNormalized(trailingAxes: 2).layerNormalizedWithStatistics(trailingAxes: 2).inverseStandardDeviation.shape == [])
    }

    @Test func constantRowsBecomeZeroAndLargeOffsetsAreHarmless() {
        let constant = Tensor(repeating: 4, shape: [2, 5])
        #expect(constant.layerNormalized() == Tensor(zeros: [2, 5]))
        // Two-pass statistics: a large common offset does not destroy the variance.
        let x = sample([1, 8], seed: 42)
        #expect((x + 10_000).layerNormalized().isApproximatelyEqual(to: x.layerNormalized(), atol: 2e-2))
    }
}

// MARK: - Value semantics and storage

@Suite struct StorageTests {
    @Test func copyOnWriteKeepsTheOriginal() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        #expect(a.storageBuffer === b.storageBuffer, "a copy shares storage until it is mutated")
        b[0, 1] = 20
        #expect(a == Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(b[0, 1] == 20)
        #expect(a.storageBuffer !== b.storageBuffer)
        var c = a
        c.withUnsafeMutableBufferPointer { $0[3] = -1 }
        #expect(a[1, 1] == 4 && c[1, 1] == -1)
        var d = a
        d *= 2
        #expect(a[0, 0] == 1 && d[0, 0] == 2)
    }

    @Test func uniqueTensorsMutateInPlace() {
        // Compare addresses, not buffers: holding the old buffer would itself force a copy.
        var a = Tensor(zeros: [4])
        let before = a.withUnsafeBufferPointer { $0.baseAddress }
        a[flat: 2] = 1
        #expect(a.withUnsafeBufferPointer { $0.baseAddress } == before)
    }

    @Test func reshapeSharesStorage() {
        let a = sample([2, 6], seed: 50)
        let r = a.reshaped([3, -1])
        #expect(r.shape == [3, 4])
        #expect(r.storageBuffer === a.storageBuffer)
        #expect(r.scalars == a.scalars)
        #expect(a.expandingShape(at: 0).storageBuffer === a.storageBuffer)
        // …and mutating the reshaped copy still copies first.
        var m = r
        m[0, 0] = 99
        #expect(a[0, 0] != 99)
    }
}

// MARK: - Random numbers

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameSequence() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let sa = (0..<16).map { _ in a.next() }, sb = (0..<16).map { _ in b.next() }
        let sc = (0..<16).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
        var r1 = SeededGenerator(seed: 7), r2 = SeededGenerator(seed: 7)
        #expect(Tensor.normal([10], rng: &r1) == Tensor.normal([10], rng: &r2))
    }

    @Test func splitStreamsAreReproducibleAndIndependentOfState() {
        var g = SeededGenerator(seed: 5)
        let early = g.split(stream: 3)
        for _ in 0..<10 { _ = g.next() }
        var s1 = early, s2 = g.split(stream: 3), other = g.split(stream: 4)
        let a = (0..<8).map { _ in s1.next() }, b = (0..<8).map { _ in s2.next() }
        let c = (0..<8).map { _ in other.next() }
        #expect(a == b)
        #expect(a != c)
    }

    @Test(arguments: [0, 1, 2, 10, 257])
    func permutationIsValidAndDeterministic(_ n: Int) {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let p = g1.permutation(n)
        #expect(p.sorted() == Array(0..<n))
        #expect(p == g2.permutation(n))
        if n >= 10 { #expect(p != Array(0..<n), "a shuffle of \(n) items should move something") }
    }

    @Test func distributionsHaveTheRightMoments() {
        var g = SeededGenerator(seed: 1)
        let u = Tensor.uniform([20_000], low: -1, high: 3, rng: &g)
        #expect(u.min() >= -1 && u.max() < 3)
        #expect(Swift.abs(u.mean() - 1) < 0.05)
        let n = Tensor.normal([20_000], mean: 2, std: 0.5, rng: &g)
        #expect(Swift.abs(n.mean() - 2) < 0.02)
        #expect(Swift.abs(n.variance(alongAxes: [0]).scalar.squareRoot() - 0.5) < 0.02)
        let t = Tensor.truncatedNormal([5000], std: 1.5, rng: &g)
        #expect(t.abs().max() <= 3)
    }
}
