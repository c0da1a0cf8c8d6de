import Foundation
import Testing
import _TestSupport
import TensorIO
import Experiments

/// Run configurations (YAML, or JSON read as YAML) that a recursive parser could not survive, that
/// are too large, repeat a key, or are cut off: each is ``ExperimentError/invalidConfiguration(_:)``
/// naming the file, checked before Yams sees the text.
@Suite struct ConfigFaultTests {
    static let valid = "model: hnp\nzoo: /tmp/zoo\nepochs: 3\nbatch_size: 8\nlearning_rate: 0.002\nseed: 4\nsize: small\n"

    /// (label, text, fragment).
    static let hostile: [(String, String, String)] = [
        ("nested mappings", (0..<600).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n") + " 1\n", "nested"),
        ("nested sequences", String(repeating: "- ", count: 20_000) + "x\n", "nested"),
        ("flow sequences", "model: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n", "nested"),
        ("flow mappings", "model: " + String(repeating: "{a: ", count: 50_000) + "1" + String(repeating: "}", count: 50_000) + "\n", "nested"),
        ("JSON nesting", "{\"model\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}", "nested"),
        ("deep but split over lines", (0..<40).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n", "nested"),
        ("repeated key", "model: hnp\nzoo: /tmp/zoo\nmodel: np\n", "'model' appears twice"),
        ("repeated key in JSON", #"{"model": "hnp", "zoo": "/tmp/zoo", "model": "np"}"#, "'model' appears twice"),
        ("over the size limit", "model: hnp\nzoo: /tmp/zoo\n# " + String(repeating: "x", count: 1 << 21) + "\n", "limit"),
    ]

    @Test(arguments: 0..<hostile.count)
    func hostileConfiguration(_ index: Int) throws {
        let (label, text, fragment) = Self.hostile[index]
        let url = try scratchFile("run.yaml", Data(text.utf8))
        expectError(ExperimentError.self, mentioning: [url.path, fragment], label) { _ = try ExperimentConfiguration.load(from: url) }
    }

    /// A valid file cut at every byte: an error naming the file, or a configuration holding only
    /// what the cut text says (its model is `hnp` whenever it parses).
    @Test(arguments: 0..<valid.utf8.count)
    func truncatedConfiguration(_ cut: Int) throws {
        let text = String(Self.valid.prefix(cut))
        do {
            let c = try ExperimentConfiguration(yaml: text, source: "cut.yaml")
            // Whatever parses is a prefix of the file: the model as far as it goes, the epochs in full.
            #expect(Self.valid.hasPrefix("model: " + c.model), "cut at \(cut): model \(c.model)")
            #expect(c.training.epochs == 3 || !text.contains("epochs: 3\n"), "cut at \(cut): epochs \(c.training.epochs)")
        } catch let error as ExperimentError {
            #expect("\(error)".contains("cut.yaml"), "\(error)")
        }
    }

    @Test func configurationThatIsAFIFO() throws {
        let url = makeTemporaryDirectory("fifo").appendingPathComponent("run.yaml")
        try makeFIFO(url)
        let result = withDeadline(10) { _ = try ExperimentConfiguration.load(from: url) }
        guard let result else { Issue.record("loading a FIFO configuration blocked"); return }
        #expect(throws: ExperimentError.self) { try result.get() }
        if case .failure(let error) = result { #expect("\(error)".contains("FIFO"), "\(error)") }
    }

    /// The scanners themselves, on inputs at the limits.
    @Test func scannersAreExactAtTheLimit() {
        #expect(StructureScan.jsonProblem(Data((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8), maximumDepth: 64) == nil)
        #expect(StructureScan.jsonProblem(Data((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8), maximumDepth: 64) == .tooDeep(limit: 64))
        #expect(StructureScan.jsonProblem(Data(#"{"a":{"b":1},"b":{"b":2}}"#.utf8)) == nil)
        #expect(StructureScan.jsonProblem(Data(#"{"a":"x","\u0061":"y"}"#.utf8)) == .duplicateKey(key: "a", path: ""))
        #expect(StructureScan.jsonProblem(Data(#"{"o":{"k":[1,{"z":1,"z":2}]}}"#.utf8)) == .duplicateKey(key: "z", path: "o.k.[]"))
        #expect(StructureScan.jsonProblem(Data(#"{"s":"{[\"]}","t":1}"#.utf8)) == nil)
        #expect(StructureScan.yamlProblem(Self.valid) == nil)
        #expect(StructureScan.yamlProblem("a: '[[[['\nb: \"{{{{\"\n", maximumDepth: 2) == nil)
    }
}
