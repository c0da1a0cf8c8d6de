import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that never leave a partial file at the destination — the one atomic writer
/// every SwiftNFN module uses (checkpoints, zoo manifests and records, configurations, reports).
public enum AtomicFile {
    /// The prefix of temporary files, so that a crashed process's leftovers are recognisable.
    public static let temporaryPrefix = ".nfn-tmp-"

    /// Writes `data` to a fresh temporary file in `url`'s directory, flushes it with `fsync`,
    /// then `rename(2)`s it over `url` (atomic on POSIX file systems). On any failure the temporary
    /// file is removed and ``TensorIOError/io(file:detail:)`` naming `url` is thrown.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent("\(temporaryPrefix)\(UUID().uuidString)-\(url.lastPathComponent)").path

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TensorIOError.io(file: path, detail: "cannot create a temporary file in \(directory): \(lastError())")
        }
        var renamed = false
        var closed = false
        defer {
            if !closed { _ = close(fd) }
            if !renamed { _ = unlink(temporary) }
        }

        try data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = posixWrite(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw TensorIOError.io(file: path, detail: "write failed: \(lastError())")
                }
                remaining -= written
                pointer += written
            }
        }
        guard fsync(fd) == 0 else {
            throw TensorIOError.io(file: path, detail: "fsync failed: \(lastError())")
        }
        closed = true
        guard close(fd) == 0 else {
            throw TensorIOError.io(file: path, detail: "close failed: \(lastError())")
        }
        guard rename(temporary, path) == 0 else {
            throw TensorIOError.io(file: path, detail: "cannot rename the temporary file into place: \(lastError())")
        }
        renamed = true
        // Make the rename itself durable; failure here is harmless to consistency, so ignore it.
        let directoryFD = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            _ = close(directoryFD)
        }
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}

/// `write(2)`, named apart from Swift's many `write` methods.
@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
