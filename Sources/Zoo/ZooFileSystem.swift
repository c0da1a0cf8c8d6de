import Foundation
import TensorIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The small set of POSIX file operations the zoo's crash-safety rests on: atomic whole-file
/// replacement, durable appends, truncation, and an advisory folder lock.
enum ZooFileSystem {
    /// The prefix of temporary files (shared with TensorIO's atomic writer), so that leftovers of a
    /// killed process are recognisable and can be removed on resume.
    static let temporaryPrefix = AtomicFile.temporaryPrefix

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// Writes all of `data` to `fd`, retrying on `EINTR`.
    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                #if canImport(Glibc)
                let written = Glibc.write(fd, pointer, remaining)
                #elseif canImport(Musl)
                let written = Musl.write(fd, pointer, remaining)
                #else
                let written = Darwin.write(fd, pointer, remaining)
                #endif
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ZooError.io(file: path, detail: "write failed: \(lastError())")
                }
                remaining -= written
                pointer += written
            }
        }
    }

    /// Replaces `url` with `data` atomically (``AtomicFile/write(_:to:)``: a temporary file in the
    /// same folder, `fsync`, rename, folder `fsync`). A crash leaves either the old file or the new
    /// one, never a mixture.
    static func atomicWrite(_ data: Data, to url: URL) throws {
        do {
            try AtomicFile.write(data, to: url)
        } catch TensorIOError.io(_, let detail) {
            throw ZooError.io(file: url.path, detail: detail)
        }
    }

    /// Appends `data` to `url` (creating it) in one `write(2)` on an `O_APPEND` descriptor and
    /// `fsync`s it before returning.
    static func appendDurably(_ data: Data, to url: URL) throws {
        let path = url.path
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ZooError.io(file: path, detail: "cannot open for appending: \(lastError())") }
        defer { _ = close(fd) }
        try writeAll(fd, data, path: path)
        guard fsync(fd) == 0 else { throw ZooError.io(file: path, detail: "fsync failed: \(lastError())") }
    }

    /// Cuts `url` to `length` bytes and `fsync`s it.
    static func truncate(_ url: URL, to length: Int) throws {
        let path = url.path
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ZooError.io(file: path, detail: "cannot open for truncation: \(lastError())") }
        defer { _ = close(fd) }
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw ZooError.io(file: path, detail: "cannot truncate: \(lastError())")
        }
    }

    /// Renames `from` to `to` (atomic on POSIX file systems, replacing `to`).
    static func rename(_ from: URL, to: URL) throws {
        guard posixRename(from.path, to.path) == 0 else { throw ZooError.io(file: to.path, detail: "cannot rename \(from.path) into place: \(lastError())") }
        syncDirectory(to.deletingLastPathComponent().path)
    }

    /// `fsync`s a folder so that renames and new entries in it are durable (best effort).
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = close(fd)
        }
    }

    /// Reads a whole regular file of at most `limit` bytes (``RegularFile``: a FIFO or device is
    /// refused, never opened blocking), mapping a missing file and other failures to
    /// ``ZooError/io(file:detail:)``.
    static func read(_ url: URL, limit: Int = RegularFile.defaultLimit) throws -> Data {
        do {
            return try RegularFile.read(url, limit: limit)
        } catch TensorIOError.io(_, let detail) {
            throw ZooError.io(file: url.path, detail: detail)
        }
    }

    /// The largest `zoo.json` or spec file read (16 MiB; a real one is a few kilobytes).
    static let maximumJSONFileSize = 16 << 20

    /// The deepest JSON nesting accepted in zoo files (a real manifest nests 5 levels).
    static let maximumJSONDepth = 32

    /// Throws `error(detail)` when `data` nests deeper than ``maximumJSONDepth`` or repeats a key
    /// in one object: `JSONDecoder` would recurse on the first and silently pick one value for the second.
    static func checkJSONStructure(_ data: Data, _ error: (String) -> ZooError) throws {
        if let problem = StructureScan.jsonProblem(data, maximumDepth: maximumJSONDepth) { throw error("\(problem)") }
    }

    /// Removes temporary files left in `directory` by a killed writer.
    static func removeTemporaryFiles(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(temporaryPrefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}

/// `rename(2)`, named apart from Foundation's instance methods.
private func posixRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Glibc)
    return Glibc.rename(from, to)
    #elseif canImport(Musl)
    return Musl.rename(from, to)
    #else
    return Darwin.rename(from, to)
    #endif
}
