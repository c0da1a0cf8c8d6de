import Foundation

/// An element type of a NumPy `.npy` array (its header's `descr`), with its conversion to `Float`.
///
/// The reader accepts the simple numeric type strings NumPy writes: a byte-order character
/// (`<` little-endian, `>` big-endian, `|` not applicable, `=` native) followed by a kind and a
/// size in bytes:
///
/// | kind | sizes | examples | conversion to `Float` |
/// | --- | --- | --- | --- |
/// | `f` float | 2, 4, 8 | `<f4`, `>f8`, `<f2` | exact for `f2`/`f4`; `f8` rounds to nearest (overflow → ±∞) |
/// | `i` signed | 1, 2, 4, 8 | `\|i1`, `<i8` | exact up to 2²⁴ in magnitude, then rounded |
/// | `u` unsigned | 1, 2, 4, 8 | `\|u1`, `<u2` | as for `i` |
/// | `b` bool | 1 | `\|b1` | `0` → 0, anything else → 1 |
///
/// Non-finite values are kept. Object arrays (`O`, pickled Python objects), structured dtypes,
/// strings, complex numbers and dates are rejected. The writer always uses ``float32`` (`<f4`).
public struct NumpyDType: Hashable, Sendable, CustomStringConvertible {
    /// The kind of number an element holds.
    public enum Kind: String, Sendable, CaseIterable {
        /// IEEE 754 binary floating point (`f`).
        case float = "f"
        /// Two's-complement signed integer (`i`).
        case signedInteger = "i"
        /// Unsigned integer (`u`).
        case unsignedInteger = "u"
        /// Boolean, one byte per element (`b`).
        case bool = "b"
    }

    /// The kind of number.
    public let kind: Kind
    /// The number of bytes one element occupies.
    public let byteSize: Int
    /// Whether multi-byte elements are stored most significant byte first. Always `false` for
    /// one-byte types.
    public let isBigEndian: Bool

    /// Little-endian IEEE binary32 (`<f4`), the type ``NumpyArray/write(_:to:)`` writes.
    public static let float32 = NumpyDType(uncheckedKind: .float, byteSize: 4, isBigEndian: false)

    private init(uncheckedKind kind: Kind, byteSize: Int, isBigEndian: Bool) {
        self.kind = kind
        self.byteSize = byteSize
        self.isBigEndian = isBigEndian
    }

    /// Creates a type from its parts, or `nil` for a combination NumPy does not have (such as a
    /// 3-byte integer or a 2-byte bool). `isBigEndian` is ignored for one-byte types.
    public init?(kind: Kind, byteSize: Int, isBigEndian: Bool = false) {
        switch (kind, byteSize) {
        case (.float, 2), (.float, 4), (.float, 8),
             (.signedInteger, 1), (.signedInteger, 2), (.signedInteger, 4), (.signedInteger, 8),
             (.unsignedInteger, 1), (.unsignedInteger, 2), (.unsignedInteger, 4), (.unsignedInteger, 8),
             (.bool, 1):
            self.init(uncheckedKind: kind, byteSize: byteSize, isBigEndian: byteSize > 1 && isBigEndian)
        default:
            return nil
        }
    }

    /// Parses a `descr` type string such as `<f4`, `>f8` or `|u1`; `nil` if it is not one of the
    /// supported types (see ``NumpyDType``).
    public init?(descr: String) {
        let characters = Array(descr.utf8)
        guard characters.count >= 3, let order = characters.first else { return nil }
        guard let kind = Kind(rawValue: String(decoding: characters[1...1], as: UTF8.self)) else { return nil }
        let digits = String(decoding: characters[2...], as: UTF8.self)
        guard digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              digits.utf8.count <= 2, let size = Int(digits) else { return nil }
        let bigEndian: Bool
        switch order {
        case UInt8(ascii: "<"):
            bigEndian = false
        case UInt8(ascii: ">"):
            bigEndian = true
        case UInt8(ascii: "="):
            #if _endian(big)
            bigEndian = true
            #else
            bigEndian = false
            #endif
        case UInt8(ascii: "|"):
            // "Not applicable": only meaningful for one-byte types.
            guard size == 1 else { return nil }
            bigEndian = false
        default:
            return nil
        }
        self.init(kind: kind, byteSize: size, isBigEndian: bigEndian)
    }

    /// The canonical type string NumPy writes for this type (`<f4`, `>f8`, `|u1`).
    public var descr: String {
        let order = byteSize == 1 ? "|" : (isBigEndian ? ">" : "<")
        return "\(order)\(kind.rawValue)\(byteSize)"
    }

    /// The same as ``descr``.
    public var description: String { descr }

    /// The little-endian safetensors type with the same element encoding.
    var littleEndianEquivalent: SafetensorsDType {
        switch (kind, byteSize) {
        case (.float, 2): return .f16
        case (.float, 4): return .f32
        case (.float, 8): return .f64
        case (.signedInteger, 1): return .i8
        case (.signedInteger, 2): return .i16
        case (.signedInteger, 4): return .i32
        case (.signedInteger, 8): return .i64
        case (.unsignedInteger, 1): return .u8
        case (.unsignedInteger, 2): return .u16
        case (.unsignedInteger, 4): return .u32
        case (.unsignedInteger, 8): return .u64
        default: return .bool
        }
    }

    /// Decodes `count` elements starting at `bytes` into `out`, converting to `Float`.
    ///
    /// `bytes` must hold at least `count × byteSize` bytes; callers validate this first.
    func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        // The safetensors decoder reads little-endian bytes on any host.
        let target = littleEndianEquivalent
        guard isBigEndian else {
            target.decode(bytes, count: count, into: out)
            return
        }
        // Reverse each element's bytes into a small scratch buffer, then decode as little-endian.
        let chunk = 1 << 14
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * byteSize, alignment: 8)
        defer { scratch.deallocate() }
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            for i in 0..<n {
                let source = (start + i) * byteSize
                let destination = i * byteSize
                for b in 0..<byteSize {
                    scratch[destination + b] = bytes[source + byteSize - 1 - b]
                }
            }
            let outChunk = UnsafeMutableBufferPointer(rebasing: out[start..<(start + n)])
            target.decode(UnsafeRawBufferPointer(scratch), count: n, into: outChunk)
            start += n
        }
    }
}
