import Foundation

/// An element type of the safetensors format, with its conversion to `Float`.
///
/// SwiftNFN's ``Tensors/Tensor`` stores `Float` (IEEE binary32), so every element read from a file
/// is converted to `Float` on load:
///
/// | dtype | conversion |
/// | --- | --- |
/// | `F32` | exact |
/// | `F16`, `BF16`, `F8_E5M2`, `F8_E4M3` | exact (every value, including subnormals, ±∞ and NaN, is representable) |
/// | `F64` | rounded to nearest; magnitudes above `Float.greatestFiniteMagnitude` become ±∞ |
/// | `I8`, `U8`, `I16`, `U16` | exact |
/// | `I32`, `U32`, `I64`, `U64` | rounded to nearest; exact only up to 2²⁴ in magnitude |
/// | `BOOL` | `0` → 0, any other byte → 1 |
///
/// Non-finite values are kept as they are (NaN stays NaN, ±∞ stays ±∞): checkpoints of diverged
/// runs must load so that they can be inspected. All multi-byte types are little-endian, as the
/// format prescribes. Writing always uses ``f32``.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    /// IEEE 754 binary64.
    case f64 = "F64"
    /// IEEE 754 binary32 — the type SwiftNFN writes.
    case f32 = "F32"
    /// IEEE 754 binary16.
    case f16 = "F16"
    /// bfloat16: the upper 16 bits of a binary32.
    case bf16 = "BF16"
    /// 8-bit float, 5 exponent bits, 2 mantissa bits (has ±∞ and NaN).
    case f8e5m2 = "F8_E5M2"
    /// 8-bit float, 4 exponent bits, 3 mantissa bits, the "fn" variant (no ∞; `S.1111.111` is NaN).
    case f8e4m3 = "F8_E4M3"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// Unsigned 64-bit integer.
    case u64 = "U64"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Boolean, one byte per element.
    case bool = "BOOL"

    /// The number of bytes one element occupies.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .f8e5m2, .f8e4m3, .i8, .u8, .bool: return 1
        }
    }

    /// Decodes `count` little-endian elements starting at `bytes` into `out`, converting to `Float`
    /// as described in the type's documentation.
    ///
    /// `bytes` must hold at least `count × byteSize` bytes; callers validate this first.
    func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .f32:
            #if _endian(little)
            if count > 0, let src = bytes.baseAddress, let dst = out.baseAddress {
                UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
            }
            #else
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .f64:
            for i in 0..<count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        case .f16:
            for i in 0..<count {
                out[i] = Self.halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .f8e5m2:
            // E5M2 is exactly the upper byte of a binary16.
            for i in 0..<count { out[i] = Self.halfToFloat(UInt16(bytes[i]) << 8) }
        case .f8e4m3:
            for i in 0..<count { out[i] = Self.e4m3fnToFloat(bytes[i]) }
        case .i64:
            for i in 0..<count {
                out[i] = Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            }
        case .u64:
            for i in 0..<count {
                out[i] = Float(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            }
        case .i32:
            for i in 0..<count {
                out[i] = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        case .u32:
            for i in 0..<count {
                out[i] = Float(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .i16:
            for i in 0..<count {
                out[i] = Float(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
            }
        case .u16:
            for i in 0..<count {
                out[i] = Float(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .i8:
            for i in 0..<count { out[i] = Float(Int8(bitPattern: bytes[i])) }
        case .u8:
            for i in 0..<count { out[i] = Float(bytes[i]) }
        case .bool:
            for i in 0..<count { out[i] = bytes[i] == 0 ? 0 : 1 }
        }
    }

    /// Converts IEEE binary16 bits to `Float` exactly (written out so that it also builds where
    /// Swift's `Float16` is unavailable, such as macOS on Intel).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in binary32.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        case 0x1F:
            // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// Converts float8 E4M3 ("fn": bias 7, no infinities, `S.1111.111` is NaN) to `Float` exactly.
    static func e4m3fnToFloat(_ b: UInt8) -> Float {
        let negative = b & 0x80 != 0
        let exponent = Int(b >> 3) & 0x0F
        let mantissa = Int(b & 0x07)
        let magnitude: Float
        if exponent == 0x0F && mantissa == 0x07 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-9          // (m / 8) × 2⁻⁶
        } else {
            magnitude = Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 7 - 3, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
