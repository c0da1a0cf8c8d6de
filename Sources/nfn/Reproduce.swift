import ArgumentParser
import Foundation
import SwiftNFN

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one paper table: build (or reuse) its zoos, train every method over seeds, and write the table beside the papers' numbers.",
        discussion: """
        `nfn reproduce --list` names the experiments. `nfn reproduce EXP` writes reproduction.json and \
        reproduction.md to --out (default reports/reproduce/EXP-SCALE). Zoos are cached in --cache under \
        their spec hash and reused, and so are the training runs on them (shared by tables that train \
        the same model on the same zoo); an interrupted run resumes. --scale quick takes about a minute \
        (synthetic digits), standard about an hour per experiment on 2 cores (Fashion-MNIST), large is \
        the papers' regime. See Docs/Reproduction.md.
        """)

    @Argument(help: "The experiment (see --list).")
    var experiment: String?

    @Flag(help: "List the experiments and their methods.")
    var list = false

    @Option(help: "quick, standard or large.")
    var scale = "standard"

    @Option(help: "Seeds 0..<N (default: 1 at quick scale, 3 otherwise).")
    var seeds: Int?

    @Option(help: "Output folder (default: reports/reproduce/EXP-SCALE).")
    var out: String?

    @Option(help: "Folder where zoos are generated and reused, with the training runs on them.")
    var cache = ".nfn-cache/reproduce"

    @Option(help: "Folder with Fashion-MNIST IDX files (standard and large scales).")
    var data = FashionMNIST.defaultDirectory.path

    @Option(help: "Zoo members trained concurrently.")
    var workers = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }

    /// What `--list` prints.
    struct Listing: Encodable {
        struct Entry: Encodable {
            var name: String
            var title: String
            var parts: [String: [String]]
            var claims: [String]
        }
        var experiments: [Entry]
        var scales: [String]
    }

    func run() throws {
        do {
            if list {
                let listing = Listing(experiments: ReproductionRegistry.experiments.map { e in
                    .init(name: e.name, title: e.title,
                          parts: Dictionary(uniqueKeysWithValues: e.parts.map { ($0.name, $0.methods.map(\.model)) }),
                          claims: e.claims.map(\.text))
                }, scales: ReproductionScale.allCases.map(\.rawValue))
                if output.json { try printJSON(listing); return }
                for e in listing.experiments {
                    print("\(e.name): \(e.title)")
                    for (part, methods) in e.parts.sorted(by: { $0.key < $1.key }) { print("    \(part): \(methods.joined(separator: ", "))") }
                }
                return
            }
            guard let name = experiment else {
                throw ExperimentError.invalidArgument("name an experiment (\(ReproductionRegistry.experiments.map(\.name).joined(separator: ", "))) or pass --list")
            }
            let e = try ReproductionRegistry.experiment(named: name)
            var o = ReproductionOptions()
            o.scale = try ReproductionScale(named: scale)
            o.seeds = seeds
            o.cacheDirectory = URL(fileURLWithPath: cache)
            o.outputDirectory = out.map { URL(fileURLWithPath: $0) }
            o.dataDirectory = URL(fileURLWithPath: data)
            o.workers = workers
            let report = try ReproductionRunner.run(e, options: o) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            if output.json { try printJSON(report); return }
            print(ReproductionMarkdown.render(report))
            print("Written to \(o.output(for: name).path)/ (\(ReproductionRunner.jsonFileName), \(ReproductionRunner.markdownFileName))")
        } catch {
            fail(error)
        }
    }
}
