import Foundation
import LinearAlgebra
import Tensors
import NeuralNetworks
import Datasets
import Training

/// K image MLPs of one architecture trained together: each step, the members that have a
/// mini-batch are stacked on a leading member axis, and each layer's forward and backward pass is
/// one strided-batched GEMM over them (inputs `[K, B, in]`, weights `[K, out, in]`).
///
/// A step is a fixed sequence of BLAS calls and loops over preallocated buffers, without the
/// tape's node, closure and fresh tensor per operation. An MLP step is mostly its GEMMs and the
/// optimizer, so that saves about a tenth of a member's time (`make bench`'s MLP row: 0.89× the
/// tape's time per member at the automatic K = 1), not the SIREN batch's 1.6×.
///
/// **Same as alone.** Every member's numbers go through the same operations, in the same order,
/// as ``ImageMLP`` under ``Module/lossAndGradients(_:)`` with ``Loss/softmaxCrossEntropy(_:labels:)``:
/// the same GEMM shapes and transposes per member, the bias added after the product, the
/// activation's own kernel on the member's own `[B, width]` block (``VectorTanh``, ``VectorSine``,
/// whose exact-fallback decision is per call), the log-softmax loop and the loss summed in Double,
/// the closed-form gradient `(softmax − onehot)/B`, bias gradients summed row by row. No operation
/// mixes members, so a member never depends on which members share its step (tested).
///
/// Members may bring batches of different sizes to one step (an epoch's last batch, different
/// training fractions): a step groups its members by batch size and runs the GEMMs once per group.
/// A member alone in its group (K = 1, the usual automatic choice on 28×28 images) reads its own
/// parameter tensors and writes fresh gradient tensors, skipping the stacked copies.
final class MLPMemberBatch: ClassifierMemberBatch {
    /// The member networks; their parameter values are the master copy the optimizers update.
    let members: [ImageMLP]
    /// `[inputs, hidden…, classes]`.
    let widths: [Int]
    /// The largest mini-batch a step may bring.
    let capacity: Int
    private let activations: [Activation]               // per member
    private let input: FloatBuffer                      // [K, B, inputs]
    private let preActivations: [FloatBuffer]           // per layer: [K, B, out], x·Wᵀ + b (the last is the logits)
    private let hiddenOutputs: [FloatBuffer]            // hidden layers: [K, B, out], the activation of it
    private let logProbabilities: FloatBuffer           // [K, B, classes]
    private var upstream: FloatBuffer                   // gradient scratch, [K, B, widest non-input width]
    private var downstream: FloatBuffer
    private let weights: [FloatBuffer]                  // per layer: [K, out, in], the step's group in slots 0..<g
    private let biases: [FloatBuffer]                   // per layer: [K, out]
    private let weightGradients: [FloatBuffer]
    private let biasGradients: [FloatBuffer]
    /// Each layer's (weight, bias) parameter paths in the members' modules.
    private let parameterPaths: [(weight: String, bias: String)]

    var count: Int { members.count }
    private var layerCount: Int { widths.count - 1 }

