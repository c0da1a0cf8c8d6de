import Foundation
import Tensors
import Testing
import TensorIO

/// The hand-written reference file: tensors `a` = [1, −2] (F32 [2]), `b` = 0.5 (F32 []), `e` (F32
/// [0, 3], no bytes) and metadata {"k": "v"}, laid out as the reference implementation does.
private let handCraftedHeader =
    #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
    + #""b":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"#
    + #""e":{"dtype":"F32","shape":[0,3],"data_offsets":[12,12]}}"#

private let handCraftedBytes: [UInt8] =
    // Header length 192 = 0xC0: 189 bytes of JSON + 3 spaces of padding.
    [0xC0, 0, 0, 0, 0, 0, 0, 0]
    + Array(handCraftedHeader.utf8) + [0x20, 0x20, 0x20]
    // 1.0 = 0x3F800000, −2.0 = 0xC0000000, 0.5 = 0x3F000000, little-endian.
    + [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x3F]

@Suite("Safetensors format")
struct SafetensorsFormatTests {
    @Test("the hand-written header is 189 bytes, as its length field assumes")
    func handCraftedHeaderLength() {
        #expect(handCraftedHeader.utf8.count == 189)
        #expect(handCraftedBytes.count == 8 + 192 + 12)
    }

    @Test("the writer produces the hand-written bytes exactly")
    func writerIsByteExact() throws {
        var file = SafetensorsFile(metadata: ["k": "v"])
        // Inserted out of order: the writer sorts by name.
        file["e"] = Tensor(zeros: [0, 3])
        file["b"] = Tensor(0.5)
        file["a"] = Tensor([1, -2])
        let bytes = try file.serialized()
        #expect(Array(bytes) == handCraftedBytes)
        #expect(try SafetensorsFile(data: bytes) == file, "equality ignores the order of names")
        #expect(SafetensorsFile(tensors: ["a": Tensor([1, -2])]) != SafetensorsFile(tensors: ["a": Tensor([1, 2])]))
    }

    @Test("the reader parses the hand-written bytes")
    func readerParsesHandCrafted() throws {
        let file = try SafetensorsFile(data: Data(handCraftedBytes))
        #expect(file.names == ["a", "b", "e"])
        #expect(file.metadata == ["k": "v"])
        #expect(file["a"] == Tensor([1, -2]))
        #expect(file["b"]?.shape == [])
        #expect(file["b"]?.scalars == [0.5])
        #expect(file["e"]?.shape == [0, 3])
        #expect(file["e"]?.count == 0)
    }

    @Test("a file without metadata has no __metadata__ entry and pads its header to 8 bytes")
    func noMetadataLayout() throws {
        let file = SafetensorsFile(tensors: ["x": Tensor([1])])
        let bytes = Array(try file.serialized())
        let header = #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#   // 54 bytes
        #expect(bytes == [56, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20] + [0, 0, 0x80, 0x3F])
    }

