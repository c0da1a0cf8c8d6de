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
        /// Training epochs over the full training split.
        public var epochs = 1
        /// Seeds initialisation and batch order.
        public var seed: UInt64 = 0
        /// Folder holding the Fashion-MNIST IDX files (Debian's `dataset-fashion-mnist`).
        public var dataDirectory = FashionMNIST.defaultDirectory
        /// Hidden activation of the CNN (the zoo samples ReLU and tanh).
        public var activation: Activation = .relu
        /// Optimizer, learning rate and batch size (epochs and seed are taken from the fields above).
        public var training = ClassifierTrainingConfiguration(epochs: 1, batchSize: 64, optimizer: .adam, learningRate: 3e-3)
        /// Use only the first `trainLimit` training images (all when nil).
        public var trainLimit: Int? = nil
        /// The defaults: 1 epoch, seed 0, ReLU, Adam 3e-3, batch 64.
        public init() {}
    }

    /// The demo's result, serialised as the `nfn demo --json` object.
    public struct Result: Codable, Sendable {
        /// The data set name.
        public var dataset: String
        /// The network trained.
        public var architecture: String
        /// Trainable scalars (4,970 for the zoo CNN).
        public var parameters: Int
        /// Epochs completed.
        public var epochs: Int
        /// Training images used.
        public var train_examples: Int
        /// Test images evaluated.
        public var test_examples: Int
        /// Accuracy on the training batches during the last epoch.
        public var train_accuracy: Float
        /// Accuracy on the test split after the last epoch.
        public var test_accuracy: Float
        /// Mean cross-entropy on the test split.
        public var test_loss: Float
        /// Wall-clock seconds, loading included.
        public var seconds: Double
        /// OpenBLAS threads used.
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
