import ArgumentParser
import Foundation
import SwiftNFN

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a metanetwork on a zoo to predict test accuracy from weights, with checkpoint/resume, and write a report.",
        discussion: """
        Models for CNN/MLP zoos: \(MetanetworkKind.allCases.map(\.rawValue).joined(separator: ", ")). \
        For transformer zoos: \(TransformerMetanetworkKind.allCases.map(\.rawValue).joined(separator: ", ")). \
        Rerunning the same command after an interruption resumes from the last finished epoch \
        (checkpoint in the output folder) and ends with the same result as an uninterrupted run.
        """)

    @Option(help: "Task (generalization: predict test accuracy).")
    var task = "generalization"

    @Option(help: "Metanetwork name.")
    var model: String

    @Option(help: "Zoo folder (from nfn zoo generate or import).")
    var zoo: String

    @Option(help: "Output folder for the checkpoint and the report.")
    var out: String

    @Option(help: "Zoo checkpoint epoch to use (default: the last).")
    var epoch: Int?

    @Option(help: "Maximum epochs.") var epochs = 30
    @Option(help: "Batch size (zoo members).") var batchSize = 32
    @Option(help: "Learning rate.") var learningRate: Float = 1e-3
    @Option(help: "Early-stopping patience in epochs (0: none).") var patience = 10
    @Option(help: "Seed for the split, the model and the batch order.") var seed: UInt64 = 0
    @Flag(help: "Smaller model (for quick experiments).") var small = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard task == "generalization" else {
            throw ValidationError("--task \(task) is not available from the command line yet; use generalization")
        }
    }

    func run() throws {
        do {
            let data = try GeneralizationExperiment.load(zoo: URL(fileURLWithPath: zoo), epoch: epoch)
            let split = try DataSplit(count: data.targets.count, trainFraction: 0.6, validationFraction: 0.15, seed: seed)
            let config = MetanetworkTrainingConfiguration(epochs: epochs, batchSize: batchSize, learningRate: learningRate,
                                                          patience: patience, seed: seed)
            let outDir = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
            let json = output.json
            let result = try GeneralizationExperiment.run(
                model: model, data: data, split: split, configuration: config, size: small ? .small : .standard,
                checkpoint: outDir.appendingPathComponent("checkpoint.safetensors"),
                progress: { e in
                    if !json {
                        FileHandle.standardError.write(Data(String(format: "epoch %d: train loss %.4f, validation τ %.4f (%.1fs)\n",
                                                                   e.epoch, e.trainLoss, e.validationMetric, e.seconds).utf8))
                    }
                })
            let report = ExperimentReport(title: "\(model) on \(data.name)", results: [result],
                                          notes: ["\(data.targets.count) checkpoints, \(data.skipped) left out (diverged or non-finite)"])
            try report.write(to: outDir)
            if json { try printJSON(result) } else { print(report.markdown) }
        } catch {
            fail(error)
        }
    }
}
