import Foundation
import Tensors
import TensorIO

// MARK: - .npy

/// `.npy` bytes from a header dictionary literal (unpadded, a newline is appended) and a payload.
func npy(header: String, payload: [UInt8], version: UInt8 = 1) -> Data {
    let h = Array(header.utf8) + [0x0A]
    var out = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
    if version == 1 {
        out.append(contentsOf: [UInt8(h.count & 0xFF), UInt8(h.count >> 8)])
    } else {
        out.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) })
    }
    out.append(contentsOf: h)
    out.append(contentsOf: payload)
    return out
}

/// The header literal NumPy would write for the given parts.
func npyHeader(descr: String, fortran: Bool = false, shape: [Int]) -> String {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    return "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
}

/// The bytes of fixed-width integers or floats, little- or big-endian.
func leBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

func beBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
}

// MARK: - ZIP

/// One entry of a crafted ZIP archive: its bytes as stored in the archive, and (for a deflated
/// entry) the uncompressed size and CRC-32 to declare.
struct ZipEntrySpec {
    var name: String
    var stored: [UInt8]
    var deflated = false
    var uncompressedSize: Int? = nil
    var crc: UInt32? = nil
}

/// A minimal ZIP archive, for crafting well-formed and malformed archives in tests. Entries are
/// stored unless marked deflated (then `stored` must be a raw deflate stream). With `zip64`, the
/// sizes and offsets are written only in ZIP64 extra fields and a ZIP64 end record, with the
/// classic fields saturated, as writers do for archives over 4 GB.
func craftZip(_ entries: [ZipEntrySpec], zip64: Bool = false, comment: [UInt8] = []) -> Data {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func u16(_ v: Int) -> [UInt8] { leBytes([UInt16(truncatingIfNeeded: v)]) }
    func u32(_ v: Int) -> [UInt8] { leBytes([UInt32(truncatingIfNeeded: v)]) }
    func u64(_ v: Int) -> [UInt8] { leBytes([UInt64(v)]) }
    for e in entries {
        let nameBytes = Array(e.name.utf8)
        let size = e.uncompressedSize ?? e.stored.count
        let crc = Int(e.crc ?? crc32(e.stored))
        let method = e.deflated ? 8 : 0
        let offset = out.count
        let sizes = zip64 ? u32(0xFFFF_FFFF) + u32(0xFFFF_FFFF) : u32(e.stored.count) + u32(size)
        let extra = zip64 ? u16(1) + u16(24) + u64(size) + u64(e.stored.count) + u64(offset) : []
        // Version 2.0 (4.5 for ZIP64), no flags, 1980-01-01 00:00.
        let head = u16(zip64 ? 45 : 20) + u16(0) + u16(method) + u16(0) + u16(0x21) + u32(crc) + sizes + u16(nameBytes.count)
        let localExtra = zip64 ? u16(1) + u16(16) + u64(size) + u64(e.stored.count) : []
        out += u32(0x0403_4B50) + head + u16(localExtra.count) + nameBytes + localExtra + e.stored
        central += u32(0x0201_4B50) + u16(zip64 ? 45 : 20) + head + u16(extra.count) + u16(0) + u16(0) + u16(0) + u32(0)
            + u32(zip64 ? 0xFFFF_FFFF : offset) + nameBytes + extra
    }
    let centralOffset = out.count
    out += central
    if zip64 {
        let recordOffset = out.count
        out += u32(0x0606_4B50) + u64(44) + u16(45) + u16(45) + u32(0) + u32(0) + u64(entries.count) + u64(entries.count)
            + u64(central.count) + u64(centralOffset)
        out += u32(0x0706_4B50) + u32(0) + u64(recordOffset) + u32(1)
        out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(0xFFFF) + u16(0xFFFF) + u32(0xFFFF_FFFF) + u32(0xFFFF_FFFF)
    } else {
        out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(entries.count) + u16(entries.count)
            + u32(central.count) + u32(centralOffset)
    }
    out += u16(comment.count) + comment
    return Data(out)
}

/// A stored ZIP archive of the given entries.
func storedZip(_ entries: [(name: String, bytes: [UInt8])]) -> Data {
    craftZip(entries.map { ZipEntrySpec(name: $0.name, stored: $0.bytes) })
}

/// CRC-32 (IEEE 802.3, as ZIP uses it).
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A torch-style checkpoint archive: `name/data.pkl`, `name/data/<key>` for each storage, and
/// `name/version`.
func torchZip(pickle: [UInt8], storages: [String: [UInt8]] = [:], name: String = "archive") -> Data {
    var entries: [(name: String, bytes: [UInt8])] = [("\(name)/data.pkl", pickle), ("\(name)/byteorder", Array("little".utf8))]
    for key in storages.keys.sorted() { entries.append(("\(name)/data/\(key)", storages[key]!)) }
    entries.append(("\(name)/version", Array("3\n".utf8)))
    return storedZip(entries)
}

// MARK: - Pickle assembly

/// Builds pickle streams opcode by opcode (the opcode bytes are those of Python's `pickletools`).
struct Pickle {
    var bytes: [UInt8] = []

    init(protocol version: UInt8 = 2) {
        bytes = [0x80, version]
    }

    @discardableResult
    mutating func raw(_ b: [UInt8]) -> Pickle {
        bytes += b
        return self
    }

    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes += [0x58] + leBytes([UInt32(u.count)]) + u
    }

    mutating func int(_ i: Int) {
        if (0..<256).contains(i) { bytes += [0x4B, UInt8(i)] } else { bytes += [0x4A] + leBytes([Int32(i)]) }
    }

    mutating func global(_ module: String, _ name: String) {
        bytes += [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    mutating func mark() { bytes.append(0x28) }
    mutating func tuple() { bytes.append(0x74) }
    mutating func emptyTuple() { bytes.append(0x29) }
    mutating func emptyDict() { bytes.append(0x7D) }
    mutating func reduce() { bytes.append(0x52) }
    mutating func setItem() { bytes.append(0x73) }
    mutating func binPersID() { bytes.append(0x51) }
    mutating func newFalse() { bytes.append(0x89) }
    mutating func stop() { bytes.append(0x2E) }

    mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }

    /// `_rebuild_tensor_v2(('storage', torch.<storageClass>, key, 'cpu', numel), offset, size,
    /// stride, False, OrderedDict())`, leaving the tensor on the stack.
    mutating func tensor(storageClass: String = "FloatStorage", key: String, numel: Int,
                         offset: Int, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage")
        global("torch", storageClass)
        string(key)
        string("cpu")
        int(numel)
        tuple()
        binPersID()
        int(offset)
        intTuple(size)
        intTuple(stride)
        newFalse()
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tuple()
        reduce()
    }

    /// `{name: tensor}` as a whole stream.
    static func stateDict(_ name: String, storageClass: String = "FloatStorage", key: String = "0",
                          numel: Int, offset: Int = 0, size: [Int], stride: [Int]) -> [UInt8] {
        var p = Pickle()
        p.emptyDict()
        p.string(name)
        p.tensor(storageClass: storageClass, key: key, numel: numel, offset: offset, size: size, stride: stride)
        p.setItem()
        p.stop()
        return p.bytes
    }
}
