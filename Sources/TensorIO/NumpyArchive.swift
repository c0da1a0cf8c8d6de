import Foundation
import Tensors

/// A NumPy `.npz` archive: a ZIP file of `.npy` arrays, as `numpy.savez` (entries stored) and
/// `numpy.savez_compressed` (entries deflated) write it.
///
/// Every entry is extracted into memory, its CRC-32 checked and its `.npy` header validated when
/// the archive is opened; elements are converted to `Float` only when asked for. Array names are
/// the entry names without their `.npy` suffix, as `numpy.load(...).files` lists them.
///
/// ```swift
/// let archive = try NumpyArchive(contentsOf: url)
/// let w = try archive.tensor(named: "w")
/// ```
///
/// Checks, each a thrown ``TensorIOError`` naming the archive (and, for an entry's `.npy`
/// problems, the entry as `archive.npz:name.npy`):
/// - `.unsupportedFormat` if the file is not a ZIP archive, or an entry is not a `.npy` file;
/// - `.malformedArchive` if the ZIP structure is damaged or truncated, an entry fails its CRC-32
///   check, or two entries have the same name;
/// - any error of ``NumpyArray`` for an entry's contents.
public struct NumpyArchive: Sendable {
    /// The array names, in archive order.
    public let names: [String]
    /// The arrays by name.
    public let arrays: [String: NumpyArray]
    /// The name used in error messages (usually the archive's path).
    public let source: String?

    /// Opens the `.npz` file at `url` (memory-mapped).
    ///
    /// - Throws: ``TensorIOError`` naming the file (see ``NumpyArchive``).
    /// - Complexity: O(archive size): every entry is inflated and checked.
    public init(contentsOf url: URL) throws {
        try self.init(data: try MappedFile.data(contentsOf: url), source: url.path)
    }

    /// Parses `.npz` bytes held in memory.
    ///
    /// - Parameters:
    ///   - data: the complete archive.
    ///   - source: a name for the bytes (usually the path they came from), used in error messages.
    /// - Throws: ``TensorIOError`` (see ``NumpyArchive``).
    public init(data: Data, source: String? = nil) throws {
        try NumpyArchive.requireZip(data.prefix(4), source: source)
        try self.init(reader: try ZipReader(data: data, source: source), source: source)
    }

    private init(reader: ZipReader, source: String?) throws {
        var names: [String] = []
        var arrays: [String: NumpyArray] = [:]
        for entry in reader.entries {
            let path = entry.path
            guard path.hasSuffix(".npy") else {
                throw TensorIOError.unsupportedFormat(
                    file: source, detail: "entry '\(path)' is not a .npy array (only .npy entries are read)")
            }
            let name = String(path.dropLast(4))
            guard arrays[name] == nil else {
                throw TensorIOError.malformedArchive(file: source, detail: "two entries are named '\(path)'")
            }
            let bytes = try reader.contents(of: entry)
            arrays[name] = try NumpyArray(data: bytes, source: "\(source ?? "<memory>"):\(path)")
            names.append(name)
        }
        self.names = names
        self.arrays = arrays
        self.source = source
    }

    /// The array with the given name (without `.npy`), or `nil`.
    public subscript(_ name: String) -> NumpyArray? { arrays[name] }

    /// The named array as a row-major tensor.
    ///
    /// - Throws: ``TensorIOError/outOfRange(file:detail:)`` naming the archive if there is no array
    ///   of that name.
    public func tensor(named name: String) throws -> Tensor {
        guard let array = arrays[name] else {
            throw TensorIOError.outOfRange(
                file: source, detail: "no array named '\(name)' (the archive holds \(names.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        return array.tensor()
    }

    /// Reads every array of the `.npz` file at `url` as a row-major tensor.
    ///
    /// - Throws: ``TensorIOError`` naming the file (see ``NumpyArchive``).
    public static func load(from url: URL) throws -> [String: Tensor] {
        try NumpyArchive(contentsOf: url).arrays.mapValues { $0.tensor() }
    }

    private static func requireZip(_ prefix: Data, source: String?) throws {
        guard ZipReader.looksLikeZip(prefix) else {
            if prefix.starts(with: NumpyArray.magic) {
                throw TensorIOError.unsupportedFormat(
                    file: source, detail: "this is a single .npy array, not a .npz archive (open it with NumpyArray)")
            }
            throw TensorIOError.unsupportedFormat(file: source, detail: "not a ZIP archive (an .npz file is one)")
        }
    }
}
