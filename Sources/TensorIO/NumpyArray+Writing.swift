import Foundation
import Tensors

extension NumpyArray {
    /// The `.npy` bytes of `tensor`: format version 1.0, `<f4`, C order, with NumPy's own header
    /// layout (keys sorted, room for the first axis to grow to 21 digits, padded with spaces and a
    /// newline so that the elements start at a multiple of 64 bytes). For the shapes NumPy 2 can
    /// describe in a version 1.0 header the bytes equal those of
    /// `numpy.save(f, array.astype('<f4'))`; a header too long for 1.0 (more than 65,535 bytes, from
    /// a shape of thousands of axes) is written as version 2.0.
    ///
    /// - Complexity: O(`tensor.count`).
    public static func serialized(_ tensor: Tensor) -> Data {
        let shape = tensor.shape
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        var headerBytes = Array(header.utf8)
        let alignment = 64
        var version: UInt8 = 1
        var lengthSize = 2
        var withNewline = headerBytes.count + 1
        var padding = alignment - (magic.count + 2 + lengthSize + withNewline) % alignment
        if withNewline + padding > Int(UInt16.max) {
            version = 2
            lengthSize = 4
            withNewline = headerBytes.count + 1
            padding = alignment - (magic.count + 2 + lengthSize + withNewline) % alignment
        }
        headerBytes += [UInt8](repeating: 0x20, count: padding) + [0x0A]
        let length = headerBytes.count

        var out = Data()
        out.reserveCapacity(magic.count + 2 + lengthSize + length + 4 * tensor.count)
        out.append(contentsOf: magic)
        out.append(contentsOf: [version, 0])
        for b in 0..<lengthSize { out.append(UInt8(truncatingIfNeeded: length >> (8 * b))) }
        out.append(contentsOf: headerBytes)
        tensor.withUnsafeBufferPointer { values in
            #if _endian(little)
            out.append(UnsafeBufferPointer(start: values.baseAddress, count: values.count))
            #else
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Writes `tensor` to `url` as a `.npy` file (see ``serialized(_:)`` for the layout), atomically:
    /// the bytes go to a temporary file in the same directory, which is flushed and then renamed
    /// over `url`, so `url` never holds a partial file.
    ///
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming `url` if the file cannot be written.
    /// - Complexity: O(`tensor.count`).
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try AtomicFile.write(serialized(tensor), to: url)
    }
}
