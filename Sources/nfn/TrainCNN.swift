import ArgumentParser
import Foundation
import SwiftNFN

struct TrainCNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-cnn",
        abstract: "Train the Small-CNN-Zoo network (4,970 parameters) on Fashion-MNIST and report its test accuracy.")

    @Option(help: "Training epochs.")
    var epochs = 1

    @Option(help: "Random seed (initialisation and batch order).")
    var seed: UInt64 = 0

    @Option(help: "Folder with Fashion-MNIST IDX files (Debian's dataset-fashion-mnist).")
    var data = FashionMNIST.defaultDirectory.path

    @Option(help: "BLAS threads.")
    var threads = 1

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        BLAS.threadCount = threads
        var options = CNNDemo.Options()
        options.epochs = epochs
        options.seed = seed
        options.dataDirectory = URL(fileURLWithPath: data)
        do {
            let json = output.json
            let result = try CNNDemo.run(options) { m in
                if !json {
                    print(String(format: "epoch %d: train loss %.4f, train acc %.4f, test acc %.4f (%.1fs)",
                                 m.epoch, m.trainLoss, m.trainAccuracy, m.testAccuracy ?? .nan, m.seconds))
                }
            }
            if json { try printJSON(result) } else {
                print("Small-CNN-Zoo CNN (\(result.parameters) parameters) on Fashion-MNIST: test accuracy \(String(format: "%.4f", result.test_accuracy)) in \(String(format: "%.1f", result.seconds)) s")
            }
        } catch {
            fail(error)
        }
    }
}
