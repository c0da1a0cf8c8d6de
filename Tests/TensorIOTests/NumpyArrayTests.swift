import Foundation
import Tensors
import Testing
import TensorIO

/// One hand-made `.npy` element type case: the payload bytes and the `Float`s they must give.
struct DTypeCase: CustomTestStringConvertible, Sendable {
    var descr: String
    var payload: [UInt8]
    var expected: [Float]
    var testDescription: String { descr }
}

private let dtypeCases: [DTypeCase] = [
    DTypeCase(descr: "<f4", payload: floatBytes([1.5, -2, .infinity]), expected: [1.5, -2, .infinity]),
    DTypeCase(descr: ">f4", payload: beBytes([Float(1.5).bitPattern, Float(-2).bitPattern]), expected: [1.5, -2]),
    DTypeCase(descr: "<f8", payload: leBytes([(0.1).bitPattern, (1e300).bitPattern, (-0.5).bitPattern]),
              expected: [Float(0.1), .infinity, -0.5]),
    DTypeCase(descr: ">f8", payload: beBytes([(0.5).bitPattern, (-1e-3).bitPattern]), expected: [0.5, Float(-1e-3)]),
    DTypeCase(descr: "<f2", payload: leBytes([UInt16(0x3C00), 0xC000, 0x7C00, 0x0001]),
              expected: [1, -2, .infinity, 0x1p-24]),
    DTypeCase(descr: "<i8", payload: leBytes([Int64(-5), 1 << 40]), expected: [-5, 0x1p40]),
    DTypeCase(descr: "<i4", payload: leBytes([Int32(-7), 100_000]), expected: [-7, 100_000]),
    DTypeCase(descr: ">i4", payload: beBytes([Int32(-7), 100_000]), expected: [-7, 100_000]),
    DTypeCase(descr: "<i2", payload: leBytes([Int16(-300), 300]), expected: [-300, 300]),
    DTypeCase(descr: "|i1", payload: [0x80, 0x7F], expected: [-128, 127]),
    DTypeCase(descr: "|u1", payload: [0, 255], expected: [0, 255]),
    DTypeCase(descr: "<u2", payload: leBytes([UInt16(65535)]), expected: [65535]),
    DTypeCase(descr: "|b1", payload: [0, 1, 2], expected: [0, 1, 1]),
]

@Suite("NumPy .npy arrays")
struct NumpyArrayTests {
    // MARK: Writing and round trips

