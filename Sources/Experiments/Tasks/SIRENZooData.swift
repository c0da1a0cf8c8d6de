import Foundation
import Tensors
import NeuralNetworks
import WeightSpace
import Zoo

/// The members of a SIREN zoo at one checkpoint epoch, as the INR tasks consume them: one-channel
/// weight-space features, the class and image index of every member, and the SIREN geometry.
public struct SIRENZooData: Sendable {
    /// The zoo folder's name (for reports).
    public var name: String
    /// The zoo's spec (data, architecture, training).
    public var spec: ZooSpec
    /// The checkpoint epoch loaded.
    public var epoch: Int
    /// `[N, 1, …]` weights and biases; row i is `checkpoints[i]`.
    public var features: WeightSpaceFeatures
    /// The members' weight space (a SIREN with sine activations), as the zoo's model declares it.
    public var architecture: FeedforwardArchitecture
    /// The checkpoints kept, in row order.
    public var checkpoints: [ZooCheckpoint]
    /// The class of the image each member fitted.
    public var labels: [Int]
    /// The number of classes of the zoo's data set.
    public var classCount: Int
    /// `[channels, height, width]` of the fitted images.
    public var imageShape: [Int]
    /// ω₀ of the members' sine layers.
    public var frequency: Float
    /// Checkpoints left out because a weight was NaN or ±∞.
    public var skippedNonFinite: Int
    /// Checkpoints left out because the fit diverged.
    public var skippedDiverged: Int

    /// The number of members kept.
    public var count: Int { labels.count }
    /// Every member's image index in the zoo's image split.
    public var imageIndices: [Int] { checkpoints.map { $0.imageIndex ?? $0.member } }
    /// The fits' recorded mean squared errors (`train_loss`), NaN where absent.
    public var fitMSE: [Float] { checkpoints.map { $0.trainLoss ?? .nan } }


    /// Loads the checkpoints of `epoch` (default: the last checkpoint epoch) of the SIREN zoo at
    /// `directory`, leaving out (and counting) diverged and non-finite members.
    ///
    /// - Parameter minimumMembers: fewer usable members than this throws.
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for a zoo of another family, an epoch that
    ///   is not a checkpoint epoch, or too few usable members; ``ZooError`` for a malformed zoo.
    public static func load(zoo directory: URL, epoch: Int? = nil, minimumMembers: Int = 10) throws -> SIRENZooData {
        let reader = try ZooReader(directory: directory)
        guard reader.family == .siren else {
            throw ExperimentError.incompatibleZoo("\(directory.path) is a \(reader.family.rawValue) zoo; the INR tasks need a SIREN zoo (nfn zoo generate --family siren)")
        }
        guard let e = epoch ?? reader.epochs.last, reader.epochs.contains(e) else {
            throw ExperimentError.incompatibleZoo("\(directory.path) has no checkpoint epoch \(epoch.map(String.init) ?? "") (epochs: \(reader.epochs))")
        }
        let selected = reader.checkpoints(epoch: e)
        let batch: ZooFeatureBatch
        do {
            batch = try reader.features(selected)
        } catch ZooError.invalidSpec(let m) {
            throw ExperimentError.incompatibleZoo("\(directory.path): \(m)")
        }
        guard batch.checkpoints.count >= minimumMembers else {
            throw ExperimentError.incompatibleZoo("\(directory.path) has only \(batch.checkpoints.count) usable members at epoch \(e) (need \(minimumMembers))")
        }
        let labels = batch.checkpoints.map { $0.label ?? 0 }
        let classes = Swift.max(reader.manifest.classes, (labels.max() ?? 0) + 1)
        return SIRENZooData(
            name: directory.lastPathComponent, spec: reader.spec, epoch: e, features: batch.features,
            architecture: batch.architecture,
            checkpoints: batch.checkpoints, labels: labels, classCount: classes, imageShape: reader.manifest.imageShape,
            frequency: Float(reader.spec.architecture.sineFrequency ?? 30),
            skippedNonFinite: batch.skippedNonFinite, skippedDiverged: batch.skippedDiverged)
    }

    /// The images the members fitted, `[N, height, width]` in the zoo's pixel range, loaded from
    /// the zoo's data spec (or from `data` when given).
    ///
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for multi-channel images or an image index
    ///   outside the split; the data set's loading errors.
    public func fittedImages(data: ZooData? = nil) throws -> Tensor {
        guard imageShape.count == 3, imageShape[0] == 1 else {
            throw ExperimentError.incompatibleZoo("the INR tasks render one-channel images, the zoo's images are \(imageShape)")
        }
        let loaded = try data ?? spec.data.load()
        let split = spec.data.imageSplit == .train ? loaded.train : loaded.test
        let (h, w) = (imageShape[1], imageShape[2])
        guard split.height == h, split.width == w else {
            throw ExperimentError.incompatibleZoo("the zoo's data has \(split.height)×\(split.width) images, the zoo records \(h)×\(w)")
        }
        let parts = try imageIndices.map { i -> Tensor in
            guard i >= 0, i < split.count else {
                throw ExperimentError.incompatibleZoo("image index \(i) is outside the \(spec.data.imageSplit.rawValue) split (\(split.count) images)")
            }
            return split.image(at: i).reshaped([h, w])
        }
        return Tensor.stack(parts)
    }
}
