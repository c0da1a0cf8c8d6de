import Foundation
import WeightSpace
import Tensors
import Autograd
import NeuralNetworks
import Datasets
import Training
import LinearAlgebra

/// Trains one zoo member and captures its checkpoints.
///
/// **Everything about member `i` derives from `(spec.seed, i)` alone.** With
/// `root = SeededGenerator(seed: spec.seed).split(stream: i)`:
/// - sub-stream 0: hyper-parameters (each from its own sub-stream of it, see ``HyperparameterSpace``);
/// - sub-stream 1: weight initialisation (and the dropout layers' seeds) — unless the spec asks
///   for a shared initialisation (``ZooTrainingSpec/sharedInitialization``), which every member
///   draws from the same zoo-wide stream;
/// - sub-stream 2: the member's training subset (``LabeledImageDataset/fraction(_:rng:)``);
/// - sub-stream 3: the mini-batch order (the training configuration's seed).
///
/// So a member is the same whether it is generated alone, in a shard, on any worker, or again
/// after a crash. Bit-identical weights also need the same build and a single-threaded BLAS
/// (OpenBLAS's threaded kernels may sum in another order): ``train(member:spec:data:)`` switches
/// BLAS to one thread for as long as any member trains (see ``SingleThreadedBLAS``).
public enum ZooMemberTrainer {
    /// A trained member: its checkpoint records and the tensors of its shard.
    public struct Output: Sendable {
        /// One record per checkpoint epoch, ascending.
        public var checkpoints: [ZooCheckpoint]
        /// The shard's tensors: `member-<id>/epoch-<e>/<parameter path>`.
        public var tensors: [String: Tensor]
        /// Whether training diverged.
        public var diverged: Bool { checkpoints.contains { $0.diverged } }
    }

    /// The stream of `SeededGenerator(seed: zoo seed)` that shared initial weights come from (far
    /// from the member streams `0..<members`).
    static let sharedInitializationStream: UInt64 = 0x5AED_0000_0000_0001

    /// Member `member`'s root generator.
    public static func rootGenerator(seed: UInt64, member: Int) -> SeededGenerator {
        SeededGenerator(seed: seed).split(stream: UInt64(member))
    }

    /// Member `member`'s hyper-parameters (without training it).
    public static func hyperparameters(spec: ZooSpec, member: Int) -> MemberHyperparameters {
        spec.space.sample(for: spec.family, using: rootGenerator(seed: spec.seed, member: member).split(stream: 0))
    }

    /// Trains member `member` of `spec` on `data` and returns its checkpoints.
    ///
    /// A diverging member is not an error: its remaining checkpoints are recorded with
    /// `diverged: true`, no metrics, and the weights at the moment of divergence.
    ///
    /// - Throws: ``ZooError/memberFailed(member:detail:)`` when the member cannot be built or
    ///   trained (architecture and data do not fit, a SIREN member without an image).
    public static func train(member: Int, spec: ZooSpec, data: ZooData) throws -> Output {
        try train(members: [member], spec: spec, data: data)[0]
    }

    /// Trains `members` of `spec` on `data`. With the ``ZooEngine/memberBatch`` engine, members
    /// train together (``SIRENMemberBatch``, ``MLPMemberBatch``, ``CNNMemberBatch``,
    /// ``TransformerMemberBatch``); with ``ZooEngine/tape``, one after another on the tape. Each
    /// member comes out exactly as ``train(member:spec:data:)`` gives it: no operation mixes
    /// members (tested), so batching changes speed, never a member. SIREN and MLP members are
    /// moreover bit-identical to ``trainOnTape(member:spec:data:)``; CNN and transformer members
    /// agree with it to Float32 reassociation (their GEMMs sum in another order).
    ///
    /// - Throws: ``ZooError/memberFailed(member:detail:)`` naming the first member that cannot be
    ///   built or trained.
    public static func train(members: [Int], spec: ZooSpec, data: ZooData) throws -> [Output] {
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        switch (spec.family, spec.effectiveEngine) {
        case (.siren, .memberBatch):
            return try fitSIRENs(members: members, spec: spec, data: data)
        case (.mlp, .memberBatch):
            return try trainTogether(members: members, spec: spec, data: data, as: ImageMLP.self) { models, capacity in
                try MLPMemberBatch(members: models, capacity: capacity)
            }
        case (.cnn, .memberBatch):
            return try trainTogether(members: members, spec: spec, data: data, as: SmallCNN.self) { models, capacity in
                try CNNMemberBatch(members: models, imageShape: data.imageShape, capacity: capacity)
            }
        case (.transformer, .memberBatch):
            return try trainTogether(members: members, spec: spec, data: data, as: SmallTransformer.self) { models, capacity in
                try TransformerMemberBatch(members: models, imageShape: data.imageShape, capacity: capacity)
            }
        case (_, .tape):
            return try members.map { try trainOnTape(member: $0, spec: spec, data: data) }
        }
    }

