import Foundation

/// One key of a run configuration, declared once in ``ExperimentConfiguration/keys``: its name,
/// the property it sets (through a key path, so the training recipe's keys write straight into
/// ``ExperimentConfiguration/training``), and from those every way a key is used — decoding,
/// encoding, the saved YAML, report entries and command-line overrides.
public struct ConfigurationKey: Sendable {
    /// The snake_case name used in files, reports and error messages.
    public let name: String
    /// Whether a file must give it (`model`, `zoo`).
    public let isRequired: Bool
    /// A one-line description (`nfn train --help`, Docs).
    public let help: String
    /// Whether the key belongs to the training recipe and model size — the part of a result's
    /// configuration every task reports (``MetanetworkTrainingConfiguration/reportEntries(size:split:)``).
    public let isRecipe: Bool

    let decode: @Sendable (inout ExperimentConfiguration, KeyedDecodingContainer<AnyCodingKey>) throws -> Void
    let encode: @Sendable (ExperimentConfiguration, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void
    let text: @Sendable (ExperimentConfiguration) -> String?
    let report: @Sendable (ExperimentConfiguration) -> String?
    let parse: @Sendable (inout ExperimentConfiguration, String) throws -> Void

    /// A key for a property that always has a value.
    init<V: ConfigurationValue>(_ name: String, _ path: WritableKeyPath<ExperimentConfiguration, V> & Sendable,
                                required: Bool = false, recipe: Bool = false, help: String) {
        self.init(name, required: required, recipe: recipe, help: help, get: { $0[keyPath: path] }, set: { $0[keyPath: path] = $1 })
    }

    /// A key for an optional property (left out of files and reports when nil).
    init<V: ConfigurationValue>(_ name: String, _ path: WritableKeyPath<ExperimentConfiguration, V?> & Sendable, help: String) {
        self.init(name, required: false, recipe: false, help: help, get: { $0[keyPath: path] }, set: { $0[keyPath: path] = $1 })
    }

    /// The one place that turns a getter and a setter into every use of a key.
    private init<V: ConfigurationValue>(_ name: String, required: Bool, recipe: Bool, help: String,
                                        get: @escaping @Sendable (ExperimentConfiguration) -> V?,
                                        set: @escaping @Sendable (inout ExperimentConfiguration, V) -> Void) {
        self.name = name
        isRequired = required
        isRecipe = recipe
        self.help = help
        let key = AnyCodingKey(name)
        decode = { c, container in
            if container.contains(key) { set(&c, try V.decode(from: container, forKey: key)) }
        }
        encode = { c, container in try container.encodeIfPresent(get(c), forKey: key) }
        text = { get($0)?.configurationText }
        report = { get($0)?.reportText }
        parse = { c, text in
            guard let v = V(configurationText: text) else {
                throw ExperimentError.invalidConfiguration("\(name): '\(text)' is not \(V.expected)")
            }
            set(&c, v)
        }
    }
}

/// A coding key made from any string: configuration files are read key by key from
/// ``ExperimentConfiguration/keys`` and unknown keys are reported, not ignored.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ name: String) { stringValue = name }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
}
