import Foundation
import Tensors

/// A PyTorch checkpoint written by `torch.save` (the ZIP format, the default since PyTorch 1.6),
/// read without Python and without executing anything.
///
/// Such a file is a ZIP archive with one top-level folder (`<archive>/`) holding `data.pkl` (a
/// pickle of the saved object), `data/<key>` (the raw little-endian bytes of each storage),
/// `version` and `byteorder`. The pickle is interpreted by a small, strict pickle machine that
/// knows only the opcodes and the globals state_dicts use (`collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2` and friends, the storage classes and dtypes); any other global
/// — `os.system`, `builtins.eval`, a model class — is rejected with
/// ``TensorIOError/unsupportedPickle(file:detail:)`` naming it. Nothing is ever imported or called.
///
/// The saved object must be a dictionary (a `state_dict()`, or a dict of them). It is flattened
/// with dotted names: tensors go to ``tensors`` (in the order of the file, listed in ``names``),
/// `int`, `float`, `str` and `bool` values go to ``metadata``; lists and tuples are flattened with
/// their indices; `None` and byte strings are skipped. So
/// `{"model": model.state_dict(), "epoch": 3}` gives tensors `model.weight`, `model.bias` and
/// metadata `epoch` = 3.
///
/// ```swift
/// let checkpoint = try PyTorchCheckpoint(contentsOf: url)
/// for name in checkpoint.names { print(name, checkpoint[name]?.shape ?? []) }
/// let epoch = checkpoint.metadata["epoch"]            // .int(3), say
/// ```
///
/// Tensors are rebuilt from (storage, offset, size, stride) honouring the strides, so a saved
/// non-contiguous view (a transposed weight, a slice) comes back as a row-major copy with the
/// view's values. Element types `float32`, `float64`, `float16`, `bfloat16`, `int64`, `int32`,
/// `int16`, `int8`, `uint8`, `bool`, `uint16`, `uint32`, `uint64` and `float8_e4m3fn`/`float8_e5m2`
/// are converted to `Float` as ``SafetensorsDType`` describes; complex and quantized tensors are
/// rejected. Several tensors sharing one storage read it once. A storage's device (`cpu`,
/// `cuda:0`) is ignored: its bytes are the same.
///
/// Checks, each a thrown ``TensorIOError`` naming the file:
/// - `.unsupportedFormat`: not a ZIP archive (the legacy pre-1.6 format is recognised and named),
///   a big-endian checkpoint, or a top-level object that is not a dictionary, list or tuple;
/// - `.malformedArchive`: a damaged or truncated ZIP, no `<archive>/data.pkl`, or a storage entry
///   that is missing;
/// - `.unsupportedPickle`: an opcode or a global outside the allow-list (a whole pickled `nn.Module`
///   names its class here: save `model.state_dict()` instead), or a value too deeply nested or
///   too often shared to flatten (more than 64 levels or about a million values);
/// - `.malformedPickle`: a damaged stream (it ends early, pops an empty stack, reads an unwritten
///   memo slot, passes wrong argument types), a container that contains itself, or two values
///   that flatten to the same name;
/// - `.shapeMismatch`: a storage entry whose size differs from the declared one, or a view
///   (offset, size, stride) that reaches past its storage or has negative values.
public struct PyTorchCheckpoint: Sendable {
    /// A non-tensor value of the saved object.
    public enum Value: Equatable, Sendable, CustomStringConvertible {
        /// A Python `int` (within 64 bits).
        case int(Int)
        /// A Python `float`.
        case float(Double)
        /// A Python `str`.
        case string(String)
        /// A Python `bool`.
        case bool(Bool)

        /// The value as Python would print it (`3`, `0.01`, `'run'`, `True`).
        public var description: String {
            switch self {
            case .int(let i): return String(i)
            case .float(let d): return String(d)
            case .string(let s): return "'\(s)'"
            case .bool(let b): return b ? "True" : "False"
            }
        }
    }

    /// The tensor names (dotted paths), in the order of the file.
    public let names: [String]
    /// The tensors by name, row-major `Float`.
    public let tensors: [String: Tensor]
    /// The `int`, `float`, `str` and `bool` values by dotted path (for example `epoch`).
    public let metadata: [String: Value]
    /// The paths of ``metadata``, in the order of the file.
    public let metadataNames: [String]

