import Foundation
import Training
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// The two-stage training of ``INR2Array`` models in the INR classification task (Zhou et al. 2023,
/// *Neural Functional Transformers*, §4–5.1):
///
/// 1. **Reconstruction** (`reconstruction_epochs`): encoder and decoder minimise the MSE between the
///    decoded patches and the SIREN's own rendering on its pixel grid; the validation metric is
///    −MSE, and the best-reconstruction weights are kept. Checkpointed to
///    `reconstruction-checkpoint.safetensors` beside the run's checkpoint.
/// 2. **Classification** (`epochs`): the latent arrays of every member are computed once with the
///    frozen encoder and the classifier alone is trained on them (cross-entropy; validation
///    accuracy). Checkpointed to the run's checkpoint, which holds the whole model, so
///    `nfn evaluate` rebuilds it as for any other model.
///
/// Both stages are resumable: a finished first stage is read back, not redone.
extension INRClassificationExperiment {
    /// Reconstruction epochs when the configuration leaves them out.
    public static let defaultReconstructionEpochs = 20

    /// The first stage's checkpoint beside `checkpoint` (nil: none).
    static func reconstructionCheckpoint(beside checkpoint: URL?) -> URL? {
        checkpoint.map { $0.deletingLastPathComponent().appendingPathComponent("reconstruction-" + $0.lastPathComponent) }
    }

    /// Two stages for ``INR2Array`` models, one ``MetanetworkTrainer`` run for the others.
    public static func train(_ model: Model, name: String, data: Data, split: DataSplit,
                             configuration: MetanetworkTrainingConfiguration, checkpoint: URL? = nil,
                             progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> TrainedMetanetwork<Model> {
        guard let inr2array = model as? INR2Array else {
            if let r = configuration.reconstructionEpochs {
                throw TrainingError.invalidConfiguration("reconstruction_epochs (\(r)) applies to the inr2array models only, not \(name)")
            }
            return try trainOneStage(model, name: name, data: data, split: split, configuration: configuration,
                                     checkpoint: checkpoint, progress: progress)
        }
        let start = Date()
        let reconstruction = try trainReconstruction(inr2array, data: data, split: split, configuration: configuration,
                                                     checkpoint: reconstructionCheckpoint(beside: checkpoint), progress: progress)
        let latents = try latentArrays(inr2array, features: data.features)
        let history = try MetanetworkTrainer.train(
            model: inr2array, memberCount: split.train.count, configuration: configuration, checkpoint: checkpoint,
            loss: { batch, tape in
                let items = batch.map { split.train[$0] }
                // Constant latents: the classifier's loss does not reach the encoder (stop gradient).
                let logits = inr2array.logits(latents: tape.constant(latents.gathering(items)))
                return Variable.softmaxCrossEntropy(logits: logits, labels: items.map { data.labels[$0] })
            },
            validate: { accuracy(inr2array, latents: latents, items: split.validation, labels: data.labels) },
            progress: progress)
        // A resumed run reports the time of both stages' epochs, not just of this session's.
        let resumed = reconstruction.resumedFromEpoch != nil || history.resumedFromEpoch != nil
        let seconds = resumed ? reconstruction.epochSeconds + history.epochSeconds : Date().timeIntervalSince(start)
        return TrainedMetanetwork(name: name, model: model, history: history, seconds: seconds)
    }

    /// Stage 1: trains encoder and decoder on the reconstruction objective; the model ends with
    /// its best-validation (lowest MSE) weights.
    public static func trainReconstruction(_ model: INR2Array, data: Data, split: DataSplit,
                                           configuration: MetanetworkTrainingConfiguration, checkpoint: URL? = nil,
                                           progress: ((MetanetworkEpoch) throws -> Void)? = nil) throws -> MetanetworkTrainingHistory {
        var stage = configuration
        stage.epochs = configuration.reconstructionEpochs ?? defaultReconstructionEpochs
        let targets = try renderedImages(data)
        return try MetanetworkTrainer.train(
            model: model, memberCount: split.train.count, configuration: stage, checkpoint: checkpoint,
            loss: { batch, tape in
                let items = batch.map { split.train[$0] }
                return try model.reconstructionLoss(WeightSpaceVariables(data.features.gathering(members: items), tape: tape),
                                                    targets: targets.gathering(items))
            },
            validate: { -(try reconstructionMSE(model, data: data, targets: targets, items: split.validation)) },
            progress: progress.map { report in { epoch in
                var e = epoch
                e.stage = "reconstruction"
                try report(e)
            } })
    }

    /// The images `[N, H, W]` the members' SIRENs render on the zoo's pixel grid (their own
    /// rendering, the reconstruction target), rendered in chunks.
    ///
    /// - Throws: ``ExperimentError/incompatibleZoo(_:)`` for images that are not one-channel.
    public static func renderedImages(_ data: Data, chunk: Int = 128) throws -> Tensor {
        let shape = data.zoo.imageShape
        guard shape.count == 3, shape[0] == 1 else {
            throw ExperimentError.incompatibleZoo("INR2ARRAY reconstructs one-channel images, the zoo's images are \(shape)")
        }
        var parts: [Tensor] = []
        for start in stride(from: 0, to: data.count, by: chunk) {
            let raw = data.zoo.features.members(start..<Swift.min(start + chunk, data.count))
            parts.append(SIRENRenderer.images(WeightSpaceVariables(raw), height: shape[1], width: shape[2],
                                              frequency: data.zoo.frequency).value)
        }
        return Tensor.concatenate(parts, alongAxis: 0)
    }

    /// The mean squared reconstruction error over the members `items` (per pixel), in eval mode.
    public static func reconstructionMSE(_ model: INR2Array, data: Data, targets: Tensor, items: [Int],
                                         chunk: Int = 64) throws -> Double {
        guard !items.isEmpty else { return .nan }
        model.eval()
        var total = 0.0
        for start in stride(from: 0, to: items.count, by: chunk) {
            let part = Array(items[start..<Swift.min(start + chunk, items.count)])
            let loss = try model.reconstructionLoss(WeightSpaceVariables(data.features.gathering(members: part)),
                                                    targets: targets.gathering(part))
            total += Double(loss.value.sum()) * Double(part.count)
        }
        return total / Double(items.count)
    }

    /// The frozen encoder's latent arrays `[N, M, d]` of every member, in chunks.
    static func latentArrays(_ model: INR2Array, features: WeightSpaceFeatures, chunk: Int = 64) throws -> Tensor {
        var parts: [Tensor] = []
        for start in stride(from: 0, to: features.batchSize, by: chunk) {
            parts.append(try model.checkedLatents(features.members(start..<Swift.min(start + chunk, features.batchSize))))
        }
        return Tensor.concatenate(parts, alongAxis: 0)
    }

    /// Accuracy of the classifier on precomputed latents.
    static func accuracy(_ model: INR2Array, latents: Tensor, items: [Int], labels: [Int]) -> Double {
        guard !items.isEmpty else { return 0 }
        let z = model.logits(latents: Variable(latents.gathering(items))).value
        let c = z.shape[1]
        var correct = 0
        for (r, item) in items.enumerated() {
            var best = 0
            for k in 1..<c where z[flat: r * c + k] > z[flat: r * c + best] { best = k }
            if best == labels[item] { correct += 1 }
        }
        return Double(correct) / Double(items.count)
    }
}
