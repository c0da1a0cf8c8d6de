import Foundation
import Tensors
import Datasets

/// Which data set a zoo's members are trained on, and how much of it.
///
/// Kinds:
/// - `fashion-mnist`: the four IDX files of Fashion-MNIST in ``path`` (default: Debian's
///   `/usr/share/datasets/fashion-mnist`), 10 classes.
/// - `idx`: any MNIST-format folder (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
///   `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`); classes = largest label + 1.
/// - `cifar10`: the CIFAR-10 binary batches in ``path``; ``grayscale`` averages the channels
///   (as the Small CNN Zoo did).
/// - `synthetic`: ``SyntheticDigits`` (seeds 1 and 2), for tests only.
/// - `external`: data SwiftNFN cannot load as recorded — an imported zoo's data set that was not
///   available at import, or has no loader (``name`` says which). ``load()`` throws;
///   `nfn zoo verify --data DIR` resolves a known ``name`` (see ``imported(name:path:)``).
///
/// The ``path`` says where the data was found, not what it is: two specs that differ only in
/// ``path`` are compatible (resume, merge), and the data's identity is checked by a fingerprint
/// of the loaded tensors instead (``ZooData/fingerprint``).
public struct ZooDataSpec: Codable, Sendable, Equatable {
    /// The data set kinds.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case fashionMNIST = "fashion-mnist"
        case idx
        case cifar10
        case synthetic
        case external
    }

    /// Which split a SIREN zoo's images come from.
    public enum Split: String, Codable, Sendable, CaseIterable {
        case train, test
    }

    /// The data set kind.
    public var kind: Kind
    /// The folder holding the files (`nil`: the kind's default; unused for `synthetic`).
    public var path: String?
    /// How 8-bit pixels map to floats.
    public var pixelRange: PixelRange
    /// CIFAR-10 only: average the colour channels to one grey channel.
    public var grayscale: Bool
    /// Use only the first `trainLimit` training images as the pool members subsample from.
    public var trainLimit: Int?
    /// Evaluate on only the first `testLimit` test images.
    public var testLimit: Int?
    /// `synthetic` only: the number of training images.
    public var syntheticTrainCount: Int
    /// `synthetic` only: the number of test images.
    public var syntheticTestCount: Int
    /// SIREN zoos: member `i` fits image `i` of this split.
    public var imageSplit: Split
    /// Imported zoos: the data set's name in the source (`mnist`, `cifar10`, `svhn_cropped`, …);
    /// `nil` for generated zoos.
    public var name: String?

    /// Creates a data spec (Fashion-MNIST in [−1, 1] by default).
    public init(kind: Kind = .fashionMNIST, path: String? = nil, pixelRange: PixelRange = .symmetric,
                grayscale: Bool = true, trainLimit: Int? = nil, testLimit: Int? = nil,
                syntheticTrainCount: Int = 256, syntheticTestCount: Int = 128, imageSplit: Split = .train,
                name: String? = nil) {
        self.kind = kind; self.path = path; self.pixelRange = pixelRange; self.grayscale = grayscale
        self.trainLimit = trainLimit; self.testLimit = testLimit
        self.syntheticTrainCount = syntheticTrainCount; self.syntheticTestCount = syntheticTestCount
        self.imageSplit = imageSplit; self.name = name
    }

    /// The data spec of an imported zoo whose source names its data set `name`, pixels in [−1, 1]:
    /// `mnist` → `idx` at `path`; `fashion_mnist`/`fashionmnist` → `fashion-mnist` (at `path`, or
    /// Debian's folder); `cifar10` → `cifar10` at `path`, grey. Case, `-` and `_` are ignored.
    /// Anything else, or `mnist`/`cifar10` without a `path`, is `external`. ``name`` records
    /// `name` either way.
    public static func imported(name: String, path: String?) -> ZooDataSpec {
        let key = name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " }
        var spec = ZooDataSpec(kind: .external, path: nil, name: name)
        switch key {
        case "mnist" where path != nil:
            spec.kind = .idx; spec.path = path
        case "fashionmnist":
            spec.kind = .fashionMNIST; spec.path = path
        case "cifar10" where path != nil:
            spec.kind = .cifar10; spec.path = path
        default:
            break
        }
        return spec
    }

    enum CodingKeys: String, CodingKey {
        case kind, path
        case pixelRange = "pixel_range"
        case grayscale
        case trainLimit = "train_limit"
        case testLimit = "test_limit"
        case syntheticTrainCount = "synthetic_train_count"
        case syntheticTestCount = "synthetic_test_count"
        case imageSplit = "image_split"
        case name
    }

    /// A short name for reports (`fashion-mnist`, `idx:/data/mnist`, `synthetic`, `external:svhn_cropped`).
    public var displayName: String {
        switch kind {
        case .fashionMNIST, .synthetic: return kind.rawValue
        case .idx, .cifar10: return "\(kind.rawValue):\(path ?? "?")"
        case .external: return "external:\(name ?? "?")"
        }
    }

    /// Throws ``ZooError/invalidSpec(_:)`` for non-positive limits or counts, or a missing path.
    public func validate() throws {
        if let n = trainLimit, n < 1 { throw ZooError.invalidSpec("data.train_limit must be ≥ 1, got \(n)") }
        if let n = testLimit, n < 1 { throw ZooError.invalidSpec("data.test_limit must be ≥ 1, got \(n)") }
        if kind == .synthetic, syntheticTrainCount < 1 || syntheticTestCount < 1 {
            throw ZooError.invalidSpec("data.synthetic_train_count and synthetic_test_count must be ≥ 1")
        }
        if (kind == .idx || kind == .cifar10) && path == nil {
            throw ZooError.invalidSpec("data kind \(kind.rawValue) needs a path (--data DIR)")
        }
    }

    /// Loads the training pool (after ``trainLimit``) and the test set (after ``testLimit``).
    ///
    /// - Throws: ``DatasetError`` naming the missing or malformed file.
    public func load() throws -> ZooData {
        try validate()
        var train: LabeledImageDataset, test: LabeledImageDataset
        switch kind {
        case .fashionMNIST:
            let dir = path.map { URL(fileURLWithPath: $0) } ?? FashionMNIST.defaultDirectory
            train = try FashionMNIST.load(split: .train, directory: dir, pixelRange: pixelRange)
            test = try FashionMNIST.load(split: .test, directory: dir, pixelRange: pixelRange)
        case .idx:
            let dir = URL(fileURLWithPath: path ?? ".")
            let tr = FashionMNIST.files(split: .train, directory: dir), te = FashionMNIST.files(split: .test, directory: dir)
            let name = dir.lastPathComponent
            let trainAll = try IDXDataset.load(images: tr.images, labels: tr.labels, name: "\(name)/train", pixelRange: pixelRange)
            let testAll = try IDXDataset.load(images: te.images, labels: te.labels, name: "\(name)/test", pixelRange: pixelRange)
            // Both splits use the larger class count, so a test set missing the top class still fits.
            let classes = Swift.max(trainAll.classCount, testAll.classCount)
            try Self.checkInferredClasses(classes, train: trainAll, trainLabels: tr.labels, test: testAll, testLabels: te.labels)
            train = try LabeledImageDataset(name: trainAll.name, images: trainAll.images, labels: trainAll.labels,
                                            classCount: classes, pixelRange: pixelRange)
            test = try LabeledImageDataset(name: testAll.name, images: testAll.images, labels: testAll.labels,
                                           classCount: classes, pixelRange: pixelRange)
        case .cifar10:
            let dir = URL(fileURLWithPath: path ?? ".")
            train = try CIFAR10.load(split: .train, directory: dir, grayscale: grayscale, pixelRange: pixelRange)
            test = try CIFAR10.load(split: .test, directory: dir, grayscale: grayscale, pixelRange: pixelRange)
        case .synthetic:
            train = SyntheticDigits.make(count: syntheticTrainCount, seed: 1, pixelRange: pixelRange)
            test = SyntheticDigits.make(count: syntheticTestCount, seed: 2, pixelRange: pixelRange)
        case .external:
            throw ZooError.invalidSpec("the data set '\(name ?? "?")' was not available when the zoo was imported; give its folder (verify --data DIR)")
        }
        if let n = trainLimit { train = train.prefix(n) }
        if let n = testLimit { test = test.prefix(n) }
        return ZooData(train: train, test: test)
    }
}

