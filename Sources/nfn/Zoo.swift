import ArgumentParser
import Foundation
import SwiftNFN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ZooFamily: ExpressibleByArgument {}
extension ZooShard.Strategy: ExpressibleByArgument {}
extension ZooDataSpec.Kind: ExpressibleByArgument {}

/// `nfn zoo …`: build, inspect, merge, verify and export model zoos.
struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Build, import, inspect, merge, verify and export model zoos (folders of trained networks).",
        subcommands: [ZooGenerate.self, ZooInfo.self, ZooMerge.self, ZooVerify.self, ZooExport.self, ZooImportCommand.self])
}

struct ZooGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Train a zoo (or resume one): members with sampled hyper-parameters, checkpointed weights and metrics.",
        discussion: """
        Member i depends only on (--seed, i): rerunning the same command resumes an interrupted zoo \
        and gives the same bytes as an uninterrupted run. --shard k/n (0-based k) generates one \
        deterministic part; join the parts with `nfn zoo merge`. Options left out take the family's \
        defaults (see Docs/Zoos.md; `--print-spec` shows the resolved spec).
        """)

    @Option(help: "Network family: \(ZooFamily.allCases.map(\.rawValue).joined(separator: ", ")).")
    var family: ZooFamily?

    @Option(help: "A spec JSON file (as printed by --print-spec); the options below override its fields.")
    var spec: String?

    @Option(help: "Number of members.")
    var members: Int?

    @Option(help: "Training epochs (SIREN: full-batch steps).")
    var epochs: Int?

    @Option(help: "Comma-separated epochs to checkpoint, e.g. 1,2 (0 = initialisation). Default: the last epoch.")
    var checkpointEpochs: String?

    @Option(help: "Zoo seed.")
    var seed: UInt64?

    @Option(help: "Data set kind: \(ZooDataSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: ZooDataSpec.Kind?

    @Option(help: "Folder with the data set's files (IDX or CIFAR-10 binary).")
    var data: String?

    @Option(help: "Use only the first N training images as the pool members subsample from.")
    var trainLimit: Int?

    @Option(help: "Evaluate on only the first N test images.")
    var testLimit: Int?

    @Option(help: "Mini-batch size.")
    var batchSize: Int?

    @Option(help: "Output folder (created; an existing zoo with the same spec is resumed).")
    var out: String?

    @Option(help: "Generate only shard k/n (0-based k), e.g. 0/4.")
    var shard: String?

    @Option(help: "How members are dealt to shards: contiguous ranges or strided (i mod n).")
    var shardStrategy: ZooShard.Strategy = .contiguous

    @Option(help: "Members trained concurrently (default: the number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Stop after generating N new members (resume later with the same command).")
    var limit: Int?

    @Flag(help: "Start every member from the same initial weights (drawn from --seed); e.g. SIRENs that differ only by their image.")
    var sharedInit = false

    @Option(help: "Training recipe: swiftnfn-v1 or reference (transformer zoos; default: the family's, reference for transformers).")
    var recipe: String?

    @Option(help: "SIREN: fits per image, each from its own initialisation (re-fits of one image share its image_index).")
    var refits: Int?

    @Option(help: "SIREN: stop a fit once its PSNR reaches this many dB (its later checkpoints keep those weights).")
    var psnrTarget: Double?

    @Option(help: "Members trained together in one member batch (SIREN, MLP, CNN; default: chosen from the cache budget). Never changes the zoo.")
    var memberBatch: Int?

    @Option(help: "How members are computed: member-batch or tape (default: the family's; member-batch for new CNN zoos, tape for transformers). CNN zoos made before engines were recorded resume with --engine tape.")
    var engine: String?

    @Flag(help: "Print the resolved spec as JSON and exit.")
    var printSpec = false

    @Flag(help: "No progress line.")
    var quiet = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard family != nil || spec != nil else { throw ValidationError("give --family or --spec") }
        guard out != nil || printSpec else { throw ValidationError("give --out DIR") }
        guard workers >= 1, workers <= ZooLimits.workers else { throw ValidationError("--workers must be in 1...\(ZooLimits.workers)") }
        if let n = limit, n < 0 { throw ValidationError("--limit must be ≥ 0") }
        if let k = memberBatch, k < 1 { throw ValidationError("--member-batch must be at least 1") }
        // Counts are checked against their bounds again with the whole spec; these catch a bad
        // flag before a spec file is read.
        if let n = members, n < 1 || n > ZooLimits.members { throw ValidationError("--members must be in 1...\(ZooLimits.members), got \(n)") }
        if let n = epochs, n < 0 || n > ZooLimits.epochs { throw ValidationError("--epochs must be in 0...\(ZooLimits.epochs), got \(n)") }
        if let n = batchSize, n < 1 || n > ZooLimits.batchSize { throw ValidationError("--batch-size must be in 1...\(ZooLimits.batchSize), got \(n)") }
        if let n = trainLimit, n < 1 { throw ValidationError("--train-limit must be ≥ 1, got \(n)") }
        if let n = testLimit, n < 1 { throw ValidationError("--test-limit must be ≥ 1, got \(n)") }
    }

    /// The spec from --spec and the options.
    func resolvedSpec() throws -> ZooSpec {
        var s: ZooSpec
        if let path = spec {
            s = try ZooSpec.load(from: URL(fileURLWithPath: path))
            if let f = family, f != s.family { throw ValidationError("--family \(f.rawValue) contradicts the spec's \(s.family.rawValue)") }
        } else {
            s = ZooSpec.defaults(for: family!)
        }
        if let v = members { s.members = v }
        if let v = seed { s.seed = v }
        if let v = epochs {
            s.training.epochs = v
            if s.family == .transformer { s.training.warmupEpochs = v / 10 }
        }
        if let text = checkpointEpochs {
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap { Int($0) }
            guard !parts.isEmpty, values.count == parts.count else {
                throw ValidationError("--checkpoint-epochs must be comma-separated integers, got '\(text)'")
            }
            s.training.checkpointEpochs = values
            if epochs == nil, let m = values.max() { s.training.epochs = Swift.max(s.training.epochs, m) }
        } else if epochs != nil {
            s.training.checkpointEpochs = [s.training.epochs]
        }
        if let v = dataset, v != s.data.kind {
            s.data.kind = v
            // The default pool size is a Fashion-MNIST recipe; the synthetic set is small.
            if v == .synthetic { s.data.path = nil; s.data.trainLimit = nil }
        }
        if let v = data { s.data.path = v }
        if let v = trainLimit { s.data.trainLimit = v }
        if let v = testLimit { s.data.testLimit = v }
        if let v = batchSize { s.training.batchSize = v }
        if sharedInit { s.training.sharedInitialization = true }
        if let r = refits { s.training.refits = r }
        if let t = psnrTarget { s.training.psnrTarget = t }
        if let name = recipe {
            guard let r = ZooRecipe(rawValue: name) else {
                throw ValidationError("--recipe must be one of \(ZooRecipe.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
            }
            s.recipe = r == .swiftNFNv1 ? nil : r
            // The reference recipe's shared start comes with it; v1 draws per member.
            if r == .reference { s.training.sharedInitialization = true } else if !sharedInit { s.training.sharedInitialization = nil }
        }
        if let name = engine {
            guard let e = ZooEngine(rawValue: name) else {
                throw ValidationError("--engine must be one of \(ZooEngine.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
            }
            s.engine = e
        }
        return s
    }

    func run() throws {
        do {
            let s = try resolvedSpec()
            if printSpec {
                try printJSON(s)
                return
            }
            let shardValue = try shard.map { try ZooShard(parsing: $0, strategy: shardStrategy) }
            let terminal = isatty(STDERR_FILENO) != 0
            let showProgress = !quiet && !output.json && terminal
            var options = ZooGenerationOptions(shard: shardValue, workers: workers, maximumNewMembers: limit,
                                               memberBatch: memberBatch)
            if showProgress {
                options.progress = { @Sendable (p: ZooProgress) in
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + p.line).utf8))
                }
            } else if !quiet {
                // Logs (Slurm, CI): whole lines, every 5% of the members or every minute.
                let log = ProgressLog()
                options.progress = { @Sendable (p: ZooProgress) in
                    if let line = log.line(for: p) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                }
            }
            let report = try ZooGenerator.generate(spec: s, into: URL(fileURLWithPath: out!), options: options)
            if showProgress && report.generated > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
            if output.json { try printJSON(report); return }
            var line = "\(report.directory): \(report.present)/\(report.membersInRange) members"
                + (report.complete ? " (complete)" : " (incomplete)")
                + String(format: "; generated %d in %.1f s (%.1f members/min, %d workers)", report.generated,
                         report.seconds, report.membersPerMinute, report.workers)
            if report.resumed > 0 { line += ", \(report.resumed) resumed" }
            if report.diverged > 0 { line += ", \(report.diverged) diverged" }
            if !report.damaged.isEmpty {
                line += ", \(report.damaged.count) damaged (shard did not match its checksum) and regenerated: members \(report.damaged.map(String.init).joined(separator: " "))"
            }
            print(line)
            if let m = report.summary {
                print(String(format: "%@ at the last checkpoint: min %.4f, median %.4f, max %.4f",
                             report.metric, m.min, m.median, m.max))
            }
        } catch let e as ValidationError {
            fail(e)
        } catch {
            fail(error)
        }
    }
}

