import Foundation
import SwiftNFN

/// Forward + backward of each metanetwork family on a batch of 32 zoo weight sets, beside the same
/// model written in PyTorch (Benchmarks/python/*_reference.py, same sizes) in alternating rounds.
struct MetanetworkCase {
    var name: String
    var script: String
    var pythonCases: [String]?
    var pythonExtra: [String]
    var pythonKey: String
    var step: () -> Void
}

func smallCNNZooBatch(_ batch: Int, rng: inout SeededGenerator) -> WeightSpaceFeatures {
    let arch = FeedforwardArchitecture.smallCNNZoo()
    let w = (0..<arch.layerCount).map { Tensor.normal([batch, 1] + arch.weightShape(layer: $0), std: 0.3, rng: &rng) }
    let b = (0..<arch.layerCount).map { Tensor.normal([batch, 1] + arch.biasShape(layer: $0), std: 0.1, rng: &rng) }
    return WeightSpaceFeatures(unchecked: w, biases: b)
}

func forwardBackward(_ model: Module & WeightSpaceModel, _ u: WeightSpaceFeatures) -> () -> Void {
    { _ = model.lossAndGradients { tape in model(WeightSpaceVariables(u, tape: tape)).sum() } }
}

func metanetworkCases(pythonDirectory: String, rng: inout SeededGenerator) throws -> [MetanetworkCase] {
    let arch = FeedforwardArchitecture.smallCNNZoo()
    let u = smallCNNZooBatch(32, rng: &rng)
    let hnp = try NFNPredictor(kind: .hnp, architecture: arch, hiddenChannels: [16, 16, 16], headHidden: 1000, rng: &rng)
    let nft = try NFTPredictor(architecture: arch, configuration: .init(channels: 16, blocks: 2, heads: 2, poolQueries: 4,
                                                                        poolDimension: 16, headHidden: 64), rng: &rng)
    let mono = try MonomialPredictor(architecture: arch, configuration: .init(kind: .positiveScaling, hiddenChannels: [16, 16, 16]),
                                     rng: &rng)
    let gnn = try GraphNNPredictor(architecture: arch, configuration: .init(dimension: 32, layers: 4, headHidden: 256), rng: &rng)
    var tconfig = TransformerNFNConfiguration()
    tconfig.hiddenChannels = [10]
    let tnfn = TransformerNFNPredictor(architecture: SmallTransformer.Configuration(), configuration: tconfig, rng: &rng)
    let members = (0..<32).map { _ in TransformerWeightSpaceFeatures(model: SmallTransformer(initStandardDeviation: 0.3, rng: &rng)) }
    let t = try TransformerWeightSpaceFeatures.batched(members)
    let inr2array = try inr2arrayReconstructionStep(rng: &rng)
    return [
        MetanetworkCase(name: "HNP predictor (16,16,16; head 1000), 32 Small-CNN-Zoo nets, fwd+bwd",
                        script: "\(pythonDirectory)/permutation_reference.py", pythonCases: ["nfn_hnp_small_cnn_zoo_fwd_bwd"],
                        pythonExtra: [], pythonKey: "nfn_hnp_small_cnn_zoo_fwd_bwd", step: forwardBackward(hnp, u)),
        MetanetworkCase(name: "NFT predictor (16 ch, 2 blocks, 2 heads), 32 Small-CNN-Zoo nets, fwd+bwd",
                        script: "\(pythonDirectory)/nft_reference.py", pythonCases: ["nft_predictor_cnn_zoo"],
                        pythonExtra: [], pythonKey: "nft_predictor_cnn_zoo", step: forwardBackward(nft, u)),
        MetanetworkCase(name: "Monomial-NFN predictor (16,16,16), 32 Small-CNN-Zoo nets, fwd+bwd",
                        script: "\(pythonDirectory)/monomial_reference.py", pythonCases: nil,
                        pythonExtra: [], pythonKey: "*", step: forwardBackward(mono, u)),
        MetanetworkCase(name: "GraphNN predictor (d 32, 4 layers; head 256), 32 Small-CNN-Zoo nets, fwd+bwd",
                        script: "\(pythonDirectory)/graph_nn_reference.py", pythonCases: ["graph_nn_small_cnn_zoo_fwd_bwd"],
                        pythonExtra: [], pythonKey: "graph_nn_small_cnn_zoo_fwd_bwd", step: forwardBackward(gnn, u)),
        MetanetworkCase(name: "Transformer-NFN predictor (10 ch), 32 Small-Transformer-Zoo nets, fwd+bwd",
                        script: "\(pythonDirectory)/transformer_nfn_reference.py", pythonCases: nil,
                        pythonExtra: ["--channels", "10", "--formulation", "fused"], pythonKey: "*",
                        step: { _ = tnfn.lossAndGradients { tape in tnfn(TransformerWeightSpaceVariables(t, tape: tape)).sum() } }),
        MetanetworkCase(name: "INR2ARRAY (NFT, standard) encoder+decoder reconstruction MSE, 32 SIRENs 2-32-32-1 (28×28, M = 16), fwd+bwd",
                        script: "\(pythonDirectory)/inr2array_reference.py", pythonCases: ["inr2array_nft_reconstruction"],
                        pythonExtra: [], pythonKey: "inr2array_nft_reconstruction", step: inr2array),
    ]
}

/// The INR2ARRAY autoencoder's training step: render the 32 SIRENs (the target), encode, decode
/// the 16 patches of each, MSE, backward — what inr2array_reference.py times.
func inr2arrayReconstructionStep(rng: inout SeededGenerator) throws -> () -> Void {
    let arch = try FeedforwardArchitecture.siren(widths: [2, 32, 32, 1])
    let model = try INR2ArrayKind.nft.make(architecture: arch, imageHeight: 28, imageWidth: 28, classes: 10, rng: &rng)
    let w = (0..<arch.layerCount).map { Tensor.normal([32, 1] + arch.weightShape(layer: $0), std: $0 == 0 ? 0.5 : 0.05, rng: &rng) }
    let b = (0..<arch.layerCount).map { Tensor.normal([32, 1] + arch.biasShape(layer: $0), std: $0 == 0 ? 0.5 : 0.05, rng: &rng) }
    let u = WeightSpaceFeatures(unchecked: w, biases: b)
    return {
        _ = try! model.lossAndGradients { tape in
            let target = SIRENRenderer.images(WeightSpaceVariables(u), height: 28, width: 28).value
            return try model.reconstructionLoss(WeightSpaceVariables(u, tape: tape), targets: target)
        }
    }
}
