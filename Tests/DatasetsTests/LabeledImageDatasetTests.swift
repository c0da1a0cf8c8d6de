import Datasets
import Foundation
import Tensors
import Testing

@Suite("Labeled image data sets")
struct LabeledImageDatasetTests {
    @Test("the initializer validates shapes, counts and labels")
    func validation() throws {
        let images = Tensor(zeros: [2, 1, 2, 2])
        expectDatasetError("invalidArgument") {
            _ = try LabeledImageDataset(name: "x", images: images, labels: [0], classCount: 2, pixelRange: .unit)
        }
        expectDatasetError("invalidArgument") {
            _ = try LabeledImageDataset(name: "x", images: Tensor(zeros: [2, 4]), labels: [0, 1], classCount: 2, pixelRange: .unit)
        }
        expectDatasetError("invalidLabel", mentioning: "x") {
            _ = try LabeledImageDataset(name: "x", images: images, labels: [0, 2], classCount: 2, pixelRange: .unit)
        }
        let ok = try LabeledImageDataset(name: "x", images: images, labels: [1, 1], classCount: 2, pixelRange: .unit)
        #expect(ok.classCounts() == [0, 2])
        #expect(ok.imageShape == [1, 2, 2] && ok.channels == 1 && ok.height == 2 && ok.width == 2)
    }

    @Test("prefix, subset and image(at:) pick the right examples")
    func subsets() throws {
        let data = try indexedDataset(count: 10)
        #expect(encodedIndices(data.prefix(4).images) == [0, 1, 2, 3])
        #expect(data.prefix(100).count == 10 && data.prefix(-1).count == 0)
        let s = data.subset(indices: [7, 2, 2, 9])
        #expect(encodedIndices(s.images) == [7, 2, 2, 9])
        #expect(s.labels == [1, 2, 2, 0])
        #expect(data.image(at: 6).shape == [1, 2, 2] && data.image(at: 6).scalars == [6, 6, 6, 6])
    }

    @Test("shuffled is a seeded permutation")
    func shuffled() throws {
        let data = try indexedDataset(count: 50)
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1), c = SeededGenerator(seed: 2)
        let x = encodedIndices(data.shuffled(rng: &a).images)
        #expect(x.sorted() == Array(0..<50))
        #expect(x == encodedIndices(data.shuffled(rng: &b).images))
        #expect(x != encodedIndices(data.shuffled(rng: &c).images))
        let s = data.shuffled(rng: &c)
        #expect(zip(encodedIndices(s.images), s.labels).allSatisfy { $0 % 3 == $1 }, "labels follow their images")
    }

    @Test("fraction keeps round(f × n) distinct examples in order, reproducibly")
    func fraction() throws {
        let data = try indexedDataset(count: 200)
        var rng = SeededGenerator(seed: 4)
        let tenth = try data.fraction(0.1, rng: &rng)
        let picked = encodedIndices(tenth.images)
        #expect(picked.count == 20 && picked == picked.sorted() && Set(picked).count == 20)
        var again = SeededGenerator(seed: 4)
        #expect(encodedIndices(try data.fraction(0.1, rng: &again).images) == picked)
        #expect(try data.fraction(1, rng: &rng).count == 200)
        #expect(try data.fraction(0.0001, rng: &rng).count == 1)
        for bad in [0, -0.5, 1.5, Double.nan] {
            expectDatasetError("invalidArgument") { _ = try data.fraction(bad, rng: &rng) }
        }
    }

    @Test("an epoch visits every example exactly once", arguments: [1, 7, 10, 64])
    func epochCoversEverything(batchSize: Int) throws {
        let data = try indexedDataset(count: 53)
        var rng = SeededGenerator(seed: 99)
        let epoch = data.batches(size: batchSize, shuffledWith: &rng)
        var seen: [Int] = []
        var batchCount = 0
        for (images, labels) in epoch {
            let indices = encodedIndices(images)
            #expect(images.shape == [indices.count, 1, 2, 2])
            #expect(labels == indices.map { $0 % 3 })
            #expect(indices.count == batchSize || batchCount == epoch.count - 1)
            seen += indices
            batchCount += 1
        }
        #expect(batchCount == epoch.count && batchCount == (53 + batchSize - 1) / batchSize)
        #expect(seen.sorted() == Array(0..<53))
        #expect(seen == epoch.order)
        #expect(epoch.batchIndices.flatMap { $0 } == epoch.order)
    }

    @Test("the same seed gives the same epochs; successive epochs differ")
    func reproducibleEpochs() throws {
        let data = try indexedDataset(count: 40)
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        let a1 = data.batches(size: 8, shuffledWith: &a).flatMap { encodedIndices($0.images) }
        let a2 = data.batches(size: 8, shuffledWith: &a).flatMap { encodedIndices($0.images) }
        let b1 = data.batches(size: 8, shuffledWith: &b).flatMap { encodedIndices($0.images) }
        let b2 = data.batches(size: 8, shuffledWith: &b).flatMap { encodedIndices($0.images) }
        #expect(a1 == b1 && a2 == b2)
        #expect(a1 != a2)
        #expect(a1 != Array(0..<40))
    }

    @Test("in-order batches and dropLast")
    func inOrderAndDropLast() throws {
        let data = try indexedDataset(count: 10)
        let all = Array(data.batches(size: 4))
        #expect(all.map { encodedIndices($0.images) } == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let dropped = Array(data.batches(size: 4, dropLast: true))
        #expect(dropped.map { encodedIndices($0.images) } == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(data.batches(size: 4, dropLast: true).count == 2)
        #expect(Array(data.batches(size: 20, dropLast: true)).isEmpty)
        // A sequence can be iterated twice with the same result.
        let epoch = data.batches(size: 3)
        #expect(epoch.map(\.labels) == epoch.map(\.labels))
    }
}