    /// - Parameters:
    ///   - members: the networks, all with the same widths (activations may differ).
    ///   - capacity: the largest mini-batch any member brings to a step (> 0).
    /// - Throws: ``ZooError/invalidSpec(_:)`` when there are no members, their widths differ, a
    ///   layer has no bias, or the capacity is not positive.
    init(members: [ImageMLP], capacity: Int) throws {
        guard let first = members.first else { throw ZooError.invalidSpec("an MLP member batch needs at least one member") }
        guard capacity > 0 else { throw ZooError.invalidSpec("an MLP member batch needs a batch size > 0, got \(capacity)") }
        let widths = first.mlp.widths
        guard members.allSatisfy({ $0.mlp.widths == widths }) else {
            throw ZooError.invalidSpec("the MLPs of a member batch must share one architecture")
        }
        self.members = members
        self.widths = widths
        self.capacity = capacity
        activations = members.map(\.mlp.activation)
        let k = members.count, b = capacity
        let layers = widths.count - 1
        input = FloatBuffer(count: k * b * widths[0])
        preActivations = (0..<layers).map { FloatBuffer(count: k * b * widths[$0 + 1]) }
        hiddenOutputs = (0..<(layers - 1)).map { FloatBuffer(count: k * b * widths[$0 + 1]) }
        logProbabilities = FloatBuffer(count: k * b * widths[layers])
        let widest = widths.dropFirst().max() ?? 1
        upstream = FloatBuffer(count: k * b * widest)
        downstream = FloatBuffer(count: k * b * widest)
        weights = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1] * widths[$0]) }
        biases = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1]) }
        weightGradients = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1] * widths[$0]) }
        biasGradients = (0..<layers).map { FloatBuffer(count: k * widths[$0 + 1]) }
        let paths = Dictionary(uniqueKeysWithValues: first.namedParameters().map { (ObjectIdentifier($0.parameter), $0.path) })
        var resolved: [(String, String)] = []
        for layer in first.mlp.layers {
            guard let w = paths[ObjectIdentifier(layer.weight)], let bias = layer.bias.flatMap({ paths[ObjectIdentifier($0)] }) else {
                throw ZooError.invalidSpec("an MLP layer without a bias cannot be batched")
            }
            resolved.append((w, bias))
        }
        parameterPaths = resolved
    }

    /// Runs one training step's forward and backward pass for every member in `work` (each member
    /// at most once) with the members' current parameters, and returns one result per entry of
    /// `work`, in its order. Updates nothing: the caller steps each member's optimizer.
    func step(_ work: [MemberBatchWork]) -> [MemberBatchStepResult] {
        var results = [MemberBatchStepResult?](repeating: nil, count: work.count)
        // Equal batch sizes share GEMMs; groups run one after another (the order cannot matter:
        // no group reads another's slots after its own pass).
        let groups = Dictionary(grouping: work.indices, by: { work[$0].indices.count })
        for size in groups.keys.sorted(by: >) {
            let entries = groups[size]!
            let groupResults = run(entries.map { work[$0] }, batchSize: size)
            for (entry, result) in zip(entries, groupResults) { results[entry] = result }
        }
        return results.map { $0! }
    }

    /// One group of `g` members with mini-batches of `b` examples, packed into slots `0..<g`.
    private func run(_ group: [MemberBatchWork], batchSize b: Int) -> [MemberBatchStepResult] {
        let g = group.count, layers = layerCount
        precondition(b > 0 && b <= capacity && g <= count, "an MLP member batch step of \(g) × \(b) exceeds \(count) × \(capacity)")
        let inWidth = widths[0], classes = widths[layers]
        // A member alone in its group computes straight from and into its own tensors: stacking
        // one member would only add two copies of its parameters per step.
        let lone = g == 1 ? members[group[0].member] : nil
        var groupLabels: [[Int]] = []
        for (slot, w) in group.enumerated() {
            if lone == nil { gather(member: w.member, into: slot) }
            let dataset = w.dataset
            precondition(dataset.channels * dataset.height * dataset.width == inWidth,
                         "images of \(dataset.imageShape) do not match the MLP input width \(inWidth)")
            dataset.images.withUnsafeBufferPointer { src in
                let base = input.base + slot * b * inWidth
                for (row, index) in w.indices.enumerated() {
                    (base + row * inWidth).update(from: src.baseAddress! + index * inWidth, count: inWidth)
                }
            }
            groupLabels.append(w.indices.map { dataset.labels[$0] })
        }
        forward(group.map { activations[$0.member] }, g: g, b: b, lone: lone)

        // Loss, accuracy and dL/dlogits per member, as Variable.softmaxCrossEntropy computes them.
        let logits = preActivations[layers - 1].base
        var losses: [Float] = [], correct: [Int] = []
        for slot in 0..<g {
            let result = SoftmaxCrossEntropyRows.lossAndGradient(
                logits: logits + slot * b * classes, labels: groupLabels[slot], classes: classes,
                logProbabilities: logProbabilities.base + slot * b * classes, gradient: upstream.base + slot * b * classes)
            losses.append(result.loss)
            correct.append(result.correct)
        }
        let loneGradients = backward(group.map { activations[$0.member] }, g: g, b: b, lone: lone)
        if let loneGradients { return [MemberBatchStepResult(loss: losses[0], correct: correct[0], gradients: loneGradients)] }
        return (0..<g).map { slot in
            var gradients: [String: Tensor] = [:]
            for l in 0..<layers {
                let fanIn = widths[l], fanOut = widths[l + 1]
                gradients[parameterPaths[l].weight] = weightGradients[l].tensor(shape: [fanOut, fanIn], offset: slot * fanOut * fanIn)
                gradients[parameterPaths[l].bias] = biasGradients[l].tensor(shape: [fanOut], offset: slot * fanOut)
            }
            return MemberBatchStepResult(loss: losses[slot], correct: correct[slot], gradients: gradients)
        }
    }

    /// The tape-free forward pass of ``ClassifierTraining/evaluate(_:on:batchSize:)``, as a member
    /// trained alone is evaluated.
    func evaluate(member: Int, on dataset: LabeledImageDataset, batchSize: Int) -> (loss: Float, accuracy: Float) {
        ClassifierTraining.evaluate(members[member], on: dataset, batchSize: batchSize)
    }

    /// Copies member `member`'s current parameter values into slot `slot` of the stacked buffers.
    private func gather(member: Int, into slot: Int) {
        for (l, layer) in members[member].mlp.layers.enumerated() {
            let wCount = widths[l + 1] * widths[l], bCount = widths[l + 1]
            layer.weight.value.withUnsafeBufferPointer { (weights[l].base + slot * wCount).update(from: $0.baseAddress!, count: wCount) }
            layer.bias?.value.withUnsafeBufferPointer { (biases[l].base + slot * bCount).update(from: $0.baseAddress!, count: bCount) }
        }
    }

    /// Runs `body` with layer `l`'s weights and biases for the group: `lone`'s own storage when
    /// the group is that one member, else the stacked copies of slots `0..<g`.
    private func withParameters(_ l: Int, of lone: ImageMLP?, _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
        guard let lone else { return body(weights[l].base, biases[l].base) }
        let layer = lone.mlp.layers[l]
        guard let bias = layer.bias else { preconditionFailure("an MLP layer without a bias (refused at init)") }
        layer.weight.value.withUnsafeBufferPointer { w in
            bias.value.withUnsafeBufferPointer { b in body(w.baseAddress!, b.baseAddress!) }
        }
    }

    /// The forward pass of slots `0..<g` (activations per slot) on their `b`-example inputs.
    private func forward(_ slotActivations: [Activation], g: Int, b: Int, lone: ImageMLP?) {
        let layers = layerCount
        for l in 0..<layers {
            let fanIn = widths[l], fanOut = widths[l + 1]
            let x = l == 0 ? input.base : hiddenOutputs[l - 1].base
            let y = preActivations[l].base
            withParameters(l, of: lone) { w, biases in
                BLAS.gemmStridedBatched(.none, .transpose, m: b, n: fanOut, k: fanIn,
                                        a: x, lda: fanIn, strideA: b * fanIn,
                                        b: w, ldb: fanIn, strideB: fanOut * fanIn,
                                        c: y, ldc: fanOut, strideC: b * fanOut, batch: g)
                for slot in 0..<g {
                    let bias = biases + slot * fanOut
                    var row = y + slot * b * fanOut
                    for _ in 0..<b {
                        for o in 0..<fanOut { row[o] = row[o] + bias[o] }
                        row += fanOut
                    }
                }
            }
            guard l < layers - 1 else { continue }
            let n = b * fanOut
            for (slot, activation) in slotActivations.enumerated() {
                let pre = y + slot * n, out = hiddenOutputs[l].base + slot * n
                switch activation {
                case .relu: for i in 0..<n { out[i] = pre[i] > 0 ? pre[i] : 0 }
                case .tanh: VectorTanh.tanh(pre, into: out, count: n)
                case .sine: VectorSine.sincos(pre, sine: out, cosine: nil, count: n)
                case .identity: out.update(from: pre, count: n)
                }
            }
        }
    }

    /// The backward pass of slots `0..<g` from dL/dlogits in ``upstream`` to every layer's
    /// weight and bias gradients: into the stacked gradient buffers, or for a `lone` member into
    /// fresh tensors, returned by parameter path.
    private func backward(_ slotActivations: [Activation], g: Int, b: Int, lone: ImageMLP?) -> [String: Tensor]? {
        let layers = layerCount
        var loneGradients: [String: Tensor] = [:]
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let fanIn = widths[l], fanOut = widths[l + 1]
            let grad = upstream.base
            if l < layers - 1 {
                // Through the activation, on the member's own [B, out] block (the tape's pullbacks).
                let n = b * fanOut
                for (slot, activation) in slotActivations.enumerated() {
                    let d = grad + slot * n, pre = preActivations[l].base + slot * n
                    switch activation {
                    case .relu: for i in 0..<n { d[i] = pre[i] > 0 ? d[i] : 0 }
                    case .tanh:
                        let y = hiddenOutputs[l].base + slot * n
                        for i in 0..<n { d[i] = d[i] * (1 - y[i] * y[i]) }
                    case .sine: VectorSine.multiplyByCosine(d, pre, into: d, count: n)
                    case .identity: break
                    }
                }
            }
            let x = l == 0 ? input.base : hiddenOutputs[l - 1].base
            func parameterGradients(weight dW: UnsafeMutablePointer<Float>, bias dB: UnsafeMutablePointer<Float>) {
                // Bias: the rows' sum, accumulated row by row from 0 (Tensor.sumToShape).
                for slot in 0..<g {
                    let d = dB + slot * fanOut
                    for o in 0..<fanOut { d[o] = 0 }
                    var row = grad + slot * b * fanOut
                    for _ in 0..<b {
                        for o in 0..<fanOut { d[o] = d[o] + row[o] }
                        row += fanOut
                    }
                }
                // Weight: Gᵀ·input per member.
                BLAS.gemmStridedBatched(.transpose, .none, m: fanOut, n: fanIn, k: b,
                                        a: grad, lda: fanOut, strideA: b * fanOut,
                                        b: x, ldb: fanIn, strideB: b * fanIn,
                                        c: dW, ldc: fanIn, strideC: fanOut * fanIn, batch: g)
            }
            if lone != nil {
                var dW = Tensor(uninitializedShape: [fanOut, fanIn]), dB = Tensor(uninitializedShape: [fanOut])
                dW.withUnsafeMutableBufferPointer { wp in
                    dB.withUnsafeMutableBufferPointer { bp in parameterGradients(weight: wp.baseAddress!, bias: bp.baseAddress!) }
                }
                loneGradients[parameterPaths[l].weight] = dW
                loneGradients[parameterPaths[l].bias] = dB
            } else {
                parameterGradients(weight: weightGradients[l].base, bias: biasGradients[l].base)
            }
            if l > 0 {
                // The input's gradient, G·W, is the next layer's upstream.
                withParameters(l, of: lone) { w, _ in
                    BLAS.gemmStridedBatched(.none, .none, m: b, n: fanIn, k: fanOut,
                                            a: grad, lda: fanOut, strideA: b * fanOut,
                                            b: w, ldb: fanIn, strideB: fanOut * fanIn,
                                            c: downstream.base, ldc: fanIn, strideC: b * fanIn, batch: g)
                }
                swap(&upstream, &downstream)
            }
        }
        return lone == nil ? nil : loneGradients
    }
}
