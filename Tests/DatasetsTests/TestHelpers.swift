import Datasets
import Foundation
import Tensors
import Testing

/// The case name of an error (`"truncated"` for `.truncated(file:detail:)`).
func caseName(_ error: DatasetError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

/// Runs `body`, expects a ``DatasetError`` of case `expected` whose description mentions
/// `mentioning` (when given), and returns it.
@discardableResult
func expectDatasetError(_ expected: String, mentioning: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) -> DatasetError? {
    do {
        try body()
        Issue.record("expected DatasetError.\(expected), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as DatasetError {
        #expect(caseName(error) == expected, "got \(error)", sourceLocation: sourceLocation)
        if let mentioning {
            #expect(error.description.contains(mentioning), "\(error) does not mention \(mentioning)",
                    sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected DatasetError.\(expected), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A fresh empty directory; remove it with `removeDirectory`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("DatasetsTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// The bytes of an IDX file, written out by hand: magic `00 00 type rank`, big-endian dimensions,
/// then `payload`.
func idxBytes(type: UInt8, dimensions: [UInt32], payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for d in dimensions { out += [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
    return out + payload
}

/// Writes `bytes` to `name` in `dir`, gzip-compressed when `gzip` is true.
@discardableResult
func writeFile(_ bytes: [UInt8], named name: String, in dir: URL, gzip: Bool = false) throws -> URL {
    let url = dir.appendingPathComponent(name)
    let data = gzip ? try Gzip.compress(Data(bytes)) : Data(bytes)
    try data.write(to: url)
    return url
}

/// A data set whose image `i` is filled with the value `i` (so a batch's pixels identify its
/// examples) and whose label is `i % classes`.
func indexedDataset(count: Int, classes: Int = 3, shape: [Int] = [1, 2, 2]) throws -> LabeledImageDataset {
    let per = shape.reduce(1, *)
    let images = Tensor(shape: [count] + shape) { Float($0 / per) }
    return try LabeledImageDataset(name: "indexed", images: images, labels: (0..<count).map { $0 % classes },
                                   classCount: classes, pixelRange: .unit)
}

/// The example indices encoded in a batch of ``indexedDataset(count:classes:shape:)`` images.
func encodedIndices(_ images: Tensor) -> [Int] {
    let per = images.count / Swift.max(1, images.shape[0])
    return (0..<images.shape[0]).map { Int(images[flat: $0 * per]) }
}
