import Testing
import Tensors
import Autograd
import _TestSupport

/// Every differentiable operation, checked against central finite differences.
///
/// Each case is named `"<op>: <variant>"`, where `<op>` is the operation's Swift name as listed in
/// ``coveredOps`` (for example `"matmul(_:transposeA:_:transposeB:): batched × 2-D, transposeA"`).
/// Adding a public differentiable op means adding its name to ``coveredOps`` and at least one case;
/// `everyCoveredOpHasACase` fails until both are done.
///
/// Inputs are seeded normal samples, moved by a ``Domain`` transform where the op needs it: strictly
/// positive for `log`/`sqrt`/fractional `pow`, away from kinks for `abs`/`relu`/`clamped`/`maximum`,
/// and pairwise distinct for `max` — a finite difference that straddles a kink measures a slope
/// that exists on neither side, which would be a false failure, not a bug.
enum GradientTable {
    /// Every case: the core operations here plus the convolution/pooling cases (in
    /// `ConvolutionGradientCases.swift`).
    static let all: [GradientCase] = core + convolution

    /// Names of all differentiable operations (the `<op>` part of the case names).
    static let coveredOps: Set<String> = [
        // Arithmetic (Variable+Arithmetic.swift)
        "Variable + Variable", "Variable - Variable", "Variable * Variable", "Variable / Variable",
        "Variable + Float", "Float + Variable", "Variable - Float", "Float - Variable",
        "Variable * Float", "Float * Variable", "Variable / Float", "-Variable",
        "matmul(_:transposeA:_:transposeB:)", "matmul(_:)",
        // Elementwise (Variable+Elementwise.swift)
        "exp()", "log()", "sin()", "cos()", "tanh()", "relu()", "sigmoid()", "abs()", "sqrt()",
        "squared()", "pow(_:)", "clamped(min:max:)", "maximum(_:_:)",
        // Reductions (Variable+Reduction.swift)
        "sum(alongAxes:keepingDimensions:)", "sum()", "mean(alongAxes:keepingDimensions:)", "mean()",
        "max(alongAxes:keepingDimensions:)", "variance(alongAxes:keepingDimensions:)",
        // Shape (Variable+Shape.swift)
        "reshaped(_:)", "permuted(_:)", "transposed(_:_:)", "slice(axis:_:)", "concatenate(_:alongAxis:)",
        "stack(_:alongAxis:)", "gathering(_:alongAxis:)", "padded(_:value:)", "broadcast(to:)",
        "expandingShape(at:)", "squeezingShape(at:)",
        // Softmax, normalisation, losses
        "softmax(alongAxis:)", "logSoftmax(alongAxis:)", "layerNormalized(trailingAxes:epsilon:)",
        "softmaxCrossEntropy(logits:labels:)", "binaryCrossEntropyWithLogits(logits:targets:)",
        "meanSquaredError(_:_:)",
        // Chains of several ops (gradient accumulation through shared inputs).
        "composite",
        // Convolution and pooling (ConvolutionGradientCases.swift)
        "conv2d(_:_:bias:stride:padding:)", "avgPool2d(kernel:stride:)", "maxPool2d(kernel:stride:)",
        "globalAveragePool2d()",
    ]

    /// The `<op>` part of a case name: everything before the first `": "` (op names such as
    /// `sum(alongAxes:keepingDimensions:)` contain colons, never a colon followed by a space).
    static func op(of c: GradientCase) -> String {
        guard let separator = c.name.range(of: ": ") else { return c.name }
        return String(c.name[..<separator.lowerBound])
    }

    static let core: [GradientCase] =
        arithmetic + matmul + elementwise + reductions + shape + softmaxAndNormalization + losses + composites

    // MARK: Arithmetic

