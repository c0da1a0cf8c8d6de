import Foundation
import XCTest
import _TestSupport
import Datasets
#if canImport(Glibc)
import Glibc
#endif

/// The Slurm recipe of `Docs/Zoos.md`, run for real: `Tests/Scripts/slurm-one-node.sh` starts a
/// one-node Slurm (munged, slurmctld, slurmd with a configuration it writes), submits the documented
/// job array and merge job (`Docs/slurm/*.sbatch`) for a small Fashion-MNIST zoo, waits for them and
/// stops the daemons. The test then checks that the merged zoo is byte for byte the zoo one
/// `nfn zoo generate` without `--shard` writes.
///
/// XCTest rather than Swift Testing for one reason: a machine that cannot run the daemons must show
/// up as a skip, with its reason, in the summary ("with 1 test skipped"); `XCTSkip` does that, while
/// Swift Testing's summary line counts a cancelled test as passed.
final class SlurmIntegrationTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Tests/Scripts/slurm-one-node.sh")
    static let jobScripts = ["Docs/slurm/zoo-array.sbatch", "Docs/slurm/zoo-merge.sbatch"]

    /// The small zoo: the documented script's sizes, shrunk (6 members, 2 epochs, a 512-image pool,
    /// 256 test images), over 3 array tasks.
    static let tasks = 3
    static let sizes = ["ZOO_MEMBERS": "6", "ZOO_EPOCHS": "2", "ZOO_CHECKPOINT_EPOCHS": "1,2",
                        "ZOO_TRAIN_LIMIT": "512", "ZOO_TEST_LIMIT": "256", "ZOO_VERIFY_SAMPLE": "6"]
    /// What the array script runs, without `--shard`: the single-machine zoo to compare with. If the
    /// documented command changes (another seed, option), the comparison fails until this follows it.
    static let singleMachine = ["zoo", "generate", "--family", "cnn", "--members", "6", "--epochs", "2",
                                "--checkpoint-epochs", "1,2", "--train-limit", "512", "--test-limit", "256",
                                "--seed", "7", "--workers", "2", "--quiet"]
    /// The script gives up on its own after 240 s of queued or running jobs; this is the backstop for
    /// a hang anywhere else (e.g. a daemon that never answers).
    static let timeout: TimeInterval = 300

    func testDocumentedArrayOnOneNodeSlurmMergesToTheSingleMachineZoo() throws {
        guard let nfn = nfnBinary else { throw XCTSkip("needs the nfn executable (build all products)") }
        guard FashionMNIST.isAvailable(split: .train) && FashionMNIST.isAvailable(split: .test) else {
            throw XCTSkip("needs Fashion-MNIST (make setup installs dataset-fashion-mnist)")
        }
        let root = makeTemporaryDirectory("slurm")
        let work = root.appendingPathComponent("cluster")
        var environment = ProcessInfo.processInfo.environment
        // nfn for the jobs; sbin because Debian keeps the daemons there, outside most users' PATH.
        environment["PATH"] = [nfn.deletingLastPathComponent().path, environment["PATH"] ?? "/usr/bin:/bin",
                               "/usr/sbin", "/sbin"].joined(separator: ":")
        environment["SLURM_TEST_TASKS"] = "\(Self.tasks)"
        for (k, v) in Self.sizes { environment[k] = v }
        let started = Date()
        let r = try Self.runScript(work, environment: environment)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertFalse(r.timedOut, "killed after \(Self.timeout) s: \(r.stderr)")
        if r.status == 77 && !r.timedOut {
            let reason = (try? String(contentsOf: work.appendingPathComponent("skip-reason"), encoding: .utf8)) ?? r.stderr
            throw XCTSkip("no one-node Slurm on this machine: \(reason.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard r.status == 0 else { return XCTFail("slurm-one-node.sh exited with \(r.status):\n\(r.stderr)") }
        print("one-node Slurm: array of \(Self.tasks) tasks + merge job in \(String(format: "%.1f", seconds)) s\n\(r.stderr)")

        // One shard folder per array task, each recording its part of SLURM_ARRAY_TASK_COUNT.
        let parts = work.appendingPathComponent("scratch/cnn-zoo")
        let names = try FileManager.default.contentsOfDirectory(atPath: parts.path).sorted()
        XCTAssertEqual(names, (0..<Self.tasks).map { "part-\($0)" })
        for k in 0..<Self.tasks {
            let manifest = try jsonObject(String(decoding: try Data(contentsOf: parts.appendingPathComponent("part-\(k)/zoo.json")),
                                                 as: UTF8.self))
            let shard = try XCTUnwrap(manifest["shard"] as? [String: Any], "part-\(k) is not a shard")
            XCTAssertEqual(shard["index"] as? Int, k, "part-\(k): \(shard)")
            XCTAssertEqual(shard["count"] as? Int, Self.tasks, "part-\(k): \(shard)")
        }

        let single = root.appendingPathComponent("single")
        let g = try runNFN(Self.singleMachine + ["--out", single.path])
        XCTAssertEqual(g.status, 0, g.stderr)
        let merged = try contents(of: work.appendingPathComponent("work/cnn-zoo"))
        let reference = try contents(of: single)
        XCTAssertEqual(merged.keys.filter { $0.hasPrefix("weights-") }.count, 6)
        XCTAssert(merged == reference, "the merged zoo differs from the single-machine zoo in \(Self.differences(merged, reference))")
    }

    /// Without the daemons the script exits with 77 and names what is missing (which the test above
    /// turns into a skip), never 0.
    func testMissingDaemonIsASkipWithAReason() throws {
        let root = makeTemporaryDirectory("slurm-skip")
        // A PATH with everything the script looks for except slurmctld (and the two tools it uses
        // before looking).
        let bin = root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for name in ["dirname", "mkdir", "munged", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"] {
            for folder in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] where FileManager.default.fileExists(atPath: "\(folder)/\(name)") {
                try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(name).path,
                                                           withDestinationPath: "\(folder)/\(name)")
                break
            }
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path
        let work = root.appendingPathComponent("cluster")
        let r = try Self.runScript(work, environment: environment)
        XCTAssertEqual(r.status, 77, r.stderr)
        let reason = try String(contentsOf: work.appendingPathComponent("skip-reason"), encoding: .utf8)
        XCTAssert(reason.contains("not found"), reason)
        XCTAssert(r.stderr.contains("SKIP: "), r.stderr)
        if FileManager.default.fileExists(atPath: bin.appendingPathComponent("munged").path) {
            XCTAssert(reason.contains("slurmctld not found"), reason)
        }
    }

    /// `Docs/Zoos.md` shows the job scripts verbatim, so what readers copy is what the test runs.
    func testZoosDocShowsTheTestedJobScriptsVerbatim() throws {
        let doc = try String(contentsOf: Self.repository.appendingPathComponent("Docs/Zoos.md"), encoding: .utf8)
        for path in Self.jobScripts {
            let file = try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
            let marker = "<!-- \(path), verbatim -->\n```sh\n"
            let start = try XCTUnwrap(doc.range(of: marker), "Docs/Zoos.md lacks the block marked '\(marker)'")
            let end = try XCTUnwrap(doc.range(of: "```\n", range: start.upperBound..<doc.endIndex))
            XCTAssertEqual(String(doc[start.upperBound..<end.lowerBound]), file, "Docs/Zoos.md's copy of \(path) differs from the file")
        }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    struct ScriptResult {
        var status: Int32
        var stderr: String
        var timedOut: Bool
    }

    /// Runs the script on `work`, its output in a file (a pipe could fill while we wait), killing it
    /// after `timeout`: SIGTERM first, which makes it stop its daemons, then SIGKILL to its process group.
    static func runScript(_ work: URL, environment: [String: String]) throws -> ScriptResult {
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let output = work.deletingLastPathComponent().appendingPathComponent("\(work.lastPathComponent).log").path
        let pid = try spawn(["/bin/bash", script.path, work.path], environment: environment, output: output)
        var status: Int32 = 0
        func finished() -> Bool { waitpid(pid, &status, WNOHANG) == pid }
        func wait(until deadline: Date) -> Bool {
            while Date() < deadline {
                if finished() { return true }
                usleep(100_000)
            }
            return finished()
        }
        var timedOut = false
        if !wait(until: Date().addingTimeInterval(timeout)) {
            timedOut = true
            kill(pid, SIGTERM)
            if !wait(until: Date().addingTimeInterval(20)) {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
            }
        }
        // Exit code, or 128 + the signal, as a shell reports it.
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ScriptResult(status: code, stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self),
                            timedOut: timedOut)
    }

    /// Starts `arguments` with stdout and stderr to `output`, in a process group of its own, with no
    /// signal blocked and every signal's default handling. Not `Process`: its child inherits the
    /// test runner thread's blocked signals, SIGTERM among them, and munged and slurmd never unblock
    /// it, so neither the script's TERM trap nor the daemons would ever see the TERM that stops them.
    static func spawn(_ arguments: [String], environment: [String: String], output: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(description: "cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// The files present in only one zoo or with different bytes.
    static func differences(_ a: [String: Data], _ b: [String: Data]) -> [String] {
        Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }
}
