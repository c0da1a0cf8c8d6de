/// XGBoost's own model formats (both hold the trees and the learner configuration, and both are
/// read by every XGBoost binding).
public enum XGBoostModelFormat: String, Sendable, CaseIterable {
    /// Text JSON (`.json`): readable, about three times larger.
    case json
    /// Universal Binary JSON (`.ubj`): compact and exact.
    case ubj

    /// The file extension XGBoost recognises the format by.
    public var fileExtension: String { rawValue }
}