extension ZooDataSpec {
    /// Refuses a class count inferred from generic IDX labels (the largest label + 1) that the
    /// labels do not support: more than ``ZooLimits/classes``, or a class below it without a single
    /// training example.
    ///
    /// Why: one stray label (200 in a 10-class set) would otherwise give every member a 201-way
    /// output layer and a zoo that looks fine; a gap in the training labels is the signature of
    /// such a label, and the error names it.
    static func checkInferredClasses(_ classes: Int, train: LabeledImageDataset, trainLabels: URL,
                                     test: LabeledImageDataset, testLabels: URL) throws {
        let (file, labels) = test.classCount > train.classCount ? (testLabels, test.labels) : (trainLabels, train.labels)
        let top = labels.indices.max { labels[$0] < labels[$1] }
        let described = top.map { "label \(labels[$0]) of example \($0)" } ?? "the labels"
        guard classes <= ZooLimits.classes else {
            throw DatasetError.invalidLabel(file: file.path, detail: "\(described) implies \(classes) classes, above the limit of \(ZooLimits.classes)")
        }
        var seen = [Bool](repeating: false, count: classes)
        for label in train.labels { seen[label] = true }
        let empty = seen.indices.filter { !seen[$0] }
        guard empty.isEmpty else {
            let listed = empty.count > 6 ? "\(empty[0])…\(empty[empty.count - 1]) (\(empty.count) classes)" : empty.map(String.init).joined(separator: ", ")
            throw DatasetError.invalidLabel(
                file: file.path,
                detail: "\(described) implies \(classes) classes, but classes \(listed) have no training example; the labels must be 0..<C with every class present (a stray label?)")
        }
    }
}

/// A zoo's loaded data: the training pool members subsample from, and the test set.
public struct ZooData: Sendable {
    /// The training pool (``ZooDataSpec/trainLimit`` applied).
    public let train: LabeledImageDataset
    /// The test set (``ZooDataSpec/testLimit`` applied).
    public let test: LabeledImageDataset

    /// Wraps loaded splits.
    public init(train: LabeledImageDataset, test: LabeledImageDataset) {
        self.train = train
        self.test = test
    }

    /// The shape of one image, `[channels, height, width]`.
    public var imageShape: [Int] { train.imageShape }
    /// The number of classes.
    public var classCount: Int { Swift.max(train.classCount, test.classCount) }

    /// A 64-bit hash (16 hex digits) of both splits' shapes, pixel bits and labels: equal data
    /// gives equal fingerprints on every machine, so resuming or merging with other data is caught.
    ///
    /// - Complexity: O(number of pixels), one pass.
    public var fingerprint: String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        @inline(__always) func mix(_ x: UInt64) {
            h = (h ^ x) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        for d in [train, test] {
            for s in d.images.shape { mix(UInt64(s)) }
            mix(UInt64(d.classCount))
            d.images.withUnsafeBufferPointer { p in
                for v in p { mix(UInt64(v.bitPattern)) }
            }
            for l in d.labels { mix(UInt64(bitPattern: Int64(l))) }
        }
        return String(h, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
