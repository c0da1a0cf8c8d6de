import Foundation
import Tensors

/// CIFAR-10 in its binary distribution (`cifar-10-batches-bin`): 32×32 colour images in 10 classes.
///
/// Each file is a run of 3,073-byte records: one label byte (0–9), then 1,024 red, 1,024 green and
/// 1,024 blue bytes, each plane row-major. The training split is `data_batch_1.bin` …
/// `data_batch_5.bin` (50,000 images), the test split `test_batch.bin` (10,000). Files may also be
/// gzip-compressed.
///
/// With `grayscale: true` each pixel becomes the average of its three channels, `(R + G + B) / 3`,
/// giving `[n, 1, 32, 32]` images — the grayscale CIFAR-10 of the Small CNN Zoo.
///
/// ```swift
/// let test = try CIFAR10.load(split: .test, directory: URL(fileURLWithPath: "cifar-10-batches-bin"),
///                             grayscale: true, pixelRange: .symmetric)
/// test.images.shape   // [10000, 1, 32, 32]
/// ```
public enum CIFAR10 {
    /// The two standard splits.
    public enum Split: String, Sendable, CaseIterable {
        /// 50,000 training images in five files.
        case train
        /// 10,000 test images.
        case test

        /// The file names of the split, in order.
        public var fileNames: [String] {
            switch self {
            case .train: return (1...5).map { "data_batch_\($0).bin" }
            case .test: return ["test_batch.bin"]
            }
        }
    }

    /// The class names, by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    /// Image side length in pixels.
    public static let side = 32
    /// Bytes per record: 1 label byte + 3 × 32 × 32 pixel bytes.
    public static let recordSize = 1 + 3 * 32 * 32

    /// Loads a split from `directory` (or from its `cifar-10-batches-bin` subfolder when the files
    /// are there).
    ///
    /// - Parameters:
    ///   - grayscale: average the three channels into one.
    ///   - pixelRange: how bytes map to `Float` (default [0, 1]).
    /// - Throws: ``DatasetError`` naming the file: `.fileNotFound`, `.io`, `.corruptGzip`,
    ///   `.truncated` (size not a whole number of records), `.invalidLabel` (label byte > 9).
    public static func load(split: Split, directory: URL, grayscale: Bool = false,
                            pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        let folder = resolve(directory, split: split)
        var combined = Data()
        for fileName in split.fileNames {
            let url = folder.appendingPathComponent(fileName)
            let data = try Gzip.readFile(at: url)
            try validate(data, source: url.path)
            combined.append(data)
        }
        return try decode(combined, name: "cifar10/\(split.rawValue)", grayscale: grayscale, pixelRange: pixelRange)
    }

    /// Reads one batch file.
    ///
    /// - Throws: as ``load(split:directory:grayscale:pixelRange:)``.
    public static func readBatch(from url: URL, grayscale: Bool = false,
                                 pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        let data = try Gzip.readFile(at: url)
        return try decode(data, name: url.path, grayscale: grayscale, pixelRange: pixelRange)
    }

    /// Decodes CIFAR-10 records held in memory.
    ///
    /// - Parameters:
    ///   - data: whole records, back to back.
    ///   - name: the data set name, also used as the file name in errors.
    /// - Throws: ``DatasetError/truncated(file:detail:)`` if `data.count` is not a multiple of
    ///   ``recordSize``; ``DatasetError/invalidLabel(file:detail:)`` for a label byte above 9.
    public static func decode(_ data: Data, name: String, grayscale: Bool = false,
                              pixelRange: PixelRange = .unit) throws -> LabeledImageDataset {
        try validate(data, source: name)
        let n = data.count / recordSize
        let plane = side * side
        let channels = grayscale ? 1 : 3
        var labels = [Int](repeating: 0, count: n)
        var images = Tensor(uninitializedShape: [n, channels, side, side])
        let table = (0...255).map { pixelRange.scale(UInt8($0)) }
        images.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBytes { raw in
                for r in 0..<n {
                    let record = r * recordSize
                    labels[r] = Int(raw[record])
                    let pixels = record + 1
                    let dst = r * channels * plane
                    if grayscale {
                        for p in 0..<plane {
                            let sum = Int(raw[pixels + p]) + Int(raw[pixels + plane + p]) + Int(raw[pixels + 2 * plane + p])
                            out[dst + p] = pixelRange.scale(Float(sum) / 3)
                        }
                    } else {
                        for p in 0..<(3 * plane) { out[dst + p] = table[Int(raw[pixels + p])] }
                    }
                }
            }
        }
        return LabeledImageDataset(unchecked: name, images: images, labels: labels, classCount: 10, pixelRange: pixelRange)
    }

    /// Whether every file of `split` exists in `directory` (or its `cifar-10-batches-bin` subfolder).
    public static func isAvailable(split: Split, directory: URL) -> Bool {
        let folder = resolve(directory, split: split)
        return split.fileNames.allSatisfy {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    private static func resolve(_ directory: URL, split: Split) -> URL {
        let nested = directory.appendingPathComponent("cifar-10-batches-bin")
        let first = split.fileNames[0]
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(first).path),
           FileManager.default.fileExists(atPath: nested.appendingPathComponent(first).path) {
            return nested
        }
        return directory
    }

    private static func validate(_ data: Data, source: String) throws {
        guard data.count % recordSize == 0 else {
            let whole = data.count / recordSize
            throw DatasetError.truncated(
                file: source,
                detail: "\(data.count) bytes is not a whole number of \(recordSize)-byte records (\(whole) records + \(data.count - whole * recordSize) bytes)")
        }
        let bad: (record: Int, label: UInt8)? = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for r in 0..<(raw.count / recordSize) {
                let label: UInt8 = raw[r * recordSize]
                if label > 9 { return (r, label) }
            }
            return nil
        }
        if let bad {
            throw DatasetError.invalidLabel(file: source, detail: "record \(bad.record) has label \(bad.label), expected 0...9")
        }
    }
}
