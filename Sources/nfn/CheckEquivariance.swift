import ArgumentParser
import Foundation
import SwiftNFN

extension MetanetworkKind: ExpressibleByArgument {}

struct CheckEquivariance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-equivariance",
        abstract: "Measure how a metanetwork's output moves when its input weights are acted on by random group elements.",
        discussion: """
        Builds the model for the Small CNN Zoo weight space (the inr2array models: the default \
        SIREN zoo's, measuring the latent array and the logits), evaluates it on random weight sets, and \
        reports, for each group (hnp, np, scale[1,10], sign), the largest relative change of the \
        output and whether the model is invariant to that group by construction. Invariant pairs \
        stay at Float32 rounding (≤ 1e-4); the baselines show where they are not invariant.
        """)

    @Option(help: "Model: \(MetanetworkKind.allCases.map(\.rawValue).joined(separator: ", ")), transformer-nfn, quasi-transformer-nfn, \(INR2ArrayKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: String

    @Option(help: "Random group elements per group.")
    var trials = 10

    @Option(help: "Seed for the model, the inputs and the group elements.")
    var seed: UInt64 = 0

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
    }

    func run() throws {
        do {
            let report = TransformerEquivarianceRunner.isTransformerModel(model)
                ? try TransformerEquivarianceRunner.run(model, trials: trials, seed: seed)
                : INR2ArrayInvarianceRunner.isINR2ArrayModel(model)
                ? try INR2ArrayInvarianceRunner.run(model, trials: trials, seed: seed)
                : try EquivarianceCheckRunner.run(try parseKind(), trials: trials, seed: seed)
            if output.json { try printJSON(report); return }
            print("\(report.model) on \(report.architecture) (\(report.parameters) parameters), \(report.trials) elements per group:")
            for (group, dev) in report.invariance_max_rel_dev.sorted(by: { $0.key < $1.key }) {
                let expected = report.expected_invariant[group] == true ? "invariant by construction" : "not invariant by construction"
                print(String(format: "  %-12@ max relative output change %.3g  (%@)", group, dev, expected))
            }
        } catch {
            fail(error)
        }
    }

    func parseKind() throws -> MetanetworkKind {
        guard let k = MetanetworkKind(rawValue: model) else { throw ExperimentError.unknownModel(model) }
        return k
    }
}