    /// The tensor with the given name, or `nil`.
    public subscript(_ name: String) -> Tensor? { tensors[name] }

    /// Reads the checkpoint at `url` (memory-mapped; only the storages that tensors use are read).
    ///
    /// - Throws: ``TensorIOError`` naming the file (see ``PyTorchCheckpoint``).
    /// - Complexity: O(file size) for the tensors it holds.
    public init(contentsOf url: URL) throws {
        try self.init(data: try MappedFile.data(contentsOf: url), source: url.path)
    }

    /// Parses checkpoint bytes held in memory.
    ///
    /// - Parameters:
    ///   - data: the complete `.pt` file.
    ///   - source: a name for the bytes (usually the path they came from), used in error messages.
    /// - Throws: ``TensorIOError`` (see ``PyTorchCheckpoint``).
    public init(data: Data, source: String? = nil) throws {
        try PyTorchCheckpoint.requireZip(data.prefix(8), source: source)
        try self.init(reader: try ZipReader(data: data, source: source), source: source)
    }

    /// Interprets a pickle stream with its storages given by key, as they would be found under
    /// `<archive>/data/` (for example a checkpoint that has been unzipped).
    ///
    /// - Parameters:
    ///   - pickle: the bytes of `data.pkl`.
    ///   - storages: the bytes of each storage, by key (`"0"`, `"1"`, …).
    ///   - source: a name used in error messages.
    /// - Throws: ``TensorIOError`` (see ``PyTorchCheckpoint``); a missing storage is
    ///   `.malformedArchive`.
    public init(pickle: Data, storages: [String: Data], source: String? = nil) throws {
        try self.init(pickle: pickle, streamName: "data.pkl", source: source) { key in
            guard let data = storages[key] else {
                throw TensorIOError.malformedArchive(file: source, detail: "no storage with key '\(key)'")
            }
            return data
        }
    }

    /// Reads the tensors of the checkpoint at `url` (see ``PyTorchCheckpoint``); use
    /// ``init(contentsOf:)`` for their order and the metadata.
    ///
    /// - Throws: ``TensorIOError`` naming the file.
    public static func load(from url: URL) throws -> [String: Tensor] {
        try PyTorchCheckpoint(contentsOf: url).tensors
    }

    private static func requireZip(_ prefix: Data, source: String?) throws {
        guard ZipReader.looksLikeZip(prefix) else {
            if prefix.first == 0x80 {
                throw TensorIOError.unsupportedFormat(
                    file: source,
                    detail: "legacy torch.save format (a bare pickle stream, from torch < 1.6 or _use_new_zipfile_serialization=False); re-save with torch>=1.6")
            }
            throw TensorIOError.unsupportedFormat(file: source, detail: "not a ZIP archive, so not a torch.save checkpoint")
        }
    }

    private init(reader: ZipReader, source: String?) throws {
        guard let first = reader.entries.first else {
            throw TensorIOError.malformedArchive(file: source, detail: "the archive has no entries")
        }
        // torch names the top-level folder after the file; take it from the first entry, as
        // torch's own reader does.
        guard let slash = first.path.firstIndex(of: "/"), slash != first.path.startIndex else {
            throw TensorIOError.malformedArchive(
                file: source, detail: "the first entry '\(first.path)' is not inside a top-level folder (not a torch.save checkpoint)")
        }
        let prefix = String(first.path[..<slash])
        let picklePath = "\(prefix)/data.pkl"
        guard let pickleEntry = reader.entry(picklePath) else {
            throw TensorIOError.malformedArchive(
                file: source, detail: "no '\(picklePath)' entry (not a torch.save checkpoint)")
        }
        if let byteorder = reader.entry("\(prefix)/byteorder") {
            let text = String(decoding: try reader.contents(of: byteorder), as: UTF8.self)
            guard text.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
                throw TensorIOError.unsupportedFormat(
                    file: source, detail: "byteorder is '\(text.prefix(16))'; only little-endian checkpoints are read")
            }
        }
        let pickle = try reader.contents(of: pickleEntry)
        try self.init(pickle: pickle, streamName: picklePath, source: source) { key in
            let path = "\(prefix)/data/\(key)"
            guard let entry = reader.entry(path) else {
                throw TensorIOError.malformedArchive(file: source, detail: "no '\(path)' entry for storage '\(key)'")
            }
            return try reader.contents(of: entry)
        }
    }

    private init(pickle: Data, streamName: String, source: String?,
                 storage: @escaping (String) throws -> Data) throws {
        var machine = PickleMachine(bytes: Array(pickle), source: source, streamName: streamName)
        let root = try machine.run()
        var builder = Builder(machine: machine, source: source, loadStorage: storage)
        try builder.flatten(root)
        self.names = builder.names
        self.tensors = builder.tensors
        self.metadata = builder.metadata
        self.metadataNames = builder.metadataNames
    }
}

