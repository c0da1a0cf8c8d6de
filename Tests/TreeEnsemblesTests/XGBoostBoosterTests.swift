import Foundation
import Testing
import Tensors
@testable import TreeEnsembles
import _TestSupport

@Suite struct XGBoostBoosterTests {
    @Test func fitsPredictsAndRoundTripsThroughBothFormats() throws {
        let (x, y) = Synthetic.regression(rows: 200, seed: 1)
        let fit = try TreeEnsembleRegressor.fit(.xgboost, hyperparameters: Synthetic.small(.xgboost), seed: 0, features: x, labels: y)
        let matrix = try XGBoostMatrix(features: x)
        let predicted = try fit.booster.predict(matrix)
        // It learned something: the training error is well below the spread of the targets.
        let mean = y.reduce(0, +) / Float(y.count)
        let variance = y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(y.count)
        let mse = zip(predicted, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(y.count)
        #expect(mse < 0.2 * variance)
        #expect(try fit.booster.boostedRounds == 20)

        let folder = makeTemporaryDirectory("xgboost-roundtrip")
        for format in XGBoostModelFormat.allCases {
            let url = folder.appendingPathComponent("model.\(format.fileExtension)")
            try fit.booster.save(to: url)
            let loaded = try XGBoostBooster.load(from: url)
            #expect(try loaded.predict(matrix) == predicted, "\(format) round trip changed the predictions")
            #expect(try loaded.featureCount == 4)
        }
        // No temporary file is left next to the models.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["model.json", "model.ubj"])
    }

    @Test func sameSeedSameModelOtherSeedOtherModel() throws {
        let (x, y) = Synthetic.regression(rows: 200, seed: 2)
        let matrix = try XGBoostMatrix(features: x)
        func predictions(_ kind: TreeEnsembleKind, seed: UInt64) throws -> [Float] {
            try TreeEnsembleRegressor.fit(kind, hyperparameters: Synthetic.small(kind), seed: seed, features: x, labels: y)
                .booster.predict(matrix)
        }
        for kind in TreeEnsembleKind.allCases {
            let a = try predictions(kind, seed: 5), b = try predictions(kind, seed: 5), c = try predictions(kind, seed: 6)
            #expect(a == b, "\(kind): the same seed gave different predictions")
            // Row and column subsampling depend on the seed: another seed grows other trees.
            #expect(a != c, "\(kind): the seed is not reaching XGBoost")
        }
    }

    @Test func randomForestGrowsParallelTreesInOneRound() throws {
        let (x, y) = Synthetic.regression(rows: 200, seed: 3)
        var h = Synthetic.small(.randomForest)
        h.parallelTrees = 7
        let fit = try TreeEnsembleRegressor.fit(.randomForest, hyperparameters: h, seed: 0, features: x, labels: y)
        #expect(try fit.booster.boostedRounds == 1)
        let summary = try TreeEnsembleSummary(fit.booster)
        #expect(summary.trees == 7)
        #expect(summary.leaves == summary.splits + summary.trees)   // binary trees
        #expect(summary.leaves > 7)                                 // the trees did split
        // The saved model says the same: one round of seven parallel trees.
        let json = String(decoding: try fit.booster.serialized(format: .json), as: UTF8.self)
        #expect(json.contains("\"num_parallel_tree\":\"7\""))
        #expect(json.contains("\"num_trees\":\"7\""))
    }

    @Test func validationKeepsTheBestPrefix() throws {
        let (x, y) = Synthetic.regression(rows: 200, seed: 4)
        // A score that peaks at round 5 of 20: the kept booster must have exactly 5 rounds.
        var calls = 0
        let fit = try TreeEnsembleRegressor.fit(
            .xgboost, hyperparameters: Synthetic.small(.xgboost), seed: 0, features: x, labels: y,
            validation: (x, { _ in calls += 1; return -abs(Double(calls) - 5) }))
        #expect(fit.rounds.count == 20)
        #expect(fit.bestRound == 5)
        #expect(try fit.booster.boostedRounds == 5)
    }

    @Test func xgboostErrorsCarryXGBoostsMessage() throws {
        let (x, y) = Synthetic.regression(rows: 20, seed: 5)
        let train = try XGBoostMatrix(features: x, labels: y)
        // A bad value: XGBoost refuses it when the round configures the learner.
        let booster = try XGBoostBooster(training: train)
        do {
            try booster.setParameter("max_depth", "deep")
            try booster.update(round: 0, training: train)
            Issue.record("max_depth=deep was accepted")
        } catch TreeEnsembleError.xgboost(let operation, let message) {
            #expect(message.contains("max_depth"), "message: \(message)")
            #expect(!operation.isEmpty)
        }
        // A misspelt parameter name: XGBoost only logs it, the wrapper can name it.
        let misspelt = try XGBoostBooster(training: train)
        try misspelt.setParameters(["max_dept": "3", "eta": "0.3", "verbosity": "0"])
        try misspelt.update(round: 0, training: train)
        #expect(try misspelt.unknownParameters(["max_dept", "eta", "verbosity"]) == ["max_dept"])
        // An unknown objective name.
        let other = try XGBoostBooster(training: train)
        do {
            try other.setParameter("objective", "reg:no-such-objective")
            try other.update(round: 0, training: train)
            Issue.record("an unknown objective was accepted")
        } catch TreeEnsembleError.xgboost(_, let message) {
            #expect(message.contains("no-such-objective"), "message: \(message)")
        }
    }

    @Test func hostileInputIsRefused() throws {
        let (x, y) = Synthetic.regression(rows: 10, seed: 6)
        func refused(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as TreeEnsembleError { return e.description } catch { return "\(error)" }
        }
        // NaN and ∞ are refused (not read as XGBoost's "missing"), naming the place.
        var bad = x.scalars; bad[13] = .nan
        #expect(refused { _ = try XGBoostMatrix(features: Tensor(shape: [10, 4], scalars: bad), labels: y) }?.contains("[3, 1]") == true)
        var badY = y; badY[2] = .infinity
        #expect(refused { _ = try XGBoostMatrix(features: x, labels: badY) }?.contains("label 2") == true)
        // Empty training set, wrong shapes, wrong label count.
        #expect(refused { _ = try XGBoostMatrix(features: Tensor(zeros: [0, 4]), labels: []) }?.contains("no rows") == true)
        #expect(refused { _ = try XGBoostMatrix(features: Tensor(zeros: [4]), labels: nil) }?.contains("matrix") == true)
        #expect(refused { _ = try XGBoostMatrix(features: x, labels: Array(y.prefix(3))) }?.contains("3 labels") == true)
        #expect(refused {
            _ = try TreeEnsembleRegressor.fit(.xgboost, hyperparameters: .xgboostDefaults, seed: 0,
                                              features: Tensor(zeros: [0, 4]), labels: [])
        } != nil)
        // Out-of-range hyper-parameters never reach XGBoost.
        var h = TreeEnsembleHyperparameters.randomForestDefaults
        h.subsample = 1.5
        #expect(refused { try h.validate() }?.contains("subsample") == true)
        // A model with another feature count is refused before prediction.
        let fit = try TreeEnsembleRegressor.fit(.xgboost, hyperparameters: Synthetic.small(.xgboost), seed: 0, features: x, labels: y)
        #expect(refused { _ = try fit.booster.predict(try XGBoostMatrix(features: Tensor(zeros: [2, 3]))) }?.contains("4 features") == true)
        // Files that are not models.
        let folder = makeTemporaryDirectory("xgboost-bad-model")
        let junk = folder.appendingPathComponent("junk.ubj")
        try Data("not a model".utf8).write(to: junk)
        #expect(refused { _ = try XGBoostBooster.load(from: junk) }?.contains("junk.ubj") == true)
        #expect(refused { _ = try XGBoostBooster.load(from: folder.appendingPathComponent("missing.ubj")) } != nil)
        #expect(refused { _ = try XGBoostBooster(model: Data()) } != nil)
        // Damaged UBJ models: every truncation and a length blown up are refused with a message
        // (XGBoost itself would trust the lengths; a model cut to 100 bytes got the process killed).
        let model = try fit.booster.serialized(format: .ubj)
        #expect(UBJSONScan.problem(in: model) == nil)
        for cut in [1, 2, 100, model.count / 2, model.count - 1] {
            #expect(refused { _ = try XGBoostBooster(model: model.prefix(cut)) } != nil, "cut at \(cut)")
        }
        var blown = model
        if let i = blown.firstIndex(of: UInt8(ascii: "#")), blown[i + 1] == UInt8(ascii: "L") {
            for k in 2...5 { blown[i + k] = 0x7f }
            #expect(refused { _ = try XGBoostBooster(model: blown) }?.contains("past the end") == true)
        }
    }
}
