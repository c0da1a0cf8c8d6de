import CXGBoost
import Foundation
import TensorIO
import Tensors

/// An XGBoost booster: the model, its parameters and its training state.
///
/// A thin owner of the C API's `BoosterHandle`; every call's status is checked and a failure is a
/// thrown ``TreeEnsembleError/xgboost(operation:message:)`` with XGBoost's own message. Not safe
/// to use from two threads at once (XGBoost parallelises inside each call, over `nthread`).
///
/// ```swift
/// let x = Tensor(shape: [4, 1], scalars: [0, 1, 2, 3])
/// let train = try XGBoostMatrix(features: x, labels: [0, 1, 2, 3])
/// let booster = try XGBoostBooster(training: train)
/// try booster.setParameters(["max_depth": "2", "min_child_weight": "0", "nthread": "1", "seed": "0"])
/// for round in 0..<5 { try booster.update(round: round, training: train) }
/// let predictions = try booster.predict(train)
/// ```
public final class XGBoostBooster {
    let handle: BoosterHandle

    /// A new booster that caches `training` (XGBoost keeps its quantile sketch between rounds).
    public init(training: XGBoostMatrix) throws {
        var out: BoosterHandle?
        var matrices: [DMatrixHandle?] = [training.handle]
        try xgboostCall("XGBoosterCreate", XGBoosterCreate(&matrices, 1, &out))
        guard let out else { throw TreeEnsembleError.xgboost(operation: "XGBoosterCreate", message: "no booster returned") }
        handle = out
        // Keep the matrix alive for as long as the booster may read its cache.
        cachedTraining = training
    }

