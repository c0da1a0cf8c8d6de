import Training
import Metanetworks

extension MetanetworkTrainingConfiguration {
    /// The recipe, model size and split sizes as text, by key — the part of
    /// ``ModelResult/configuration`` every task shares (each adds its own keys).
    public func reportEntries(size: MetanetworkKind.Size, split: DataSplit) -> [String: String] {
        ["epochs": "\(epochs)", "batch_size": "\(batchSize)", "learning_rate": "\(learningRate)",
         "optimizer": optimizer.rawValue, "weight_decay": "\(weightDecay)", "patience": "\(patience)",
         "seed": "\(seed)", "size": size.rawValue,
         "train/val/test": "\(split.train.count)/\(split.validation.count)/\(split.test.count)"]
    }
}

