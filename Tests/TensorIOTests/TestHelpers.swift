import Foundation
import Tensors
import Testing
import TensorIO

/// The case name of an error (`"truncated"` for `.truncated(file:detail:)`).
func caseName(_ error: TensorIOError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

/// Runs `body`, expects a ``TensorIOError`` of case `expected`, and returns it.
@discardableResult
func expectTensorIOError(_ expected: String, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) -> TensorIOError? {
    do {
        try body()
        Issue.record("expected TensorIOError.\(expected), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as TensorIOError {
        #expect(caseName(error) == expected, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected TensorIOError.\(expected), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Safetensors bytes from a header string (not padded) and raw data bytes.
func craft(header: String, data: [UInt8] = []) -> Data {
    let h = Array(header.utf8)
    var out = Data()
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: h)
    out.append(contentsOf: data)
    return out
}

/// The little-endian bytes of `Float`s.
func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// A fresh empty directory, removed by the caller with ``removeDirectory(_:)``.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("TensorIOTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// Bitwise equality of shape and elements (so NaN equals NaN with the same payload).
func bitwiseEqual(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { $0.bitPattern == $1.bitPattern }
}
