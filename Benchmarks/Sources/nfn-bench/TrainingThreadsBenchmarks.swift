import Foundation
import SwiftNFN

/// One optimizer step's gradient as `nfn train` computes it (``DataParallelGradients``, batch 32,
/// binary cross-entropy on 32 Small-CNN-Zoo nets) for the main job's standard predictors, on one
/// thread and on `threads` threads, interleaved. The ratio is the speed-up of the extra cores.
struct TrainingThreadsCase {
    var name: String
    var step: (Int) -> Void
}

func trainingThreadsCases(rng: inout SeededGenerator) throws -> [TrainingThreadsCase] {
    let arch = FeedforwardArchitecture.smallCNNZoo()
    let u = smallCNNZooBatch(32, rng: &rng)
    let targets = Tensor(shape: [32, 1], scalars: (0..<32).map { _ in rng.nextUnitFloat() })
    return try [MetanetworkKind.hnp, .nft].map { kind in
        let model = try kind.makePredictor(architecture: arch, size: .standard, rng: &rng)
        let batch = Array(0..<32)
        return TrainingThreadsCase(name: "nfn train step, \(kind.rawValue.uppercased()) (standard size), batch 32 Small-CNN-Zoo nets") { threads in
            _ = try? DataParallelGradients.lossAndGradients(model: model, batch: batch, threads: threads) { items, tape in
                let x = u.gathering(members: items)
                return Variable.binaryCrossEntropyWithLogits(logits: model(WeightSpaceVariables(x, tape: tape)),
                                                             targets: targets.gathering(items))
            }
        }
    }
}
