import Foundation
import Tensors
import Testing
import TensorIO

@Suite("NumPy .npz archives")
struct NumpyArchiveTests {
    @Test("numpy.savez: two stored arrays, in order, with their dtypes")
    func stored() throws {
        let archive = try NumpyArchive(data: Fixtures.npzStored)
        #expect(archive.names == ["a", "b"])
        #expect(archive["a"]?.dtype == .float32)
        #expect(archive["b"]?.dtype.descr == "|b1")
        #expect(try archive.tensor(named: "a") == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(try archive.tensor(named: "b") == Tensor([1, 0]))
        #expect(archive["c"] == nil)
    }

    @Test("numpy.savez_compressed: deflated entries, one of them Fortran-order float64")
    func deflated() throws {
        let archive = try NumpyArchive(data: Fixtures.npzDeflated)
        #expect(Set(archive.names) == ["a", "fortran"])
        #expect(try archive.tensor(named: "a") == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        let fortran = try #require(archive["fortran"])
        #expect(fortran.isFortranOrder)
        #expect(fortran.dtype.descr == "<f8")
        #expect(fortran.tensor() == Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5]))
        #expect(try fortran.rows(1..<2).scalars == [3, 4, 5])
    }

    @Test("reading from a file, and load(from:)")
    func fromFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let url = dir.appendingPathComponent("pair.npz")
        try Fixtures.npzStored.write(to: url)
        let tensors = try NumpyArchive.load(from: url)
        #expect(tensors.keys.sorted() == ["a", "b"])
        #expect(tensors["b"] == Tensor([1, 0]))
        #expect(try NumpyArchive(contentsOf: url).source == url.path)
    }

    @Test("a crafted archive of two .npy entries")
    func crafted() throws {
        let x = NumpyArray.serialized(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        let y = npy(header: npyHeader(descr: "<i8", shape: [3]), payload: leBytes([Int64(-1), 0, 1]))
        let archive = try NumpyArchive(data: storedZip([("x.npy", Array(x)), ("dir/y.npy", Array(y))]))
        #expect(archive.names == ["x", "dir/y"])
        #expect(try archive.tensor(named: "dir/y") == Tensor([-1, 0, 1]))
    }

    @Test("unknown names throw .outOfRange listing the names")
    func unknownName() throws {
        let archive = try NumpyArchive(data: Fixtures.npzStored, source: "pair.npz")
        let error = expectTensorIOError("outOfRange") { _ = try archive.tensor(named: "z") }
        #expect(error?.description.contains("'a', 'b'") == true)
    }

    @Test("truncated archives throw; no truncation traps")
    func truncated() {
        let data = Fixtures.npzDeflated
        for n in [0, 3, 4, 30, data.count / 2, data.count - 1] {
            do {
                _ = try NumpyArchive(data: data.prefix(n))
                Issue.record("a prefix of \(n) bytes was accepted")
            } catch let error as TensorIOError {
                #expect(["malformedArchive", "unsupportedFormat"].contains(caseName(error)), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        for n in 0..<data.count {
            #expect(throws: TensorIOError.self) { _ = try NumpyArchive(data: data.prefix(n)) }
        }
    }

    @Test("a corrupted entry fails its CRC check")
    func corrupted() throws {
        var data = Fixtures.npzStored
        // The first array's elements: 1, 2, 3 as float32.
        let range = try #require(data.range(of: Data(floatBytes([1, 2, 3]))))
        data[range.lowerBound] ^= 0x01
        let error = expectTensorIOError("malformedArchive") { _ = try NumpyArchive(data: data, source: "bad.npz") }
        #expect(error?.description.contains("CRC") == true)
    }

    @Test("wrong kinds of files throw .unsupportedFormat")
    func wrongFormats() {
        expectTensorIOError("unsupportedFormat") { _ = try NumpyArchive(data: Fixtures.numpySaved2x3) }
        expectTensorIOError("unsupportedFormat") { _ = try NumpyArchive(data: Data("hello".utf8)) }
        expectTensorIOError("unsupportedFormat") {
            _ = try NumpyArchive(data: storedZip([("notes.txt", Array("hi".utf8))]))
        }
    }

    @Test("a bad .npy entry is reported as archive:entry")
    func badEntry() {
        let zip = storedZip([("w.npy", Array("not numpy".utf8))])
        let error = expectTensorIOError("malformedNumpy") { _ = try NumpyArchive(data: zip, source: "z.npz") }
        #expect(error?.file == "z.npz:w.npy")
    }

    @Test("duplicate entry names throw .malformedArchive")
    func duplicates() {
        let x = Array(NumpyArray.serialized(Tensor([1])))
        expectTensorIOError("malformedArchive") { _ = try NumpyArchive(data: storedZip([("x.npy", x), ("x.npy", x)])) }
    }
}
