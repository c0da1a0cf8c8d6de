import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `nfn` executable, next to the test bundle (or one folder up), if it was built.
public let nfnBinary: URL? = {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir.appendingPathComponent("nfn"), dir.deletingLastPathComponent().appendingPathComponent("nfn")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    return nil
}()

/// Why `nfn` could not be started or its output not read.
public struct NFNProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// Starts `nfn` with `arguments`, its standard output and error piped.
public func startNFN(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
    guard let binary = nfnBinary else { throw NFNProcessError(description: "the nfn executable was not built") }
    let p = Process()
    p.executableURL = binary
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    return (p, out, err)
}

/// Runs `nfn` to completion.
public func runNFN(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let (p, out, err) = try startNFN(arguments)
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Parses a JSON object printed by `nfn --json`.
public func jsonObject(_ s: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] else {
        throw NFNProcessError(description: "not a JSON object: \(s.prefix(200))")
    }
    return object
}

/// What ``runNFN(_:timeout:)`` observed.
public struct NFNRun: Sendable {
    /// The exit status, or the signal number when ``signaled``.
    public var status: Int32
    /// Standard output.
    public var stdout: String
    /// Standard error.
    public var stderr: String
    /// The process ended by a signal (a crash, or the kill after the deadline).
    public var signaled: Bool
    /// The deadline passed and the process was killed.
    public var timedOut: Bool

    /// Exit status 1 with `nfn: error:` or an argument error on standard error, no signal, no
    /// timeout, and every fragment of `mentioning` in standard error: a clean refusal.
    public func isCleanFailure(mentioning fragments: [String] = []) -> Bool {
        !signaled && !timedOut && status != 0 && status < 128
            && (stderr.contains("nfn: error:") || stderr.contains("Error:"))
            && fragments.allSatisfy { stderr.contains($0) }
    }
}

/// Runs `nfn` with a deadline: past `timeout` seconds the process is killed (`SIGKILL`) and the
/// result says so, so a hang fails a test instead of stalling the suite.
public func runNFN(_ arguments: [String], timeout: TimeInterval) throws -> NFNRun {
    let (p, out, err) = try startNFN(arguments)
    // The pipes are drained on their own threads: a process blocked writing a full pipe would
    // otherwise look like a hang.
    final class Box: @unchecked Sendable { var data = Data() }
    let o = Box(), e = Box()
    let group = DispatchGroup()
    for (pipe, box) in [(out, o), (err, e)] {
        group.enter()
        DispatchQueue.global().async {
            box.data = pipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
    }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    var timedOut = false
    if p.isRunning {
        timedOut = true
        kill(p.processIdentifier, SIGKILL)
    }
    p.waitUntilExit()
    _ = group.wait(timeout: .now() + 5)
    return NFNRun(status: p.terminationStatus, stdout: String(decoding: o.data, as: UTF8.self),
                  stderr: String(decoding: e.data, as: UTF8.self),
                  signaled: p.terminationReason == .uncaughtSignal, timedOut: timedOut)
}

/// Runs `body` on a thread of its own and waits at most `timeout` seconds for it: `nil` when it
/// did not finish in time (the thread is left behind), else what it returned or threw.
///
/// For in-process checks of loaders that could block (a FIFO opened for reading): a regression
/// then fails the test instead of hanging the suite.
public func withDeadline<T: Sendable>(_ timeout: TimeInterval, _ body: @escaping @Sendable () throws -> T) -> Result<T, any Error>? {
    let box = DeadlineBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        box.result = Result { try body() }
        done.signal()
    }
    guard done.wait(timeout: .now() + timeout) == .success else { return nil }
    return box.result
}

/// The result slot of ``withDeadline(_:_:)``, written by its thread before it signals.
private final class DeadlineBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// Creates a FIFO (named pipe) at `url`.
public func makeFIFO(_ url: URL) throws {
    guard mkfifo(url.path, 0o644) == 0 else { throw NFNProcessError(description: "mkfifo \(url.path) failed") }
}
