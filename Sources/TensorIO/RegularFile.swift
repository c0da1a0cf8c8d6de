import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way SwiftNFN's loaders open an input file: it must be a regular file (not a FIFO, a
/// device, a socket or a folder) and not larger than the caller's limit.
///
/// Why a helper of its own: `open(2)` on a FIFO blocks until some process opens the other end, so a
/// named pipe called `weights.npy` or `a.pt` would hang a loader forever, and reading `/dev/zero`
/// never ends. The file is therefore opened with `O_NONBLOCK` (which never blocks on a FIFO) and
/// checked with `fstat` on that same descriptor, so the check and the read concern the same file.
///
/// ```swift
/// let bytes = try RegularFile.read(URL(fileURLWithPath: "config.yaml"), limit: 1 << 20)
/// ```
public enum RegularFile {
    /// The limit of ``read(_:limit:)`` when none is given: 4 GiB, beyond any file SwiftNFN reads
    /// whole.
    public static let defaultLimit = 1 << 32

    /// Throws unless `url` names an existing regular file (following symbolic links), without
    /// opening it for reading; returns its size in bytes.
    ///
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming the file: `no such file`, or `not a
    ///   regular file (a FIFO)` and the like.
    @discardableResult
    public static func check(_ url: URL) throws -> Int {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw TensorIOError.io(file: url.path, detail: errno == ENOENT ? "no such file" : "cannot inspect file: \(lastError())")
        }
        try requireRegular(info, path: url.path)
        return Int(info.st_size)
    }

    /// The whole contents of a regular file of at most `limit` bytes.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - limit: the largest size accepted, in bytes.
    ///   - mapped: memory-map the file instead of copying it (large tensor files; the mapping is
    ///     private, so the returned `Data` never writes through to the file).
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming the file when it is missing, not a
    ///   regular file, larger than `limit`, or cannot be read.
    public static func read(_ url: URL, limit: Int = defaultLimit, mapped: Bool = false) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw TensorIOError.io(file: path, detail: errno == ENOENT ? "no such file" : "cannot open file: \(lastError())")
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TensorIOError.io(file: path, detail: "cannot inspect file: \(lastError())")
        }
        try requireRegular(info, path: path)
        guard let size = Int(exactly: info.st_size), size <= limit else {
            throw TensorIOError.io(file: path, detail: "the file has \(info.st_size) bytes, more than the limit of \(limit) bytes for this kind of file")
        }
        guard size > 0 else { return Data() }
        if mapped {
            // MAP_PRIVATE + PROT_WRITE: an accidental mutation copies the page instead of faulting.
            guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
                throw TensorIOError.io(file: path, detail: "cannot memory-map file: \(lastError())")
            }
            return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in
                _ = munmap(pointer, count)
            })
        }
        var data = Data(count: size)
        var filled = 0
        try data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            while filled < size {
                let n = Foundation.read(fd, base + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TensorIOError.io(file: path, detail: "cannot read file: \(lastError())")
                }
                if n == 0 { break }   // the file shrank while being read
                filled += n
            }
        }
        if filled < size { data.removeSubrange(filled...) }
        return data
    }

    private static func requireRegular(_ info: stat, path: String) throws {
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind: String
            switch type {
            case S_IFIFO: kind = "a FIFO (named pipe)"
            case S_IFDIR: kind = "a folder"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a plain file"
            }
            throw TensorIOError.io(file: path, detail: "not a regular file (\(kind)); refusing to read it")
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