    @Test("metadata strings are escaped as the reference's JSON library does")
    func metadataEscaping() throws {
        let file = SafetensorsFile(metadata: ["q": "a\"b\\c/d\né\u{01}"])
        let bytes = try file.serialized()
        let headerLength = Int(bytes[0])
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"q":"a\"b\\c/d\né\u0001"}}"#))
        #expect(try SafetensorsFile(data: bytes).metadata == file.metadata)
    }

    @Test("F16, BF16 and I64 decode exactly from hand-written bytes")
    func halfBFloatInt64Decoding() throws {
        // F16: 1.0 = 0x3C00, −2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal 2⁻²⁴ = 0x0001,
        // +∞ = 0x7C00, 0.333… = 0x3555.
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x7C, 0x55, 0x35]
        // BF16: 1.0 = 0x3F80, −0.5 = 0xBF00, 3.140625 = 0x4049.
        let bf16: [UInt8] = [0x80, 0x3F, 0x00, 0xBF, 0x49, 0x40]
        // I64: 3, −1, 2⁴⁰.
        let i64: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8) + [0, 0, 0, 0, 0, 1, 0, 0]
        let header = #"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"#
            + #""bf":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},"#
            + #""i":{"dtype":"I64","shape":[3],"data_offsets":[18,42]}}"#
        let file = try SafetensorsFile(data: craft(header: header, data: f16 + bf16 + i64))
        #expect(file["h"]?.shape == [2, 3])
        let h = try #require(file["h"]).scalars
        #expect(Array(h[0..<4]) == [1, -2, 65504, 0x1p-24])
        #expect(h[4] == .infinity)
        #expect(h[5] == 0x1.554p-2)
        #expect(file["bf"]?.scalars == [1, -0.5, 3.140625])
        #expect(file["i"]?.scalars == [3, -1, 0x1p40])
        #expect(file.names == ["h", "bf", "i"], "names follow the data order")
    }

    @Test("the other integer, float and boolean dtypes decode")
    func otherDTypes() throws {
        let f64 = withUnsafeBytes(of: (2.5 as Double).bitPattern.littleEndian) { Array($0) }
        let i32: [UInt8] = [0xFE, 0xFF, 0xFF, 0xFF]           // −2
        let i16: [UInt8] = [0x00, 0x80]                       // −32768
        let i8: [UInt8] = [0x80]                              // −128
        let u8: [UInt8] = [0xFF]                              // 255
        let bool: [UInt8] = [0, 1, 7]
        let u16: [UInt8] = [0xFF, 0xFF]                       // 65535
        let e5m2: [UInt8] = [0x3C]                            // 1.0
        let e4m3: [UInt8] = [0x38, 0x7E, 0x7F, 0x01]          // 1.0, 448, NaN, 2⁻⁹
        var offset = 0
        var entries: [String] = []
        var bytes: [UInt8] = []
        for (name, dtype, shape, data) in [
            ("f64", "F64", "[]", f64), ("i32", "I32", "[1]", i32), ("i16", "I16", "[1]", i16),
            ("i8", "I8", "[1]", i8), ("u8", "U8", "[1]", u8), ("bool", "BOOL", "[3]", bool),
            ("u16", "U16", "[1]", u16), ("e5m2", "F8_E5M2", "[1]", e5m2), ("e4m3", "F8_E4M3", "[4]", e4m3),
        ] {
            entries.append(#""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[\#(offset),\#(offset + data.count)]}"#)
            bytes += data
            offset += data.count
        }
        let file = try SafetensorsFile(data: craft(header: "{" + entries.joined(separator: ",") + "}", data: bytes))
        #expect(file["f64"]?.scalars == [2.5])
        #expect(file["i32"]?.scalars == [-2])
        #expect(file["i16"]?.scalars == [-32768])
        #expect(file["i8"]?.scalars == [-128])
        #expect(file["u8"]?.scalars == [255])
        #expect(file["bool"]?.scalars == [0, 1, 1])
        #expect(file["u16"]?.scalars == [65535])
        #expect(file["e5m2"]?.scalars == [1])
        let e4 = try #require(file["e4m3"]).scalars
        #expect(e4[0] == 1 && e4[1] == 448 && e4[2].isNaN && e4[3] == 0x1p-9)
    }

    @Test("every finite binary16 value converts exactly")
    func allHalfValues() throws {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        var data: [UInt8] = []
        for bits in 0...UInt16.max { data += [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        let file = try SafetensorsFile(data: craft(
            header: #"{"all":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#, data: data))
        let values = try #require(file["all"]).scalars
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = values[Int(bits)]
            #expect(expected.isNaN ? got.isNaN : got.bitPattern == expected.bitPattern, "F16 bits \(bits)")
        }
        #endif
    }
}

@Suite("Safetensors round trips")
struct SafetensorsRoundTripTests {
    @Test("tensors of every rank, empty tensors and non-finite values survive a round trip")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 42)
        let tensors: [String: Tensor] = [
            "scalar": Tensor(3.25),
            "vector": Tensor.normal([7], rng: &rng),
            "matrix": Tensor.normal([3, 5], rng: &rng),
            "conv.weight": Tensor.normal([4, 3, 3, 3], rng: &rng),
            "empty": Tensor(zeros: [0]),
            "empty.inner": Tensor(zeros: [2, 0, 3]),
            "special": Tensor([.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
        ]
        let file = SafetensorsFile(tensors: tensors, metadata: ["epoch": "3", "format": "pt"])
        let back = try SafetensorsFile(data: try file.serialized())
        #expect(back.names == tensors.keys.sorted())
        #expect(back.metadata == file.metadata)
        for (name, tensor) in tensors {
            let got = try #require(back[name])
            #expect(bitwiseEqual(got, tensor), "tensor \(name)")
        }
    }

    @Test("a file with no tensors round trips")
    func emptyFile() throws {
        let bytes = try SafetensorsFile().serialized()
        #expect(Array(bytes) == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        let back = try SafetensorsFile(data: bytes)
        #expect(back.count == 0 && back.metadata.isEmpty)
    }

    @Test("metadata round trips through a file on disk")
    func metadataRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        let metadata = ["architecture": "cnn-3x16", "note": "ünïcødé ✓ \"quoted\"\ttab", "": "empty key"]
        try SafetensorsFile(tensors: ["w": Tensor([1, 2, 3])], metadata: metadata).write(to: url)
        let back = try SafetensorsFile.read(from: url)
        #expect(back.metadata == metadata)
        #expect(back["w"] == Tensor([1, 2, 3]))
    }

    @Test("names track insertions, removals and assignments")
    func namesOrder() {
        var file = SafetensorsFile()
        file["z"] = Tensor(1)
        file["a"] = Tensor(2)
        file["m"] = Tensor(3)
        #expect(file.names == ["z", "a", "m"])
        file["a"] = nil
        #expect(file.names == ["z", "m"])
        file["z"] = Tensor(4)
        #expect(file.names == ["z", "m"])
        file.tensors["c"] = Tensor(5)
        file.tensors["b"] = Tensor(6)
        file.tensors.removeValue(forKey: "z")
        #expect(file.names == ["m", "c", "b"])
        #expect(file.count == 3)
    }

    @Test("the writer sorts by UTF-8 bytes, like the reference")
    func writerOrder() throws {
        // Upper case before lower case before non-ASCII, as in byte order.
        let file = SafetensorsFile(tensors: ["é": Tensor(1), "z": Tensor(2), "B": Tensor(3), "a": Tensor(4)])
        let back = try SafetensorsFile(data: try file.serialized())
        #expect(back.names == ["B", "a", "z", "é"])
    }

    @Test("a tensor named __metadata__ cannot be written")
    func reservedName() {
        let file = SafetensorsFile(tensors: ["__metadata__": Tensor(1)])
        expectTensorIOError("malformedHeader") { _ = try file.serialized() }
    }
}

@Suite("Safetensors validation")
struct SafetensorsValidationTests {
    @Test("fewer than 8 bytes is truncated")
    func truncatedLength() {
        expectTensorIOError("truncated") { _ = try SafetensorsFile(data: Data([1, 0, 0])) }
        expectTensorIOError("truncated") { _ = try SafetensorsFile(data: Data()) }
    }

    @Test("a header length larger than the file is rejected")
    func headerLengthTooLarge() {
        var data = craft(header: "{}")
        data[0] = 200
        let error = expectTensorIOError("headerLengthExceedsFile") { _ = try SafetensorsFile(data: data, source: "x.st") }
        #expect(error?.description.hasPrefix("x.st: ") == true)
        // The largest possible length must not overflow anything.
        var huge = Data(repeating: 0xFF, count: 8)
        huge.append(contentsOf: Array("{}".utf8))
        expectTensorIOError("headerLengthExceedsFile") { _ = try SafetensorsFile(data: huge) }
    }

    @Test("bad JSON and bad header shapes are malformed headers", arguments: [
        #"{"a":"#,
        #"[1, 2]"#,
        #" {}"#,
        #"{"a":{"dtype":"F32","shape":[1]}}"#,
        #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#,
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}"#,
        #"{"__metadata__":{"k":1}}"#,
        #"{"a":7}"#,
    ])
    func malformed(header: String) {
        expectTensorIOError("malformedHeader") {
            _ = try SafetensorsFile(data: craft(header: header, data: [0, 0, 0, 0]))
        }
    }

    @Test("a header that is not UTF-8 is malformed")
    func invalidUTF8() {
        var data = craft(header: #"{"a":1}"#)
        data[10] = 0xFF
        expectTensorIOError("malformedHeader") { _ = try SafetensorsFile(data: data) }
    }

    @Test("offsets outside the data buffer are rejected")
    func offsetsOutOfBounds() {
        expectTensorIOError("offsetsOutOfBounds") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: floatBytes([1, 2])))
        }
        expectTensorIOError("offsetsOutOfBounds") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, data: floatBytes([1, 2])))
        }
        expectTensorIOError("offsetsOutOfBounds") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: floatBytes([1])))
        }
    }

    @Test("a byte count that disagrees with dtype and shape is a shape mismatch")
    func shapeMismatch() {
        expectTensorIOError("shapeMismatch") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])))
        }
        expectTensorIOError("shapeMismatch") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, data: floatBytes([1, 2])))
        }
        expectTensorIOError("shapeMismatch") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#))
        }
        expectTensorIOError("shapeMismatch") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#))
        }
    }

    @Test("an unknown dtype is unsupported")
    func unknownDType() {
        let error = expectTensorIOError("unsupportedDType") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#,
                data: [UInt8](repeating: 0, count: 16)), source: "model.safetensors")
        }
        #expect(error == .unsupportedDType(file: "model.safetensors", tensor: "a", dtype: "F128"))
    }

    @Test("overlapping, gapped and incomplete data are rejected")
    func nonContiguous() {
        let twelve = floatBytes([1, 2, 3])
        // Overlap.
        expectTensorIOError("nonContiguousData") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                data: twelve))
        }
        // Gap.
        expectTensorIOError("nonContiguousData") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                data: twelve))
        }
        // Bytes left over after the last tensor.
        expectTensorIOError("nonContiguousData") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: twelve))
        }
        // Two tensors sharing the same bytes.
        expectTensorIOError("nonContiguousData") {
            _ = try SafetensorsFile(data: craft(
                header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#,
                data: twelve))
        }
    }

    @Test("empty tensors may sit anywhere in the data order")
    func emptyTensorsBetween() throws {
        let file = try SafetensorsFile(data: craft(
            header: #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            data: floatBytes([1, 2])))
        #expect(file.names == ["a", "e", "b"])
        #expect(file["b"]?.scalars == [2])
    }

    @Test("errors from files name the file")
    func errorsNameTheFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let bad = dir.appendingPathComponent("broken.safetensors")
        try Data(craft(header: #"{"a":"#)).write(to: bad)
        let error = expectTensorIOError("malformedHeader") { _ = try SafetensorsFile.read(from: bad) }
        #expect(error?.file == bad.path)
        #expect(error?.description.contains(bad.path) == true)

        let missing = dir.appendingPathComponent("missing.safetensors")
        let ioError = expectTensorIOError("io") { _ = try SafetensorsFile.read(from: missing) }
        #expect(ioError?.description.contains(missing.path) == true)
    }

    @Test("random corruptions never trap")
    func fuzz() throws {
        var rng = SeededGenerator(seed: 9)
        let good = try SafetensorsFile(tensors: ["a": Tensor([1, 2, 3]), "b": Tensor(zeros: [2, 2])],
                                       metadata: ["k": "v"]).serialized()
        for _ in 0..<2000 {
            var bytes = good
            let edits = 1 + Int(rng.next(upperBound: UInt64(4)))
            for _ in 0..<edits {
                let i = Int(rng.next(upperBound: UInt64(bytes.count)))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next(upperBound: UInt64(4)) == 0 { bytes = bytes.prefix(Int(rng.next(upperBound: UInt64(bytes.count)))) }
            do {
                _ = try SafetensorsFile(data: bytes)
            } catch is TensorIOError {
                // Expected for most corruptions.
            }
        }
    }
}

@Suite("Atomic writes")
struct AtomicWriteTests {
    @Test("writing leaves exactly the target file, and overwriting replaces it")
    func noTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("weights.safetensors")
        try SafetensorsFile(tensors: ["a": Tensor([1, 2])]).write(to: url)
        try SafetensorsFile(tensors: ["b": Tensor([3])]).write(to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["weights.safetensors"])
        let back = try SafetensorsFile.read(from: url)
        #expect(back.names == ["b"])
    }

    @Test("a failed write throws, names the file and leaves no temporary file")
    func failedWrite() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        // The target is a non-empty directory, so the final rename must fail.
        let target = dir.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data([1]).write(to: target.appendingPathComponent("inside"))
        let error = expectTensorIOError("io") { try SafetensorsFile(tensors: ["a": Tensor(1)]).write(to: target) }
        #expect(error?.description.contains(target.path) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["occupied"])

        let nowhere = dir.appendingPathComponent("no/such/dir/x.safetensors")
        let error2 = expectTensorIOError("io") { try SafetensorsFile().write(to: nowhere) }
        #expect(error2?.file == nowhere.path)
    }
}
