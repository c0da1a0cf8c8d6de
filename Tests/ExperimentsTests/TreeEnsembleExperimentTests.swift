import Foundation
import Testing
import Experiments
import TreeEnsembles
import Zoo
import _TestSupport

/// The tree ensembles on a transformer zoo, through the library API (the CNN path is covered by
/// the command-line tests).
@Suite struct TreeEnsembleExperimentTests {
    @Test func transformerZooFitsSavesAndEvaluatesExactly() throws {
        let root = makeTemporaryDirectory("tree-transformer")
        let zoo = root.appendingPathComponent("zoo")
        // 6 members × checkpoints at epochs 0 and 1: 12 checkpoints.
        _ = try ZooGenerator.generate(spec: tinySpec(.transformer, members: 6), into: zoo, options: .init(workers: 2))
        for kind in TreeEnsembleKind.allCases {
            var c = ExperimentConfiguration(model: kind.rawValue, zoo: zoo.path, out: root.appendingPathComponent(kind.rawValue).path)
            c.zooEpochs = [0, 1]
            c.trainFraction = 0.5
            c.validationFraction = 0.2
            c.trees.minChildWeight = 1
            c.trees.rounds = kind == .xgboost ? 5 : nil
            c.trees.parallelTrees = kind == .randomForest ? 4 : nil
            let trained = try #require(try ExperimentRunner.train(c).results.first)
            #expect(trained.configuration["features"]?.hasPrefix("STATNN statistics") == true)
            #expect(Array(trained.robustness.keys) == ["heads × GL (κ ≤ 100)"], "\(trained.robustness)")
            let evaluated = try #require(try ExperimentRunner.evaluate(run: URL(fileURLWithPath: c.out!)).results.first)
            #expect(evaluated.predictions == trained.predictions)
            #expect(evaluated.parameters == trained.parameters)   // leaves
        }
    }
}
