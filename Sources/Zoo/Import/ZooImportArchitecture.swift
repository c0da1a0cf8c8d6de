import Foundation
import Tensors
import NeuralNetworks

/// Infers a family's architecture from one checkpoint's tensors (by our parameter paths), resolves
/// the data, and checks that the family's network has exactly those tensors.
enum ZooImportArchitecture {
    struct Hints {
        /// Transformer heads (not visible in the shapes); default 2.
        var heads: Int?
        /// Transformer image side (when known from the source, e.g. a positional encoding).
        var imageSize: Int?
        /// SIREN ω₀; default 30.
        var sineFrequency: Double?
    }

    static func target(family: ZooFamily, parameters values: [String: Tensor], hints: Hints,
                       data options: ZooImportDataOptions, datasetName: String?, file: String) throws -> ImportTarget {
        func fail(_ d: String) -> ZooError { ZooError.importFailed(file: file, detail: d) }
        func shape(_ path: String, rank: Int) throws -> [Int] {
            guard let t = values[path] else { throw fail("missing tensor '\(path)' (a \(family.rawValue) checkpoint)") }
            guard t.rank == rank else { throw fail("tensor '\(path)' has shape \(t.shape), expected rank \(rank)") }
            return t.shape
        }
        func count(_ template: (Int) -> String) -> Int {
            var n = 0
            while values[template(n)] != nil { n += 1 }
            return n
        }
        var architecture = ZooArchitecture.defaults(for: family)
        let channels: Int
        let classes: Int?
        var defaultShape: (Int) -> [Int]       // channels → image shape when there is no data
        switch family {
        case .cnn:
            let w1 = try shape("conv1.weight", rank: 4), wc = try shape("classifier.weight", rank: 2)
            architecture.filters = w1[0]
            channels = w1[1]
            classes = wc[0]
            defaultShape = { [$0, 28, 28] }
        case .mlp:
            let n = count { "mlp.layers.\($0).weight" }
            guard n >= 1 else { throw fail("missing tensor 'mlp.layers.0.weight' (an mlp checkpoint)") }
            let shapes = try (0..<n).map { try shape("mlp.layers.\($0).weight", rank: 2) }
            architecture.hiddenWidths = shapes.dropLast().map { $0[0] }
            guard !(architecture.hiddenWidths ?? []).isEmpty else { throw fail("an mlp needs at least one hidden layer") }
            let inputs = shapes[0][1]
            channels = 1
            classes = shapes[n - 1][0]
            defaultShape = { _ in inputs == 784 ? [1, 28, 28] : inputs == 1024 ? [1, 32, 32] : [1, 1, inputs] }
        case .siren:
            let n = count { "hidden.\($0).linear.weight" }
            let shapes = try (0..<n).map { try shape("hidden.\($0).linear.weight", rank: 2) }
            let out = try shape("output.weight", rank: 2)
            architecture.hiddenWidths = shapes.map { $0[0] }
            architecture.sineFrequency = hints.sineFrequency ?? 30
            guard n >= 1 else { throw fail("missing tensor 'hidden.0.linear.weight' (a siren checkpoint)") }
            channels = out[0]
            classes = nil
            defaultShape = { [$0, 28, 28] }
        case .transformer:
            let pe = try shape("patchEmbedding.weight", rank: 4)
            let blocks = count { "blocks.\($0).attention.query" }
            guard blocks >= 1 else { throw fail("missing tensor 'blocks.0.attention.query' (a transformer checkpoint)") }
            let q = try shape("blocks.0.attention.query", rank: 3), v = try shape("blocks.0.attention.value", rank: 3)
            let f = try shape("blocks.0.feedForwardIn.weight", rank: 2), k = try shape("classifierOutput.weight", rank: 2)
            var c = SmallTransformer.Configuration()
            c.inputChannels = pe[1]; c.patchSize = pe[2]; c.modelDimension = pe[0]
            c.heads = q[0]; c.keyDimension = q[2]; c.valueDimension = v[2]
            c.feedForwardDimension = f[0]; c.blockCount = blocks; c.classes = k[0]
            c.residual = false
            if let h = hints.heads, h != q[0] { throw fail("the checkpoint has \(q[0]) attention heads, not \(h)") }
            architecture.transformer = c
            channels = pe[1]
            classes = k[0]
            let side = hints.imageSize
            defaultShape = { [$0, side ?? 28, side ?? 28] }
        }
        let (spec, data) = try ZooImportPipeline.resolveData(options, sourceName: datasetName, channels: channels,
                                                             classes: classes, file: file)
        var imageShape = data?.imageShape ?? defaultShape(channels)
        if family == .transformer, let s = hints.imageSize, data == nil { imageShape = [channels, s, s] }
        if family == .transformer, let s = hints.imageSize, let d = data, d.imageShape[1] != s {
            throw fail("the checkpoints' positional encoding is for \(s)×\(s) images, the data set \(spec.displayName) has \(d.imageShape[1])×\(d.imageShape[2])")
        }
        let classCount = classes ?? data?.classCount ?? 10
        var probe = ZooSpec.defaults(for: family)
        probe.architecture = architecture
        var rng = SeededGenerator(seed: 0)
        let template = try ZooModels.make(spec: probe, hyperparameters: MemberHyperparameters(optimizer: nil, learningRate: nil),
                                          imageShape: imageShape, classes: classCount, rng: &rng)
        let shapes = Dictionary(uniqueKeysWithValues: template.namedParameters().map { ($0.path, $0.parameter.value.shape) })
        if let mismatch = ZooImportPipeline.shapeMismatch(values, shapes) {
            throw fail("not a \(family.rawValue) checkpoint of the inferred architecture: \(mismatch)")
        }
        if family == .transformer { architecture.transformer?.imageSize = imageShape[1] }
        return ImportTarget(architecture: architecture, imageShape: imageShape, classes: classCount, data: spec,
                            fingerprint: data?.fingerprint ?? "", shapes: shapes)
    }
}