    /// The reference path: member `member` trained through the generic tape (``Module/lossAndGradients(_:)``),
    /// whatever the spec's engine. Member-batched training is tested against it; `make bench` times
    /// it as the one-member-at-a-time baseline; zoos of the ``ZooEngine/tape`` engine train this way.
    public static func trainOnTape(member: Int, spec: ZooSpec, data: ZooData) throws -> Output {
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let (model, hp, root) = try makeMember(member, spec: spec, data: data)
        return try failing(member) {
            if spec.family == .siren {
                return try fitSIRENOnTape(member: member, model: model, hyperparameters: hp, spec: spec, data: data)
            }
            return try trainClassifier(member: member, model: model, hyperparameters: hp, spec: spec, data: data, root: root)
        }
    }

    /// Member `member`'s freshly initialised network, hyper-parameters and root generator.
    private static func makeMember(_ member: Int, spec: ZooSpec, data: ZooData) throws
        -> (model: Module & Layer, hyperparameters: MemberHyperparameters, root: SeededGenerator) {
        let root = rootGenerator(seed: spec.seed, member: member)
        let hp = hyperparameters(spec: spec, member: member)
        // A shared start draws from one zoo-wide stream (not any member's), the same for all.
        var initRNG = spec.training.sharedInitialization == true
            ? SeededGenerator(seed: spec.seed).split(stream: sharedInitializationStream)
            : root.split(stream: 1)
        let model = try failing(member) {
            try ZooModels.make(spec: spec, hyperparameters: hp, imageShape: data.imageShape,
                               classes: data.classCount, rng: &initRNG)
        }
        return (model, hp, root)
    }

    /// Runs `body`, turning a non-zoo error into ``ZooError/memberFailed(member:detail:)``.
    private static func failing<T>(_ member: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ZooError {
            throw error
        } catch {
            throw ZooError.memberFailed(member: member, detail: "\(error)")
        }
    }

    /// Collects snapshots into records and shard tensors.
    private struct Recorder {
        let member: Int
        let hyperparameters: MemberHyperparameters
        /// SIREN: the fitted image and its class, and the pixels' peak-to-peak range for PSNR.
        var imageIndex: Int? = nil
        var label: Int? = nil
        var psnrPeak: Float? = nil
        var checkpoints: [ZooCheckpoint] = []
        var tensors: [String: Tensor] = [:]

        init(member: Int, hyperparameters: MemberHyperparameters) {
            self.member = member; self.hyperparameters = hyperparameters
        }

        mutating func record(_ epoch: Int, model: Module, diverged: Bool = false, trainLoss: Float? = nil,
                             trainAccuracy: Float? = nil, testLoss: Float? = nil, testAccuracy: Float? = nil) {
            var c = ZooCheckpoint(member: member, epoch: epoch, hyperparameters: hyperparameters, diverged: diverged,
                                  trainLoss: diverged ? nil : trainLoss, trainAccuracy: diverged ? nil : trainAccuracy,
                                  testLoss: diverged ? nil : testLoss, testAccuracy: diverged ? nil : testAccuracy,
                                  imageIndex: imageIndex, label: label)
            if let peak = psnrPeak, let mse = c.trainLoss { c.psnr = ZooCheckpoint.psnr(mse: mse, peak: peak) }
            checkpoints.append(c)
            for (path, value) in model.parameterValues() { tensors[c.tensorPrefix + path] = value }
        }

