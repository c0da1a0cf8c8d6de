import Foundation
import Tensors
import Testing
import TensorIO

/// Runs a pickle stream as a checkpoint's `data.pkl` (with no storages).
private func load(_ bytes: [UInt8]) throws -> PyTorchCheckpoint {
    try PyTorchCheckpoint(pickle: Data(bytes), storages: [:], source: "evil.pt")
}

/// A stream that, run by Python's pickle, calls `module.name(argument)`.
private func call(_ module: String, _ name: String, _ argument: String) -> [UInt8] {
    var p = Pickle()
    p.global(module, name)
    p.string(argument)
    p.raw([0x85]) // TUPLE1
    p.reduce()
    p.stop()
    return p.bytes
}

@Suite("Pickle reader safety")
struct PickleSafetyTests {
    @Test("GLOBAL os.system is rejected by name, and nothing runs")
    func osSystem() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let marker = dir.appendingPathComponent("pwned")
        for (module, name) in [("os", "system"), ("posix", "system"), ("subprocess", "check_output")] {
            let error = expectTensorIOError("unsupportedPickle") { _ = try load(call(module, name, "touch \(marker.path)")) }
            #expect(error?.description.contains("\(module).\(name)") == true)
            #expect(error?.description.hasPrefix("evil.pt: ") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        // The same inside a real archive.
        let zip = torchZip(pickle: call("os", "system", "touch \(marker.path)"))
        expectTensorIOError("unsupportedPickle") { _ = try PyTorchCheckpoint(data: zip) }
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    @Test("builtins.eval through STACK_GLOBAL and __builtin__.eval through GLOBAL are rejected")
    func eval() {
        var p = Pickle(protocol: 4)
        p.raw([0x8C, 8] + Array("builtins".utf8) + [0x94])
        p.raw([0x8C, 4] + Array("eval".utf8) + [0x94])
        p.raw([0x93]) // STACK_GLOBAL
        p.string("__import__('os').system('true')")
        p.raw([0x85])
        p.reduce()
        p.stop()
        let error = expectTensorIOError("unsupportedPickle") { _ = try load(p.bytes) }
        #expect(error?.description.contains("builtins.eval") == true)
        let old = expectTensorIOError("unsupportedPickle") { _ = try load(call("__builtin__", "eval", "1")) }
        #expect(old?.description.contains("__builtin__.eval") == true)
    }

    @Test("torch names outside the allow-list are rejected too")
    func otherTorchGlobals() {
        for (module, name) in [("torch", "load"), ("torch.serialization", "load"), ("torch._utils", "_rebuild_qtensor"),
                               ("torch", "ComplexFloatStorage"), ("collections", "defaultdict"), ("numpy.core.multiarray", "scalar")] {
            let error = expectTensorIOError("unsupportedPickle") { _ = try load(call(module, name, "x")) }
            #expect(error?.description.contains("\(module).\(name)") == true)
        }
    }

    @Test("unknown and unsupported opcodes are rejected", arguments: [
        [UInt8]([0xFF]),
        [0x69] + Array("os\nsystem\n".utf8),    // INST
        [0x82, 0x01],                            // EXT1
        [0x50] + Array("0\n".utf8),              // PERSID (text)
        [0x49] + Array("1\n".utf8),              // INT (text)
        [0x4B, 1, 0x30],                         // POP
        [0x8F],                                  // EMPTY_SET
    ])
    func unknownOpcodes(_ body: [UInt8]) {
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02] + body + [0x2E]) }
    }

    @Test("protocols other than 2 to 5 are rejected")
    func protocols() {
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x06, 0x7D, 0x2E]) }
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x01, 0x7D, 0x2E]) }
    }

    @Test("every truncation of a stream throws .malformedPickle")
    func truncatedStreams() {
        let bytes = Pickle.stateDict("w", numel: 2, size: [2], stride: [1])
        for n in 0..<bytes.count {
            expectTensorIOError("malformedPickle") { _ = try load(Array(bytes.prefix(n))) }
        }
    }

    @Test("stack underflow throws .malformedPickle", arguments: [
        [UInt8]([0x80, 0x02, 0x2E]),                   // STOP on an empty stack
        [0x80, 0x02, 0x52, 0x2E],                      // REDUCE
        [0x80, 0x02, 0x4B, 0x01, 0x86, 0x2E],          // TUPLE2 with one value
        [0x80, 0x02, 0x4B, 0x01, 0x28, 0x85, 0x2E],    // TUPLE1 may not pop below a MARK
        [0x80, 0x02, 0x73, 0x2E],                      // SETITEM
        [0x80, 0x02, 0x71, 0x00, 0x2E],                // BINPUT of nothing
        [0x80, 0x02, 0x75, 0x2E],                      // SETITEMS without a MARK
        [0x80, 0x02, 0x7D, 0x28, 0x4B, 0x01, 0x75, 0x2E], // SETITEMS with an odd count
    ])
    func stackUnderflow(_ bytes: [UInt8]) {
        expectTensorIOError("malformedPickle") { _ = try load(bytes) }
    }

    @Test("reading a memo slot that was never written throws .malformedPickle")
    func missingMemo() {
        let error = expectTensorIOError("malformedPickle") { _ = try load([0x80, 0x02, 0x7D, 0x71, 0x00, 0x68, 0x05, 0x2E]) }
        #expect(error?.description.contains("memo") == true)
        expectTensorIOError("malformedPickle") { _ = try load([0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]) }
    }

    @Test("wrong operand types are rejected")
    func wrongTypes() {
        // APPEND to a dict, an unhashable (list) key, REDUCE of a string, BUILD on an int.
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02, 0x7D, 0x4B, 0x01, 0x61, 0x2E]) }
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02, 0x7D, 0x5D, 0x4B, 0x01, 0x73, 0x2E]) }
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02, 0x58, 1, 0, 0, 0, 0x61, 0x29, 0x52, 0x2E]) }
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02, 0x4B, 0x01, 0x7D, 0x62, 0x2E]) }
        // _rebuild_tensor_v2 with an int where the storage goes.
        var p = Pickle()
        p.emptyDict()
        p.string("w")
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.int(0); p.int(0); p.intTuple([1]); p.intTuple([1]); p.newFalse(); p.emptyDict()
        p.tuple()
        p.reduce()
        p.setItem()
        p.stop()
        expectTensorIOError("malformedPickle") { _ = try load(p.bytes) }
        // A persistent id that is not a storage tuple.
        expectTensorIOError("unsupportedPickle") { _ = try load([0x80, 0x02, 0x4B, 0x01, 0x51, 0x2E]) }
    }

    @Test("bad strings and integers")
    func badScalars() {
        // BINUNICODE longer than the stream, invalid UTF-8, a 9-byte LONG1 beyond 64 bits.
        expectTensorIOError("malformedPickle") { _ = try load([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x61, 0x2E]) }
        expectTensorIOError("malformedPickle") { _ = try load([0x80, 0x02, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E]) }
        expectTensorIOError("unsupportedPickle") {
            _ = try load([0x80, 0x02, 0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0x2E])
        }
        expectTensorIOError("malformedPickle") { _ = try load([0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]) }
    }

    @Test("LONG1 and BININT values at the edges of 64 bits")
    func integerEdges() throws {
        var p = Pickle()
        p.emptyDict()
        p.mark()
        p.string("max"); p.raw([0x8A, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        p.string("min"); p.raw([0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF])
        p.string("m1"); p.raw([0x8A, 1, 0xFF])
        p.string("zero"); p.raw([0x8A, 0])
        p.string("i"); p.raw([0x4A] + leBytes([Int32.min]))
        p.string("h"); p.raw([0x4D, 0xFF, 0xFF])
        p.raw([0x75]) // SETITEMS
        p.stop()
        let m = try load(p.bytes).metadata
        #expect(m["max"] == .int(Int.max))
        #expect(m["min"] == .int(Int.min))
        #expect(m["m1"] == .int(-1))
        #expect(m["zero"] == .int(0))
        #expect(m["i"] == .int(Int(Int32.min)))
        #expect(m["h"] == .int(65535))
    }

    @Test("100,000 nested lists are rejected without exhausting the stack")
    func deepNesting() {
        let depth = 100_000
        var p = Pickle()
        p.emptyDict()
        p.string("x")
        p.raw([UInt8](repeating: 0x5D, count: depth))       // EMPTY_LIST × depth
        p.raw([UInt8](repeating: 0x61, count: depth - 1))   // APPEND × (depth − 1)
        p.setItem()
        p.stop()
        expectTensorIOError("unsupportedPickle") { _ = try load(p.bytes) }
    }

    @Test("a dictionary that contains itself is rejected")
    func cycle() {
        // d = {}; d['a'] = d
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x58, 1, 0, 0, 0, 0x61, 0x68, 0x00, 0x73, 0x2E]
        expectTensorIOError("malformedPickle") { _ = try load(bytes) }
    }

    @Test("exponential sharing (a 'billion laughs' list) is cut off")
    func exponentialSharing() {
        // {"x": (L0, …, L40)} with L0 = [] and L(k+1) = [Lk, Lk]: 2⁴¹ paths through 42 lists.
        var p = Pickle()
        p.emptyDict()
        p.string("x")
        p.mark()
        p.raw([0x5D, 0x71, 0])                                                              // EMPTY_LIST, BINPUT 0
        for k: UInt8 in 0..<40 {
            p.raw([0x5D, 0x28, 0x68, k, 0x68, k, 0x65, 0x71, k + 1])  // EMPTY_LIST, MARK, BINGET k ×2, APPENDS, BINPUT
        }
        p.tuple()
        p.setItem()
        p.stop()
        let error = expectTensorIOError("unsupportedPickle") { _ = try load(p.bytes) }
        #expect(error?.description.contains("values to flatten") == true)
    }

    @Test("a top-level value that is not a container is rejected")
    func topLevelScalar() {
        expectTensorIOError("unsupportedFormat") { _ = try load([0x80, 0x02, 0x4B, 0x03, 0x2E]) }
    }

    @Test("2,000 random corruptions of a real data.pkl throw or load, never trap")
    func fuzz() {
        let good = Pickle.stateDict("weight", numel: 6, size: [2, 3], stride: [3, 1])
        let storages = ["0": Data(floatBytes([1, 2, 3, 4, 5, 6]))]
        #expect(throws: Never.self) { _ = try PyTorchCheckpoint(pickle: Data(good), storages: storages) }
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                _ = try PyTorchCheckpoint(pickle: Data(bytes), storages: storages)
            } catch is TensorIOError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
