import ArgumentParser
import Foundation
import SwiftNFN

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: build (or reuse) a Fashion-MNIST CNN zoo and a transformer zoo, train the baselines and the equivariant metanetworks to predict test accuracy from weights, and print the comparison and robustness tables.",
        discussion: """
        Zoos are cached in --cache and reused on the next run; the report folder (results.json, \
        results.md, summary.md, SVG plots) goes to --report. --quick runs a small version in about 3 minutes. \
        --rewrite-summary only rewrites summary.md from the results.json of a finished --report folder.
        """)

    @Flag(help: "Small zoos and short training (about 3 minutes on 2 cores).")
    var quick = false

    @Option(help: "Seed for zoos, splits and models.")
    var seed: UInt64 = 0

    @Option(help: "Folder where zoos are generated and reused.")
    var cache = ".nfn-cache"

    @Option(help: "Report folder.")
    var report = "reports/demo"

    @Option(help: "Folder with Fashion-MNIST IDX files.")
    var data = FashionMNIST.defaultDirectory.path

    @Option(help: "Zoo members trained concurrently.")
    var workers = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Run nothing: rewrite summary.md of the --report folder from its results.json.")
    var rewriteSummary = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        if rewriteSummary {
            do {
                let directory = URL(fileURLWithPath: report)
                let url = directory.appendingPathComponent(MainJobSummary.fileName)
                try MainJobSummary(reportDirectory: directory).write(to: url)
                print("Wrote \(url.path)")
            } catch {
                fail(error)
            }
            return
        }
        var o = MainJob.Options()
        o.quick = quick
        o.seed = seed
        o.cacheDirectory = URL(fileURLWithPath: cache)
        o.reportDirectory = URL(fileURLWithPath: report)
        o.dataDirectory = URL(fileURLWithPath: data)
        o.workers = workers
        do {
            let r = try MainJob.run(o) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            if output.json { try printJSON(r); return }
            print(r.markdown)
            print("Report written to \(report)/ (results.json, results.md, summary.md, SVG plots)")
        } catch {
            fail(error)
        }
    }
}