struct ZooInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Summarise a zoo: members, family, data set, metric spread, hyper-parameter ranges.")

    @Argument(help: "The zoo folder.")
    var directory: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let summary = ZooSummary(try ZooReader(directory: URL(fileURLWithPath: directory)))
            if output.json { try printJSON(summary) } else { print(summary.text) }
        } catch {
            fail(error)
        }
    }
}

struct ZooMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join zoos of the same spec (e.g. the shards of one zoo) into a new folder.",
        discussion: "Merging all shards gives exactly the zoo of a single run. Conflicting specs or data are an error.")

    @Argument(help: "The new output folder.")
    var out: String

    @Argument(help: "The zoo folders to join.")
    var sources: [String]

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !sources.isEmpty else { throw ValidationError("give at least one source zoo folder") }
    }

    func run() throws {
        do {
            let r = try ZooMerger.merge(sources: sources.map { URL(fileURLWithPath: $0) }, into: URL(fileURLWithPath: out))
            if output.json { try printJSON(r); return }
            print("\(r.output): \(r.members)/\(r.planned) members from \(r.sources) zoos" + (r.complete ? " (complete)" : " (incomplete)"))
        } catch {
            fail(error)
        }
    }
}

struct ZooVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Rebuild members from their stored weights, re-evaluate them and compare with the recorded metrics.",
        discussion: "Exits with status 1 when a checkpoint differs by more than the tolerance.")

    @Argument(help: "The zoo folder.")
    var directory: String

    @Option(help: "Check a seeded random sample of N members (default: all).")
    var sample: Int?

    @Option(help: "Seed of the sample.")
    var seed: UInt64 = 0

    @Option(help: "Folder of the data set, if it moved since generation.")
    var data: String?

    @Option(help: "Largest acceptable difference.")
    var tolerance: Float = 0.001

    @Option(help: "Members evaluated concurrently.")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let n = sample, n < 1 { throw ValidationError("--sample must be at least 1") }
        guard workers >= 1, workers <= ZooLimits.workers else { throw ValidationError("--workers must be in 1...\(ZooLimits.workers)") }
        // NaN compares false with everything, so `diff <= nan` would fail every checkpoint (and
        // `diff > nan` none): a tolerance must be a finite number.
        guard tolerance.isFinite, tolerance >= 0 else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
    }

    func run() throws {
        let r: ZooVerifier.Report
        do {
            r = try ZooVerifier.verify(directory: URL(fileURLWithPath: directory),
                                       options: .init(sample: sample, seed: seed, dataPath: data, tolerance: tolerance,
                                                      workers: workers))
        } catch {
            fail(error)
        }
        if output.json { try printJSON(r) } else {
            print(String(format: "checked %d of %d members (%d checkpoints, %d skipped): max |Δ %@| = %.6f, %d mismatches",
                         r.checked, r.members, r.checkpointsChecked, r.skipped, r.metric, r.maxAbsAccuracyDiff, r.mismatches))
            print("shard checksums: \(r.shardsChecksummed) match" + (r.shardsWithoutChecksum > 0
                ? "; \(r.shardsWithoutChecksum) shards have no recorded checksum (written before checksums): checked by their metrics only" : ""))
            for m in r.mismatchDetails {
                print("  member \(m.member), epoch \(m.epoch): recorded \(m.recorded), recomputed \(m.recomputed)")
            }
        }
        if r.mismatches > 0 { throw ExitCode(1) }
    }
}

