import Foundation
import LinearAlgebra
import Tensors
import NeuralNetworks

/// K SIRENs of one architecture fitted together on one coordinate grid: their parameters stacked
/// on a leading member axis, each layer's forward and backward one strided-batched GEMM over the
/// members, a sine layer's bias, ω₀ and sine in one vectorised pass.
///
/// Fitting SIRENs one at a time spends most of each step building a tape and dispatching a dozen
/// small operations; here a step is a fixed sequence of BLAS calls and fused loops over
/// preallocated buffers. The stacked parameters are the master copy for the whole fit (the
/// optimizers update them in place, see ``StackedOptimizer``): the member modules are written only
/// when a checkpoint records them (``storeParameters(member:)``).
///
/// **Same as alone.** Every member's numbers go through the same operations, in the same order,
/// as the tape-based path (``SIREN`` under ``Module/lossAndGradients(_:)`` with
/// ``Loss/meanSquaredError(_:_:)``): the same GEMM shapes per member, bias added then multiplied
/// by ω₀ (each rounded), the same vectorised sine, the sine's pullback `(g·cos)·ω₀`, row-by-row
/// bias sums, the MSE in Double. No operation mixes members, so a member's weights never depend
/// on which members share its batch (tested).
final class SIRENMemberBatch {
    /// The member networks. Their parameter values are current only after
    /// ``storeParameters(member:)``: during a fit the stacked buffers hold the parameters.
    let members: [SIREN]
    /// `[inputs, hidden…, outputs]`.
    let widths: [Int]
    let frequency: Float
    /// P, the coordinate count.
    let pixels: Int
    private let coordinates: FloatBuffer                // [P, inputs]
    private let weights: [FloatBuffer]                  // per layer: [K, out, in]
    private let biases: [FloatBuffer]                   // per layer: [K, out]
    private let product: FloatBuffer                    // scratch, [K, P, max width]: h·Wᵀ of the layer at hand, or G·W in the backward
    private let activations: [FloatBuffer]              // hidden layers: [K, P, out], sin of the pre-activation
    private let cosines: [FloatBuffer]                  // hidden layers: [K, P, out], its cos (all the backward needs),
                                                        // then the layer's gradient (written over it in the backward)
    private let outputs: FloatBuffer                    // [K, P, outputs], then dL/dY (written over it in the backward)
    private let weightGradients: [FloatBuffer]
    private let biasGradients: [FloatBuffer]
    /// Each layer's (weight, bias) parameter paths in the members' modules.
    private let parameterPaths: [(weight: String, bias: String)]

    var count: Int { members.count }
    private var layerCount: Int { widths.count - 1 }

    /// One member's parameter tensor in the stacked buffers: ``parameterBlocks`` lists them.
    struct Block {
        /// The stacked values `[K, size]` and their gradients (same layout).
        let values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>
        /// Elements per member.
        let size: Int
    }

    /// Every parameter tensor of a member, as blocks of the stacked buffers (each layer's weight,
    /// then its bias): what an optimizer steps after ``backward(targets:)``.
    var parameterBlocks: [Block] {
        (0..<layerCount).flatMap { l in
            [Block(values: weights[l].base, gradients: weightGradients[l].base, size: widths[l + 1] * widths[l]),
             Block(values: biases[l].base, gradients: biasGradients[l].base, size: widths[l + 1])]
        }
    }

