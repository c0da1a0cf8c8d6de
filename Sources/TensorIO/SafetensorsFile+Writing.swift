import Foundation
import Tensors

extension SafetensorsFile {
    /// The file's bytes: every tensor as `F32`, sorted by name (see ``SafetensorsFile`` for the
    /// exact layout, which matches the reference writer).
    ///
    /// - Throws: ``TensorIOError/malformedHeader(file:detail:)`` if a tensor is named
    ///   `__metadata__`, which the format reserves.
    /// - Complexity: O(total elements + number of tensors × log(number of tensors)).
    public func serialized() throws -> Data {
        try serialized(file: nil)
    }

    /// Writes the file atomically: the bytes go to a temporary file in the same directory, which is
    /// flushed to disk and then renamed over `url`. A reader therefore sees either the old file or
    /// the complete new one, never a half-written file, and a failed write leaves no temporary file
    /// behind.
    ///
    /// - Throws: ``TensorIOError/io(file:detail:)`` naming `url` if the directory is not writable
    ///   or the disk is full, or the errors of ``serialized()``.
    public func write(to url: URL) throws {
        let data = try serialized(file: url.path)
        try AtomicFile.write(data, to: url)
    }

    func serialized(file: String?) throws -> Data {
        if tensors["__metadata__"] != nil {
            throw TensorIOError.malformedHeader(file: file, detail: "a tensor may not be named '__metadata__'")
        }
        let ordered = tensors.sorted { SafetensorsFile.utf8Precedes($0.key, $1.key) }
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            for (i, key) in metadata.keys.sorted(by: SafetensorsFile.utf8Precedes).enumerated() {
                if i > 0 { header += "," }
                header += SafetensorsFile.jsonString(key) + ":" + SafetensorsFile.jsonString(metadata[key] ?? "")
            }
            header += "}"
            first = false
        }
        var offset = 0
        for (name, tensor) in ordered {
            let byteCount = tensor.count * 4
            if !first { header += "," }
            first = false
            header += SafetensorsFile.jsonString(name)
            header += ":{\"dtype\":\"F32\",\"shape\":["
            header += tensor.shape.map(String.init).joined(separator: ",")
            header += "],\"data_offsets\":[\(offset),\(offset + byteCount)]}"
            offset += byteCount
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        let padding = (8 - headerBytes.count % 8) % 8
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, tensor) in ordered {
            tensor.withUnsafeBufferPointer { scalars in
                #if _endian(little)
                data.append(UnsafeBufferPointer(start: scalars.baseAddress, count: scalars.count))
                #else
                for x in scalars { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                #endif
            }
        }
        return data
    }

    /// A JSON string literal escaped as serde_json (the reference's JSON library) escapes it:
    /// `"` and `\` with a backslash, `\b \f \n \r \t` by name, other control characters below
    /// U+0020 as `\u00XX` (lower-case hex), and everything else — `/` and non-ASCII included —
    /// written as raw UTF-8.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