    static let arithmetic: [GradientCase] = [
        GradientCase("Variable + Variable: same shape", shapes: [[3, 4], [3, 4]]) { $0[0] + $0[1] },
        GradientCase("Variable + Variable: row broadcast", shapes: [[3, 4], [4]]) { $0[0] + $0[1] },
        GradientCase("Variable + Variable: outer broadcast [3,1]+[1,4]", shapes: [[3, 1], [1, 4]]) { $0[0] + $0[1] },
        GradientCase("Variable + Variable: rank-0 operand", shapes: [[3, 4], []]) { $0[0] + $0[1] },
        GradientCase("Variable - Variable: same shape", shapes: [[3, 4], [3, 4]]) { $0[0] - $0[1] },
        GradientCase("Variable - Variable: broadcast [2,3,4]-[3,1]", shapes: [[2, 3, 4], [3, 1]]) { $0[0] - $0[1] },
        GradientCase("Variable - Variable: left broadcast [4]-[2,3,4]", shapes: [[4], [2, 3, 4]]) { $0[0] - $0[1] },
        GradientCase("Variable * Variable: same shape", shapes: [[3, 4], [3, 4]]) { $0[0] * $0[1] },
        GradientCase("Variable * Variable: broadcast [2,3,4]*[3,1]", shapes: [[2, 3, 4], [3, 1]]) { $0[0] * $0[1] },
        GradientCase("Variable * Variable: left broadcast [4]*[2,3,4]", shapes: [[4], [2, 3, 4]]) { $0[0] * $0[1] },
        GradientCase("Variable * Variable: same input twice", shapes: [[5]]) { $0[0] * $0[0] },
        GradientCase("Variable / Variable: same shape", shapes: [[3, 4], [3, 4]], transform: Domain.positive(at: [1])) {
            $0[0] / $0[1]
        },
        GradientCase("Variable / Variable: broadcast [2,3,4]/[4]", shapes: [[2, 3, 4], [4]],
                     transform: Domain.positive(at: [1])) { $0[0] / $0[1] },
        GradientCase("Variable / Variable: broadcast numerator [3,1]/[3,4]", shapes: [[3, 1], [3, 4]],
                     transform: Domain.positive(at: [1])) { $0[0] / $0[1] },
        GradientCase("Variable + Float: x + 2", shapes: [[3, 4]]) { $0[0] + 2 },
        GradientCase("Float + Variable: 2 + x", shapes: [[3, 4]]) { 2 + $0[0] },
        GradientCase("Variable - Float: x - 2", shapes: [[3, 4]]) { $0[0] - 2 },
        GradientCase("Float - Variable: 2 - x", shapes: [[3, 4]]) { 2 - $0[0] },
        GradientCase("Variable * Float: x * 3", shapes: [[3, 4]]) { $0[0] * 3 },
        GradientCase("Float * Variable: -1.5 * x", shapes: [[3, 4]]) { -1.5 * $0[0] },
        GradientCase("Variable / Float: x / 4", shapes: [[3, 4]]) { $0[0] / 4 },
        GradientCase("-Variable: [2,3]", shapes: [[2, 3]]) { -$0[0] },
    ]

    // MARK: Matrix products

