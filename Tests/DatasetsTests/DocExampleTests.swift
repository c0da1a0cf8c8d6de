import Datasets
import Foundation
import Tensors
import Testing

/// The examples in the DocC comments, compiled and run (with synthetic data where the example
/// uses an installed data set that may be absent).
@Suite("Documentation examples")
struct DatasetsDocExampleTests {
    @Test("Gzip example")
    func gzip() throws {
        let packed = try Gzip.compress(Data("hello".utf8))
        let unpacked = try Gzip.decompress(packed)
        #expect(String(decoding: unpacked, as: UTF8.self) == "hello")
    }

    @Test("LabeledImageDataset example")
    func labeledImageDataset() throws {
        let train = SyntheticDigits.make(count: 600, seed: 3, pixelRange: .symmetric)
        var rng = SeededGenerator(seed: 1)
        let small = try train.fraction(0.1, rng: &rng)
        #expect(small.count == 60)
        var batches = 0
        for (images, labels) in small.batches(size: 16, shuffledWith: &rng, dropLast: true) {
            #expect(images.shape == [16, 1, 28, 28] && labels.count == 16)
            batches += 1
        }
        #expect(batches == 3)
    }

    @Test("SyntheticDigits example")
    func syntheticDigits() {
        let train = SyntheticDigits.make(count: 512, seed: 1)
        let test = SyntheticDigits.make(count: 128, seed: 2)
        #expect(train.images.shape == [512, 1, 28, 28] && test.count == 128)
    }
}
