import Foundation
import Tensors

/// The flat parameter layout of the released Small CNN Zoo (`layout.csv`), and the conversion
/// between its rows and ``SmallCNN`` parameters.
///
/// `layout.csv` lists one TensorFlow variable per line — `varname` (ending `kernel:0` or
/// `bias:0`, e.g. `sequential/conv2d_1/kernel:0`), `start_idx`, `end_idx` (a half-open column
/// range of `weights.npy`) and `shape` (`(3, 3, 16, 16)`); other columns are ignored. The
/// variables are grouped into layers by the varname without its last component and ordered by
/// their first column; there must be four layers, each with one kernel and one bias: three 3×3
/// convolutions (kernel `(3, 3, in, out)`, TensorFlow's layout) and a dense layer (kernel
/// `(in, out)`). They map, in that order, to `conv1`, `conv2`, `conv3` and `classifier`:
///
/// | layer (by order) | TensorFlow kernel | ours | conversion |
/// | --- | --- | --- | --- |
/// | 1st conv (`conv2d`) | `(3, 3, C, F)` | `conv1.weight` `[F, C, 3, 3]` | `ours[o, c, i, j] = tf[i, j, c, o]` |
/// | 2nd conv (`conv2d_1`) | `(3, 3, F, F)` | `conv2.weight` | same |
/// | 3rd conv (`conv2d_2`) | `(3, 3, F, F)` | `conv3.weight` | same |
/// | dense (`dense`) | `(F, K)` | `classifier.weight` `[K, F]` | transpose |
///
/// Biases (`(F,)`, `(K,)`) are copied. The ranges must tile `0..<width` without gaps or
/// overlaps and each must hold exactly its shape's element count. The released zoo's layout
/// (C = 1, F = 16, K = 10) is ``standard()``: bias before kernel within each layer,
/// `[0,16) b1 | [16,160) K1 | [160,176) b2 | [176,2480) K2 | [2480,2496) b3 | [2496,4800) K3 |
/// [4800,4810) b4 | [4810,4970) K4`.
public struct SmallCNNZooLayout: Sendable, Equatable {
    /// One variable of the layout.
    public struct Variable: Sendable, Equatable {
        /// The TensorFlow name (`sequential/conv2d/kernel:0`).
        public var name: String
        /// The first column.
        public var start: Int
        /// One past the last column.
        public var end: Int
        /// The TensorFlow shape.
        public var shape: [Int]

        /// Creates a variable.
        public init(name: String, start: Int, end: Int, shape: [Int]) {
            self.name = name; self.start = start; self.end = end; self.shape = shape
        }
    }

    /// The variables, ordered by first column.
    public let variables: [Variable]
    /// The row width (4,970 for the released zoo).
    public let width: Int
    /// Input channels C.
    public let inputChannels: Int
    /// Filters F of every convolution.
    public let filters: Int
    /// Classes K.
    public let classes: Int

    /// Our parameter paths, in layer order.
    static let layerPaths = ["conv1", "conv2", "conv3", "classifier"]

    /// (kernel, bias) variable indices per layer, in layer order.
    private let layers: [(kernel: Int, bias: Int)]