    /// Stacks the members' current parameters.
    ///
    /// - Throws: ``ZooError/invalidSpec(_:)`` when the members' architectures differ or the
    ///   coordinates do not match the input width.
    init(members: [SIREN], coordinates: Tensor) throws {
        guard let first = members.first else { throw ZooError.invalidSpec("a SIREN member batch needs at least one member") }
        func widthsOf(_ s: SIREN) -> [Int] {
            (s.hidden.map { $0.linear.inFeatures }) + [s.output.inFeatures, s.output.outFeatures]
        }
        let widths = widthsOf(first)
        guard members.allSatisfy({ widthsOf($0) == widths && $0.hidden.allSatisfy { $0.frequency == first.hidden.first?.frequency } }) else {
            throw ZooError.invalidSpec("the SIRENs of a member batch must share one architecture and ω₀")
        }
        guard coordinates.rank == 2, coordinates.shape[1] == widths[0] else {
            throw ZooError.invalidSpec("coordinates \(coordinates.shape) do not match the SIREN input width \(widths[0])")
        }
        self.members = members
        self.widths = widths
        frequency = first.hidden.first?.frequency ?? 1
        pixels = coordinates.shape[0]
        self.coordinates = FloatBuffer(coordinates.scalars)
        let k = members.count, p = pixels
        let layers = widths.count - 1
        weights = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1] * widths[$0]) }
        biases = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1]) }
        weightGradients = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1] * widths[$0]) }
        biasGradients = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1]) }
        activations = (0..<(layers - 1)).map { FloatBuffer(count: k * p * widths[$0 + 1]) }
        cosines = (0..<(layers - 1)).map { FloatBuffer(count: k * p * widths[$0 + 1]) }
        outputs = FloatBuffer(count: k * p * widths[layers])
        let widest = widths.max() ?? 1
        product = FloatBuffer(count: k * p * widest)
        let paths = Dictionary(uniqueKeysWithValues: first.namedParameters().map { (ObjectIdentifier($0.parameter), $0.path) })
        var resolved: [(String, String)] = []
        for layer in first.hidden.map(\.linear) + [first.output] {
            guard let w = paths[ObjectIdentifier(layer.weight)], let b = layer.bias.flatMap({ paths[ObjectIdentifier($0)] }) else {
                throw ZooError.invalidSpec("a SIREN layer without a bias cannot be batched")
            }
            resolved.append((w, b))
        }
        parameterPaths = resolved
        for member in 0..<k { loadParameters(member: member) }
    }

    /// The dense layers of `member` in order (its sine layers' linear maps, then the output).
    private func layers(of member: Int) -> [Dense] {
        members[member].hidden.map(\.linear) + [members[member].output]
    }

    /// Copies `member`'s module parameters into the stacked buffers (after the module changed:
    /// a step by its generic optimizer).
    func loadParameters(member: Int) {
        for (l, layer) in layers(of: member).enumerated() {
            let wCount = widths[l + 1] * widths[l], bCount = widths[l + 1]
            layer.weight.value.withUnsafeBufferPointer { (weights[l].base + member * wCount).update(from: $0.baseAddress!, count: wCount) }
            layer.bias?.value.withUnsafeBufferPointer { (biases[l].base + member * bCount).update(from: $0.baseAddress!, count: bCount) }
        }
    }

    /// Writes `member`'s stacked parameters into its module (fresh tensors, so values recorded
    /// earlier keep theirs) — before a checkpoint records the module.
    func storeParameters(member: Int) {
        for (l, layer) in layers(of: member).enumerated() {
            let fanIn = widths[l], fanOut = widths[l + 1]
            layer.weight.value = weights[l].tensor(shape: [fanOut, fanIn], offset: member * fanOut * fanIn)
            layer.bias?.value = biases[l].tensor(shape: [fanOut], offset: member * fanOut)
        }
    }

    /// Runs every member on the grid with the stacked parameters.
    func forward() {
        let k = count, p = pixels, layers = layerCount
        for l in 0..<layers {
            let fanIn = widths[l], fanOut = widths[l + 1]
            let hidden = l < layers - 1
            let out = hidden ? product.base : outputs.base
            let input = l == 0 ? coordinates.base : activations[l - 1].base
            BLAS.gemmStridedBatchedIntoZeros(.none, .transpose, m: p, n: fanOut, k: fanIn,
                               a: input, lda: fanIn, strideA: l == 0 ? 0 : p * fanIn,
                               b: weights[l].base, ldb: fanIn, strideB: fanOut * fanIn,
                               c: out, ldc: fanOut, strideC: p * fanOut, batch: k)
            for member in 0..<k {
                let bias = biases[l].base + member * fanOut
                let block = member * p * fanOut
                if hidden {
                    // Bias, ω₀ and sine in one pass; the cosines come from the same lanes as the
                    // tape's pullback computes them.
                    VectorSine.sincos(rows: out + block, bias: bias, scale: frequency, rowCount: p, width: fanOut,
                                      sine: activations[l].base + block, cosine: cosines[l].base + block)
                } else {
                    var row = out + block
                    for _ in 0..<p {
                        for o in 0..<fanOut { row[o] = row[o] + bias[o] }
                        row += fanOut
                    }
                }
            }
        }
    }

    /// Each member's mean squared error against its target `[P, outputs]` (after ``forward()``),
    /// accumulated in Double like ``Loss/meanSquaredError(_:_:)``.
    func losses(targets: [Tensor]) -> [Float] {
        let n = pixels * widths[layerCount]
        return (0..<count).map { member in
            targets[member].withUnsafeBufferPointer { t in
                var total: Double = 0
                let base = outputs.base + member * n
                for i in 0..<n {
                    let d = base[i] - t[i]
                    total += Double(d) * Double(d)
                }
                return Float(total / Double(Swift.max(n, 1)))
            }
        }
    }

    /// The gradients of each member's MSE with respect to its parameters, into the stacked
    /// gradient buffers (after ``forward()`` and ``losses(targets:)``; read them through
    /// ``parameterBlocks`` or ``gradients(member:)``).
    ///
    /// Each gradient is written over the buffer it no longer needs — dL/dY over the outputs, a
    /// sine layer's gradient over its cosines — so a member's step touches no gradient buffers of
    /// its own, and a 28×28 member's buffers (≈ 520 KB) about fill a core's L2 cache. The forward
    /// pass's outputs are therefore gone until the next ``forward()``.
    func backward(targets: [Tensor]) {
        let k = count, p = pixels, layers = layerCount
        let outWidth = widths[layers]
        let n = p * outWidth
        let scale = 2 * Float(1) / Float(Swift.max(n, 1))
        // dL/dY = (Y − T)·2/n per member, and the output bias's gradient, its row sums.
        for member in 0..<k {
            targets[member].withUnsafeBufferPointer { t in
                let y = outputs.base + member * n, target = t.baseAddress!
                let d = biasGradients[layers - 1].base + member * outWidth
                for o in 0..<outWidth { d[o] = 0 }
                for r in 0..<p {
                    let i = r * outWidth
                    for o in 0..<outWidth {
                        let v = (y[i + o] - target[i + o]) * scale
                        y[i + o] = v
                        d[o] = d[o] + v
                    }
                }
            }
        }
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let fanIn = widths[l], fanOut = widths[l + 1]
            // This layer's gradient G: dL/dY for the output layer, a sine layer's over its cosines
            // (already through the sine, by the layer above).
            let g = l == layers - 1 ? outputs.base : cosines[l].base
            // Weight: Gᵀ·input per member.
            let input = l == 0 ? coordinates.base : activations[l - 1].base
            BLAS.gemmStridedBatchedIntoZeros(.transpose, .none, m: fanOut, n: fanIn, k: p,
                               a: g, lda: fanOut, strideA: p * fanOut,
                               b: input, ldb: fanIn, strideB: l == 0 ? 0 : p * fanIn,
                               c: weightGradients[l].base, ldc: fanIn, strideC: fanOut * fanIn, batch: k)
            guard l > 0 else { continue }
            // The input's gradient G·W, through the sine below it (then the factor ω₀), with that
            // layer's bias sums, over its cosines.
            if fanOut == 1 {
                // A one-column G (a greyscale output): G·W is an outer product, each element one
                // product, which the GEMM computes as α·(0 + a·b) + 0 — the same bits as a·b + 0
                // (the + 0 turns a −0 into +0 as the GEMM's zero accumulator does). So it is
                // computed here, in the sine pullback's pass, sparing the GEMM's packing and a
                // pass over the gradient.
                for member in 0..<k {
                    let block = member * p * fanIn
                    Self.outerSinePullback(column: g + member * p, row: weights[l].base + member * fanIn,
                                           cosines: cosines[l - 1].base + block, frequency: frequency,
                                           rows: p, width: fanIn, biasGradient: biasGradients[l - 1].base + member * fanIn)
                }
            } else {
                BLAS.gemmStridedBatchedIntoZeros(.none, .none, m: p, n: fanIn, k: fanOut,
                                   a: g, lda: fanOut, strideA: p * fanOut,
                                   b: weights[l].base, ldb: fanIn, strideB: fanOut * fanIn,
                                   c: product.base, ldc: fanIn, strideC: p * fanIn, batch: k)
                for member in 0..<k {
                    let block = member * p * fanIn
                    Self.sinePullback(product.base + block, cosines: cosines[l - 1].base + block, frequency: frequency,
                                      rows: p, width: fanIn, biasGradient: biasGradients[l - 1].base + member * fanIn)
                }
            }
        }
    }

    /// `cos[r, i] ← ((column[r]·row[i] + 0)·cos[r, i])·ω₀` over `rows` × `width`, and
    /// `biasGradient[i]` ← the rows' sums of it, accumulated row by row from zero: the outer
    /// product G·W of a one-column G (see ``backward(targets:)``) followed by
    /// ``sinePullback(_:cosines:frequency:rows:width:biasGradient:)``, in one pass.
    private static func outerSinePullback(column: UnsafePointer<Float>, row w: UnsafePointer<Float>,
                                          cosines c: UnsafeMutablePointer<Float>, frequency: Float, rows: Int, width: Int,
                                          biasGradient d: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD8<Float>
        let omega = Lanes(repeating: frequency), zero = Lanes(repeating: 0)
        let vectorWidth = width - width % 8
        for o in 0..<width { d[o] = 0 }
        for r in 0..<rows {
            let g = column[r], gLanes = Lanes(repeating: column[r])
            let cosine = c + r * width
            var o = 0
            while o < vectorWidth {
                let product = gLanes * UnsafeRawPointer(w + o).loadUnaligned(as: Lanes.self) + zero
                let v = (product * UnsafeRawPointer(cosine + o).loadUnaligned(as: Lanes.self)) * omega
                UnsafeMutableRawPointer(cosine + o).storeBytes(of: v, as: Lanes.self)
                let sum = UnsafeRawPointer(d + o).loadUnaligned(as: Lanes.self) + v
                UnsafeMutableRawPointer(d + o).storeBytes(of: sum, as: Lanes.self)
                o += 8
            }
            while o < width {
                let v = ((g * w[o] + 0) * cosine[o]) * frequency
                cosine[o] = v
                d[o] = d[o] + v
                o += 1
            }
        }
    }

    /// `cos ← (g·cos)·ω₀` over `rows` × `width` (the sine's pullback, then the scalar's), and
    /// `biasGradient` ← the rows' sums of the result, accumulated row by row from zero — the tape's
    /// two elementwise products and its bias sum, in one pass.
    private static func sinePullback(_ g: UnsafePointer<Float>, cosines c: UnsafeMutablePointer<Float>,
                                     frequency: Float, rows: Int, width: Int,
                                     biasGradient d: UnsafeMutablePointer<Float>) {
        typealias Lanes = SIMD8<Float>
        let omega = Lanes(repeating: frequency)
        let vectorWidth = width - width % 8
        for o in 0..<width { d[o] = 0 }
        for r in 0..<rows {
            let row = g + r * width, cosine = c + r * width
            var o = 0
            while o < vectorWidth {
                let v = (UnsafeRawPointer(row + o).loadUnaligned(as: Lanes.self)
                         * UnsafeRawPointer(cosine + o).loadUnaligned(as: Lanes.self)) * omega
                UnsafeMutableRawPointer(cosine + o).storeBytes(of: v, as: Lanes.self)
                let sum = UnsafeRawPointer(d + o).loadUnaligned(as: Lanes.self) + v
                UnsafeMutableRawPointer(d + o).storeBytes(of: sum, as: Lanes.self)
                o += 8
            }
            while o < width {
                let v = (row[o] * cosine[o]) * frequency
                cosine[o] = v
                d[o] = d[o] + v
                o += 1
            }
        }
    }

    /// `member`'s gradients by parameter path (after ``backward(targets:)``), for an optimizer
    /// that steps the member's module.
    func gradients(member: Int) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for l in 0..<layerCount {
            let fanIn = widths[l], fanOut = widths[l + 1]
            out[parameterPaths[l].weight] = weightGradients[l].tensor(shape: [fanOut, fanIn], offset: member * fanOut * fanIn)
            out[parameterPaths[l].bias] = biasGradients[l].tensor(shape: [fanOut], offset: member * fanOut)
        }
        return out
    }
}

/// A fixed-size, owned Float buffer (the batch's parameters and activations live as long as it).
final class FloatBuffer {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: Swift.max(count, 1))
        base.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { if let src = $0.baseAddress { base.update(from: src, count: values.count) } }
    }

    deinit { base.deallocate() }

    /// A copy of `count(shape)` elements from `offset` as a tensor.
    func tensor(shape: [Int], offset: Int) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let n = t.count
        t.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base + offset, count: n) }
        return t
    }
}