struct ZooExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a zoo's checkpoints as one safetensors file (a tensor per parameter, stacked over rows) plus a CSV.")

    @Argument(help: "The zoo folder.")
    var directory: String

    @Option(help: "The safetensors file to write.")
    var out: String

    @Option(help: "The CSV file to write (one row per exported checkpoint).")
    var csv: String

    @Option(help: "Export only this checkpoint epoch (default: all).")
    var epoch: Int?

    @Flag(help: "Keep checkpoints of diverged members.")
    var includeDiverged = false

    @Flag(help: "Keep checkpoints with NaN/∞ weights.")
    var includeNonFinite = false

    @Flag(help: "Replace existing output files (never files inside the zoo).")
    var force = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let reader = try ZooReader(directory: URL(fileURLWithPath: directory))
            let r = try reader.export(safetensors: URL(fileURLWithPath: out), csv: URL(fileURLWithPath: csv), epoch: epoch,
                                      filter: ZooCheckpointFilter(skipDiverged: !includeDiverged, skipNonFinite: !includeNonFinite),
                                      overwrite: force)
            if output.json { try printJSON(r); return }
            print("\(r.safetensors), \(r.csv): \(r.rows) checkpoints (skipped \(r.skippedDiverged) diverged, \(r.skippedNonFinite) non-finite)")
        } catch {
            fail(error)
        }
    }
}

/// Decides when a generation run in a log (stderr not a terminal) prints a progress line: every
/// 5% of the members, at least once a minute, and at the end.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lastPrinted = Date()
    private var lastCount = 0

    func line(for p: ZooProgress) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let step = Swift.max(1, (p.generated + p.remaining) / 20)
        let now = Date()
        guard p.remaining == 0 || p.generated - lastCount >= step || now.timeIntervalSince(lastPrinted) >= 60 else { return nil }
        lastPrinted = now
        lastCount = p.generated
        return "progress: " + p.line
    }
}
