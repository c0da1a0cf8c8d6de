import ArgumentParser
import Foundation
import SwiftNFN

extension NetworkFamily: ExpressibleByArgument {}
extension SymmetryGroup: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}

struct CheckSymmetry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-symmetry",
        abstract: "Act on a randomly initialised network with random group elements and measure how much its function moves.",
        discussion: """
        For a true symmetry the relative output deviation stays at Float32 rounding (≤ 1e-4); the \
        broken variant (the same action with its compensating half left out) must move the \
        function (≥ 1e-2). A group that is not a symmetry of the family (np on anything, scale on \
        a tanh network) is reported with is_true_symmetry false and a large deviation.
        """)

    @Option(help: "Network family: \(NetworkFamily.allCases.map(\.rawValue).joined(separator: ", ")).")
    var family: NetworkFamily

    @Option(help: "Group: \(SymmetryGroup.allCases.map(\.rawValue).joined(separator: ", ")).")
    var group: SymmetryGroup

    @Option(help: "Hidden activation (relu, tanh, sine, identity); default sine for siren, relu otherwise.")
    var activation: Activation?

    @Option(help: "Random group elements to try.")
    var trials = 20

    @Option(help: "Seed for the network and the group elements.")
    var seed: UInt64 = 0

    @Option(help: "Test images to evaluate on.")
    var images = 64

    @Option(help: "Folder with Fashion-MNIST IDX files.")
    var data = FashionMNIST.defaultDirectory.path

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
        guard images >= 1 else { throw ValidationError("--images must be at least 1") }
    }

    func run() throws {
        do {
            let r = try SymmetryCheckRunner.run(family: family, group: group, activation: activation, trials: trials,
                                                seed: seed, imageCount: images, dataDirectory: URL(fileURLWithPath: data))
            if output.json { try printJSON(r); return }
            print("\(r.family) (\(r.activation), \(r.parameters) parameters) under \(r.group): " +
                  (r.is_true_symmetry ? "a true symmetry" : "NOT a symmetry of this family"))
            print(String(format: "  group elements:   max relative output deviation %.3g over %d trials", r.true_symmetry_max_rel_dev, r.trials))
            print(String(format: "  broken variant:   min %.3g, max %.3g (%@)", r.false_symmetry_min_rel_dev, r.false_symmetry_max_rel_dev, r.false_symmetry))
            if let k = r.max_condition_number { print(String(format: "  GL samples: max condition number %.1f", k)) }
            print("  inputs: \(r.inputs)")
        } catch {
            fail(error)
        }
    }
}
