import Foundation
import Zoo

/// A tiny zoo spec on the synthetic digits: 256 training and 128 test images, 2 epochs.
public func tinySpec(_ family: ZooFamily = .cnn, members: Int = 8, seed: UInt64 = 3) -> ZooSpec {
    var s = ZooSpec.defaults(for: family)
    s.members = members
    s.seed = seed
    s.data = ZooDataSpec(kind: .synthetic, pixelRange: family == .siren ? .unit : .symmetric,
                         syntheticTrainCount: 256, syntheticTestCount: 128)
    s.training.epochs = 2
    s.training.checkpointEpochs = [1, 2]
    s.training.batchSize = 32
    switch family {
    case .siren:
        s.training = ZooTrainingSpec(epochs: 30, checkpointEpochs: [0, 30], batchSize: 1)
        s.architecture.hiddenWidths = [16, 16]
    case .transformer:
        s.data.syntheticTrainCount = 96
        s.data.syntheticTestCount = 64
        s.training.epochs = 1
        s.training.checkpointEpochs = [0, 1]
    case .mlp:
        s.architecture.hiddenWidths = [16]
    case .cnn:
        break
    }
    return s
}

/// Every regular file in `directory` (recursively), by relative path.
public func contents(of directory: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let fm = FileManager.default
    for name in try fm.contentsOfDirectory(atPath: directory.path) {
        let url = directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        _ = fm.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            for (k, v) in try contents(of: url) { result[name + "/" + k] = v }
        } else {
            result[name] = try Data(contentsOf: url)
        }
    }
    return result
}

/// Copies a folder to a fresh temporary location.
public func copyOf(_ directory: URL) throws -> URL {
    let target = makeTemporaryDirectory("copy")
    try FileManager.default.removeItem(at: target)
    try FileManager.default.copyItem(at: directory, to: target)
    return target
}

/// A reference zoo generated once per test process (tests copy it before changing anything).
public let referenceZoo: URL = {
    let url = makeTemporaryDirectory("reference")
    _ = try! ZooGenerator.generate(spec: tinySpec(), into: url, options: ZooGenerationOptions(workers: 2))
    return url
}()

/// `members.jsonl` as lines.
public func recordLines(_ directory: URL) throws -> [String] {
    String(decoding: try Data(contentsOf: directory.appendingPathComponent(ZooLayout.records)), as: UTF8.self)
        .split(separator: "\n").map(String.init)
}