// MARK: - Flattening and tensor materialisation

extension PyTorchCheckpoint {
    /// Walks the unpickled object, naming tensors and scalars by dotted path, and builds each
    /// tensor from its storage.
    private struct Builder {
        let machine: PickleMachine
        let source: String?
        let loadStorage: (String) throws -> Data

        var names: [String] = []
        var tensors: [String: Tensor] = [:]
        var metadata: [String: Value] = [:]
        var metadataNames: [String] = []

        /// Built tensors by index (a tensor referenced twice is built once).
        private var built: [Int: Tensor] = [:]
        /// Storage bytes by storage index (shared storages are read once).
        private var storageBytes: [Int: Data] = [:]
        /// Containers on the path from the root, to detect cycles.
        private var onPath: Set<ContainerID> = []
        private var visited = 0

        static let maximumDepth = 64
        static let maximumNodes = 1 << 20

        private enum ContainerID: Hashable {
            case tuple(Int), list(Int), dict(Int)
        }

        init(machine: PickleMachine, source: String?, loadStorage: @escaping (String) throws -> Data) {
            self.machine = machine
            self.source = source
            self.loadStorage = loadStorage
        }

        mutating func flatten(_ root: PickleValue) throws {
            switch root {
            case .dict, .list, .tuple:
                try visit(root, path: "", depth: 0)
            default:
                throw TensorIOError.unsupportedFormat(
                    file: source,
                    detail: "the saved object is a \(root.typeName); a state_dict (or a dict, list or tuple holding them) is expected")
            }
        }

        private mutating func visit(_ value: PickleValue, path: String, depth: Int) throws {
            visited += 1
            guard visited <= Builder.maximumNodes else {
                throw TensorIOError.unsupportedPickle(file: source, detail: "more than \(Builder.maximumNodes) values to flatten")
            }
            func child(_ component: String) -> String { path.isEmpty ? component : path + "." + component }
            switch value {
            case .tensor(let index):
                try checkUnused(path)
                let t = try tensor(index, name: path)
                tensors[path] = t
                names.append(path)
            case .int(let i):
                try recordMetadata(path, .int(i))
            case .float(let d):
                try recordMetadata(path, .float(d))
            case .string(let s):
                try recordMetadata(path, .string(s))
            case .bool(let b):
                try recordMetadata(path, .bool(b))
            case .none, .bytes, .global, .storage:
                break
            case .dict(let index):
                try enter(.dict(index), depth: depth)
                let dict = machine.dicts[index]
                for key in dict.keys {
                    try visit(dict.values[key] ?? .none, path: child(key.pathComponent), depth: depth + 1)
                }
                onPath.remove(.dict(index))
            case .list(let index):
                try enter(.list(index), depth: depth)
                for (i, item) in machine.lists[index].enumerated() {
                    try visit(item, path: child(String(i)), depth: depth + 1)
                }
                onPath.remove(.list(index))
            case .tuple(let index):
                try enter(.tuple(index), depth: depth)
                for (i, item) in machine.tuples[index].enumerated() {
                    try visit(item, path: child(String(i)), depth: depth + 1)
                }
                onPath.remove(.tuple(index))
            }
        }

        private mutating func enter(_ id: ContainerID, depth: Int) throws {
            guard depth < Builder.maximumDepth else {
                throw TensorIOError.unsupportedPickle(file: source, detail: "containers nested deeper than \(Builder.maximumDepth) levels")
            }
            guard onPath.insert(id).inserted else {
                throw TensorIOError.malformedPickle(file: source, detail: "a container contains itself")
            }
        }

        private func checkUnused(_ name: String) throws {
            guard tensors[name] == nil, metadata[name] == nil else {
                throw TensorIOError.malformedPickle(file: source, detail: "two values flatten to the name '\(name)'")
            }
        }

