import Training
import Metanetworks

extension MetanetworkTrainingConfiguration {
    /// The recipe, model size and split sizes as text, by key — the part of
    /// ``ModelResult/configuration`` every task shares (each adds its own keys). The keys and their
    /// text come from ``ExperimentConfiguration/keys`` (those marked as recipe keys).
    public func reportEntries(size: MetanetworkKind.Size, split: DataSplit) -> [String: String] {
        var run = ExperimentConfiguration(model: "", zoo: "")
        run.training = self
        run.size = size
        var entries: [String: String] = [:]
        for key in ExperimentConfiguration.keys where key.isRecipe {
            if let text = key.report(run) { entries[key.name] = text }
        }
        entries["train/val/test"] = "\(split.train.count)/\(split.validation.count)/\(split.test.count)"
        return entries
    }
}