@Suite("Synthetic digits")
struct SyntheticDigitsTests {
    @Test("same seed, same data; classes balanced; values in range")
    func basics() {
        let a = SyntheticDigits.make(count: 103, seed: 1)
        let b = SyntheticDigits.make(count: 103, seed: 1)
        let c = SyntheticDigits.make(count: 103, seed: 2)
        #expect(a.images == b.images && a.labels == b.labels)
        #expect(a.images != c.images)
        #expect(a.images.shape == [103, 1, 28, 28] && a.classCount == 10)
        let counts = a.classCounts()
        #expect(counts.max()! - counts.min()! <= 1)
        #expect(a.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let s = SyntheticDigits.make(count: 20, seed: 1, pixelRange: .symmetric)
        #expect(s.images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(s.images.scalars.contains { $0 < -0.5 } && s.images.scalars.contains { $0 > 0.5 })
    }

    @Test("the classes are learnable: 1-nearest-neighbour beats 90% on fresh data")
    func learnable() {
        let train = SyntheticDigits.make(count: 300, seed: 10)
        let test = SyntheticDigits.make(count: 150, seed: 11)
        let pixels = 28 * 28
        let x = train.images.scalars, t = test.images.scalars
        var correct = 0
        for i in 0..<test.count {
            var best = Float.infinity, predicted = -1
            for j in 0..<train.count {
                var d: Float = 0
                for p in 0..<pixels {
                    let e = t[i * pixels + p] - x[j * pixels + p]
                    d += e * e
                }
                if d < best { best = d; predicted = train.labels[j] }
            }
            if predicted == test.labels[i] { correct += 1 }
        }
        #expect(Double(correct) / Double(test.count) > 0.9, "accuracy \(correct)/\(test.count)")
    }

    @Test("without shifts the class means separate the classes")
    func unshiftedTemplates() {
        let train = SyntheticDigits.make(count: 200, seed: 12, maxShift: 0)
        let test = SyntheticDigits.make(count: 100, seed: 13, maxShift: 0)
        let pixels = 28 * 28
        var means = [[Float]](repeating: [Float](repeating: 0, count: pixels), count: 10)
        let x = train.images.scalars
        for (i, label) in train.labels.enumerated() {
            for p in 0..<pixels { means[label][p] += x[i * pixels + p] }
        }
        let counts = train.classCounts()
        for k in 0..<10 { means[k] = means[k].map { $0 / Float(counts[k]) } }
        let t = test.images.scalars
        var correct = 0
        for (i, label) in test.labels.enumerated() {
            let distances = means.map { mean in
                (0..<pixels).reduce(Float(0)) { acc, p in let d = t[i * pixels + p] - mean[p]; return acc + d * d }
            }
            if distances.firstIndex(of: distances.min()!) == label { correct += 1 }
        }
        #expect(correct >= 95, "accuracy \(correct)/\(test.count)")
    }
}

@Suite("Fashion-MNIST from the Debian package")
struct FashionMNISTTests {
    @Test("the test split has 10,000 28×28 images, 1,000 per class",
          .enabled(if: FashionMNIST.isAvailable(split: .test), "dataset-fashion-mnist is not installed"))
    func testSplit() throws {
        let test = try FashionMNIST.load(split: .test)
        #expect(test.count == 10_000)
        #expect(test.images.shape == [10_000, 1, 28, 28])
        #expect(test.labels.allSatisfy { (0..<10).contains($0) })
        #expect(test.classCounts() == [Int](repeating: 1000, count: 10))
        #expect(Array(test.labels.prefix(5)) == [9, 2, 1, 1, 6])
        // Sum of the first image's bytes, computed independently with Python's gzip + NumPy.
        #expect(abs(test.image(at: 0).scalars.reduce(0, +) * 255 - 33456) < 0.5)
        #expect(test.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(FashionMNIST.classNames[test.labels[0]] == "Ankle boot")

        let symmetric = try FashionMNIST.load(split: .test, pixelRange: .symmetric)
        #expect(symmetric.images.scalars.min() == -1 && symmetric.images.scalars.max() == 1)
    }

    @Test("the train split has 60,000 images, 6,000 per class",
          .enabled(if: FashionMNIST.isAvailable(split: .train), "dataset-fashion-mnist is not installed"))
    func trainSplit() throws {
        let train = try FashionMNIST.load(split: .train)
        #expect(train.images.shape == [60_000, 1, 28, 28])
        #expect(train.classCounts() == [Int](repeating: 6000, count: 10))
        #expect(Array(train.labels.prefix(4)) == [9, 0, 0, 3])
    }

    @Test("a missing directory throws fileNotFound naming the file")
    func missingDirectory() {
        let dir = URL(fileURLWithPath: "/nonexistent/fashion")
        #expect(!FashionMNIST.isAvailable(split: .test, directory: dir))
        expectDatasetError("fileNotFound", mentioning: "/nonexistent/fashion/t10k-images-idx3-ubyte.gz") {
            _ = try FashionMNIST.load(split: .test, directory: dir)
        }
    }
}
