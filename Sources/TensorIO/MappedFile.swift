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
    /// The file is opened through ``RegularFile``, so a FIFO or device is refused instead of blocking.
    ///
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming `url` if the file cannot be opened,
    ///   inspected or mapped, or is not a regular file.
    static func data(contentsOf url: URL) throws -> Data {
        try RegularFile.read(url, limit: Int.max, mapped: true)
    }
}
