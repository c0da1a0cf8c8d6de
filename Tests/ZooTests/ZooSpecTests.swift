import Foundation
import Testing
import _TestSupport
import Tensors
import Zoo

@Suite struct ZooSpecTests {
    @Test(arguments: ZooFamily.allCases)
    func defaultSpecsAreValidAndRoundTripThroughJSON(_ family: ZooFamily) throws {
        let spec = ZooSpec.defaults(for: family)
        try spec.validate()
        let data = try JSONEncoder().encode(spec)
        let back = try JSONDecoder().decode(ZooSpec.self, from: data)
        #expect(back == spec)
        #expect(back.differences(from: spec).isEmpty)
    }

    @Test func distributionsHaveOneKeyJSON() throws {
        let cases: [(RealDistribution, String)] = [
            (.fixed(0.5), #"{"fixed":0.5}"#), (.choice([1, 2]), #"{"choice":[1,2]}"#),
            (.uniform(low: 0, high: 1), #"{"uniform":[0,1]}"#), (.logUniform(low: 0.001, high: 0.1), #"{"log_uniform":[0.001,0.1]}"#),
        ]
        for (d, json) in cases {
            #expect(String(decoding: try JSONEncoder().encode(d), as: UTF8.self) == json)
            #expect(try JSONDecoder().decode(RealDistribution.self, from: Data(json.utf8)) == d)
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RealDistribution.self, from: Data(#"{"uniform":[1]}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RealDistribution.self, from: Data(#"{"fixed":1,"choice":[2]}"#.utf8)) }
    }

    @Test func samplesStayInTheirRangesAndCoverTheChoices() throws {
        let spec = ZooSpec.defaults(for: .cnn)
        let space = spec.space
        let samples = (0..<400).map { ZooMemberTrainer.hyperparameters(spec: spec, member: $0) }
        for hp in samples {
            #expect(space.learningRate.bounds.contains(try #require(hp.learningRate)))
            #expect(space.l2.bounds.contains(try #require(hp.l2)))
            #expect(space.initStd.bounds.contains(try #require(hp.initStd)))
            #expect(space.dropout.bounds.contains(try #require(hp.dropout)))
            #expect([0.1, 0.25, 0.5, 1.0].contains(try #require(hp.trainFraction)))
        }
        #expect(Set(samples.compactMap(\.activation)) == Set(space.activations))
        #expect(Set(samples.compactMap(\.optimizer)) == Set(space.optimizers))
        #expect(Set(samples.compactMap(\.initializer)) == Set(space.initializers))
        #expect(Set(samples.compactMap(\.trainFraction)).count == 4)
        // Log-uniform: about a third of the learning rates in each of the two decades [5e-4, 5e-3), [5e-3, 5e-2).
        let lowDecade = samples.filter { $0.learningRate! < 5e-3 }.count
        #expect(lowDecade > 150 && lowDecade < 250, "\(lowDecade) of 400 below 5e-3")
    }

    @Test func memberHyperparametersDependOnlyOnSeedAndID() {
        var a = ZooSpec.defaults(for: .cnn)
        a.members = 10
        var b = a
        b.members = 1000
        b.training.epochs = 7
        for i in 0..<10 {
            #expect(ZooMemberTrainer.hyperparameters(spec: a, member: i) == ZooMemberTrainer.hyperparameters(spec: b, member: i))
        }
        #expect(ZooMemberTrainer.hyperparameters(spec: a, member: 0) != ZooMemberTrainer.hyperparameters(spec: a, member: 1))
        var c = a
        c.seed = 1
        #expect(ZooMemberTrainer.hyperparameters(spec: a, member: 0) != ZooMemberTrainer.hyperparameters(spec: c, member: 0))
    }

    @Test func changingOneDistributionLeavesTheOthersDrawsAlone() {
        let a = ZooSpec.defaults(for: .cnn)
        var b = a
        b.space.dropout = .fixed(0.3)
        b.space.activations = [.tanh]
        for i in 0..<20 {
            let x = ZooMemberTrainer.hyperparameters(spec: a, member: i)
            let y = ZooMemberTrainer.hyperparameters(spec: b, member: i)
            #expect(x.learningRate == y.learningRate)
            #expect(x.l2 == y.l2)
            #expect(x.optimizer == y.optimizer)
            #expect(y.dropout == 0.3)
        }
    }

    @Test func familiesRecordTheirOwnHyperparameters() {
        let t = ZooMemberTrainer.hyperparameters(spec: .defaults(for: .transformer), member: 0)
        #expect(t.activation == nil && t.initializer == nil && t.dropout != nil && t.initStd != nil)
        let isSGD = t.optimizer == .sgd || t.optimizer == .momentum
        let lrs = isSGD ? [1e-3, 3e-3, 5e-3, 7e-3, 1e-2, 3e-2, 5e-2, 7e-2] : [3e-4, 5e-4, 1e-3, 3e-3, 5e-3, 1e-2, 3e-2, 5e-2]
        #expect(lrs.contains(t.learningRate ?? .nan))
        let s = ZooMemberTrainer.hyperparameters(spec: .defaults(for: .siren), member: 0)
        #expect(s.values.keys.sorted() == ["learning_rate", "optimizer"])
        let m = ZooMemberTrainer.hyperparameters(spec: .defaults(for: .mlp), member: 0)
        #expect(m.activation != nil && m.dropout == nil && m.biasInitializer == nil)
    }

    @Test(arguments: [(10, 3), (7, 7), (5, 8), (200, 16), (1, 1)])
    func shardsPartitionTheMembers(_ members: Int, _ count: Int) throws {
        for strategy in ZooShard.Strategy.allCases {
            var seen: [Int] = []
            var sizes: [Int] = []
            for k in 0..<count {
                let ids = try ZooShard(index: k, count: count, strategy: strategy).memberIDs(of: members)
                #expect(ids == ids.sorted())
                seen += ids
                sizes.append(ids.count)
            }
            #expect(seen.sorted() == Array(0..<members), "\(strategy)")
            #expect(sizes.max()! - sizes.min()! <= 1, "\(strategy): \(sizes)")
        }
        let first = try ZooShard(parsing: "0/\(count)").memberIDs(of: members)
        #expect(first == Array(0..<(members / count)))
    }

    @Test func badShardsAndSpecsAreRejected() {
        for text in ["3/3", "-1/2", "1", "a/b", "1/0", "1/2/3"] {
            #expect(throws: ZooError.self, "\(text)") { try ZooShard(parsing: text) }
        }
        var s = ZooSpec.defaults(for: .cnn)
        s.training.checkpointEpochs = [3]
        #expect(throws: ZooError.self) { try s.validate() }
        s = .defaults(for: .cnn)
        s.space.learningRate = .logUniform(low: 0, high: 1)
        #expect(throws: ZooError.self) { try s.validate() }
        s = .defaults(for: .cnn)
        s.space.trainFraction = .choice([0.5, 1.5])
        #expect(throws: ZooError.self) { try s.validate() }
        s = .defaults(for: .cnn)
        s.members = 0
        #expect(throws: ZooError.self) { try s.validate() }
        s = .defaults(for: .cnn)
        s.data.kind = .idx
        #expect(throws: ZooError.self) { try s.validate() }
    }

    @Test func specFilesLoadAndNameTheirErrors() throws {
        let dir = makeTemporaryDirectory("spec")
        let url = dir.appendingPathComponent("spec.json")
        let spec = ZooSpec.defaults(for: .transformer)
        try JSONEncoder().encode(spec).write(to: url)
        #expect(try ZooSpec.load(from: url) == spec)
        try Data(#"{"family": "cnn"}"#.utf8).write(to: url)
        #expect(throws: ZooError.self) { try ZooSpec.load(from: url) }
        do { _ = try ZooSpec.load(from: url) } catch {
            #expect("\(error)".hasPrefix(url.path) && "\(error)".contains("members"), "\(error)")
        }
        var invalid = spec
        invalid.members = -1
        try JSONEncoder().encode(invalid).write(to: url)
        #expect(throws: ZooError.self) { try ZooSpec.load(from: url) }
        #expect(throws: ZooError.self) { try ZooSpec.load(from: dir.appendingPathComponent("missing.json")) }
    }

    @Test func unknownFamilyIsAClearDecodingError() throws {
        var json = String(decoding: try JSONEncoder().encode(ZooSpec.defaults(for: .cnn)), as: UTF8.self)
        json = json.replacingOccurrences(of: #""family":"cnn""#, with: #""family":"resnet""#)
        do {
            _ = try JSONDecoder().decode(ZooSpec.self, from: Data(json.utf8))
            Issue.record("decoded an unknown family")
        } catch let error as DecodingError {
            guard case .dataCorrupted(let context) = error else { Issue.record("\(error)"); return }
            #expect(context.debugDescription.contains("resnet"))
            #expect(context.debugDescription.contains("cnn"))
        }
    }
}