    @Test("the writer's bytes equal numpy.save's")
    func writerMatchesNumpy() {
        let t = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 4, -0.25])
        #expect(NumpyArray.serialized(t) == Fixtures.numpySaved2x3)
    }

    @Test("write then read gives the same tensor, for several ranks", arguments: [[], [5], [2, 3], [0, 4], [2, 3, 4]])
    func roundTrip(shape: [Int]) throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        var rng = SeededGenerator(seed: 11)
        var t = Tensor.normal(shape, rng: &rng)
        if t.count > 2 {
            t.withUnsafeMutableBufferPointer { $0[1] = .nan; $0[2] = -.infinity }
        }
        let url = dir.appendingPathComponent("a.npy")
        try NumpyArray.write(t, to: url)
        let array = try NumpyArray(contentsOf: url)
        #expect(array.shape == shape)
        #expect(array.dtype == .float32)
        #expect(array.dtype.descr == "<f4")
        #expect(!array.isFortranOrder)
        #expect(array.formatVersion == 1)
        #expect(bitwiseEqual(array.tensor(), t))
        #expect(bitwiseEqual(try NumpyArray.load(from: url), t))
        // NumPy aligns the start of the elements to 64 bytes.
        let bytes = try Data(contentsOf: url)
        #expect((bytes.count - 4 * t.count) % 64 == 0)
        #expect(bytes[bytes.count - 4 * t.count - 1] == 0x0A)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.npy"])
    }

    @Test("a tensor of thousands of axes gets a version 2.0 header")
    func hugeHeaderUsesVersion2() throws {
        let shape = [Int](repeating: 1, count: 30_000)
        let t = Tensor(repeating: 7, shape: shape)
        let bytes = NumpyArray.serialized(t)
        #expect(bytes[6] == 2)
        let back = try NumpyArray(data: bytes)
        #expect(back.formatVersion == 2)
        #expect(back.shape == shape)
        #expect(back.tensor().scalars == [7])
    }

    // MARK: Element types and layouts

    @Test("each supported dtype converts to Float", arguments: dtypeCases)
    func dtypes(_ c: DTypeCase) throws {
        let data = npy(header: npyHeader(descr: c.descr, shape: [c.expected.count]), payload: c.payload)
        let array = try NumpyArray(data: data)
        #expect(array.dtype.descr == c.descr)
        #expect(array.dtype.byteSize * c.expected.count == c.payload.count)
        #expect(array.tensor().scalars == c.expected)
    }

    @Test("dtype strings: parsing and the canonical form")
    func dtypeParsing() {
        #expect(NumpyDType(descr: "=f4") == .float32)
        #expect(NumpyDType(descr: ">f4")?.isBigEndian == true)
        #expect(NumpyDType(descr: "<u1")?.descr == "|u1")
        #expect(NumpyDType(descr: "|f4") == nil)
        #expect(NumpyDType(descr: "<f3") == nil)
        #expect(NumpyDType(descr: "<b2") == nil)
        #expect(NumpyDType(descr: "|O") == nil)
        #expect(NumpyDType(descr: "<c8") == nil)
        #expect(NumpyDType(descr: "f4") == nil)
        #expect(NumpyDType(kind: .signedInteger, byteSize: 3) == nil)
    }

    @Test("a Fortran-order array is returned in row-major order")
    func fortranOrder2D() throws {
        // a[i, j] = 10 i + j, stored column by column.
        let columnMajor: [Float] = [0, 10, 1, 11, 2, 12]
        let data = npy(header: npyHeader(descr: "<f4", fortran: true, shape: [2, 3]), payload: floatBytes(columnMajor))
        let array = try NumpyArray(data: data)
        #expect(array.isFortranOrder)
        #expect(array.tensor() == Tensor(shape: [2, 3], scalars: [0, 1, 2, 10, 11, 12]))
        #expect(try array.rows(1..<2) == Tensor(shape: [1, 3], scalars: [10, 11, 12]))
        #expect(try array.row(0) == Tensor([0, 1, 2]))
    }

    @Test("a rank-3 big-endian Fortran-order array: tensor() and rows() agree with the definition")
    func fortranOrder3D() throws {
        let shape = [3, 2, 4]
        func value(_ i: Int, _ j: Int, _ k: Int) -> Float { Float(100 * i + 10 * j + k) }
        var payload: [Float] = []
        for k in 0..<4 { for j in 0..<2 { for i in 0..<3 { payload.append(value(i, j, k)) } } }
        let data = npy(header: npyHeader(descr: ">f8", fortran: true, shape: shape),
                       payload: beBytes(payload.map { Double($0).bitPattern }))
        let array = try NumpyArray(data: data)
        let expected = Tensor(shape: shape) { flat in value(flat / 8, (flat / 4) % 2, flat % 4) }
        #expect(array.tensor() == expected)
        let rows = try array.rows(1..<3)
        #expect(rows.shape == [2, 2, 4])
        #expect(rows.scalars == Array(expected.scalars[8...]))
    }

    @Test("version 2.0 and 3.0 headers")
    func laterVersions() throws {
        for version: UInt8 in [2, 3] {
            let data = npy(header: npyHeader(descr: "<i2", shape: [2]), payload: leBytes([Int16(3), -4]), version: version)
            let array = try NumpyArray(data: data)
            #expect(array.formatVersion == Int(version))
            #expect(array.tensor().scalars == [3, -4])
        }
    }

    @Test("headers as older NumPy versions wrote them: other key order, double quotes, 'L' suffixes, no trailing comma")
    func headerVariants() throws {
        let headers = [
            "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}",
            "{'descr':'<f4','fortran_order':False,'shape':(2,),}   ",
        ]
        for header in headers {
            #expect(try NumpyArray(data: npy(header: header, payload: floatBytes([1, 2]))).tensor().scalars == [1, 2])
        }
    }

    @Test("a 0-d array")
    func scalarArray() throws {
        let array = try NumpyArray(data: npy(header: npyHeader(descr: "<f8", shape: []), payload: leBytes([(2.5).bitPattern])))
        #expect(array.shape == [])
        #expect(array.rowCount == 0)
        #expect(array.tensor().shape == [])
        #expect(array.tensor().scalars == [2.5])
        expectTensorIOError("outOfRange") { _ = try array.rows(0..<1) }
    }

    @Test("bytes after the elements are ignored, as NumPy ignores them")
    func trailingBytes() throws {
        let data = npy(header: npyHeader(descr: "<f4", shape: [1]), payload: floatBytes([5, 6]))
        #expect(try NumpyArray(data: data).tensor().scalars == [5])
    }

    // MARK: Lazy rows

    @Test("rows(_:) and row(_:) read a slice of a large memory-mapped file")
    func rowsOfLargeFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let (n, width) = (1000, 4970)
        let t = Tensor(shape: [n, width]) { Float($0 % 9973) - 4000 }
        let url = dir.appendingPathComponent("weights.npy")
        try NumpyArray.write(t, to: url)
        let array = try NumpyArray(contentsOf: url)
        #expect(array.rowCount == n)
        #expect(array.count == n * width)
        let rows = try array.rows(990..<1000)
        #expect(rows.shape == [10, width])
        #expect(rows.scalars == Array(t.scalars[(990 * width)...]))
        let row = try array.row(17)
        #expect(row.shape == [width])
        #expect(row.scalars == Array(t.scalars[(17 * width)..<(18 * width)]))
        #expect(try array.rows(5..<5).shape == [0, width])
        #expect(array.tensor() == t)
    }

    @Test("row ranges outside the array throw")
    func rowsOutOfRange() throws {
        let array = try NumpyArray(data: NumpyArray.serialized(Tensor(zeros: [4, 2])), source: "w.npy")
        let error = expectTensorIOError("outOfRange") { _ = try array.rows(3..<5) }
        #expect(error?.description.hasPrefix("w.npy: ") == true)
        expectTensorIOError("outOfRange") { _ = try array.rows(-1..<2) }
        expectTensorIOError("outOfRange") { _ = try array.row(4) }
    }

    // MARK: Malformed files

    @Test("bad magic, versions and lengths throw .malformedNumpy")
    func badFraming() {
        let good = npy(header: npyHeader(descr: "<f4", shape: [2]), payload: floatBytes([1, 2]))
        var badMagic = good
        badMagic[1] = UInt8(ascii: "X")
        var badVersion = good
        badVersion[6] = 4
        var badMinor = good
        badMinor[7] = 1
        var longHeader = good
        longHeader[8] = 0xFF
        longHeader[9] = 0x7F
        for data in [Data(), Data([0x93, 0x4E]), badMagic, badVersion, badMinor, longHeader, good.prefix(9)] {
            expectTensorIOError("malformedNumpy") { _ = try NumpyArray(data: data) }
        }
    }

    @Test("a payload shorter than the shape needs throws .malformedNumpy naming the file")
    func truncatedPayload() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let full = NumpyArray.serialized(Tensor(zeros: [3, 4]))
        let url = dir.appendingPathComponent("cut.npy")
        try full.prefix(full.count - 1).write(to: url)
        let error = expectTensorIOError("malformedNumpy") { _ = try NumpyArray(contentsOf: url) }
        #expect(error?.description.contains(url.path) == true)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test("malformed header dictionaries throw .malformedNumpy", arguments: [
        "{'descr': '<f4', 'fortran_order': False}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': 2}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
        "{'descr': 4, 'fortran_order': False, 'shape': (2,)}",
        "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
        "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
        "[('descr', '<f4')]",
        "((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))",
        "__import__('os').system('true')",
        "",
    ])
    func malformedHeaders(header: String) {
        let data = npy(header: header, payload: floatBytes([1, 2]))
        expectTensorIOError("malformedNumpy") { _ = try NumpyArray(data: data) }
    }

    @Test("object, structured, string and complex dtypes throw .unsupportedDType")
    func unsupportedDTypes() {
        let object = npy(header: npyHeader(descr: "|O", shape: [1]), payload: [0x80, 0x02, 0x2E])
        let error = expectTensorIOError("unsupportedDType") { _ = try NumpyArray(data: object, source: "obj.npy") }
        #expect(error?.description.contains("pickle") == true)
        #expect(error?.description.hasPrefix("obj.npy: ") == true)
        for descr in ["<U5", "|S3", "<c8", "<M8[ns]", "|f4", "<f16"] {
            let data = npy(header: npyHeader(descr: descr, shape: [0]), payload: [])
            expectTensorIOError("unsupportedDType") { _ = try NumpyArray(data: data) }
        }
        let structured = npy(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", payload: floatBytes([1]))
        expectTensorIOError("unsupportedDType") { _ = try NumpyArray(data: structured) }
    }

    @Test("a missing file throws .io naming it")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString).npy")
        let error = expectTensorIOError("io") { _ = try NumpyArray(contentsOf: url) }
        #expect(error?.description.contains(url.path) == true)
    }

    @Test("every truncation and 2,000 random corruptions of a file throw or load, never trap")
    func fuzz() {
        let good = npy(header: npyHeader(descr: ">f8", fortran: true, shape: [2, 3]),
                       payload: beBytes((0..<6).map { Double($0).bitPattern }))
        for n in 0..<good.count {
            expectTensorIOError("malformedNumpy") { _ = try NumpyArray(data: good.prefix(n)).tensor() }
        }
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<80, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                let array = try NumpyArray(data: bytes)
                _ = array.tensor()
                if array.rowCount > 0 { _ = try array.rows(0..<array.rowCount) }
            } catch is TensorIOError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