    /// Checks and indexes `variables` (see ``SmallCNNZooLayout`` for the rules).
    ///
    /// - Throws: ``ZooError/importFailed(file:detail:)`` naming `source` and what is wrong.
    public init(variables unsorted: [Variable], source: String = "layout.csv") throws {
        func fail(_ d: String) -> ZooError { ZooError.importFailed(file: source, detail: d) }
        let vars = unsorted.sorted { $0.start < $1.start }
        guard !vars.isEmpty else { throw fail("the layout lists no variables") }
        var position = 0
        for v in vars {
            guard v.start == position else {
                throw fail(v.start > position ? "columns \(position)..<\(v.start) belong to no variable (before '\(v.name)')"
                                              : "'\(v.name)' starts at \(v.start), inside the previous variable (which ends at \(position))")
            }
            guard v.end >= v.start else { throw fail("'\(v.name)' ends at \(v.end), before its start \(v.start)") }
            // The product is overflow-checked: the shape comes from the file and may be absurd.
            var count = 1
            for d in v.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard d >= 1, !overflow else { throw fail("'\(v.name)' has shape \(v.shape), which is not a shape of positive sizes with an element count that fits in an integer") }
                count = product
            }
            guard v.end - v.start == count else {
                throw fail("'\(v.name)' spans \(v.start)..<\(v.end) (\(v.end - v.start) values) but has shape \(v.shape)")
            }
            position = v.end
        }
        var order: [String] = []
        var byLayer: [String: (kernel: Int?, bias: Int?)] = [:]
        for (i, v) in vars.enumerated() {
            guard let slash = v.name.lastIndex(of: "/") else {
                throw fail("variable name '\(v.name)' has no layer part (expected e.g. 'conv2d/kernel:0')")
            }
            let layer = String(v.name[..<slash]), leaf = v.name[v.name.index(after: slash)...]
            if byLayer[layer] == nil { order.append(layer); byLayer[layer] = (nil, nil) }
            if leaf.hasPrefix("kernel") {
                guard byLayer[layer]!.kernel == nil else { throw fail("layer '\(layer)' has two kernels") }
                byLayer[layer]!.kernel = i
            } else if leaf.hasPrefix("bias") {
                guard byLayer[layer]!.bias == nil else { throw fail("layer '\(layer)' has two biases") }
                byLayer[layer]!.bias = i
            } else {
                throw fail("variable '\(v.name)' is neither a kernel nor a bias")
            }
        }
        guard order.count == 4 else {
            throw fail("expected 4 layers (3 convolutions and a dense layer), found \(order.count): \(order.joined(separator: ", "))")
        }
        var layers: [(kernel: Int, bias: Int)] = []
        for name in order {
            guard let k = byLayer[name]!.kernel, let b = byLayer[name]!.bias else {
                throw fail("layer '\(name)' needs one kernel and one bias")
            }
            layers.append((k, b))
        }
        let k = layers.map { vars[$0.kernel].shape }
        for i in 0..<3 {
            guard k[i].count == 4, k[i][0] == 3, k[i][1] == 3 else {
                throw fail("layer \(i + 1) ('\(order[i])') should be a 3×3 convolution with kernel (3, 3, in, out), got \(k[i])")
            }
        }
        guard k[3].count == 2 else { throw fail("layer 4 ('\(order[3])') should be dense with kernel (in, out), got \(k[3])") }
        let c = k[0][2], f = k[0][3], classes = k[3][1]
        guard k[1] == [3, 3, f, f], k[2] == [3, 3, f, f], k[3][0] == f else {
            throw fail("kernel shapes \(k) do not chain: expected (3, 3, C, F), (3, 3, F, F), (3, 3, F, F), (F, K)")
        }
        for (i, l) in layers.enumerated() where vars[l.bias].shape != [i < 3 ? f : classes] {
            throw fail("bias of layer \(i + 1) ('\(order[i])') has shape \(vars[l.bias].shape), expected (\(i < 3 ? f : classes),)")
        }
        self.variables = vars
        self.width = position
        self.inputChannels = c
        self.filters = f
        self.classes = classes
        self.layers = layers
    }

    /// Two layouts are equal when their variables are (names, ranges and shapes).
    public static func == (a: SmallCNNZooLayout, b: SmallCNNZooLayout) -> Bool { a.variables == b.variables }

    /// Parses `layout.csv` (columns `varname`, `start_idx`, `end_idx`, `shape`; others ignored).
    ///
    /// - Throws: ``ZooError/importFailed(file:detail:)`` for a missing column, an unparsable
    ///   number or shape, or a layout that breaks the rules of ``SmallCNNZooLayout``.
    public init(csv data: Data, source: String = "layout.csv") throws {
        let table = try ImportCSV.parse(data, source: source)
        func col(_ name: String) throws -> Int {
            guard let i = table.column(name) else {
                throw ZooError.importFailed(file: source, detail: "missing column '\(name)' (the header has \(table.header.joined(separator: ", ")))")
            }
            return i
        }
        let (n, s, e, sh) = (try col("varname"), try col("start_idx"), try col("end_idx"), try col("shape"))
        var vars: [Variable] = []
        for (row, line) in zip(table.rows, table.lines) {
            guard let start = parseInteger(row[s]), let end = parseInteger(row[e]) else {
                throw ZooError.importFailed(file: source, detail: "line \(line): start_idx/end_idx '\(row[s])', '\(row[e])' are not integers")
            }
            // `(3, 3, 1, 16)`, `[3, 3, 1, 16]`, `(16,)`, `TensorShape([3, 3, 1, 16])`: the integers in order.
            let text = row[sh].replacingOccurrences(of: "TensorShape", with: "")
            let tokens = text.split(whereSeparator: { !$0.isNumber })
            let shape = tokens.compactMap { Int($0) }
            guard shape.count == tokens.count else {
                throw ZooError.importFailed(file: source, detail: "line \(line): shape '\(row[sh])' holds a size too large for an integer")
            }
            vars.append(Variable(name: row[n], start: start, end: end, shape: shape))
        }
        try self.init(variables: vars, source: source)
    }

    /// The released zoo's layout for C input channels, F filters and K classes: TensorFlow names
    /// `sequential/conv2d/bias:0`, `sequential/conv2d/kernel:0`, … `sequential/dense/kernel:0`,
    /// bias before kernel within each layer.
    public static func standard(inputChannels c: Int = 1, filters f: Int = 16, classes k: Int = 10) -> SmallCNNZooLayout {
        let names = ["conv2d", "conv2d_1", "conv2d_2", "dense"]
        let shapes: [([Int], [Int])] = [([f], [3, 3, c, f]), ([f], [3, 3, f, f]), ([f], [3, 3, f, f]), ([k], [f, k])]
        var vars: [Variable] = []
        var p = 0
        for (name, (b, kernel)) in zip(names, shapes) {
            for (leaf, shape) in [("bias:0", b), ("kernel:0", kernel)] {
                let n = shape.reduce(1, *)
                vars.append(Variable(name: "sequential/\(name)/\(leaf)", start: p, end: p + n, shape: shape))
                p += n
            }
        }
        return try! SmallCNNZooLayout(variables: vars)
    }

    /// `layout.csv` text for this layout (`varname,start_idx,end_idx,shape`, shapes as `(3, 3, 1, 16)`).
    public var csv: String {
        var out = "varname,start_idx,end_idx,shape\n"
        for v in variables {
            let shape = v.shape.count == 1 ? "(\(v.shape[0]),)" : "(" + v.shape.map(String.init).joined(separator: ", ") + ")"
            out += "\(v.name),\(v.start),\(v.end),\"\(shape)\"\n"
        }
        return out
    }

    /// The parameters of one row (`width` values in TensorFlow layout), by our paths, in our layout.
    ///
    /// - Precondition: `row.count == width`.
    public func parameters(fromRow row: UnsafeBufferPointer<Float>) -> [String: Tensor] {
        precondition(row.count == width, "a Small CNN Zoo row has \(width) values, got \(row.count)")
        var out: [String: Tensor] = [:]
        for (i, l) in layers.enumerated() {
            let path = SmallCNNZooLayout.layerPaths[i]
            let kv = variables[l.kernel], bv = variables[l.bias]
            out[path + ".bias"] = Tensor(shape: bv.shape) { row[bv.start + $0] }
            if kv.shape.count == 4 {
                let (kh, kw, cin, cout) = (kv.shape[0], kv.shape[1], kv.shape[2], kv.shape[3])
                // ours[o, c, a, b] = tf[a, b, c, o]
                out[path + ".weight"] = Tensor(shape: [cout, cin, kh, kw]) { flat in
                    let b = flat % kw, a = (flat / kw) % kh, c = (flat / (kw * kh)) % cin, o = flat / (kw * kh * cin)
                    return row[kv.start + ((a * kw + b) * cin + c) * cout + o]
                }
            } else {
                let (nin, nout) = (kv.shape[0], kv.shape[1])
                // ours[o, i] = tf[i, o]
                out[path + ".weight"] = Tensor(shape: [nout, nin]) { flat in
                    let i = flat % nin, o = flat / nin
                    return row[kv.start + i * nout + o]
                }
            }
        }
        return out
    }

    /// The row (TensorFlow layout) of `parameters` — the inverse of ``parameters(fromRow:)``, for
    /// writing Small-CNN-Zoo-format files.
    ///
    /// - Throws: ``ZooError/invalidSpec(_:)`` when a parameter is missing or mis-shaped.
    public func row(from parameters: [String: Tensor]) throws -> [Float] {
        var row = [Float](repeating: 0, count: width)
        for (i, l) in layers.enumerated() {
            let path = SmallCNNZooLayout.layerPaths[i]
            let kv = variables[l.kernel], bv = variables[l.bias]
            let expectedWeight = kv.shape.count == 4 ? [kv.shape[3], kv.shape[2], kv.shape[0], kv.shape[1]] : [kv.shape[1], kv.shape[0]]
            guard let w = parameters[path + ".weight"], w.shape == expectedWeight,
                  let b = parameters[path + ".bias"], b.shape == bv.shape else {
                throw ZooError.invalidSpec("\(path).weight must be \(expectedWeight) and \(path).bias \(bv.shape)")
            }
            b.withUnsafeBufferPointer { p in for j in 0..<p.count { row[bv.start + j] = p[j] } }
            w.withUnsafeBufferPointer { p in
                if kv.shape.count == 4 {
                    let (kh, kw, cin, cout) = (kv.shape[0], kv.shape[1], kv.shape[2], kv.shape[3])
                    for o in 0..<cout { for c in 0..<cin { for a in 0..<kh { for bb in 0..<kw {
                        row[kv.start + ((a * kw + bb) * cin + c) * cout + o] = p[((o * cin + c) * kh + a) * kw + bb]
                    } } } }
                } else {
                    let (nin, nout) = (kv.shape[0], kv.shape[1])
                    for o in 0..<nout { for j in 0..<nin { row[kv.start + j * nout + o] = p[o * nin + j] } }
                }
            }
        }
        return row
    }
}