    static let matmul: [GradientCase] = [
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D", shapes: [[3, 5], [5, 2]]) {
            Variable.matmul($0[0], $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D, transposeA", shapes: [[5, 3], [5, 2]]) {
            Variable.matmul($0[0], transposeA: true, $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D, transposeB", shapes: [[3, 5], [2, 5]]) {
            Variable.matmul($0[0], $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D, both transposed", shapes: [[5, 3], [2, 5]]) {
            Variable.matmul($0[0], transposeA: true, $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × batched", shapes: [[2, 3, 5], [2, 5, 4]]) {
            Variable.matmul($0[0], $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × batched, transposeA", shapes: [[2, 5, 3], [2, 5, 4]]) {
            Variable.matmul($0[0], transposeA: true, $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × batched, transposeB", shapes: [[2, 3, 5], [2, 4, 5]]) {
            Variable.matmul($0[0], $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): rank-4 batch, both transposed", shapes: [[2, 2, 5, 3], [2, 2, 4, 5]]) {
            Variable.matmul($0[0], transposeA: true, $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × 2-D", shapes: [[2, 3, 5], [5, 4]]) {
            Variable.matmul($0[0], $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × 2-D, transposeA", shapes: [[2, 5, 3], [5, 4]]) {
            Variable.matmul($0[0], transposeA: true, $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × 2-D, transposeB", shapes: [[2, 3, 5], [4, 5]]) {
            Variable.matmul($0[0], $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): batched × 2-D, both transposed", shapes: [[2, 5, 3], [4, 5]]) {
            Variable.matmul($0[0], transposeA: true, $0[1], transposeB: true)
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D × batched", shapes: [[3, 5], [2, 5, 4]]) {
            Variable.matmul($0[0], $0[1])
        },
        GradientCase("matmul(_:transposeA:_:transposeB:): 2-D × batched, transposeB", shapes: [[3, 5], [2, 4, 5]]) {
            Variable.matmul($0[0], $0[1], transposeB: true)
        },
        GradientCase("matmul(_:): method form", shapes: [[4, 3], [3, 2]]) { $0[0].matmul($0[1]) },
    ]

    // MARK: Elementwise

    static let elementwise: [GradientCase] = [
        GradientCase("exp(): [3,4]", shapes: [[3, 4]]) { $0[0].exp() },
        GradientCase("log(): positive [3,4]", shapes: [[3, 4]], transform: Domain.positive()) { $0[0].log() },
        GradientCase("sin(): [3,4]", shapes: [[3, 4]]) { $0[0].sin() },
        GradientCase("cos(): [3,4]", shapes: [[3, 4]]) { $0[0].cos() },
        GradientCase("tanh(): [3,4]", shapes: [[3, 4]]) { $0[0].tanh() },
        GradientCase("relu(): |x| ≥ 0.2", shapes: [[4, 5]], transform: Domain.awayFromZero) { $0[0].relu() },
        GradientCase("sigmoid(): [3,4]", shapes: [[3, 4]]) { $0[0].sigmoid() },
        GradientCase("sigmoid(): large |x|", shapes: [[3, 4]], transform: Domain.scaled(6)) { $0[0].sigmoid() },
        GradientCase("abs(): |x| ≥ 0.2", shapes: [[4, 5]], transform: Domain.awayFromZero) { $0[0].abs() },
        GradientCase("sqrt(): positive [3,4]", shapes: [[3, 4]], transform: Domain.positive()) { $0[0].sqrt() },
        GradientCase("squared(): [3,4]", shapes: [[3, 4]]) { $0[0].squared() },
        GradientCase("pow(_:): exponent 3", shapes: [[3, 4]]) { $0[0].pow(3) },
        GradientCase("pow(_:): exponent 2", shapes: [[3, 4]]) { $0[0].pow(2) },
        GradientCase("pow(_:): exponent 0.5, positive", shapes: [[3, 4]], transform: Domain.positive()) { $0[0].pow(0.5) },
        GradientCase("pow(_:): exponent -1.5, positive", shapes: [[3, 4]], transform: Domain.positive()) { $0[0].pow(-1.5) },
        GradientCase("pow(_:): exponent 1", shapes: [[3, 4]]) { $0[0].pow(1) },
        GradientCase("pow(_:): exponent 0", shapes: [[3, 4]]) { $0[0].pow(0) },
        GradientCase("clamped(min:max:): [-0.5, 0.5], off the bounds", shapes: [[4, 5]], transform: Domain.offGrid) {
            $0[0].clamped(min: -0.5, max: 0.5)
        },
        GradientCase("maximum(_:_:): same shape", shapes: [[3, 4], [3, 4]], transform: Domain.interleavedGrids) {
            Variable.maximum($0[0], $0[1])
        },
        GradientCase("maximum(_:_:): row broadcast", shapes: [[3, 4], [4]], transform: Domain.interleavedGrids) {
            Variable.maximum($0[0], $0[1])
        },
        GradientCase("maximum(_:_:): outer broadcast [3,1]×[1,4]", shapes: [[3, 1], [1, 4]],
                     transform: Domain.interleavedGrids) { Variable.maximum($0[0], $0[1]) },
    ]

    // MARK: Reductions

    static let reductions: [GradientCase] = [
        GradientCase("sum(alongAxes:keepingDimensions:): axis 1", shapes: [[3, 4]]) { $0[0].sum(alongAxes: [1]) },
        GradientCase("sum(alongAxes:keepingDimensions:): axes [0,2], keepdims", shapes: [[2, 3, 4]]) {
            $0[0].sum(alongAxes: [0, 2], keepingDimensions: true)
        },
        GradientCase("sum(alongAxes:keepingDimensions:): axis -1", shapes: [[2, 3, 4]]) { $0[0].sum(alongAxes: [-1]) },
        GradientCase("sum(): [3,4]", shapes: [[3, 4]]) { $0[0].sum() },
        GradientCase("mean(alongAxes:keepingDimensions:): axis 0", shapes: [[3, 4]]) { $0[0].mean(alongAxes: [0]) },
        GradientCase("mean(alongAxes:keepingDimensions:): axes [1,2], keepdims", shapes: [[2, 3, 4]]) {
            $0[0].mean(alongAxes: [1, 2], keepingDimensions: true)
        },
        GradientCase("mean(): [2,3,4]", shapes: [[2, 3, 4]]) { $0[0].mean() },
        GradientCase("max(alongAxes:keepingDimensions:): axis 1, distinct", shapes: [[3, 4]], transform: Domain.distinct) {
            $0[0].max(alongAxes: [1])
        },
        GradientCase("max(alongAxes:keepingDimensions:): axis 0, distinct", shapes: [[3, 4]], transform: Domain.distinct) {
            $0[0].max(alongAxes: [0])
        },
        GradientCase("max(alongAxes:keepingDimensions:): axes [0,2], keepdims, distinct", shapes: [[2, 3, 4]],
                     transform: Domain.distinct) { $0[0].max(alongAxes: [0, 2], keepingDimensions: true) },
        GradientCase("max(alongAxes:keepingDimensions:): all axes, distinct", shapes: [[2, 3, 4]],
                     transform: Domain.distinct) { $0[0].max(alongAxes: [0, 1, 2]) },
        GradientCase("variance(alongAxes:keepingDimensions:): axis 1", shapes: [[3, 5]]) { $0[0].variance(alongAxes: [1]) },
        GradientCase("variance(alongAxes:keepingDimensions:): axes [0,2], keepdims", shapes: [[2, 3, 4]]) {
            $0[0].variance(alongAxes: [0, 2], keepingDimensions: true)
        },
    ]

    // MARK: Shape

    static let shape: [GradientCase] = [
        GradientCase("reshaped(_:): [2,3,4] → [6,-1]", shapes: [[2, 3, 4]]) { $0[0].reshaped([6, -1]) * $0[0].reshaped([6, 4]) },
        GradientCase("permuted(_:): [2,0,1]", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
        GradientCase("transposed(_:_:): default (last two)", shapes: [[2, 3, 4]]) { $0[0].transposed() },
        GradientCase("transposed(_:_:): axes 0 and 2", shapes: [[2, 3, 4]]) { $0[0].transposed(0, 2) },
        GradientCase("slice(axis:_:): axis 1, 1..<3", shapes: [[3, 4, 2]]) { $0[0].slice(axis: 1, 1..<3) },
        GradientCase("slice(axis:_:): axis -1, 0..<2", shapes: [[3, 4]]) { $0[0].slice(axis: -1, 0..<2) },
        GradientCase("concatenate(_:alongAxis:): three pieces, axis 1", shapes: [[2, 1, 3], [2, 2, 3], [2, 3, 3]]) {
            Variable.concatenate($0, alongAxis: 1)
        },
        GradientCase("concatenate(_:alongAxis:): axis 0", shapes: [[2, 3], [1, 3]]) { Variable.concatenate($0, alongAxis: 0) },
        GradientCase("stack(_:alongAxis:): axis 0", shapes: [[3, 4], [3, 4]]) { Variable.stack($0, alongAxis: 0) },
        GradientCase("stack(_:alongAxis:): axis -1", shapes: [[3, 4], [3, 4], [3, 4]]) { Variable.stack($0, alongAxis: -1) },
        GradientCase("gathering(_:alongAxis:): repeated rows", shapes: [[4, 3]]) { $0[0].gathering([3, 0, 3, 1], alongAxis: 0) },
        GradientCase("gathering(_:alongAxis:): middle axis", shapes: [[2, 5, 3]]) { $0[0].gathering([4, 4, 0], alongAxis: 1) },
        GradientCase("padded(_:value:): two axes, value 0.5", shapes: [[3, 4]]) {
            $0[0].padded([(before: 1, after: 2), (before: 0, after: 1)], value: 0.5)
        },
        GradientCase("padded(_:value:): leading axis only", shapes: [[2, 3, 2]]) { $0[0].padded([(before: 2, after: 0)]) },
        GradientCase("broadcast(to:): [3,1] → [2,3,4]", shapes: [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]) },
        GradientCase("expandingShape(at:): axis 1", shapes: [[3, 4]]) { $0[0].expandingShape(at: 1) * $0[0].expandingShape(at: 0) },
        GradientCase("expandingShape(at:): axis -1", shapes: [[3, 4]]) { $0[0].expandingShape(at: -1) },
        GradientCase("squeezingShape(at:): axis 1", shapes: [[3, 1, 4]]) { $0[0].squeezingShape(at: [1]) },
        GradientCase("squeezingShape(at:): all unit axes", shapes: [[1, 3, 1]]) { $0[0].squeezingShape() },
    ]

    // MARK: Softmax and normalisation

    static let softmaxAndNormalization: [GradientCase] = [
        GradientCase("softmax(alongAxis:): last axis", shapes: [[4, 5]]) { $0[0].softmax(alongAxis: -1) },
        GradientCase("softmax(alongAxis:): axis 0 of [2,3,4]", shapes: [[2, 3, 4]]) { $0[0].softmax(alongAxis: 0) },
        GradientCase("softmax(alongAxis:): middle axis", shapes: [[2, 3, 4]]) { $0[0].softmax(alongAxis: 1) },
        GradientCase("logSoftmax(alongAxis:): last axis", shapes: [[4, 5]]) { $0[0].logSoftmax(alongAxis: -1) },
        GradientCase("logSoftmax(alongAxis:): middle axis", shapes: [[2, 3, 4]]) { $0[0].logSoftmax(alongAxis: 1) },
        GradientCase("logSoftmax(alongAxis:): large logits", shapes: [[3, 4]], transform: Domain.scaled(20)) {
            $0[0].logSoftmax(alongAxis: 1)
        },
        GradientCase("layerNormalized(trailingAxes:epsilon:): last axis", shapes: [[3, 6]]) { $0[0].layerNormalized() },
        GradientCase("layerNormalized(trailingAxes:epsilon:): two trailing axes", shapes: [[2, 3, 4]]) {
            $0[0].layerNormalized(trailingAxes: 2)
        },
        GradientCase("layerNormalized(trailingAxes:epsilon:): every axis, epsilon 0.1", shapes: [[2, 5]]) {
            $0[0].layerNormalized(trailingAxes: 2, epsilon: 0.1)
        },
    ]

    // MARK: Losses

    static let losses: [GradientCase] = {
        var rng = SeededGenerator(seed: 99)
        let softTargets = Tensor.uniform([3, 4], rng: &rng)
        let hardTargets = Tensor(shape: [2, 3], scalars: [0, 1, 1, 0, 0, 1])
        let regressionTarget = Tensor.normal([4, 3], rng: &rng)
        return [
            GradientCase("softmaxCrossEntropy(logits:labels:): 4 × 5", shapes: [[4, 5]]) {
                Variable.softmaxCrossEntropy(logits: $0[0], labels: [2, 0, 4, 1])
            },
            GradientCase("softmaxCrossEntropy(logits:labels:): large logits", shapes: [[3, 4]], transform: Domain.scaled(20)) {
                Variable.softmaxCrossEntropy(logits: $0[0], labels: [3, 3, 0])
            },
            GradientCase("binaryCrossEntropyWithLogits(logits:targets:): soft targets", shapes: [[3, 4]]) {
                Variable.binaryCrossEntropyWithLogits(logits: $0[0], targets: softTargets)
            },
            GradientCase("binaryCrossEntropyWithLogits(logits:targets:): hard targets, large logits", shapes: [[2, 3]],
                         transform: Domain.scaled(8)) {
                Variable.binaryCrossEntropyWithLogits(logits: $0[0], targets: hardTargets)
            },
            GradientCase("meanSquaredError(_:_:): [4,3]", shapes: [[4, 3]]) {
                Variable.meanSquaredError($0[0], regressionTarget)
            },
        ]
    }()

    // MARK: Compositions

    static let composites: [GradientCase] = [
        GradientCase("composite: two-layer MLP with softmax cross-entropy", shapes: [[4, 3], [3, 5], [5], [5, 3]]) { v in
            let hidden = (v[0].matmul(v[1]) + v[2]).tanh()
            return Variable.softmaxCrossEntropy(logits: hidden.matmul(v[3]), labels: [0, 2, 1, 2])
        },
        GradientCase("composite: input reused through several paths", shapes: [[3, 4]]) { v in
            let x = v[0]
            return (x.sin() * x + x.exp().mean(alongAxes: [1], keepingDimensions: true)).layerNormalized() - x
        },
        GradientCase("composite: attention-style softmax(QKᵀ)V", shapes: [[2, 3, 4], [2, 3, 4], [2, 3, 4]]) { v in
            let scores = Variable.matmul(v[0], v[1], transposeB: true) * 0.5
            return Variable.matmul(scores.softmax(alongAxis: -1), v[2])
        },
    ]
}

/// Input transforms that keep finite differences away from points where an op is not smooth.
enum Domain {
    typealias Transform = @Sendable (Int, Tensor) -> Tensor

    /// `|x| + 0.5` (≥ 0.5, so the ±1 % step never leaves the domain) for the listed inputs, all
    /// inputs when `inputs` is nil.
    static func positive(at inputs: Set<Int>? = nil) -> Transform {
        { i, t in inputs == nil || inputs!.contains(i) ? t.abs() + 0.5 : t }
    }

    /// Values pushed 0.2 away from zero (the kink of `abs` and `relu`).
    static let awayFromZero: Transform = { _, t in t.map { $0 >= 0 ? $0 + 0.2 : $0 - 0.2 } }

    /// Every input scaled by `factor` (exercises saturation and max-subtraction).
    static func scaled(_ factor: Float) -> Transform { { _, t in t * factor } }

    /// Values on the grid `k/10 + 0.05`: at least 0.05 from any multiple of 0.1 (the clamp bounds).
    static let offGrid: Transform = { _, t in t.map { ($0 * 10).rounded() / 10 + 0.05 } }

    /// Input 0 on the grid `k/10 + 0.05`, input 1 on `k/10`: the two never come within 0.05, so
    /// `maximum` has no ties under the finite-difference step.
    static let interleavedGrids: Transform = { i, t in
        t.map { ($0 * 10).rounded() / 10 + (i == 0 ? 0.05 : 0) }
    }

    /// The elements replaced by their rank × 0.1 (centred): pairwise 0.1 apart, in random order,
    /// so `max` has a unique winner that a small step cannot change.
    static let distinct: Transform = { _, t in
        let order = t.scalars.enumerated().sorted { $0.element < $1.element }.map(\.offset)
        var ranked = [Float](repeating: 0, count: t.count)
        for (rank, index) in order.enumerated() { ranked[index] = Float(rank) * 0.1 - Float(t.count) * 0.05 }
        return Tensor(shape: t.shape, scalars: ranked)
    }
}

@Suite struct GradientCheckTableTests {
    @Test(arguments: GradientTable.all)
    func gradientMatchesFiniteDifferences(_ testCase: GradientCase) {
        let result = testCase.run()
        #expect(result.checked > 0, "\(testCase.name): no entries checked")
        #expect(result.maxRelativeError < testCase.tolerance, "\(testCase.name): \(result)")
    }

    @Test func everyCoveredOpHasACase() {
        let tested = Set(GradientTable.all.map(GradientTable.op(of:)))
        let missing = GradientTable.coveredOps.subtracting(tested)
        #expect(missing.isEmpty, "differentiable ops without a gradient-check case: \(missing.sorted())")
        let unlisted = tested.subtracting(GradientTable.coveredOps)
        #expect(unlisted.isEmpty, "cases naming ops missing from coveredOps: \(unlisted.sorted())")
    }

    @Test func coreCaseNamesAreUniqueAndNameACoveredOp() {
        let names = GradientTable.all.map(\.name)
        #expect(Set(names).count == names.count, "duplicate case names")
        for c in GradientTable.core {
            #expect(c.name.contains(": "), "case name \"\(c.name)\" is not \"<op>: <variant>\"")
            #expect(GradientTable.coveredOps.contains(GradientTable.op(of: c)),
                    "case \"\(c.name)\" names an op missing from coveredOps")
        }
    }

    @Test func wrongDerivativeIsDetected() {
        // A deliberately wrong pullback must fail the checker: proof that the table's check can fail.
        let r = checkGradient(at: [Tensor([1, 2, 3])]) { v in
            Variable.record(v[0].value * v[0].value, inputs: [v[0]]) { g in [g] }   // should be 2x·g
        }
        #expect(r.maxRelativeError > 0.5)
    }

    @Test func domainTransformsDoWhatTheySay() {
        var rng = SeededGenerator(seed: 3)
        let t = Tensor.normal([50], rng: &rng)
        #expect(Domain.positive()(0, t).min() >= 0.5)
        #expect(Domain.awayFromZero(0, t).abs().min() >= 0.2)
        let d = Domain.distinct(0, t).scalars.sorted()
        #expect(zip(d, d.dropFirst()).allSatisfy { $1 - $0 > 0.09 })
        let a = Domain.interleavedGrids(0, t), b = Domain.interleavedGrids(1, t.map { -$0 })
        #expect((a - b).abs().min() > 0.04)
    }
}
