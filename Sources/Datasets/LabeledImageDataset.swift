import Foundation
import Tensors

/// How 8-bit pixel values are mapped to `Float`.
public enum PixelRange: String, Sendable, CaseIterable, Codable {
    /// `p / 255`, in [0, 1].
    case unit
    /// `p / 127.5 − 1`, in [−1, 1] — the range the Small CNN Zoo (Unterthiner et al., 2020) used.
    case symmetric

    /// The range's width: 1 for [0, 1], 2 for [−1, 1] (the peak of a PSNR).
    public var peakToPeak: Float { self == .unit ? 1 : 2 }

    /// The value for the byte `p`.
    @inlinable
    public func scale(_ p: UInt8) -> Float {
        switch self {
        case .unit: return Float(p) / 255
        case .symmetric: return Float(p) / 127.5 - 1
        }
    }

    /// The value for a real-valued intensity `p` in [0, 255] (for example a channel average).
    @inlinable
    public func scale(_ p: Float) -> Float {
        switch self {
        case .unit: return p / 255
        case .symmetric: return p / 127.5 - 1
        }
    }

    /// The bounds of the range.
    public var bounds: ClosedRange<Float> {
        switch self {
        case .unit: return 0...1
        case .symmetric: return -1...1
        }
    }
}

/// A classification data set of images with integer labels, held in memory.
///
/// Images are one `Float` tensor of shape `[count, channels, height, width]` (NCHW, row-major),
/// with pixels scaled by ``pixelRange``; ``labels`` are in `0..<classCount`. The type is a value:
/// subsetting and shuffling return new data sets and share nothing mutable.
///
/// ```swift
/// let train = try FashionMNIST.load(split: .train, pixelRange: .symmetric)
/// var rng = SeededGenerator(seed: 1)
/// let small = try train.fraction(0.1, rng: &rng)          // 6,000 examples
/// for (images, labels) in small.batches(size: 64, shuffledWith: &rng, dropLast: true) {
///     // images: [64, 1, 28, 28], labels: 64 class indices
/// }
/// ```
public struct LabeledImageDataset: Sendable {
    /// A short name (`"fashion-mnist/train"`), for reports.
    public var name: String
    /// The images, `[count, channels, height, width]`.
    public private(set) var images: Tensor
    /// The class of each image, in `0..<classCount`.
    public private(set) var labels: [Int]
    /// The number of classes.
    public let classCount: Int
    /// How pixels were scaled to `Float`.
    public let pixelRange: PixelRange

    /// Creates a data set, validating that the parts agree.
    ///
    /// - Throws: ``DatasetError/invalidArgument(_:)`` if `images` is not rank 4, its first axis
    ///   differs from `labels.count`, or `classCount < 1`; ``DatasetError/invalidLabel(file:detail:)``
    ///   (with `name` as the file) if a label is outside `0..<classCount`.
    public init(name: String, images: Tensor, labels: [Int], classCount: Int, pixelRange: PixelRange) throws {
        guard images.rank == 4 else {
            throw DatasetError.invalidArgument("\(name): images must have shape [count, channels, height, width], got \(images.shape)")
        }
        guard images.shape[0] == labels.count else {
            throw DatasetError.invalidArgument("\(name): \(images.shape[0]) images but \(labels.count) labels")
        }
        guard classCount >= 1 else {
            throw DatasetError.invalidArgument("\(name): classCount must be at least 1, got \(classCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw DatasetError.invalidLabel(
                file: name, detail: "label \(labels[bad]) of example \(bad) is outside 0..<\(classCount)")
        }
        self.init(unchecked: name, images: images, labels: labels, classCount: classCount, pixelRange: pixelRange)
    }

    init(unchecked name: String, images: Tensor, labels: [Int], classCount: Int, pixelRange: PixelRange) {
        self.name = name
        self.images = images
        self.labels = labels
        self.classCount = classCount
        self.pixelRange = pixelRange
    }

    /// The number of examples.
    public var count: Int { labels.count }
    /// Channels per image (1 for grayscale).
    public var channels: Int { images.shape[1] }
    /// Image height in pixels.
    public var height: Int { images.shape[2] }
    /// Image width in pixels.
    public var width: Int { images.shape[3] }
    /// The shape of one image, `[channels, height, width]`.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The number of examples of each class (`classCounts()[k]` for class `k`).
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The image at `index`, shape `[channels, height, width]`.
    ///
    /// - Precondition: `0 <= index < count`.
    public func image(at index: Int) -> Tensor {
        gatherImages([index]).reshaped(imageShape)
    }

    // MARK: Subsets

    /// The first `n` examples (all of them if `n >= count`, none if `n <= 0`), in order.
    public func prefix(_ n: Int) -> LabeledImageDataset {
        subset(indices: Array(0..<Swift.max(0, Swift.min(n, count))))
    }

