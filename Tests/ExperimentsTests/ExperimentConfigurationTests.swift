import Foundation
import Testing
import Training
import Experiments

/// The repository root (this file is Tests/ExperimentsTests/…).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The message of an ``ExperimentError/invalidConfiguration(_:)`` thrown by `body`.
func configurationError(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch ExperimentError.invalidConfiguration(let m) {
        return m
    } catch {
        return "unexpected error: \(error)"
    }
}

@Suite struct ExperimentConfigurationTests {
    @Test func theExampleConfigParsesAndValidates() throws {
        let url = repositoryRoot.appendingPathComponent("Examples/configs/generalization-hnp.yaml")
        let c = try ExperimentConfiguration.load(from: url)
        #expect(c.task == .generalization)
        #expect(c.model == "hnp")
        #expect(c.zoo == "zoos/cnn")
        #expect(c.out == "runs/cnn-hnp")
        #expect(c.zooEpoch == nil)
        #expect(c.training.epochs == 30 && c.training.batchSize == 32 && c.training.patience == 10 && c.training.seed == 0)
        #expect(c.training.optimizer == .adam)
        #expect(c.training.learningRate == 0.001 && c.training.weightDecay == 0)
        #expect(c.size == .standard)
        #expect(c.trainFraction == 0.6 && c.validationFraction == 0.15)
        try c.validate(requireOut: true)
    }

    @Test func missingKeysTakeTheDefaultsAndNumbersParseInEveryYAMLForm() throws {
        let c = try ExperimentConfiguration(yaml: "model: np\nzoo: z\nlearning_rate: 3e-4\nweight_decay: 1.0e-5\nseed: 12345678901\n")
        var expected = ExperimentConfiguration(model: "np", zoo: "z")
        expected.training.learningRate = 3e-4
        expected.training.weightDecay = 1e-5
        expected.training.seed = 12_345_678_901
        #expect(c == expected)
        #expect(c.training == MetanetworkTrainingConfiguration(learningRate: 3e-4, weightDecay: 1e-5, seed: 12_345_678_901))
    }

    @Test func theSavedYAMLReadsBackExactly() throws {
        var c = ExperimentConfiguration(task: .generalization, model: "quasi-monomial", zoo: "/tmp/a zoo/with: colon", out: "/tmp/out")
        c.zooEpoch = 2; c.training.epochs = 7; c.training.batchSize = 5; c.training.optimizer = .adamw; c.training.learningRate = 0.000123
        c.training.weightDecay = 0.1; c.training.patience = 0; c.training.seed = 99; c.size = .small; c.trainFraction = 0.55; c.validationFraction = 0.2
        let back = try ExperimentConfiguration(yaml: c.yaml)
        #expect(back == c)
        // JSON (a subset of YAML) works too.
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        #expect(try ExperimentConfiguration(yaml: json) == c)
        // Written atomically: no temporary file is left next to it.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfn-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try c.write(to: dir.appendingPathComponent("config.yaml"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["config.yaml"])
        #expect(try ExperimentConfiguration.load(from: dir.appendingPathComponent("config.yaml")) == c)
    }