        var recordedEpochs: Set<Int> { Set(checkpoints.map(\.epoch)) }
    }

    /// The optimizer and learning rate a member trains with (sampled members always have both).
    private static func trainingChoices(member: Int, _ hp: MemberHyperparameters) throws -> (OptimizerKind, Double) {
        guard let o = hp.optimizer, let lr = hp.learningRate else {
            throw ZooError.memberFailed(member: member, detail: "no optimizer or learning rate to train with")
        }
        return (o, lr)
    }

    /// A classifier member before its first step: its training subset (sub-stream 2), its
    /// training configuration (batch order from sub-stream 3), and its recorder.
    private struct ClassifierStart {
        var subset: LabeledImageDataset
        var configuration: ClassifierTrainingConfiguration
        var recorder: Recorder

        /// Records the epoch-0 checkpoint when the spec asks for one, with `evaluate` giving the
        /// member's loss and accuracy on a data set as its engine computes them.
        mutating func recordInitialCheckpoint(model: Module, spec: ZooSpec, data: ZooData,
                                              evaluate: (LabeledImageDataset) -> (loss: Float, accuracy: Float)) {
            guard spec.training.checkpointEpochs.contains(0) else { return }
            let train = evaluate(subset)
            let test = evaluate(data.test)
            recorder.record(0, model: model, trainLoss: train.loss, trainAccuracy: train.accuracy,
                            testLoss: test.loss, testAccuracy: test.accuracy)
        }
    }

    private static func classifierStart(member: Int, hyperparameters hp: MemberHyperparameters,
                                        spec: ZooSpec, data: ZooData, root: SeededGenerator) throws -> ClassifierStart {
        var dataRNG = root.split(stream: 2)
        let fraction = hp.trainFraction ?? 1
        let subset = fraction >= 1 ? data.train : try data.train.fraction(fraction, rng: &dataRNG)
        let t = spec.training
        let (optimizerKind, learningRate) = try trainingChoices(member: member, hp)
        let config = ClassifierTrainingConfiguration(
            epochs: t.epochs, batchSize: t.batchSize, optimizer: optimizerKind, learningRate: Float(learningRate),
            weightDecay: Float(hp.l2 ?? 0), warmupEpochs: t.warmupEpochs, cosineDecay: t.cosineDecay,
            seed: root.split(stream: 3).seed, evaluationBatchSize: t.evaluationBatchSize)
        return ClassifierStart(subset: subset, configuration: config, recorder: Recorder(member: member, hyperparameters: hp))
    }

    private static func trainClassifier(member: Int, model: Module & Layer, hyperparameters hp: MemberHyperparameters,
                                        spec: ZooSpec, data: ZooData, root: SeededGenerator) throws -> Output {
        var start = try classifierStart(member: member, hyperparameters: hp, spec: spec, data: data, root: root)
        start.recordInitialCheckpoint(model: model, spec: spec, data: data) {
            ClassifierTraining.evaluate(model, on: $0, batchSize: spec.training.evaluationBatchSize)
        }
        let (subset, config) = (start.subset, start.configuration)
        var recorder = start.recorder
        let t = spec.training
        let epochs = t.sortedCheckpointEpochs
        let wanted = Set(epochs)
        let last = epochs.last ?? 0
        if last > 0 {
            let result = try ClassifierTraining.train(model, on: subset, evaluatingOn: nil, configuration: config) { m in
                if wanted.contains(m.epoch) {
                    let test = ClassifierTraining.evaluate(model, on: data.test, batchSize: t.evaluationBatchSize)
                    recorder.record(m.epoch, model: model, trainLoss: m.trainLoss, trainAccuracy: m.trainAccuracy,
                                    testLoss: test.loss, testAccuracy: test.accuracy)
                }
                return m.epoch < last
            }
            if result.diverged {
                let done = recorder.recordedEpochs
                for e in epochs where !done.contains(e) { recorder.record(e, model: model, diverged: true) }
            }
        }
        return Output(checkpoints: recorder.checkpoints, tensors: recorder.tensors)
    }

