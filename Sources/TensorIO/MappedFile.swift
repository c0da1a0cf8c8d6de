import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only access to whole files without copying them into memory.
enum MappedFile {
    /// The contents of `url` as `Data` backed by a private memory mapping: pages are read from disk
    /// only when touched, so opening a 1 GB file costs nothing until its bytes are used, and the
    /// mapping is removed when the last copy of the `Data` goes away.
    ///
    /// The mapping is `MAP_PRIVATE` and writable, so an accidental mutation of the returned `Data`
    /// copies the page instead of faulting, and never reaches the file. An empty file gives empty
    /// `Data` (a zero-length mapping is not allowed).
    ///
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming `url` if the file cannot be opened,
    ///   inspected or mapped.
    static func data(contentsOf url: URL) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TensorIOError.io(file: path, detail: "cannot open file: \(lastError())")
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TensorIOError.io(file: path, detail: "cannot inspect file: \(lastError())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorIOError.io(file: path, detail: "not a regular file")
        }
        guard info.st_size > 0 else { return Data() }
        guard let size = Int(exactly: info.st_size) else {
            throw TensorIOError.io(file: path, detail: "file of \(info.st_size) bytes is too large to map")
        }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
              base != MAP_FAILED else {
            throw TensorIOError.io(file: path, detail: "cannot memory-map file: \(lastError())")
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in
            _ = munmap(pointer, count)
        })
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
