import Foundation
import Tensors

/// Loads image classification data sets stored as a pair of IDX files (the MNIST format).
///
/// ```swift
/// let data = try IDXDataset.load(images: URL(fileURLWithPath: "train-images-idx3-ubyte.gz"),
///                                labels: URL(fileURLWithPath: "train-labels-idx1-ubyte.gz"))
/// data.images.shape   // [60000, 1, 28, 28]
/// ```
public enum IDXDataset {
    /// Loads an images file and a labels file into a ``LabeledImageDataset``.
    ///
    /// Either file may be gzip-compressed or plain. The images file must hold unsigned bytes of
    /// shape `[n, rows, cols]` (magic `0x00000803`); each becomes a single-channel image
    /// `[1, rows, cols]` scaled by `pixelRange`. The labels file must be rank 1 (magic
    /// `0x00000801` for bytes; the other IDX integer types are accepted too) with `n` entries.
    ///
    /// - Parameters:
    ///   - images: the images file.
    ///   - labels: the labels file.
    ///   - name: the data set's name; by default the images file name without `.gz`.
    ///   - classCount: the number of classes; by default the largest label + 1.
    ///   - pixelRange: how bytes map to `Float` (default [0, 1]).
    /// - Throws: ``DatasetError``, naming the offending file: the errors of ``IDXArray/read(from:)``;
    ///   `.wrongMagic` if a file is not of the expected type and rank; `.countMismatch` if the
    ///   counts differ; `.invalidLabel` if a label is negative or not below `classCount`.
    public static func load(images: URL, labels: URL, name: String? = nil, classCount: Int? = nil,
                            pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        let imageArray = try IDXArray.read(from: images)
        let labelArray = try IDXArray.read(from: labels)
        let datasetName = name ?? (images.pathExtension == "gz"
            ? images.deletingPathExtension().lastPathComponent : images.lastPathComponent)
        return try makeDataset(images: imageArray, labels: labelArray, name: datasetName,
                               classCount: classCount, pixelRange: pixelRange)
    }

    /// Builds a data set from already parsed IDX arrays (see ``load(images:labels:name:classCount:pixelRange:)``
    /// for the requirements and errors).
    public static func makeDataset(images: IDXArray, labels: IDXArray, name: String, classCount: Int? = nil,
                                   pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        guard images.elementType == .uint8, images.dimensions.count == 3 else {
            throw DatasetError.wrongMagic(
                file: images.source,
                detail: String(format: "expected 0x00000803 (unsigned-byte images [n, rows, cols]), found 0x%08X", images.magic))
        }
        guard labels.elementType.isInteger, labels.dimensions.count == 1 else {
            throw DatasetError.wrongMagic(
                file: labels.source,
                detail: String(format: "expected 0x00000801 (labels [n]), found 0x%08X", labels.magic))
        }
        let n = images.dimensions[0], rows = images.dimensions[1], cols = images.dimensions[2]
        let labelValues = try labels.integers()
        guard labelValues.count == n else {
            throw DatasetError.countMismatch(images: images.source, labels: labels.source,
                                             imageCount: n, labelCount: labelValues.count)
        }
        if let bad = labelValues.firstIndex(where: { $0 < 0 }) {
            throw DatasetError.invalidLabel(file: labels.source, detail: "label \(labelValues[bad]) of example \(bad) is negative")
        }
        let classes = classCount ?? Swift.max(1, (labelValues.max() ?? 0) + 1)
        guard classes >= 1 else {
            throw DatasetError.invalidArgument("classCount must be at least 1, got \(classes)")
        }
        if let bad = labelValues.firstIndex(where: { $0 >= classes }) {
            throw DatasetError.invalidLabel(
                file: labels.source, detail: "label \(labelValues[bad]) of example \(bad) is outside 0..<\(classes)")
        }
        let tensor = bytesToImages(images.payload, shape: [n, 1, rows, cols], pixelRange: pixelRange)
        return LabeledImageDataset(unchecked: name, images: tensor, labels: labelValues,
                                   classCount: classes, pixelRange: pixelRange)
    }

    /// Converts bytes to a `Float` tensor of `shape` through a 256-entry table.
    static func bytesToImages(_ bytes: Data, shape: [Int], pixelRange: PixelRange) -> Tensor {
        let table = (0...255).map { pixelRange.scale(UInt8($0)) }
        var tensor = Tensor(uninitializedShape: shape)
        tensor.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                for i in 0..<out.count { out[i] = table[Int(raw[i])] }
            }
        }
        return tensor
    }
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 70,000 28×28 grayscale images of clothing in 10
/// classes, 60,000 for training and 10,000 for testing, 1,000 test images per class.
///
/// On Debian the `dataset-fashion-mnist` package installs the four IDX files in
/// ``defaultDirectory``.
///
/// ```swift
/// let test = try FashionMNIST.load(split: .test)
/// test.images.shape   // [10000, 1, 28, 28]
/// ```
public enum FashionMNIST {
    /// The two standard splits.
    public enum Split: String, Sendable, CaseIterable {
        /// 60,000 training images.
        case train
        /// 10,000 test images.
        case test

        /// The file-name prefix of the split (`train` or `t10k`).
        public var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// Where Debian's `dataset-fashion-mnist` package puts the files.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// The class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The image and label files of `split` in `directory`: the `.gz` files when present,
    /// otherwise their decompressed versions (`t10k-images-idx3-ubyte`), otherwise the `.gz` names.
    public static func files(split: Split, directory: URL = defaultDirectory) -> (images: URL, labels: URL) {
        func pick(_ base: String) -> URL {
            let gz = directory.appendingPathComponent(base + ".gz")
            let plain = directory.appendingPathComponent(base)
            if FileManager.default.fileExists(atPath: gz.path) { return gz }
            if FileManager.default.fileExists(atPath: plain.path) { return plain }
            return gz
        }
        return (pick("\(split.filePrefix)-images-idx3-ubyte"), pick("\(split.filePrefix)-labels-idx1-ubyte"))
    }

    /// Whether both files of `split` exist in `directory`.
    public static func isAvailable(split: Split = .test, directory: URL = defaultDirectory) -> Bool {
        let f = files(split: split, directory: directory)
        return FileManager.default.fileExists(atPath: f.images.path) && FileManager.default.fileExists(atPath: f.labels.path)
    }

    /// Loads one split as `[n, 1, 28, 28]` images and labels in `0..<10`.
    ///
    /// - Parameters:
    ///   - split: `.train` (60,000) or `.test` (10,000).
    ///   - directory: the folder holding the IDX files.
    ///   - pixelRange: `.unit` ([0, 1], the default) or `.symmetric` ([−1, 1], as the Small CNN Zoo).
    /// - Throws: ``DatasetError`` naming the missing or bad file.
    public static func load(split: Split, directory: URL = defaultDirectory,
                            pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        let f = files(split: split, directory: directory)
        return try IDXDataset.load(images: f.images, labels: f.labels, name: "fashion-mnist/\(split.rawValue)",
                                   classCount: 10, pixelRange: pixelRange)
    }
}