    /// Trains classifier members together in the member batch `makeBatch` builds from their
    /// networks and a capacity (the spec's batch size, at most the training pool); step for step what
    /// ``trainClassifier(member:model:hyperparameters:spec:data:root:)`` does for one: each
    /// member's own subset, batch order, optimizer and learning-rate schedule, the epoch's training
    /// metrics averaged over its batches as measured before their updates, a test evaluation at
    /// each checkpoint epoch.
    ///
    /// Members with fewer or smaller batches (a smaller training fraction, an epoch's last batch)
    /// simply sit out the steps they have no batch for.
    private static func trainTogether<Network: Module & Layer>(
        members: [Int], spec: ZooSpec, data: ZooData, as type: Network.Type,
        makeBatch: ([Network], Int) throws -> ClassifierMemberBatch
    ) throws -> [Output] {
        let t = spec.training
        let epochs = t.sortedCheckpointEpochs
        let wanted = Set(epochs)
        let last = epochs.last ?? 0
        var models: [Network] = [], starts: [ClassifierStart] = []
        for member in members {
            let (model, hp, root) = try makeMember(member, spec: spec, data: data)
            guard let network = model as? Network else {
                throw ZooError.memberFailed(member: member, detail: "a \(spec.family.rawValue) zoo member is not a \(Network.self)")
            }
            let start = try failing(member) {
                try classifierStart(member: member, hyperparameters: hp, spec: spec, data: data, root: root)
            }
            if last > 0 {
                try failing(member) { try ClassifierTraining.checkTrainable(network, on: start.subset, configuration: start.configuration) }
            }
            models.append(network); starts.append(start)
        }
        guard !models.isEmpty else { return [] }
        // The capacity depends on the spec and data only, never on which members share the batch:
        // evaluations run in chunks of it, and a chunk's sums must not change with the company.
        let capacity = Swift.max(1, Swift.min(data.train.count, t.batchSize))
        let batch = try makeBatch(models, capacity)
        for k in models.indices {
            starts[k].recordInitialCheckpoint(model: models[k], spec: spec, data: data) {
                batch.evaluate(member: k, on: $0, batchSize: t.evaluationBatchSize)
            }
        }
        var recorders = starts.map(\.recorder)
        func finish() -> [Output] { recorders.map { Output(checkpoints: $0.checkpoints, tensors: $0.tensors) } }
        let trainedEpochs = Swift.min(last, t.epochs)
        guard trainedEpochs > 0 else { return finish() }

        let optimizers = starts.map { $0.configuration.optimizer.make(learningRate: $0.configuration.learningRate,
                                                                      weightDecay: $0.configuration.weightDecay) }
        let schedules = starts.map { $0.configuration.learningRateSchedule(trainingExamples: $0.subset.count) }
        var orderRNGs = starts.map { SeededGenerator(seed: $0.configuration.seed) }
        var steps = [Int](repeating: 0, count: models.count)
        var active = [Bool](repeating: true, count: models.count)
        for model in models { model.train() }
        for epoch in 1...trainedEpochs {
            // Each member draws its epoch's order exactly when its alone run would.
            var orders: [BatchSequence?] = models.indices.map { k in
                active[k] ? starts[k].subset.batches(size: t.batchSize, shuffledWith: &orderRNGs[k]) : nil
            }
            var lossSums = [Double](repeating: 0, count: models.count)
            var correct = [Int](repeating: 0, count: models.count), seen = correct
            let stepCount = orders.compactMap { $0?.count }.max() ?? 0
            for s in 0..<stepCount {
                var work: [MemberBatchWork] = []
                for k in models.indices where active[k] {
                    guard let order = orders[k], s < order.count else { continue }
                    let range = (s * t.batchSize)..<Swift.min(order.order.count, (s + 1) * t.batchSize)
                    work.append(.init(member: k, dataset: starts[k].subset, indices: order.order[range]))
                }
                if work.isEmpty { break }
                for (w, result) in zip(work, batch.step(work)) {
                    let k = w.member
                    guard result.loss.isFinite else {
                        // Diverged: the remaining checkpoints keep the weights of this moment; the
                        // member leaves the batch (its NaNs never reach another member).
                        let done = recorders[k].recordedEpochs
                        for e in epochs where !done.contains(e) { recorders[k].record(e, model: models[k], diverged: true) }
                        active[k] = false
                        orders[k] = nil
                        continue
                    }
                    optimizers[k].learningRate = schedules[k].learningRate(at: steps[k])
                    optimizers[k].step(models[k], gradients: result.gradients)
                    steps[k] += 1
                    lossSums[k] += Double(result.loss) * Double(w.indices.count)
                    correct[k] += result.correct
                    seen[k] += w.indices.count
                }
            }
            guard wanted.contains(epoch) else { continue }
            for k in models.indices where active[k] {
                let test = batch.evaluate(member: k, on: data.test, batchSize: t.evaluationBatchSize)
                recorders[k].record(epoch, model: models[k], trainLoss: Float(lossSums[k] / Double(Swift.max(seen[k], 1))),
                                    trainAccuracy: Float(correct[k]) / Float(Swift.max(seen[k], 1)),
                                    testLoss: test.loss, testAccuracy: test.accuracy)
            }
        }
        return finish()
    }

