import Foundation

/// One line of `members.jsonl`: a member's hyper-parameters, one checkpoint's metrics, and where
/// its weights are.
///
/// Metrics that are not defined (a diverged member, or NaN/∞ values) are `nil` and absent from
/// the JSON. For classifiers, `train_loss`/`train_accuracy` at epoch e > 0 are averages over that
/// epoch's mini-batches (training mode, as the optimiser saw them); at epoch 0 they are an
/// evaluation pass on the member's training subset. `test_*` are evaluation passes on the test
/// set. For SIREN members `train_loss` is the mean squared error of the fit after the step, and
/// `image_index`/`label` identify the image.
public struct ZooCheckpoint: Codable, Sendable, Equatable, Hashable {
    /// The member id, `0..<spec.members`.
    public var member: Int
    /// The epoch after which the weights were taken (0: initialisation).
    public var epoch: Int
    /// The member's hyper-parameters (the same on all its lines).
    public var hyperparameters: MemberHyperparameters
    /// The loss became NaN/∞ during training; the weights are those at that moment and the
    /// metrics are absent.
    public var diverged: Bool
    /// Training loss (classifiers: cross-entropy; SIREN: the fit's MSE).
    public var trainLoss: Float?
    /// Training accuracy (classifiers).
    public var trainAccuracy: Float?
    /// Test cross-entropy (classifiers).
    public var testLoss: Float?
    /// Test accuracy (classifiers).
    public var testAccuracy: Float?
    /// SIREN: the index of the fitted image in its split.
    public var imageIndex: Int?
    /// SIREN: the fitted image's class.
    public var label: Int?
    /// SIREN: the fit's peak signal-to-noise ratio in dB, 10·log₁₀(peak² / MSE) with peak the
    /// pixels' peak-to-peak range (1 for [0, 1], 2 for [−1, 1]); absent in zoos written before it
    /// was recorded.
    public var psnr: Float?
    /// The shard file (relative to the zoo folder) holding the weights.
    public var shard: String
    /// The common prefix of this checkpoint's tensor names in the shard; the rest is the
    /// parameter path (`member-3/epoch-2/` + `conv1.weight`).
    public var tensorPrefix: String
    /// Imported checkpoints: where in the source they came from (`weights.npy row 1234`, a file
    /// name); `nil` for generated ones.
    public var origin: String?
    /// The CRC-32 of the member's shard file as 8 hexadecimal digits (``ZooChecksum``), the same on
    /// all its lines; `nil` in zoos written before checksums were recorded, whose shards are then
    /// checked only by re-evaluation.
    public var shardCRC32: String?

    /// Creates a record; non-finite metrics become `nil`, the shard and tensor prefix follow from the member and epoch.
    public init(member: Int, epoch: Int, hyperparameters: MemberHyperparameters, diverged: Bool,
                trainLoss: Float? = nil, trainAccuracy: Float? = nil, testLoss: Float? = nil, testAccuracy: Float? = nil,
                imageIndex: Int? = nil, label: Int? = nil) {
        self.member = member; self.epoch = epoch; self.hyperparameters = hyperparameters; self.diverged = diverged
        self.trainLoss = trainLoss.finiteOrNil; self.trainAccuracy = trainAccuracy.finiteOrNil
        self.testLoss = testLoss.finiteOrNil; self.testAccuracy = testAccuracy.finiteOrNil
        self.imageIndex = imageIndex; self.label = label
        self.shard = ZooCheckpoint.shardName(member: member)
        self.tensorPrefix = ZooCheckpoint.tensorPrefix(member: member, epoch: epoch)
    }

    enum CodingKeys: String, CodingKey {
        case member, epoch, hyperparameters, diverged
        case trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy"
        case testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
        case imageIndex = "image_index"
        case label, psnr, shard
        case tensorPrefix = "tensor_prefix"
        case origin
        case shardCRC32 = "shard_crc32"
    }

    /// `weights-NNNNN.safetensors` (the member id, zero-padded to at least 5 digits): one shard per member.
    public static func shardName(member: Int) -> String {
        "weights-\(String(member).leftPadded(to: 5)).safetensors"
    }

    /// `member-<id>/epoch-<e>/`.
    public static func tensorPrefix(member: Int, epoch: Int) -> String { "member-\(member)/epoch-\(epoch)/" }

    /// The headline metric: test accuracy for classifiers, the fit's MSE (`train_loss`) for SIREN.
    public func metric(for family: ZooFamily) -> Float? { family.isClassifier ? testAccuracy : trainLoss }

    /// 10·log₁₀(peak² / mse), the PSNR of a fit with mean squared error `mse` (nil when not finite).
    public static func psnr(mse: Float, peak: Float) -> Float? {
        Optional(Float(10 * Foundation.log10(Double(peak) * Double(peak) / Double(mse)))).finiteOrNil
    }

    /// The canonical order of lines: by member, then epoch.
    public static func canonicalOrder(_ a: ZooCheckpoint, _ b: ZooCheckpoint) -> Bool {
        (a.member, a.epoch) < (b.member, b.epoch)
    }

