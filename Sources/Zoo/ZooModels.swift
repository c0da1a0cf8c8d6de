import Foundation
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace

/// An ``MLP`` classifier on images: flattens `[N, C, H, W]` to `[N, C·H·W]`, then the MLP.
///
/// Parameter paths are the MLP's under `mlp.` (`mlp.layers.0.weight`); the weight space is the
/// MLP's (``WeightSpaceConvertible``).
public final class ImageMLP: Module, Layer, WeightSpaceConvertible {
    /// The perceptron.
    public let mlp: MLP

    /// An MLP with `widths = [C·H·W, hidden…, classes]`.
    public init(widths: [Int], activation: Activation, initializer: Initializer, rng: inout SeededGenerator) {
        mlp = MLP(widths: widths, activation: activation, initializer: initializer, rng: &rng)
        super.init()
    }

    /// Logits `[N, classes]` for images `[N, …]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        mlp(x.rank == 2 ? x : x.reshaped([x.shape[0], -1]))
    }

    /// The MLP's weight space.
    public var weightSpaceArchitecture: FeedforwardArchitecture { mlp.weightSpaceArchitecture }
    /// The MLP's (weight, bias) pairs.
    public var weightSpaceParameters: [(weight: Parameter, bias: Parameter)] { mlp.weightSpaceParameters }
}

/// Builds zoo members' networks from a spec and sampled hyper-parameters.
public enum ZooModels {
    /// A freshly initialised member network.
    ///
    /// - Parameters:
    ///   - imageShape: `[channels, height, width]` of the data.
    ///   - classes: the number of classes (classifiers).
    ///   - rng: the initialisation generator.
    /// - Throws: ``ZooError/invalidSpec(_:)`` when the architecture does not fit the data (a CNN
    ///   on images smaller than 15×15, a transformer whose patches do not tile a square image).
    public static func make(spec: ZooSpec, hyperparameters hp: MemberHyperparameters, imageShape: [Int],
                            classes: Int, rng: inout SeededGenerator) throws -> Module & Layer {
        guard imageShape.count == 3 else { throw ZooError.invalidSpec("image shape \(imageShape) is not [C, H, W]") }
        let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        let std = hp.initStd ?? 0
        switch spec.family {
        case .cnn:
            guard h >= 15, w >= 15 else { throw ZooError.invalidSpec("the Small CNN needs images of at least 15×15, got \(h)×\(w)") }
            let config = SmallCNN.Configuration(
                inputChannels: c, filters: spec.architecture.filters ?? 16, classes: classes,
                activation: hp.activation ?? .relu, dropout: Float(hp.dropout ?? 0),
                initializer: (hp.initializer ?? .glorotUniform).initializer(std: std),
                biasInitializer: (hp.biasInitializer ?? .zeros).initializer(std: std))
            return SmallCNN(config, rng: &rng)
        case .mlp:
            let widths = [c * h * w] + (spec.architecture.hiddenWidths ?? [32, 32]) + [classes]
            return ImageMLP(widths: widths, activation: hp.activation ?? .relu,
                            initializer: (hp.initializer ?? .glorotUniform).initializer(std: std), rng: &rng)
        case .transformer:
            var config = spec.architecture.transformer ?? SmallTransformer.Configuration()
            guard h == w, h % config.patchSize == 0 else {
                throw ZooError.invalidSpec("the transformer needs square images tiled by \(config.patchSize)×\(config.patchSize) patches, got \(h)×\(w)")
            }
            config.inputChannels = c
            config.imageSize = h
            config.classes = classes
            config.dropout = Float(hp.dropout ?? 0)
            return SmallTransformer(config, initStandardDeviation: hp.initStd.map { Float($0) },
                                    initializeEveryLayer: spec.effectiveRecipe == .reference, rng: &rng)
        case .siren:
            return SIREN(inputs: 2, hiddenWidths: spec.architecture.hiddenWidths ?? [32, 32], outputs: c,
                         frequency: Float(spec.architecture.sineFrequency ?? 30), rng: &rng)
        }
    }

    /// A SIREN member's target: the image `[C, H, W]` as `[H·W, C]` pixel values.
    public static func pixelTargets(_ image: Tensor) -> Tensor {
        let c = image.shape[0]
        return image.reshaped([c, -1]).transposed()
    }
}
