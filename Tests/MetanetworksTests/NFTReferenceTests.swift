import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import _TestSupport

/// The vectorised layers against direct, loop-by-loop transcriptions of the formulas.
@Suite struct NFTReferenceTests {
    /// Zhou et al. 2023, *Neural Functional Transformers*, App. A.2, Eqs. 23–24 (with the
    /// mean-token layer term of §3.1), written entry by entry with scalar loops for one network: an
    /// independent check of the token assembly, heads and write-back.
    static func naiveSelfAttention(_ x: WeightSpaceFeatures, _ sa: NFTSelfAttention) -> WeightSpaceFeatures {
        let c = sa.channels, h = sa.heads, d = c / h, layers = x.layerCount
        let widths = x.widths
        let w = sa.sharedQKV!.weight.value, bias = sa.sharedQKV!.bias!.value        // [3C, C], [3C]
        func project(_ e: [Float]) -> [Float] {
            (0..<(3 * c)).map { o in bias[o] + (0..<c).reduce(Float(0)) { $0 + w[o, $1] * e[$1] } }
        }
        // Projected entries: pw[i][row][col] and pb[i][row], each [3C].
        var pw: [[[[Float]]]] = [], pb: [[[Float]]] = []
        for i in 0..<layers {
            let (o, n) = (widths[i + 1], widths[i])
            pw.append((0..<o).map { r in (0..<n).map { k in project((0..<c).map { x.weights[i][0, $0, r, k] }) } })
            pb.append((0..<o).map { r in project((0..<c).map { x.biases[i][0, $0, r] }) })
        }
        var outW = (0..<layers).map { i in [[[Float]]](repeating: [[Float]](repeating: [Float](repeating: 0, count: c), count: widths[i]), count: widths[i + 1]) }
        var outB = (0..<layers).map { i in [[Float]](repeating: [Float](repeating: 0, count: c), count: widths[i + 1]) }
        func attend(_ tokens: [[[Float]]], head: Int, scale: Float) -> [[[Float]]] {
            // tokens[t][r] is a [3C] vector per coordinate r; returns out[t][r][d].
            let q = { (t: Int, r: Int, e: Int) in tokens[t][r][head * d + e] }
            let k = { (t: Int, r: Int, e: Int) in tokens[t][r][c + head * d + e] }
            let v = { (t: Int, r: Int, e: Int) in tokens[t][r][2 * c + head * d + e] }
            let count = tokens.count, coords = tokens[0].count
            return (0..<count).map { a in
                var scores = (0..<count).map { b in
                    (0..<coords).reduce(Float(0)) { acc, r in acc + (0..<d).reduce(Float(0)) { $0 + q(a, r, $1) * k(b, r, $1) } } * scale
                }
                let m = scores.max()!
                scores = scores.map { Foundation.exp($0 - m) }
                let z = scores.reduce(0, +)
                return (0..<coords).map { r in (0..<d).map { e in (0..<count).reduce(Float(0)) { $0 + scores[$1] / z * v($1, r, e) } } }
            }
        }
        for l in 0...layers {
            let n = widths[l]
            var tokens: [[[Float]]] = []
            if l >= 1 {
                for col in 0..<widths[l - 1] { tokens.append((0..<n).map { pw[l - 1][$0][col] }) }   // columns of W⁽ℓ⁾
                tokens.append((0..<n).map { pb[l - 1][$0] })                                            // v⁽ℓ⁾
            }
            if l < layers {
                for row in 0..<widths[l + 1] { tokens.append((0..<n).map { pw[l][row][$0] }) }         // rows of W⁽ℓ⁺¹⁾
            }
            for head in 0..<h {
                let out = attend(tokens, head: head, scale: 1 / Float(n * d).squareRoot())
                var t = 0
                if l >= 1 {
                    for col in 0..<widths[l - 1] {
                        for r in 0..<n { for e in 0..<d { outW[l - 1][r][col][head * d + e] += out[t][r][e] } }
                        t += 1
                    }
                    for r in 0..<n { for e in 0..<d { outB[l - 1][r][head * d + e] += out[t][r][e] } }
                    t += 1
                }
                if l < layers {
                    for row in 0..<widths[l + 1] {
                        for r in 0..<n { for e in 0..<d { outW[l][row][r][head * d + e] += out[t][r][e] } }
                        t += 1
                    }
                }
            }
        }
        // Layer term: 2L mean tokens (a single coordinate each).
        var means: [[[Float]]] = []
        for i in 0..<layers {
            let entries = pw[i].flatMap { $0 }
            means.append([(0..<(3 * c)).map { ch in entries.reduce(Float(0)) { $0 + $1[ch] } / Float(entries.count) }])
        }
        for i in 0..<layers {
            means.append([(0..<(3 * c)).map { ch in pb[i].reduce(Float(0)) { $0 + $1[ch] } / Float(pb[i].count) }])
        }
        for head in 0..<h {
            let g = attend(means, head: head, scale: 1 / Float(d).squareRoot())
            for i in 0..<layers {
                for r in 0..<widths[i + 1] {
                    for e in 0..<d {
                        for k in 0..<widths[i] { outW[i][r][k][head * d + e] += g[i][0][e] }
                        outB[i][r][head * d + e] += g[layers + i][0][e]
                    }
                }
            }
        }
        let weights = (0..<layers).map { i in
            Tensor(shape: [1, c, widths[i + 1], widths[i]]) { flat in
                let k = flat % widths[i], r = (flat / widths[i]) % widths[i + 1], ch = flat / (widths[i] * widths[i + 1])
                return outW[i][r][k][ch]
            }
        }
        let biases = (0..<layers).map { i in
            Tensor(shape: [1, c, widths[i + 1]]) { flat in outB[i][flat % widths[i + 1]][flat / widths[i + 1]] }
        }
        return try! WeightSpaceFeatures(weights: weights, biases: biases)
    }