        private mutating func recordMetadata(_ name: String, _ value: Value) throws {
            try checkUnused(name)
            metadata[name] = value
            metadataNames.append(name)
        }

        /// The tensor at `index`, built from its storage with its strides.
        private mutating func tensor(_ index: Int, name: String) throws -> Tensor {
            if let tensor = built[index] { return tensor }
            let view = machine.tensors[index]
            let storage = machine.storages[view.storage]
            func mismatch(_ detail: String) -> TensorIOError {
                TensorIOError.shapeMismatch(file: source, tensor: name, detail: detail)
            }
            guard view.shape.count == view.strides.count else {
                throw mismatch("size \(view.shape) and stride \(view.strides) differ in length")
            }
            guard view.offset >= 0, view.shape.allSatisfy({ $0 >= 0 }), view.strides.allSatisfy({ $0 >= 0 }) else {
                throw mismatch("negative offset, size or stride (offset \(view.offset), size \(view.shape), stride \(view.strides))")
            }
            // Element count and the last element the view touches, with overflow checks.
            var count = 1
            var last = view.offset
            for (n, s) in zip(view.shape, view.strides) {
                let (c, o1) = count.multipliedReportingOverflow(by: n)
                guard !o1 else { throw mismatch("size \(view.shape) has too many elements") }
                count = c
                if n > 0 {
                    let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
                    let (sum, o3) = last.addingReportingOverflow(step)
                    guard !o2, !o3 else { throw mismatch("stride \(view.strides) reaches too far") }
                    last = sum
                }
            }
            let elementSize = view.elementType.byteSize
            guard let declaredBytes = storage.byteCount else {
                throw mismatch("storage '\(storage.key)' declares too many elements")
            }
            if count > 0 {
                let (endBytes, overflow) = (last + 1).multipliedReportingOverflow(by: elementSize)
                guard !overflow, endBytes <= declaredBytes else {
                    throw mismatch("view (offset \(view.offset), size \(view.shape), stride \(view.strides)) of \(elementSize)-byte elements needs \(overflow ? "too many" : String(endBytes)) bytes; storage '\(storage.key)' declares \(declaredBytes)")
                }
            }
            let bytes = try self.bytes(of: view.storage)
            guard bytes.count == declaredBytes else {
                throw mismatch("storage '\(storage.key)' declares \(declaredBytes) bytes, its entry holds \(bytes.count)")
            }

            var out = Tensor(uninitializedShape: view.shape)
            if count > 0 {
                let decoder = view.elementType.safetensorsType
                let contiguous = Tensor.contiguousStrides(view.shape)
                let isContiguous = zip(zip(view.shape, view.strides), contiguous).allSatisfy { pair, c in
                    pair.0 == 1 || pair.1 == c
                }
                bytes.withUnsafeBytes { raw in
                    out.withUnsafeMutableBufferPointer { dst in
                        if isContiguous {
                            let begin = view.offset * elementSize
                            decoder.decode(UnsafeRawBufferPointer(rebasing: raw[begin..<(begin + count * elementSize)]),
                                           count: count, into: dst)
                            return
                        }
                        // Decode the span the view touches once, then gather in row-major order.
                        let span = last - view.offset + 1
                        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: span)
                        defer { scratch.deallocate() }
                        let begin = view.offset * elementSize
                        decoder.decode(UnsafeRawBufferPointer(rebasing: raw[begin..<(begin + span * elementSize)]),
                                       count: span, into: scratch)
                        let rank = view.shape.count
                        var index = [Int](repeating: 0, count: rank)
                        var source = 0
                        for i in 0..<count {
                            dst[i] = scratch[source]
                            var k = rank - 1
                            while k >= 0 {
                                index[k] += 1
                                source += view.strides[k]
                                if index[k] < view.shape[k] { break }
                                source -= view.strides[k] * index[k]
                                index[k] = 0
                                k -= 1
                            }
                        }
                    }
                }
            }
            built[index] = out
            return out
        }

        private mutating func bytes(of storageIndex: Int) throws -> Data {
            if let data = storageBytes[storageIndex] { return data }
            let data = try loadStorage(machine.storages[storageIndex].key)
            storageBytes[storageIndex] = data
            return data
        }
    }
}