    /// A booster read from a model in XGBoost's JSON or UBJ format (the format is detected by XGBoost).
    ///
    /// - Throws: ``TreeEnsembleError/invalidModel(_:)`` with XGBoost's message when it is not a model.
    public init(model: Data) throws {
        guard !model.isEmpty else { throw TreeEnsembleError.invalidModel("the model is empty") }
        // UBJ (a '{' followed by a binary marker, not JSON text): XGBoost trusts its lengths, so
        // check them first (see UBJSONScan).
        if model.count >= 2, model[model.startIndex] == UInt8(ascii: "{"),
           ![UInt8(ascii: "\""), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: "}")]
               .contains(model[model.startIndex + 1]),
           let problem = UBJSONScan.problem(in: model) {
            throw TreeEnsembleError.invalidModel("malformed UBJ: \(problem)")
        }
        var out: BoosterHandle?
        try xgboostCall("XGBoosterCreate", XGBoosterCreate(nil, 0, &out))
        guard let out else { throw TreeEnsembleError.xgboost(operation: "XGBoosterCreate", message: "no booster returned") }
        handle = out
        cachedTraining = nil
        do {
            try model.withUnsafeBytes { raw in
                try xgboostCall("XGBoosterLoadModelFromBuffer",
                                XGBoosterLoadModelFromBuffer(handle, raw.baseAddress, bst_ulong(raw.count)))
            }
        } catch TreeEnsembleError.xgboost(_, let message) {
            throw TreeEnsembleError.invalidModel(message)
        }
    }

    private let cachedTraining: XGBoostMatrix?

    private init(handle: BoosterHandle) {
        self.handle = handle
        cachedTraining = nil
    }

    deinit { XGBoosterFree(handle) }

    /// Sets one XGBoost parameter (`max_depth`, `eta`, …) by its XGBoost name.
    ///
    /// XGBoost checks most values when the next round or prediction configures the learner, so
    /// a bad value may be reported by ``update(round:training:)`` instead of here.
    public func setParameter(_ name: String, _ value: String) throws {
        try xgboostCall("XGBoosterSetParam(\(name)=\(value))", XGBoosterSetParam(handle, name, value))
    }

    /// Sets several parameters, in name order (so the same dictionary always configures the same way).
    public func setParameters(_ parameters: [String: String]) throws {
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) { try setParameter(name, value) }
    }

    /// The names among `names` that the booster's configuration does not hold.
    ///
    /// XGBoost accepts any parameter name and only warns about unknown ones when training; call
    /// this after the first ``update(round:training:)`` (which configures the learner) to turn a
    /// misspelt name into an error. `verbosity` is global, not part of the learner, and always known.
    public func unknownParameters(_ names: some Sequence<String>) throws -> [String] {
        var length: bst_ulong = 0
        var text: UnsafePointer<CChar>?
        try xgboostCall("XGBoosterSaveJsonConfig", XGBoosterSaveJsonConfig(handle, &length, &text))
        guard let text, let json = try? JSONSerialization.jsonObject(with: Data(bytes: text, count: Int(length))) else {
            throw TreeEnsembleError.xgboost(operation: "XGBoosterSaveJsonConfig", message: "the configuration is not JSON")
        }
        var known: Set<String> = ["verbosity"]
        var stack: [Any] = [json]
        while let node = stack.popLast() {
            if let object = node as? [String: Any] {
                known.formUnion(object.keys)
                stack += Array(object.values)
            } else if let array = node as? [Any] {
                stack += array
            }
        }
        return names.filter { !known.contains($0) }
    }

    /// Runs boosting round `round` (0-based) on `training`.
    public func update(round: Int, training: XGBoostMatrix) throws {
        try xgboostCall("XGBoosterUpdateOneIter (round \(round))", XGBoosterUpdateOneIter(handle, Int32(round), training.handle))
    }

    /// Boosting rounds in the model (a random forest is one round of many parallel trees).
    public var boostedRounds: Int {
        get throws {
            var n: Int32 = 0
            try xgboostCall("XGBoosterBoostedRounds", XGBoosterBoostedRounds(handle, &n))
            return Int(n)
        }
    }

    /// The number of features the model was trained on.
    public var featureCount: Int {
        get throws {
            var n: bst_ulong = 0
            try xgboostCall("XGBoosterGetNumFeature", XGBoosterGetNumFeature(handle, &n))
            return Int(n)
        }
    }

    /// One prediction per row of `matrix`, from rounds `0..<rounds` (nil: every round).
    ///
    /// - Throws: ``TreeEnsembleError/invalidInput(_:)`` when the matrix has another column count
    ///   than the model's features; XGBoost's errors.
    public func predict(_ matrix: XGBoostMatrix, rounds: Int? = nil) throws -> [Float] {
        let expected = try featureCount
        guard matrix.columns == expected else {
            throw TreeEnsembleError.invalidInput("the model takes \(expected) features per row, the matrix has \(matrix.columns)")
        }
        let config = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": \(rounds ?? 0), \"strict_shape\": false}"
        var shape: UnsafePointer<bst_ulong>?
        var dimension: bst_ulong = 0
        var result: UnsafePointer<Float>?
        try xgboostCall("XGBoosterPredictFromDMatrix",
                        XGBoosterPredictFromDMatrix(handle, matrix.handle, config, &shape, &dimension, &result))
        guard let result else { throw TreeEnsembleError.xgboost(operation: "XGBoosterPredictFromDMatrix", message: "no result") }
        // XGBoost owns `result` until the booster's next call: copy it out now.
        return Array(UnsafeBufferPointer(start: result, count: matrix.rows))
    }

    /// A new booster holding rounds `0..<rounds` of this one (e.g. the best-validation prefix).
    public func prefix(rounds: Int) throws -> XGBoostBooster {
        let total = try boostedRounds
        guard rounds >= 1, rounds <= total else {
            throw TreeEnsembleError.invalidInput("cannot keep \(rounds) of \(total) rounds")
        }
        var out: BoosterHandle?
        try xgboostCall("XGBoosterSlice", XGBoosterSlice(handle, 0, Int32(rounds), 1, &out))
        guard let out else { throw TreeEnsembleError.xgboost(operation: "XGBoosterSlice", message: "no booster returned") }
        return XGBoostBooster(handle: out)
    }

    /// The model in XGBoost's `format`, as bytes (trees and learner configuration).
    public func serialized(format: XGBoostModelFormat = .ubj) throws -> Data {
        var length: bst_ulong = 0
        var bytes: UnsafePointer<CChar>?
        try xgboostCall("XGBoosterSaveModelToBuffer",
                        XGBoosterSaveModelToBuffer(handle, "{\"format\": \"\(format.rawValue)\"}", &length, &bytes))
        guard let bytes else { throw TreeEnsembleError.xgboost(operation: "XGBoosterSaveModelToBuffer", message: "no bytes returned") }
        return Data(bytes: bytes, count: Int(length))
    }

    /// Writes the model to `url` atomically (a temporary file in the same folder, then a rename),
    /// in the format `url`'s extension names (`.json`, otherwise UBJ).
    public func save(to url: URL) throws {
        let format: XGBoostModelFormat = url.pathExtension.lowercased() == "json" ? .json : .ubj
        try AtomicFile.write(try serialized(format: format), to: url)
    }

    /// The largest model file ``load(from:)`` reads (512 MiB).
    public static let maximumModelFileSize = 512 << 20

    /// Reads a model written by ``save(to:)`` (or any XGBoost binding's `save_model`).
    ///
    /// - Throws: ``TreeEnsembleError/invalidModel(_:)`` naming the file when it is not a regular
    ///   file, larger than ``maximumModelFileSize``, or not a model XGBoost can read.
    public static func load(from url: URL) throws -> XGBoostBooster {
        let data: Data
        do {
            data = try RegularFile.read(url, limit: maximumModelFileSize)
        } catch {
            throw TreeEnsembleError.invalidModel("\(url.path): \(error)")
        }
        do {
            return try XGBoostBooster(model: data)
        } catch TreeEnsembleError.invalidModel(let m) {
            throw TreeEnsembleError.invalidModel("\(url.path): \(m)")
        }
    }

    /// The trees as XGBoost's JSON dump, one JSON document per tree.
    public func treeDumps() throws -> [String] {
        var count: bst_ulong = 0
        var dumps: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        try xgboostCall("XGBoosterDumpModelEx", XGBoosterDumpModelEx(handle, "", 0, "json", &count, &dumps))
        guard let dumps else { return [] }
        return (0..<Int(count)).map { dumps[$0].map { String(cString: $0) } ?? "" }
    }
}