    @Test(arguments: [1, 2, 3])
    func selfAttentionMatchesTheEntrywiseFormula(heads: Int) throws {
        var rng = SeededGenerator(seed: 51)
        let arch = try FeedforwardArchitecture.mlp(widths: [2, 4, 3, 2])
        let sa = try NFTSelfAttention(channels: 6, heads: heads, filterFactors: [1, 1, 1], rng: &rng)
        let x = nftRandomFeatures(arch, batch: 1, channels: 6, rng: &rng)
        let fast = nftApply(sa, x), naive = Self.naiveSelfAttention(x, sa)
        let dev = relativeDeviation(nftTensors(fast), nftTensors(naive))
        #expect(dev <= 1e-5, "heads \(heads): deviation \(dev)")
    }

    /// Cross-attention pooling, entry by entry.
    @Test func crossAttentionPoolingMatchesTheFormula() throws {
        var rng = SeededGenerator(seed: 52)
        let arch = try FeedforwardArchitecture.mlp(widths: [2, 3, 2])
        let pool = try CrossAttentionPooling(channels: 3, queries: 2, dimension: 4, filterFactors: [1, 1], rng: &rng)
        let x = nftRandomFeatures(arch, batch: 1, channels: 3, rng: &rng)
        let fast = pool(WeightSpaceVariables(x)).value
        let w = pool.sharedKeyValue!.weight.value, b = pool.sharedKeyValue!.bias!.value, e = pool.queries.value
        var entries: [[Float]] = []
        for i in 0..<x.layerCount {
            let (o, n) = (x.widths[i + 1], x.widths[i])
            for r in 0..<o { for k in 0..<n { entries.append((0..<3).map { x.weights[i][0, $0, r, k] }) } }
            for r in 0..<o { entries.append((0..<3).map { x.biases[i][0, $0, r] }) }
        }
        var kv: [[Float]] = []
        for t in entries {
            var row = [Float](repeating: 0, count: 8)
            for o in 0..<8 {
                var acc: Float = b[o]
                for ch in 0..<3 { acc += w[o, ch] * t[ch] }
                row[o] = acc
            }
            kv.append(row)
        }
        for m in 0..<2 {
            var s: [Float] = kv.map { t in
                var acc: Float = 0
                for j in 0..<4 { acc += e[m, j] * t[j] }
                return acc / 2
            }
            let mx = s.max()!
            s = s.map { Foundation.exp($0 - mx) }
            let z = s.reduce(0, +)
            for j in 0..<4 {
                var expected: Float = 0
                for (weight, t) in zip(s, kv) { expected += weight / z * t[4 + j] }
                #expect(abs(fast[0, m * 4 + j] - expected) <= 1e-5 * max(1, abs(expected)))
            }
        }
    }

    /// The predictor's folded fast path equals chaining the public canonical layers.
    @Test func foldedAndCanonicalPathsAgree() throws {
        var rng = SeededGenerator(seed: 53)
        let zoo = FeedforwardArchitecture.smallCNNZoo()
        let model = try NFTPredictor(architecture: zoo, configuration: .init(channels: 8, blocks: 2, heads: 2), rng: &rng)
        let x = nftRandomFeatures(zoo, batch: 2, channels: 1, std: 0.3, rng: &rng)
        var h = model.encoding!(model.projection(WeightSpaceVariables(x)))
        for block in model.blocks { h = block(h) }
        let canonical = model.head(model.pooling(h)).value
        #expect(relativeDeviation([model.predict(x)], [canonical]) <= 1e-5)
    }
}
