import Foundation
import Training
import TensorIO
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks
import Datasets
import Zoo

/// INR editing (Zhou et al. 2023, *Neural Functional Transformers*, §5.2): learn a weight-space map
/// that edits a SIREN so that it renders a transformed version of the image it fitted. With s the
/// per-tensor scales of the zoo (see ``Data/layerScales``) and E an editor (``EditorKind``),
///
/// ```
/// edited(W) = s ⊙ E(W / s),   E(V) = V + α·f(V)
/// loss = MSE(render(edited(W)), edit(original image))
/// ```
///
/// where `render` is ``SIRENRenderer`` on the zoo's coordinate grid and `edit` an ``ImageEdit``
/// applied to the image the member fitted (its `image_index` in the zoo's data, in the zoo's
/// pixel range). Equivariant editors (np, hnp, nft) commute with the SIRENs' neuron
/// permutations, so permuting a SIREN's hidden neurons does not change the rendered edit.
///
/// Reported: test MSE of the edited SIRENs against the targets, the MSE of the unedited SIRENs
/// against the same targets (`no_edit_mse`, the reference an editor must beat) and the MSE on a
/// hidden-permutation-augmented test set (robustness). Validation metric: −MSE.
///
/// ```swift
/// let data = try INREditingExperiment.load(zoo: URL(fileURLWithPath: "zoos/siren"), edit: .dilate)
/// let split = try DataSplit(count: data.count, seed: 0)
/// let result = try INREditingExperiment.run(model: "hnp", data: data, split: split,
///                                           configuration: .init(epochs: 20, learningRate: 1e-3, seed: 0))
/// print(result.metrics["mse"]!, result.metrics["no_edit_mse"]!)
/// ```
public enum INREditingExperiment: MetanetworkTask {
    public static var task: ExperimentTask { .inrEditing }
    /// An editor: weight-space features in, edited features out.
    public typealias Model = any Module & WeightSpaceLayer

    /// The SIREN members, their fitted images and the edit targets.
    public struct Data: Sendable {
        /// The zoo's members.
        public var zoo: SIRENZooData
        /// The edit to learn.
        public var edit: ImageEdit
        /// The images the members fitted, `[N, H, W]`, in the zoo's pixel range.
        public var images: Tensor
        /// `edit.apply(images)`, `[N, H, W]`.
        public var targets: Tensor
        /// Per-tensor scales (weights then biases): the root mean square of each tensor over all
        /// members. Editors see W/s and their output is multiplied back by s; one scalar per
        /// tensor commutes with every neuron permutation.
        public var layerScales: [Float]
        /// The normalised weights W/s the editors see.
        public var features: WeightSpaceFeatures

        /// The number of members.
        public var count: Int { zoo.count }
        /// Image height.
        public var height: Int { images.shape[1] }
        /// Image width.
        public var width: Int { images.shape[2] }
        /// Members left out (diverged or NaN/∞ weights).
        public var skipped: Int { zoo.skippedDiverged + zoo.skippedNonFinite }

        /// Wraps members and their fitted images `[N, H, W]`.
        public init(zoo: SIRENZooData, edit: ImageEdit, images: Tensor) {
            precondition(images.rank == 3 && images.shape[0] == zoo.count, "images must be [\(zoo.count), H, W], got \(images.shape)")
            self.zoo = zoo
            self.edit = edit
            self.images = images
            targets = edit.apply(images)
            layerScales = INRClassificationExperiment.layerScales(zoo.features)
            features = INRClassificationExperiment.normalize(zoo.features, scales: layerScales)
        }
    }

    /// Loads a SIREN zoo and the images its members fitted (from the zoo's data spec, or `data`).
    ///
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for a non-SIREN zoo, multi-channel
    ///   images or fewer than 10 usable members; the data set's loading errors.
    public static func load(zoo directory: URL, edit: ImageEdit, epoch: Int? = nil, data: ZooData? = nil) throws -> Data {
        let zoo = try SIRENZooData.load(zoo: directory, epoch: epoch)
        return Data(zoo: zoo, edit: edit, images: try zoo.fittedImages(data: data))
    }

    /// The checkpoints of the configuration's `zoo_epoch` and its `edit`.
    public static func load(zoo: URL, configuration: ExperimentConfiguration) throws -> Data {
        try load(zoo: zoo, edit: try configuration.imageEdit(), epoch: configuration.zooEpoch)
    }

    public static func zooName(of data: Data) -> String { data.zoo.name }
    /// SIREN zoos only.
    public static func accepts(_ family: ZooFamily) -> Bool { family == .siren }
    /// One SIREN per item, grouped by the image it fits: the re-fits of one image
    /// (``ZooTrainingSpec/refits``) land in one part of a split (without re-fits every group is
    /// one SIREN).
    public static func members(of data: Data) -> [Int] { data.zoo.imageIndices }

