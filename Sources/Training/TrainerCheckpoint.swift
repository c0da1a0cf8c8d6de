import Foundation
import Tensors
import TensorIO

/// Everything needed to resume a metanetwork training run, in one safetensors file.
struct TrainerCheckpoint {
    var model: [String: Tensor]
    var best: [String: Tensor]
    var optimizer: [String: Tensor]
    var stepCount: Int
    var history: MetanetworkTrainingHistory

    func write(to url: URL, fingerprint: String) throws {
        var tensors: [String: Tensor] = [:]
        for (k, v) in model { tensors["model/\(k)"] = v }
        for (k, v) in best { tensors["best/\(k)"] = v }
        for (k, v) in optimizer { tensors["optimizer/\(k)"] = v }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let meta = ["fingerprint": fingerprint, "step_count": "\(stepCount)",
                    "history": String(decoding: try encoder.encode(history), as: UTF8.self)]
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: url)
    }

    /// Reads a checkpoint; with a `fingerprint`, refuses one written by another run.
    static func read(from url: URL, fingerprint: String?) throws -> TrainerCheckpoint {
        let file: SafetensorsFile
        do { file = try SafetensorsFile.read(from: url) } catch {
            throw TrainingError.incompatibleData("cannot read checkpoint \(url.path): \(error)")
        }
        guard fingerprint == nil || file.metadata["fingerprint"] == fingerprint else {
            throw TrainingError.incompatibleData("checkpoint \(url.path) belongs to a different configuration, model or data set; delete it or choose another output folder")
        }
        guard let steps = file.metadata["step_count"].flatMap(Int.init), let h = file.metadata["history"] else {
            throw TrainingError.incompatibleData("checkpoint \(url.path) lacks its training state")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let history = try decoder.decode(MetanetworkTrainingHistory.self, from: Data(h.utf8))
        func group(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: file.tensors.compactMap { k, v in
                k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil
            })
        }
        return TrainerCheckpoint(model: group("model/"), best: group("best/"), optimizer: group("optimizer/"),
                                 stepCount: steps, history: history)
    }
}
