import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on a file, held while a process writes into a folder (a
/// zoo being generated, a run being trained), so that two processes never write one folder.
///
/// The lock dies with its process (kill -9 included), so a stale lock file never blocks a resume.
public final class FileLock {
    /// Why a lock could not be taken.
    public enum Failure: Error, Equatable {
        /// Another process holds the lock.
        case held(file: String)
        /// The lock file could not be created.
        case io(file: String, detail: String)
    }

    private let fd: Int32
    /// The lock file.
    public let url: URL

    /// Takes the lock or throws at once (it never waits).
    ///
    /// - Throws: ``Failure/held(file:)`` when another process holds it, ``Failure/io(file:detail:)``
    ///   when the lock file cannot be created.
    public init(_ url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Failure.io(file: url.path, detail: "cannot create the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            _ = close(fd)
            throw Failure.held(file: url.path)
        }
        self.fd = fd
    }

    /// Removes the lock file and releases the lock.
    public func release() {
        _ = unlink(url.path)
        _ = flock(fd, LOCK_UN)
        _ = close(fd)
    }
}