    public static func summary(of data: Data) -> String {
        "\(data.count) SIRENs, edit \(data.edit.rawValue), \(data.skipped) left out (diverged or non-finite)"
    }

    public static func reportEntries(of data: Data, model: Model) -> [String: String] {
        ["edit": data.edit.rawValue, "zoo_epoch": "\(data.zoo.epoch)", "skipped": "\(data.skipped)"]
    }

    public static func requireCompatible(_ data: Data, trainedOn own: Data) throws {
        guard data.zoo.features.widths == own.zoo.features.widths, data.height == own.height, data.width == own.width else {
            throw ExperimentError.incompatibleZoo("\(data.zoo.name) has other SIRENs or image sizes than \(own.zoo.name), which the run was trained on")
        }
    }

    /// The file a run draws its first test members' edits into.
    public static let galleryFileName = "edits.svg"

    /// Draws the first 8 test members' edits into ``galleryFileName``.
    public static func writeArtifacts(of model: Model, data: Data, split: DataSplit, into folder: URL) throws -> [String] {
        try writeGallery(model: model, data: data, indices: Array(split.test.prefix(8)),
                         to: folder.appendingPathComponent(galleryFileName))
        return ["edited test images: \(galleryFileName)"]
    }

    /// The editor names (``EditorKind``): np, hnp, nft (equivariant) and mlp (baseline).
    public static let modelNames = EditorKind.allCases.map(\.rawValue)

    /// A freshly initialised editor `name` for the data's SIREN weight space, from `seed`.
    ///
    /// - Throws: ``ExperimentError/unknownModel(_:)`` for other names.
    public static func makeModel(name: String, data: Data, size: MetanetworkKind.Size = .standard,
                                 seed: UInt64) throws -> Model {
        guard let kind = EditorKind(rawValue: name) else {
            throw ExperimentError.unknownModel("\(name) (for INR editing: \(modelNames.joined(separator: ", ")))")
        }
        var rng = SeededGenerator(seed: seed &+ 0xED17)
        return try kind.makeEditor(architecture: data.zoo.architecture, size: size, rng: &rng)
    }

    /// The rendered images `[b, H, W]` of members `indices` after editing with `model` (nil: the
    /// unedited SIRENs), from `features` (default: the data's normalised weights), recorded on `tape`.
    public static func render(model: (Module & WeightSpaceLayer)?, data: Data, indices: [Int],
                              features: WeightSpaceFeatures? = nil, tape: Tape? = nil) -> Variable {
        let input = WeightSpaceVariables((features ?? data.features).gathering(members: indices), tape: tape)
        let edited = model.map { $0(input) } ?? input
        let L = edited.layerCount, s = data.layerScales
        let raw = WeightSpaceVariables(weights: edited.weights.enumerated().map { $0.element * s[$0.offset] },
                                       biases: edited.biases.enumerated().map { $0.element * s[L + $0.offset] })
        return SIRENRenderer.images(raw, height: data.height, width: data.width, frequency: data.zoo.frequency)
    }