    /// What a SIREN member fits: image `member / refits` of the spec's split (re-fits of one
    /// image are consecutive members), as pixel targets `[H·W, C]`, and its recorder.
    private static func sirenFit(member: Int, hyperparameters hp: MemberHyperparameters, spec: ZooSpec,
                                 data: ZooData) throws -> (target: Tensor, recorder: Recorder, optimizer: Optimizer) {
        let split = spec.data.imageSplit == .train ? data.train : data.test
        let index = member / spec.training.fitsPerImage
        guard index < split.count else {
            throw ZooError.memberFailed(member: member, detail: "a SIREN zoo with \(spec.training.fitsPerImage) fit(s) per image fits image \(index) of the \(spec.data.imageSplit.rawValue) split, which has only \(split.count) images")
        }
        var recorder = Recorder(member: member, hyperparameters: hp)
        recorder.imageIndex = index
        recorder.label = split.labels[index]
        recorder.psnrPeak = spec.data.pixelRange.peakToPeak
        let (optimizerKind, learningRate) = try trainingChoices(member: member, hp)
        let optimizer = optimizerKind.make(learningRate: Float(learningRate), weightDecay: Float(hp.l2 ?? 0))
        return (ZooModels.pixelTargets(split.image(at: index)), recorder, optimizer)
    }

    /// The SIREN grid of the spec's split.
    private static func sirenCoordinates(spec: ZooSpec, data: ZooData) -> Tensor {
        let split = spec.data.imageSplit == .train ? data.train : data.test
        return SIRENRenderer.coordinates(height: split.height, width: split.width)
    }

    /// Whether a fit with mean squared error `mse` (of the weights before this step) has reached
    /// the spec's PSNR target; such a member stops, and its remaining checkpoints keep these weights.
    private static func reachedTarget(_ mse: Float, spec: ZooSpec) -> Bool {
        guard let target = spec.training.psnrTarget else { return false }
        if mse == 0 { return true }      // an exact fit: infinite PSNR
        guard let psnr = ZooCheckpoint.psnr(mse: mse, peak: spec.data.pixelRange.peakToPeak) else { return false }
        return Double(psnr) >= target
    }

