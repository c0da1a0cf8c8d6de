import Foundation
import Tensors
import NeuralNetworks
import Datasets
import Training
import LinearAlgebra

/// The first stage of the main job: train the Small-CNN-Zoo network on Fashion-MNIST and report
/// its test accuracy.
public enum CNNDemo {
    /// Options of the demo run.
    public struct Options: Sendable {
        public var epochs = 1
        public var seed: UInt64 = 0
        public var dataDirectory = FashionMNIST.defaultDirectory
        public var activation: Activation = .relu
        public var training = ClassifierTrainingConfiguration(epochs: 1, batchSize: 64, optimizer: .adam, learningRate: 3e-3)
        /// Use only the first `trainLimit` training images (all when nil).
        public var trainLimit: Int? = nil
        public init() {}
    }

    /// The demo's result, serialised as the `nfn demo --json` object.
    public struct Result: Codable, Sendable {
        public var dataset: String
        public var architecture: String
        public var parameters: Int
        public var epochs: Int
        public var train_examples: Int
        public var test_examples: Int
        public var train_accuracy: Float
        public var test_accuracy: Float
        public var test_loss: Float
        public var seconds: Double
        public var blas_threads: Int
    }

    /// Loads Fashion-MNIST, trains, evaluates.
    ///
    /// - Throws: ``DatasetError`` when the data files are missing or malformed (the message says
    ///   which file and how to install the package), ``TrainingError`` for a bad configuration.
    public static func run(_ options: Options = Options(), progress: ((EpochMetrics) -> Void)? = nil) throws -> Result {
        let start = Date()
        var train = try FashionMNIST.load(split: .train, directory: options.dataDirectory, pixelRange: .symmetric)
        if let limit = options.trainLimit { train = train.prefix(limit) }
        let test = try FashionMNIST.load(split: .test, directory: options.dataDirectory, pixelRange: .symmetric)
        var rng = SeededGenerator(seed: options.seed)
        let model = SmallCNN(SmallCNN.Configuration(activation: options.activation), rng: &rng)
        var config = options.training
        config.epochs = options.epochs
        config.seed = options.seed
        let result = try ClassifierTraining.train(model, on: train, evaluatingOn: test, configuration: config) { m in
            progress?(m)
            return true
        }
        let last = result.final
        return Result(dataset: "fashion-mnist", architecture: "small-cnn-zoo (\(options.activation.rawValue))",
                      parameters: model.parameterCount, epochs: result.epochs.count,
                      train_examples: train.count, test_examples: test.count,
                      train_accuracy: last?.trainAccuracy ?? 0, test_accuracy: last?.testAccuracy ?? 0,
                      test_loss: last?.testLoss ?? .nan, seconds: Date().timeIntervalSince(start),
                      blas_threads: BLAS.threadCount)
    }
}