    /// The mean squared error against the targets of the edited (or, for `model == nil`,
    /// unedited) SIRENs at `indices`, averaged over pixels and members.
    ///
    /// - Parameter features: weights other than the data's (e.g. an augmented copy of the test
    ///   set), aligned with `indices`.
    /// - Returns: `["mse": …]`.
    public static func evaluate(model: (Module & WeightSpaceLayer)?, data: Data, indices: [Int],
                                features: WeightSpaceFeatures? = nil, targetIndices: [Int]? = nil,
                                batchSize: Int = 64) -> [String: Double] {
        guard !indices.isEmpty else { return ["mse": .nan] }
        let targetRows = targetIndices ?? indices
        var total = 0.0
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let range = start..<Swift.min(start + batchSize, indices.count)
            let images = render(model: model, data: data, indices: Array(indices[range]), features: features).value
            let target = data.targets.gathering(Array(targetRows[range]))
            let d = images - target
            total += Double((d * d).sum())
        }
        return ["mse": total / Double(indices.count * data.height * data.width)]
    }

    /// The test report of a trained editor on the members at `indices`: `mse` of the edited
    /// SIRENs against the edited images (also as `loss`), `no_edit_mse` of the unedited SIRENs,
    /// and the edited MSE after moving each member by its own random hidden-neuron permutation
    /// (seeded by `seed`) — an equivariant editor's edit moves with its input, so it stays.
    public static func evaluateWithRobustness(model: Module & WeightSpaceLayer, data: Data, indices: [Int],
                                              seed: UInt64) throws -> (metrics: [String: Double], robustness: [String: Double]) {
        model.eval()
        let mse = evaluate(model: model, data: data, indices: indices)["mse"] ?? .nan
        let reference = evaluate(model: nil, data: data, indices: indices)["mse"] ?? .nan
        let moved = try Robustness.augment(data.features.gathering(members: indices), with: .permutation,
                                           activations: [Activation](repeating: .sine, count: indices.count), seed: seed &+ 77).features
        let permuted = evaluate(model: model, data: data, indices: Array(0..<indices.count), features: moved,
                                targetIndices: indices)["mse"] ?? .nan
        return (["mse": mse, "no_edit_mse": reference, "loss": mse],
                [Robustness.Augmentation.permutation.description: permuted])
    }

    public static func makeModel(name: String, data: Data, trainingItems: [Int], size: MetanetworkKind.Size,
                                 seed: UInt64) throws -> Model {
        try makeModel(name: name, data: data, size: size, seed: seed)
    }

    public static func module(of model: Model) -> Module { model }

    /// Mean squared error of the edited SIRENs' renderings against the edited images.
    public static func loss(of model: Model, data: Data, items: [Int], tape: Tape) throws -> Variable {
        let pixels = data.height * data.width
        let images = render(model: model, data: data, indices: items, tape: tape)
        return Variable.meanSquaredError(images.reshaped([items.count, pixels]),
                                         data.targets.gathering(items).reshaped([items.count, pixels]))
    }

    /// −MSE on `items`.
    public static func validationMetric(of model: Model, data: Data, items: [Int]) throws -> Double {
        -(evaluate(model: model, data: data, indices: items)["mse"] ?? .infinity)
    }

    /// ``evaluateWithRobustness(model:data:indices:seed:)``: `mse`, `no_edit_mse`, `loss`, and the
    /// MSE on hidden-permutation-augmented copies.
    public static func evaluate(_ model: Model, data: Data, items: [Int], seed: UInt64) throws -> TaskEvaluation {
        let (metrics, robustness) = try evaluateWithRobustness(model: model, data: data, indices: items, seed: seed)
        // Every member is a SIREN: the permutation acts on all of them.
        return TaskEvaluation(metrics: metrics, robustness: robustness,
                              augmentedMembers: robustness.mapValues { _ in items.count })
    }

    /// An SVG grid for looking at edits: one row per member of `indices`, columns original image,
    /// unedited SIREN, edited SIREN (`model`), target; one `<rect>` per pixel, grey levels from
    /// the zoo's pixel range (values clamped).
    public static func gallerySVG(model: Module & WeightSpaceLayer, data: Data, indices: [Int],
                                  pixelSize: Int = 4) -> String {
        let (h, w) = (data.height, data.width)
        let unedited = render(model: nil, data: data, indices: indices).value
        let edited = render(model: model, data: data, indices: indices).value
        let (lo, hi): (Float, Float) = data.zoo.spec.data.pixelRange == .symmetric ? (-1, 1) : (0, 1)
        let columns = ["original", "SIREN", "edited", "target (\(data.edit.rawValue))"]
        let cell = w * pixelSize, gap = 8, top = 24
        let width = columns.count * (cell + gap) + gap
        let height = top + indices.count * (h * pixelSize + gap) + gap
        var body = ""
        for (c, name) in columns.enumerated() {
            body += "<text x=\"\(gap + c * (cell + gap) + cell / 2)\" y=\"16\" font-size=\"11\" text-anchor=\"middle\">\(SVGPlot.escape(name))</text>"
        }
        for (row, member) in indices.enumerated() {
            let sources: [Tensor] = [data.images[member], unedited[row], edited[row], data.targets[member]]
            for (c, image) in sources.enumerated() {
                let x0 = gap + c * (cell + gap), y0 = top + row * (h * pixelSize + gap)
                image.withUnsafeBufferPointer { p in
                    for r in 0..<h {
                        for col in 0..<w {
                            let v = Swift.min(Swift.max((p[r * w + col] - lo) / (hi - lo), 0), 1)
                            let g = Int((v * 255).rounded())
                            body += "<rect x=\"\(x0 + col * pixelSize)\" y=\"\(y0 + r * pixelSize)\" width=\"\(pixelSize)\" height=\"\(pixelSize)\" fill=\"rgb(\(g),\(g),\(g))\"/>"
                        }
                    }
                }
            }
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" shape-rendering="crispEdges">
        <rect width="100%" height="100%" fill="white"/>
        \(body)
        </svg>
        """
    }

    /// Writes ``gallerySVG(model:data:indices:pixelSize:)`` to `url` atomically.
    public static func writeGallery(model: Module & WeightSpaceLayer, data: Data, indices: [Int], to url: URL) throws {
        try AtomicFile.write(Foundation.Data(gallerySVG(model: model, data: data, indices: indices).utf8), to: url)
    }
}
