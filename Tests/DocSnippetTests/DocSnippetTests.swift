import Foundation
import Testing
import Tensors
import NeuralNetworks
import WeightSpace
import Metanetworks

/// The repository root (this file is `Tests/DocSnippetTests/DocSnippetTests.swift`).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The documentation's Swift examples. `Scripts/doc-snippets.sh` turns the ```swift blocks of each
/// article into `Generated/<article>.swift` (one `enum` per article, its blocks in order inside
/// `run()`), so this target does not build when an example stops compiling. The tests here check
/// that those files are current, run every article whose examples need nothing from the disk, and
/// check that the files an article shows (`<!-- file: PATH -->`) are the files in the repository.
@Suite struct DocSnippetTests {
    /// Articles whose examples run as they are: they build their own inputs.
    static func runnableArticles() -> [(article: String, run: () throws -> Void)] {
        [
            (README.article, README.run),
            (Docs_WeightSpaceSymmetries.article, Docs_WeightSpaceSymmetries.run),
            (Docs_TensorAndAutograd.article, Docs_TensorAndAutograd.run),
            (Docs_ModelsAndCheckpoints.article, Docs_ModelsAndCheckpoints.run),
            (Docs_Metanetworks_Layers.article, Docs_Metanetworks_Layers.run),
            (Docs_Metanetworks_PermutationFamily.article, Docs_Metanetworks_PermutationFamily.run),
            (Docs_Metanetworks_NeuralFunctionalTransformer.article, Docs_Metanetworks_NeuralFunctionalTransformer.run),
            (Docs_Metanetworks_MonomialNFN.article, Docs_Metanetworks_MonomialNFN.run),
            (Docs_Metanetworks_TransformerNFN.article, Docs_Metanetworks_TransformerNFN.run),
            (Docs_Metanetworks_GraphNN.article, Docs_Metanetworks_GraphNN.run),
            (Docs_Metanetworks_INR2Array.article, Docs_Metanetworks_INR2Array.run),
            (Docs_Metanetworks_TreeEnsembles.article, Docs_Metanetworks_TreeEnsembles.run),
        ]
    }

    /// Articles whose examples are compiled but not run, and why.
    static let compiledOnly: [String: String] = [
        Docs_Zoos.article: "reads a generated zoo folder (zoos/cnn)",
        Docs_Tasks_GeneralizationPrediction.article: "reads run.yaml and a zoo, trains for 20 epochs",
        Docs_Tasks_INRClassification.article: "reads a SIREN zoo (zoos/siren), trains for 20 epochs",
        Docs_Tasks_INREditing.article: "reads a SIREN zoo (zoos/siren), trains for 20 epochs",
    ]

    @Test func generatedFilesAreCurrent() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [repositoryRoot.appendingPathComponent("Scripts/doc-snippets.sh").path, "--check"]
        let output = Pipe()
        p.standardOutput = output
        p.standardError = output
        try p.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
    }

    /// Every article with compiled examples is either run or listed with the reason it is not.
    @Test func everyArticleIsRunOrExplained() throws {
        let generated = try FileManager.default.contentsOfDirectory(
            at: repositoryRoot.appendingPathComponent("Tests/DocSnippetTests/Generated"), includingPropertiesForKeys: nil)
        var articles: Set<String> = []
        for file in generated where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            let match = try #require(text.firstMatch(of: /static let article = "([^"]+)"/), "\(file.lastPathComponent)")
            articles.insert(String(match.output.1))
        }
        #expect(articles.count >= 10)
        let classified = Set(Self.runnableArticles().map(\.article)).union(Self.compiledOnly.keys)
        #expect(articles == classified, "run or explain: \(articles.symmetricDifference(classified).sorted())")
    }

    @Test func runnableExamplesRun() {
        for (article, run) in Self.runnableArticles() {
            do {
                try run()
            } catch {
                Issue.record("\(article): \(error)")
            }
        }
    }

    /// A block marked `<!-- file: PATH -->` must be exactly the file PATH, and every file of the
    /// client package must be shown, so `Docs/UsingSwiftNFN.md` cannot drift from the package
    /// that `make test` builds and runs.
    @Test func shownFilesEqualTheRepositoryFiles() throws {
        let shown = try Self.shownFiles()
        #expect(!shown.isEmpty)
        for (path, block) in shown {
            let file = try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
            #expect(block == file, "the block shown as \(path) differs from the file")
        }
        let example = repositoryRoot.appendingPathComponent("Examples/ClientPackage")
        // Hidden folders skipped: the package's own .build holds its dependencies' sources.
        let files = try #require(FileManager.default.enumerator(at: example, includingPropertiesForKeys: nil,
                                                                options: [.skipsHiddenFiles]))
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
            .map { String($0.standardizedFileURL.path.dropFirst(repositoryRoot.standardizedFileURL.path.count + 1)) }
        #expect(files.count >= 2)
        for path in files { #expect(shown[path] != nil, "\(path) is not shown in any article") }
    }

    /// The blocks that follow a `<!-- file: PATH -->` line, by PATH, from README.md and Docs/.
    static func shownFiles() throws -> [String: String] {
        var articles = [repositoryRoot.appendingPathComponent("README.md")]
        let docs = try #require(FileManager.default.enumerator(at: repositoryRoot.appendingPathComponent("Docs"),
                                                                 includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]))
        articles += docs.compactMap { $0 as? URL }.filter { $0.pathExtension == "md" }
        var shown: [String: String] = [:]
        for article in articles {
            let lines = try String(contentsOf: article, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            var i = 0
            while i < lines.count {
                if let m = lines[i].wholeMatch(of: /<!-- file: (\S+) -->\s*/), i + 1 < lines.count, lines[i + 1].hasPrefix("```") {
                    var j = i + 2
                    var body = ""
                    while j < lines.count, !lines[j].hasPrefix("```") { body += lines[j] + "\n"; j += 1 }
                    shown[String(m.output.1)] = body
                    i = j
                }
                i += 1
            }
        }
        return shown
    }

    /// The numbers the new articles quote, recomputed.
    @Test func quotedNumbersHold() throws {
        var rng = SeededGenerator(seed: 0)
        #expect(MLP(widths: [784, 32, 32, 10], rng: &rng).parameterCount == 26_506)
        #expect(SIREN(inputs: 2, hiddenWidths: [32, 32], outputs: 1, rng: &rng).parameterCount == 1_185)
    }
}