    /// The examples at `indices`, in that order (repetitions allowed).
    ///
    /// - Precondition: every index is in `0..<count` (like `Array` subscripting).
    /// - Complexity: O(`indices.count` × image size).
    public func subset(indices: [Int]) -> LabeledImageDataset {
        LabeledImageDataset(unchecked: name, images: gatherImages(indices), labels: indices.map { labels[$0] },
                            classCount: classCount, pixelRange: pixelRange)
    }

    /// All examples in an order drawn from `rng` (a uniform random permutation).
    public func shuffled(rng: inout SeededGenerator) -> LabeledImageDataset {
        subset(indices: rng.permutation(count))
    }

    /// A random subset of `round(fraction × count)` examples (at least one), drawn without
    /// replacement from `rng` and kept in their original order — the "fraction of training data"
    /// hyper-parameter of zoo generation.
    ///
    /// - Throws: ``DatasetError/invalidArgument(_:)`` unless `0 < fraction <= 1`.
    public func fraction(_ fraction: Double, rng: inout SeededGenerator) throws -> LabeledImageDataset {
        guard fraction > 0, fraction <= 1 else {
            throw DatasetError.invalidArgument("\(name): fraction \(fraction) is not in (0, 1]")
        }
        let n = Swift.min(count, Swift.max(1, Int((fraction * Double(count)).rounded())))
        let chosen = rng.permutation(count).prefix(n).sorted()
        return subset(indices: chosen)
    }

    /// Copies the images at `indices` into a new `[indices.count, c, h, w]` tensor.
    func gatherImages(_ indices: [Int]) -> Tensor {
        let per = channels * height * width
        var out = Tensor(uninitializedShape: [indices.count] + imageShape)
        images.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "index \(index) out of range for \(count) examples")
                    (d + row * per).update(from: s + index * per, count: per)
                }
            }
        }
        return out
    }

    // MARK: Batches

    /// The examples in order, in batches of `size`.
    ///
    /// - Parameters:
    ///   - size: examples per batch.
    ///   - dropLast: drop a final batch smaller than `size` (so every batch has `size` examples).
    /// - Precondition: `size > 0`.
    public func batches(size: Int, dropLast: Bool = false) -> BatchSequence {
        BatchSequence(dataset: self, order: Array(0..<count), batchSize: size, dropLast: dropLast)
    }

    /// The examples in an order drawn from `rng`, in batches of `size` — one epoch.
    ///
    /// Each call draws a fresh permutation, so calling this once per epoch with the same generator
    /// gives a different order every epoch, and the same seed gives the same sequence of epochs.
    /// Every example appears exactly once per epoch (except those in a dropped last batch).
    ///
    /// - Precondition: `size > 0`.
    public func batches(size: Int, shuffledWith rng: inout SeededGenerator, dropLast: Bool = false) -> BatchSequence {
        BatchSequence(dataset: self, order: rng.permutation(count), batchSize: size, dropLast: dropLast)
    }
}

/// One epoch of mini-batches over a ``LabeledImageDataset``.
///
/// Each element is `(images, labels)`: `images` of shape `[b, channels, height, width]` and `b`
/// labels, where `b` is the batch size (or less for a final partial batch unless `dropLast`).
/// Batches are assembled lazily as the sequence is iterated; it can be iterated more than once and
/// yields the same batches each time.
public struct BatchSequence: Sequence, Sendable {
    /// The data set the batches are drawn from.
    public let dataset: LabeledImageDataset
    /// The order in which example indices are visited.
    public let order: [Int]
    /// Examples per batch.
    public let batchSize: Int
    /// Whether a final batch smaller than ``batchSize`` is dropped.
    public let dropLast: Bool

    init(dataset: LabeledImageDataset, order: [Int], batchSize: Int, dropLast: Bool) {
        precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
        self.dataset = dataset
        self.order = order
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// The number of batches.
    public var count: Int {
        dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
    }

    /// The example indices of each batch, in order.
    public var batchIndices: [[Int]] {
        (0..<count).map { b in Array(order[(b * batchSize)..<Swift.min(order.count, (b + 1) * batchSize)]) }
    }

    /// Iterates the batches.
    public struct Iterator: IteratorProtocol {
        let sequence: BatchSequence
        var position = 0

        /// The next batch, or `nil` after the last.
        public mutating func next() -> (images: Tensor, labels: [Int])? {
            guard position < sequence.count else { return nil }
            let start = position * sequence.batchSize
            let indices = Array(sequence.order[start..<Swift.min(sequence.order.count, start + sequence.batchSize)])
            position += 1
            return (sequence.dataset.gatherImages(indices), indices.map { sequence.dataset.labels[$0] })
        }
    }

    /// An iterator over the batches.
    public func makeIterator() -> Iterator { Iterator(sequence: self) }

    /// The number of batches (lets `Array(batches)` reserve exactly).
    public var underestimatedCount: Int { count }
}
