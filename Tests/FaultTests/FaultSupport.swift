import Foundation
import Testing
import _TestSupport

// Shared helpers of the fault tests: input mutations (truncations, bit flips) and the check that
// a failure is a clean, typed error naming what was wrong.

/// `count` cut points spread over `0..<length` (always including 0 and length − 1).
func cutPoints(_ length: Int, count: Int) -> [Int] {
    guard length > 1 else { return [0] }
    let n = min(count, length)
    return Array(Set((0..<n).map { $0 * (length - 1) / max(1, n - 1) })).sorted()
}

/// `data` cut to `length` bytes.
func truncated(_ data: Data, to length: Int) -> Data { Data(data.prefix(length)) }

/// `data` with bit `bit` of byte `offset` flipped.
func flipped(_ data: Data, at offset: Int, bit: Int = 0) -> Data {
    var copy = Data(data)
    copy[copy.startIndex + offset] ^= UInt8(1 << (bit % 8))
    return copy
}

/// Runs `body`, which must throw an `E` whose description holds every fragment; a success, or
/// another error type, is recorded as an issue.
func expectError<E: Error>(_ type: E.Type, mentioning fragments: [String] = [], _ label: @autoclosure () -> String = "",
                           sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("\(label()): no error", sourceLocation: sourceLocation)
    } catch let error as E {
        let text = "\(error)"
        for f in fragments where !text.contains(f) {
            Issue.record("\(label()): '\(text)' does not mention '\(f)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("\(label()): \(error) is not a \(E.self)", sourceLocation: sourceLocation)
    }
}

/// Every regular file of `directory` with its bytes (to prove a refused command wrote nothing).
func snapshot(_ directory: URL) throws -> [String: Data] { try contents(of: directory) }

/// Writes `data` to a fresh file named `name` in a fresh scratch folder.
func scratchFile(_ name: String, _ data: Data, label: String = "fault") throws -> URL {
    let url = makeTemporaryDirectory(label).appendingPathComponent(name)
    try data.write(to: url)
    return url
}
