import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import _TestSupport
import Tensors
import TensorIO

/// Tensor file loaders (safetensors, .npy, .npz, PyTorch .pt) on damaged input: every truncation,
/// bit flip and hostile header field gives a ``TensorIOError`` naming the file, or the original
/// tensors; a FIFO is refused at once instead of blocking.
@Suite struct TensorFileFaultTests {
    static let tensors: [String: Tensor] = [
        "layer.weight": Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]),
        "layer.bias": Tensor(shape: [3], scalars: [0.5, -0.5, 2]),
    ]
    static let safetensors = try! SafetensorsFile(tensors: tensors, metadata: ["k": "v"]).serialized()
    static let npy = NumpyArray.serialized(Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init)))
    static let npz = ImportFixtures.stackedMLP.bytes
    static let pt = ImportFixtures.run1Epoch75.bytes

    enum Loader: String, CaseIterable, Sendable {
        case safetensors, npy, npz, pt

        var fixture: Data {
            switch self {
            case .safetensors: return TensorFileFaultTests.safetensors
            case .npy: return TensorFileFaultTests.npy
            case .npz: return TensorFileFaultTests.npz
            case .pt: return TensorFileFaultTests.pt
            }
        }

        /// The tensors the bytes decode to, by name.
        func load(_ data: Data, source: String) throws -> [String: Tensor] {
            switch self {
            case .safetensors: return try SafetensorsFile(data: data, source: source).tensors
            case .npy: return ["array": try NumpyArray(data: data, source: source).tensor()]
            case .npz: return try NumpyArchive(data: data, source: source).arrays.mapValues { $0.tensor() }
            case .pt: return try PyTorchCheckpoint(data: data, source: source).tensors
            }
        }

        func loadFile(_ url: URL) throws {
            switch self {
            case .safetensors: _ = try SafetensorsFile.read(from: url)
            case .npy: _ = try NumpyArray(contentsOf: url)
            case .npz: _ = try NumpyArchive(contentsOf: url)
            case .pt: _ = try PyTorchCheckpoint(contentsOf: url)
            }
        }
    }

    /// 4 loaders × 24 cut points: a file cut anywhere is an error naming it.
    @Test(arguments: Loader.allCases, 0..<24)
    func truncation(_ loader: Loader, _ index: Int) throws {
        let data = loader.fixture
        let length = cutPoints(data.count, count: 24)[min(index, cutPoints(data.count, count: 24).count - 1)]
        expectError(TensorIOError.self, mentioning: ["cut.bin"], "\(loader) cut at \(length)/\(data.count)") {
            _ = try loader.load(truncated(data, to: length), source: "cut.bin")
        }
    }

    /// 4 loaders × 32 bit flips spread over the file: an error naming the file, or tensors of the
    /// original count and shapes, never a trap.
    @Test(arguments: Loader.allCases, 0..<32)
    func bitFlip(_ loader: Loader, _ index: Int) throws {
        let data = loader.fixture
        let original = try loader.load(data, source: "ok.bin")
        let offsets = cutPoints(data.count, count: 32)
        let offset = offsets[min(index, offsets.count - 1)]
        let damaged = flipped(data, at: offset, bit: index)
        do {
            let loaded = try loader.load(damaged, source: "flip.bin")
            // A success is only acceptable when the structure is intact: the same number of tensors
            // with the same shapes. (A flipped value, or a letter of a name, is undetectable in
            // formats without a checksum; the zoo's shards carry one for that reason.)
            func shapes(_ t: [String: Tensor]) -> [String] { t.values.map { "\($0.shape)" }.sorted() }
            #expect(loaded.count == original.count, "\(loader) flip at \(offset) changed the tensor count")
            #expect(shapes(loaded) == shapes(original), "\(loader) flip at \(offset) changed a shape")
        } catch let error as TensorIOError {
            #expect(error.description.hasPrefix("flip.bin"), "\(error)")
        }
    }

    /// Hostile safetensors headers (sizes that overflow, repeated keys, deep nesting, …).
    static let safetensorsHeaders: [(String, String, UInt64?)] = [
        ("duplicate tensor", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, nil),
        ("duplicate field", #"{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}"#, nil),
        ("shape Int.max", #"{"a":{"dtype":"F32","shape":[9223372036854775807],"data_offsets":[0,4]}}"#, nil),
        ("shape product overflows", #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#, nil),
        ("negative dimension", #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, nil),
        ("offsets past the end", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,400000000000]}}"#, nil),
        ("reversed offsets", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, nil),
        ("negative offset", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, nil),
        ("unknown dtype", #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, nil),
        ("three offsets", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,2,4]}}"#, nil),
        ("metadata not strings", #"{"__metadata__":{"k":[1]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, nil),
        ("deep nesting", #"{"__metadata__":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}", nil),
        ("deep objects", String(repeating: #"{"a":"#, count: 20_000) + "1" + String(repeating: "}", count: 20_000), nil),
        ("not an object", "[1,2,3]", nil),
        ("header length UInt64.max", "{}", UInt64.max),
        ("header length above the limit", "{}", 200_000_000),
    ]

    @Test(arguments: 0..<safetensorsHeaders.count)
    func safetensorsHeader(_ index: Int) throws {
        let (label, json, declared) = Self.safetensorsHeaders[index]
        var data = Data()
        let header = Data(json.utf8)
        withUnsafeBytes(of: (declared ?? UInt64(header.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        data.append(Data(count: 4))
        expectError(TensorIOError.self, mentioning: ["hostile.safetensors"], label) {
            _ = try SafetensorsFile(data: data, source: "hostile.safetensors")
        }
    }

    /// Hostile .npy headers.
    static let npyHeaders: [(String, String)] = [
        ("shape Int.max", "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807,), }"),
        ("shape product overflows", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"),
        ("negative dimension", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }"),
        ("more rows than bytes", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 4), }"),
        ("unknown dtype", "{'descr': '<c32', 'fortran_order': False, 'shape': (3, 4), }"),
        ("object dtype", "{'descr': '|O', 'fortran_order': False, 'shape': (3, 4), }"),
        ("missing key", "{'descr': '<f4', 'shape': (3, 4), }"),
        ("extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }"),
        ("duplicate key", "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"),
        ("not a dict", "[1, 2, 3]"),
        ("deep nesting", "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 50_000) + String(repeating: ")", count: 50_000) + ", }"),
        ("huge integer", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999999999,), }"),
    ]

    @Test(arguments: 0..<npyHeaders.count)
    func npyHeader(_ index: Int) throws {
        let (label, header) = Self.npyHeaders[index]
        var text = Array(header.utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        if text.count > 65535 {
            data = Data([0x93] + Array("NUMPY".utf8) + [2, 0])
            withUnsafeBytes(of: UInt32(text.count).littleEndian) { data.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt16(text.count).littleEndian) { data.append(contentsOf: $0) }
        }
        data.append(contentsOf: text)
        data.append(Data(count: 48))
        expectError(TensorIOError.self, mentioning: ["hostile.npy"], label) {
            _ = try NumpyArray(data: data, source: "hostile.npy").tensor()
        }
    }

    /// A FIFO with each loader's file name is refused at once (it would block `open` forever).
    @Test(arguments: Loader.allCases)
    func fifoIsRefusedNotWaitedOn(_ loader: Loader) throws {
        let url = makeTemporaryDirectory("fifo").appendingPathComponent("weights.\(loader.rawValue)")
        try makeFIFO(url)
        guard let result = withDeadline(10, { try loader.loadFile(url) }) else {
            Issue.record("\(loader): reading a FIFO did not return within 10 s")
            let fd = open(url.path, O_WRONLY | O_NONBLOCK)   // release the blocked reader
            if fd >= 0 { close(fd) }
            return
        }
        #expect(throws: TensorIOError.self) { try result.get() }
        if case .failure(let error) = result {
            #expect("\(error)".contains(url.path) && "\(error)".contains("FIFO"), "\(error)")
        }
    }

    /// The shared guard itself: missing files, folders, devices and over-limit files.
    @Test func regularFileGuard() throws {
        let dir = makeTemporaryDirectory("guard")
        expectError(TensorIOError.self, mentioning: ["no such file"], "missing") { _ = try RegularFile.read(dir.appendingPathComponent("none")) }
        expectError(TensorIOError.self, mentioning: ["a folder"], "folder") { _ = try RegularFile.read(dir) }
        expectError(TensorIOError.self, mentioning: ["a device"], "device") { _ = try RegularFile.read(URL(fileURLWithPath: "/dev/zero")) }
        expectError(TensorIOError.self, mentioning: ["a device"], "device check") { try RegularFile.check(URL(fileURLWithPath: "/dev/null")) }
        let big = try scratchFile("big.bin", Data(count: 100))
        expectError(TensorIOError.self, mentioning: ["limit of 99 bytes"], "limit") { _ = try RegularFile.read(big, limit: 99) }
        #expect(try RegularFile.read(big, limit: 100).count == 100)
        #expect(try RegularFile.read(big, mapped: true) == Data(count: 100))
    }
}