    /// The line's JSON (sorted keys, no whitespace, no trailing newline).
    func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension Optional where Wrapped == Float {
    var finiteOrNil: Float? { self.flatMap { $0.isFinite ? $0 : nil } }
}

/// The contents of `zoo.json`: what the zoo is and how far its generation got.
///
/// ```json
/// {"format": "swiftnfn-zoo", "format_version": 1, "spec": {…}, "shard": null,
///  "image_shape": [1, 28, 28], "classes": 10, "data_fingerprint": "…", "complete": true}
/// ```
public struct ZooManifest: Codable, Sendable, Equatable {
    /// The value of `format`.
    public static let formatName = "swiftnfn-zoo"
    /// The newest format version this build reads and writes.
    public static let currentVersion = 1

    /// Always ``formatName``.
    public var format: String
    /// The format version the folder was written in.
    public var formatVersion: Int
    /// The spec that determines every member.
    public var spec: ZooSpec
    /// The shard this folder was generated for (`nil`: all members, or a merge).
    public var shard: ZooShard?
    /// The data's image shape `[channels, height, width]` and class count (to rebuild models
    /// without loading the data).
    public var imageShape: [Int]
    /// The number of classes of the data.
    public var classes: Int
    /// ``ZooData/fingerprint`` of the data the members were trained on; empty for an imported
    /// zoo whose data was not available at import (``ZooVerifier`` then skips the comparison).
    public var dataFingerprint: String
    /// Every member of the folder's range (its shard, or all members) is present and
    /// `members.jsonl` is in canonical order.
    public var complete: Bool
    /// Where an imported zoo came from (`nil`: generated by ``ZooGenerator``). An imported zoo
    /// cannot be generated into or resumed, and its members may lack some of the spec's checkpoint
    /// epochs (the source did not have them, or they were skipped).
    public var source: ZooImportSource?

    /// Creates a manifest of the current format.
    public init(spec: ZooSpec, shard: ZooShard?, imageShape: [Int], classes: Int, dataFingerprint: String, complete: Bool,
                source: ZooImportSource? = nil) {
        format = ZooManifest.formatName
        formatVersion = ZooManifest.currentVersion
        self.spec = spec; self.shard = shard; self.imageShape = imageShape; self.classes = classes
        self.dataFingerprint = dataFingerprint; self.complete = complete; self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case format
        case formatVersion = "format_version"
        case spec, shard
        case imageShape = "image_shape"
        case classes
        case dataFingerprint = "data_fingerprint"
        case complete, source
    }

    /// The ids this folder is meant to hold.
    public var memberIDs: [Int] { shard?.memberIDs(of: spec.members) ?? Array(0..<spec.members) }

    /// Whether the zoo was imported (``source`` is set).
    public var isImported: Bool { source != nil }

    /// Pretty JSON with sorted keys (deterministic bytes).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Reads and checks `zoo.json` in `directory`.
    ///
    /// - Throws: ``ZooError/notAZoo(directory:)`` when it is missing; ``ZooError/corruptManifest(file:detail:)``
    ///   for bad JSON, an unknown family or format, or an invalid spec.
    public static func read(from directory: URL) throws -> ZooManifest {
        let url = directory.appendingPathComponent(ZooLayout.manifest)
        guard FileManager.default.fileExists(atPath: url.path) else { throw ZooError.notAZoo(directory: directory.path) }
        let data = try ZooFileSystem.read(url, limit: ZooFileSystem.maximumJSONFileSize)
        try ZooFileSystem.checkJSONStructure(data) { ZooError.corruptManifest(file: url.path, detail: $0) }
        let manifest: ZooManifest
        do {
            manifest = try JSONDecoder().decode(ZooManifest.self, from: data)
        } catch {
            throw ZooError.corruptManifest(file: url.path, detail: describe(error))
        }
        guard manifest.format == formatName else {
            throw ZooError.corruptManifest(file: url.path, detail: "format is '\(manifest.format)', expected '\(formatName)'")
        }
        guard manifest.formatVersion >= 1, manifest.formatVersion <= currentVersion else {
            throw ZooError.corruptManifest(file: url.path, detail: "format_version \(manifest.formatVersion) is not supported (this build reads 1...\(currentVersion))")
        }
        do { try manifest.spec.validate() } catch {
            throw ZooError.corruptManifest(file: url.path, detail: "\(error)")
        }
        guard manifest.imageShape.count == 3, manifest.imageShape.allSatisfy({ $0 >= 1 && $0 <= ZooLimits.imageSide }) else {
            throw ZooError.corruptManifest(file: url.path, detail: "image_shape \(manifest.imageShape) must be [channels, height, width], each in 1...\(ZooLimits.imageSide)")
        }
        guard manifest.classes >= 1, manifest.classes <= ZooLimits.classes else {
            throw ZooError.corruptManifest(file: url.path, detail: "classes \(manifest.classes) is outside 1...\(ZooLimits.classes)")
        }
        return manifest
    }
}

/// File names inside a zoo folder.
public enum ZooLayout {
    /// The manifest.
    public static let manifest = "zoo.json"
    /// The checkpoint records, one JSON object per line.
    public static let records = "members.jsonl"
    /// The generation lock (present only while a process generates).
    public static let lock = ".zoo.lock"
}
