import Foundation
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks

// Trains an HNP metanetwork for a few steps to predict a property of small CNNs from their
// weights, saves it as a safetensors checkpoint, loads that into a second, differently
// initialised model, and checks that both give the same predictions.

/// A check that failed, with what was measured.
struct ExampleError: Error, CustomStringConvertible {
    let description: String
}

func runExample() throws {
    var rng = SeededGenerator(seed: 7)

    // 1. Weight-space features of 8 Small-CNN-Zoo networks (random initialisations stand in for
    //    trained zoo members): per layer one tensor [8, 1, out, in, kh, kw] and one bias tensor.
    let cnns = (0..<8).map { _ in SmallCNN(rng: &rng) }
    let features = try WeightSpaceFeatures(models: cnns)
    print("\(features.batchSize) networks, \(cnns[0].parameterCount) weights each, layer widths \(features.widths)")

    // 2. A toy target that permuting a network's hidden neurons leaves unchanged, so an
    //    HNP-invariant model can fit it: the root-mean-square of each network's weights.
    let rms = cnns.map { cnn -> Float in
        let sumOfSquares = cnn.parameterValues().values.reduce(Float(0)) { $0 + ($1 * $1).sum() }
        return (sumOfSquares / Float(cnn.parameterCount)).squareRoot()
    }
    let target = Tensor(shape: [8, 1], scalars: rms)

    // 3. The metanetwork: two HNP-equivariant layers, invariant pooling, an MLP head.
    let architecture = FeedforwardArchitecture.smallCNNZoo()
    let model = try NFNPredictor(kind: .hnp, architecture: architecture, hiddenChannels: [16, 16],
                                 headHidden: 64, rng: &rng)
    print("HNP predictor: \(model.parameterCount) parameters")

    // 4. A few Adam steps on the mean squared error (the tape lives inside lossAndGradients).
    model.train()
    let optimizer = Adam(learningRate: 1e-3)
    var losses: [Float] = []
    for _ in 0..<30 {
        let (loss, gradients) = model.lossAndGradients { tape in
            Loss.meanSquaredError(model(WeightSpaceVariables(features, tape: tape)), target)
        }
        optimizer.step(model, gradients: gradients)
        losses.append(loss)
    }
    let first = losses[0], last = losses[losses.count - 1]
    print("training loss: step 1 \(first), step \(losses.count) \(last)")
    guard last < first else { throw ExampleError(description: "training did not lower the loss: \(losses)") }

    // 5. Save the metanetwork (tensor names are parameter paths), load it into a second model
    //    built with another seed, and compare their predictions.
    let file = FileManager.default.temporaryDirectory
        .appendingPathComponent("weight-space-regression-\(ProcessInfo.processInfo.processIdentifier).safetensors")
    defer { try? FileManager.default.removeItem(at: file) }
    try model.saveParameters(to: file, metadata: ["target": "rms weight", "steps": "\(losses.count)"])
    var otherRNG = SeededGenerator(seed: 99)
    let reloaded = try NFNPredictor(kind: .hnp, architecture: architecture, hiddenChannels: [16, 16],
                                    headHidden: 64, rng: &otherRNG)
    let metadata = try reloaded.loadParameters(from: file)
    let original = model.predict(features), restored = reloaded.predict(features)
    let difference = (original - restored).abs().max()
    let described = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    print("checkpoint metadata: \(described)")
    print("predictions \(original.shape), max |original − reloaded| = \(difference)")
    guard difference == 0 else { throw ExampleError(description: "the reloaded model predicts differently (\(difference))") }
    print("reloaded model gives the same predictions")
}

do {
    try runExample()
} catch {
    FileHandle.standardError.write(Data("weight-space-regression: \(error)\n".utf8))
    exit(1)
}
