import ArgumentParser
import Foundation
import SwiftNFN

/// `nfn`: the SwiftNFN command line. Each subcommand is a thin front over library calls.
@main
struct NFN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nfn",
        abstract: "Equivariant metanetworks (neural functionals): zoos, symmetry checks, training.",
        subcommands: [Demo.self, Reproduce.self, TrainCNN.self, Train.self, Evaluate.self, Report.self, CheckSymmetry.self, CheckEquivariance.self, ZooCommand.self]
    )

    static func main() {
        AllocatorTuning.configureForTraining()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Options shared by commands that print results.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON object instead of text.")
    var json = false
}

/// Writes a Codable value as pretty JSON with sorted keys and unescaped slashes (paths stay
/// readable) to standard output; NaN and ±∞ become the strings "nan", "inf", "-inf". Every
/// `--json` output of `nfn` goes through here.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Reports an error on standard error and exits non-zero, without a stack trace.
func fail(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("nfn: error: \(error)\n".utf8))
    Foundation.exit(1)
}