    @Test func everyExampleConfigParsesAndValidates() throws {
        let folder = repositoryRoot.appendingPathComponent("Examples/configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files == ["generalization-hnp.yaml", "inr-classification-hnp.yaml", "inr-editing-dilate.yaml"])
        for file in files {
            let c = try ExperimentConfiguration.load(from: folder.appendingPathComponent(file))
            try c.validate(requireOut: true)
            #expect(file.hasPrefix(c.task.rawValue), "\(file) runs task \(c.task.rawValue)")
        }
    }

    @Test func severalZooEpochsParseRoundTripAndExcludeASingleEpoch() throws {
        let c = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nout: o\nzoo_epochs: [1, 2]\n")
        #expect(c.zooEpochs == [1, 2] && c.zooEpoch == nil)
        try c.validate(requireOut: true)
        #expect(try ExperimentConfiguration(yaml: c.yaml) == c)
        var both = c
        both.zooEpoch = 2
        #expect(configurationError { try both.validate() }?.contains("exclude each other") == true)
        var inr = c
        inr.task = .inrClassification
        inr.model = "hnp"
        #expect(configurationError { try inr.validate() }?.contains("only task generalization") == true)
        var repeated = c
        repeated.zooEpochs = [2, 2]
        #expect(configurationError { try repeated.validate() }?.contains("distinct epochs") == true)
    }

    @Test func anUnknownKeyIsAnErrorListingTheValidKeys() {
        let m = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nepoch: 3\n", source: "run.yaml") }
        #expect(m?.hasPrefix("run.yaml: unknown key 'epoch'") == true, "\(m ?? "no error")")
        #expect(m?.contains("zoo_epoch, zoo_epochs, epochs, batch_size") == true)
    }

    @Test func aWrongTypeNamesTheFileAndTheKey() {
        let m = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nepochs: ten\n", source: "run.yaml") }
        #expect(m == "run.yaml: epochs: expected an integer")
        let f = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nlearning_rate: fast\n", source: "r.yaml") }
        #expect(f == "r.yaml: learning_rate: expected a number")
        let top = configurationError { _ = try ExperimentConfiguration(yaml: "- a\n- b\n", source: "r.yaml") }
        #expect(top == "r.yaml: expected a mapping of keys to values at the top level")
        let null = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nepochs:\n", source: "r.yaml") }
        #expect(null?.contains("epochs: no value given") == true)
    }

    @Test func malformedYAMLIsAnErrorWithTheLine() {
        let m = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: [z\nepochs: 3\n", source: "bad.yaml") }
        #expect(m?.hasPrefix("bad.yaml: malformed YAML: 3:") == true, "\(m ?? "no error")")
        let empty = configurationError { _ = try ExperimentConfiguration(yaml: "  \n", source: "empty.yaml") }
        #expect(empty == "empty.yaml: the file is empty")
        let missing = configurationError { _ = try ExperimentConfiguration.load(from: URL(fileURLWithPath: "/nonexistent/run.yaml")) }
        #expect(missing?.hasPrefix("/nonexistent/run.yaml: cannot read the file") == true)
        let noZoo = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\n", source: "r.yaml") }
        #expect(noZoo == "r.yaml: missing key 'zoo'")
    }

    @Test func unknownNamesListTheValidOnes() throws {
        let task = configurationError { _ = try ExperimentConfiguration(yaml: "task: inr-clasification\nmodel: hnp\nzoo: z\n") }
        #expect(task?.contains("unknown task 'inr-clasification'; valid tasks: generalization, inr-classification, inr-editing") == true)
        let opt = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\noptimizer: lbfgs\n") }
        #expect(opt?.contains("unknown optimizer 'lbfgs'; valid: sgd, momentum, adam, adamw, rmsprop") == true)
        let size = configurationError { _ = try ExperimentConfiguration(yaml: "model: hnp\nzoo: z\nsize: huge\n") }
        #expect(size?.contains("valid: small, standard") == true)
        let model = configurationError { try ExperimentConfiguration(yaml: "model: resnet\nzoo: z\n").validate() }
        #expect(model?.contains("unknown model 'resnet' for task generalization; valid models: np, hnp,") == true)
        #expect(model?.contains("transformer-nfn") == true)
    }

    @Test func outOfRangeValuesAreRejected() throws {
        let base = ExperimentConfiguration(model: "hnp", zoo: "z", out: "o")
        try base.validate(requireOut: true)
        func message(_ change: (inout ExperimentConfiguration) -> Void) -> String? {
            var c = base
            change(&c)
            return configurationError { try c.validate(requireOut: true) }
        }
        #expect(message { $0.training.epochs = 0 }?.contains("epochs must be ≥ 1") == true)
        #expect(message { $0.training.learningRate = -1 }?.contains("learning_rate") == true)
        #expect(message { $0.trainFraction = 0.9 }?.contains("train_fraction + validation_fraction must be < 1") == true)
        #expect(message { $0.out = nil }?.contains("an output folder is required") == true)
        #expect(message { $0.edit = "dilate" }?.contains("only used by task inr-editing") == true)
        #expect(message { $0.task = .inrEditing; $0.edit = "blur" }?.contains("valid edits: dilate, erode, gradient, contrast") == true)
    }

    @Test func commandLineTextGoesThroughTheKeyTable() throws {
        var c = ExperimentConfiguration(model: "hnp", zoo: "z")
        try c.set("epochs", "7")
        try c.set("zoo_epochs", "1, 2")
        try c.set("optimizer", "adamw")
        try c.set("learning_rate", "2e-3")
        #expect(c.training.epochs == 7 && c.zooEpochs == [1, 2] && c.training.optimizer == .adamw)
        #expect(c.training.learningRate == 2e-3)
        #expect(configurationError { try c.set("epochs", "seven") } == "epochs: 'seven' is not an integer")
        #expect(configurationError { try c.set("zoo_epochs", "1,x") }?.hasPrefix("zoo_epochs: '1,x' is not a list of integers") == true)
        #expect(configurationError { try c.set("optimizer", "lbfgs") }?.contains("one of: sgd, momentum, adam, adamw, rmsprop") == true)
        #expect(configurationError { try c.set("epoch", "3") }?.hasPrefix("unknown key 'epoch'; valid keys: task, model") == true)
        // Every key is in the table once, and every set key reaches the report entries.
        #expect(Set(ExperimentConfiguration.keyNames).count == ExperimentConfiguration.keyNames.count)
        #expect(c.reportEntries["zoo_epochs"] == "1,2" && c.reportEntries["model"] == "hnp")
    }

    @Test func everyResultCarriesTheRecipeKeysFromTheTable() throws {
        let recipe = MetanetworkTrainingConfiguration(epochs: 7, batchSize: 5, optimizer: .adamw, learningRate: 0.002, seed: 9)
        let split = try DataSplit(count: 20, seed: 0)
        let entries = recipe.reportEntries(size: .small, split: split)
        #expect(entries == ["epochs": "7", "batch_size": "5", "optimizer": "adamw", "learning_rate": "0.002",
                            "weight_decay": "0.0", "patience": "10", "seed": "9", "size": "small",
                            "train/val/test": "\(split.train.count)/\(split.validation.count)/\(split.test.count)"])
    }

    @Test func eachTaskPicksItsImplementationByZooFamily() {
        #expect(ObjectIdentifier(ExperimentTask.generalization.implementation(for: .cnn)) == ObjectIdentifier(FeedforwardGeneralization.self))
        #expect(ObjectIdentifier(ExperimentTask.generalization.implementation(for: .mlp)) == ObjectIdentifier(FeedforwardGeneralization.self))
        #expect(ObjectIdentifier(ExperimentTask.generalization.implementation(for: .transformer)) == ObjectIdentifier(TransformerGeneralization.self))
        #expect(ObjectIdentifier(ExperimentTask.inrClassification.implementation(for: .siren)) == ObjectIdentifier(INRClassificationExperiment.self))
        #expect(ObjectIdentifier(ExperimentTask.inrEditing.implementation(for: .siren)) == ObjectIdentifier(INREditingExperiment.self))
        #expect(ExperimentTask.generalization.modelNames.contains("transformer-nfn"))
    }
}
