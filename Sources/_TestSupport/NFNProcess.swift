import Foundation

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