    /// Fits SIREN members together (see ``SIRENMemberBatch``); step for step what
    /// ``fitSIRENOnTape(member:model:hyperparameters:spec:data:)`` does for one.
    private static func fitSIRENs(members: [Int], spec: ZooSpec, data: ZooData) throws -> [Output] {
        var models: [SIREN] = [], targets: [Tensor] = [], recorders: [Recorder] = [], optimizers: [Optimizer] = []
        for member in members {
            let (model, hp, _) = try makeMember(member, spec: spec, data: data)
            guard let siren = model as? SIREN else {
                throw ZooError.memberFailed(member: member, detail: "a SIREN zoo member is not a SIREN")
            }
            let fit = try sirenFit(member: member, hyperparameters: hp, spec: spec, data: data)
            models.append(siren); targets.append(fit.target); recorders.append(fit.recorder); optimizers.append(fit.optimizer)
        }
        let batch = try SIRENMemberBatch(members: models, coordinates: sirenCoordinates(spec: spec, data: data))
        // The parameters and optimizer state stay stacked for the whole fit; the modules are
        // written only when a checkpoint records them. Optimizers the stacked update does not
        // cover step the modules instead (the batch reloads a member after its step).
        let stacked = StackedOptimizer(optimizers: optimizers, blocks: batch.parameterBlocks)
        let epochs = spec.training.sortedCheckpointEpochs
        let wanted = Set(epochs)
        let last = epochs.last ?? 0
        var active = [Bool](repeating: true, count: models.count)
        func fitLosses() -> [Float] {
            batch.forward()
            return batch.losses(targets: targets)
        }
        // Records member `k` at `epochs` with its current parameters (written back from the stack).
        func record(_ k: Int, at epochs: [Int], diverged: Bool = false, trainLoss: Float? = nil) {
            guard !epochs.isEmpty else { return }
            if stacked != nil { batch.storeParameters(member: k) }
            for e in epochs { recorders[k].record(e, model: models[k], diverged: diverged, trainLoss: trainLoss) }
        }
        // A checkpoint's evaluation is the next step's forward pass (no update in between): the
        // step reuses it instead of running it again.
        var evaluated: [Float]? = nil
        if wanted.contains(0) {
            let losses = fitLosses()
            for k in models.indices { record(k, at: [0], trainLoss: losses[k]) }
            evaluated = losses
        }
        var step = 0
        while step < last, active.contains(true) {
            step += 1
            let losses = evaluated ?? fitLosses()
            evaluated = nil
            batch.backward(targets: targets)
            for k in models.indices where active[k] {
                guard losses[k].isFinite else {
                    // Diverged: the remaining checkpoints keep the weights of this moment; the
                    // member leaves the batch's updates (its NaNs never reach another member).
                    record(k, at: epochs.filter { $0 >= step }, diverged: true)
                    active[k] = false
                    continue
                }
                if reachedTarget(losses[k], spec: spec) {
                    record(k, at: epochs.filter { $0 >= step }, trainLoss: losses[k])
                    active[k] = false
                    continue
                }
                if let stacked {
                    stacked.step(member: k)
                } else {
                    optimizers[k].step(models[k], gradients: batch.gradients(member: k))
                    batch.loadParameters(member: k)
                }
            }
            if wanted.contains(step) {
                let after = fitLosses()
                for k in models.indices where active[k] { record(k, at: [step], trainLoss: after[k]) }
                evaluated = after
            }
        }
        return recorders.map { Output(checkpoints: $0.checkpoints, tensors: $0.tensors) }
    }

    private static func fitSIRENOnTape(member: Int, model: Module & Layer, hyperparameters hp: MemberHyperparameters,
                                       spec: ZooSpec, data: ZooData) throws -> Output {
        let fit = try sirenFit(member: member, hyperparameters: hp, spec: spec, data: data)
        let (target, optimizer) = (fit.target, fit.optimizer)
        var recorder = fit.recorder
        let coordinates = sirenCoordinates(spec: spec, data: data)
        func mse() -> Float {
            let prediction = model(Variable(coordinates)).value
            return Loss.meanSquaredError(Variable(prediction), target).value.sum()
        }
        let epochs = spec.training.sortedCheckpointEpochs
        let wanted = Set(epochs)
        let last = epochs.last ?? 0
        model.eval()
        if wanted.contains(0) { recorder.record(0, model: model, trainLoss: mse()) }
        var step = 0
        while step < last {
            step += 1
            let (loss, gradients) = model.lossAndGradients { tape in
                Loss.meanSquaredError(model(tape.constant(coordinates)), target)
            }
            guard loss.isFinite else {
                for e in epochs where e >= step { recorder.record(e, model: model, diverged: true) }
                break
            }
            if reachedTarget(loss, spec: spec) {
                for e in epochs where e >= step { recorder.record(e, model: model, trainLoss: loss) }
                break
            }
            optimizer.step(model, gradients: gradients)
            if wanted.contains(step) { recorder.record(step, model: model, trainLoss: mse()) }
        }
        return Output(checkpoints: recorder.checkpoints, tensors: recorder.tensors)
    }
}
