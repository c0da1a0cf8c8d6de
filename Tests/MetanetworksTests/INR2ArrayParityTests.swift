import Foundation
import Testing
import Tensors
import Autograd
import NeuralNetworks
import WeightSpace
import Metanetworks

/// INR2ARRAY (NFT encoder + patch-SIREN decoder) against the PyTorch formulation in
/// Benchmarks/python/inr2array_reference.py on identical parameters. The PyTorch outputs are a
/// committed fixture (Tests/Fixtures/inr2array_parity.json), so the test needs no Python; to
/// regenerate it, run this suite with INR2ARRAY_PARITY_DUMP=/tmp/dump.json, then
/// `python3 Benchmarks/python/inr2array_reference.py --fixture /tmp/dump.json Tests/Fixtures/inr2array_parity.json`.
@Suite struct INR2ArrayParityTests {
    static let siren = try! FeedforwardArchitecture.siren(widths: [2, 6, 5, 1])
    static let configuration = INR2Array.Configuration(
        encoder: .init(backbone: .nft, channels: 4, blocks: 2, heads: 2, latents: 4, latentDimension: 6),
        decoder: .init(sirenHiddenWidths: [5], frequency: 30, hypernetworkHidden: 7),
        classifier: .init(width: 4, blocks: 1, heads: 2, classes: 3))

    static func encode(_ t: Tensor) -> [String: Any] { ["shape": t.shape, "values": t.scalars.map(Double.init)] }
    static func decode(_ any: Any?) throws -> Tensor {
        let e = try #require(any as? [String: Any])
        let shape = try #require(e["shape"] as? [Int]), values = try #require(e["values"] as? [Double])
        return Tensor(shape: shape) { Float(values[$0]) }
    }

    @Test func latentsAndPatchesMatchThePyTorchFormulation() throws {
        var rng = SeededGenerator(seed: 2024)
        let model = try INR2Array(architecture: Self.siren, imageHeight: 8, imageWidth: 8, configuration: Self.configuration, rng: &rng)
        // Random (not near-initial) parameters, so every term contributes.
        for p in model.parameters { p.value = Tensor.normal(p.shape, std: 0.3, rng: &rng) }
        var ws: [Tensor] = [], bs: [Tensor] = []
        for i in 0..<Self.siren.layerCount {
            ws.append(Tensor.normal([3, 1] + Self.siren.weightShape(layer: i), std: i == 0 ? 0.5 : 0.2, rng: &rng))
            bs.append(Tensor.normal([3, 1] + Self.siren.biasShape(layer: i), std: 0.2, rng: &rng))
        }
        let u = try WeightSpaceFeatures(weights: ws, biases: bs)
        let latents = try model.checkedLatents(u)
        let patches = model.decoder(Variable(latents)).value

        if let dump = ProcessInfo.processInfo.environment["INR2ARRAY_PARITY_DUMP"] {
            let c = Self.configuration
            let object: [String: Any] = [
                "configuration": ["c": c.encoder.channels, "h": c.encoder.heads, "blocks": c.encoder.blocks, "m": c.encoder.latents,
                                  "d": c.encoder.latentDimension, "siren": [2] + c.decoder.sirenHiddenWidths + [1],
                                  "freq": Double(c.decoder.frequency), "patch": [model.grid.patchHeight, model.grid.patchWidth]],
                "params": Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, Self.encode($0.parameter.value)) }),
                "frequencies": Self.encode(try #require(model.encoder.projection.frequencies)),
                "weights": ws.map(Self.encode), "biases": bs.map(Self.encode),
                "latents": Self.encode(latents), "patches": Self.encode(patches),
            ]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: dump))
        }

        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/inr2array_parity.json").standardized
        let fixture = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let torchLatents = try Self.decode(fixture["latents"]), torchPatches = try Self.decode(fixture["patches"])
        #expect(torchLatents.shape == latents.shape && torchPatches.shape == patches.shape)
        let latentDev = FunctionalEquivalence.relativeDeviation(torchLatents, latents)
        let patchDev = FunctionalEquivalence.relativeDeviation(torchPatches, patches)
        #expect(latentDev < 1e-4, "latents deviate by \(latentDev)")
        #expect(patchDev < 1e-4, "patches deviate by \(patchDev)")
    }
}
