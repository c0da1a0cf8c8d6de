import Foundation
import Training
import Metanetworks

/// A value a run-configuration key can hold: decoded from YAML/JSON, written back as YAML text
/// that reads back to the same value, and parsed from a command-line option's text.
public protocol ConfigurationValue: Codable, Equatable, Sendable {
    /// Parses command-line text (`--epochs 30`); nil when it is not a value of this type.
    init?(configurationText: String)
    /// The YAML text of the value (shortest round-tripping form for numbers; JSON-quoted strings).
    var configurationText: String { get }
    /// The value as plain text for reports (strings unquoted, lists comma-separated).
    var reportText: String { get }
    /// What a value looks like, for error messages ("an integer", "one of: …").
    static var expected: String { get }
    /// Decodes the value of `key`, with a message naming the key and listing valid names.
    static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> Self
}

extension ConfigurationValue {
    public var reportText: String { configurationText }

    public static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> Self {
        // The key is known to be present and non-null here, so a "value not found" (how Yams'
        // generic decoding reports a scalar of the wrong kind) is a type mismatch.
        do {
            return try container.decode(Self.self, forKey: key)
        } catch DecodingError.valueNotFound, DecodingError.typeMismatch {
            throw ExperimentError.invalidConfiguration("\(key.stringValue): expected \(expected)")
        }
    }
}

extension Int: ConfigurationValue {
    public init?(configurationText: String) { self.init(configurationText.trimmingCharacters(in: .whitespaces)) }
    public var configurationText: String { "\(self)" }
    public static var expected: String { "an integer" }
}

extension UInt64: ConfigurationValue {
    public init?(configurationText: String) { self.init(configurationText.trimmingCharacters(in: .whitespaces)) }
    public var configurationText: String { "\(self)" }
    public static var expected: String { "an integer" }
}

extension Float: ConfigurationValue {
    public init?(configurationText: String) { self.init(configurationText.trimmingCharacters(in: .whitespaces)) }
    public var configurationText: String { "\(self)" }
    public static var expected: String { "a number" }
}

extension Double: ConfigurationValue {
    public init?(configurationText: String) { self.init(configurationText.trimmingCharacters(in: .whitespaces)) }
    public var configurationText: String { "\(self)" }
    public static var expected: String { "a number" }
}

extension String: ConfigurationValue {
    public init?(configurationText: String) { self = configurationText }
    /// JSON-quoted, so paths with `: ` or `#` survive YAML.
    public var configurationText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(self)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
    public var reportText: String { self }
    public static var expected: String { "a string" }
}

extension Array: ConfigurationValue where Element == Int {
    /// Comma-separated integers, e.g. `1,2`.
    public init?(configurationText: String) {
        let parts = configurationText.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        self = parts.compactMap { $0 }
    }
    public var configurationText: String { "[\(map(String.init).joined(separator: ", "))]" }
    public var reportText: String { map(String.init).joined(separator: ",") }
    public static var expected: String { "a list of integers, e.g. 1,2" }
}

/// String-named choices (task, optimizer, model size): an unknown name is an error listing the
/// valid ones.
public protocol NamedConfigurationValue: ConfigurationValue, RawRepresentable, CaseIterable where RawValue == String {}

extension NamedConfigurationValue {
    public init?(configurationText: String) { self.init(rawValue: configurationText) }
    public var configurationText: String { rawValue }
    public static var expected: String { "one of: \(allCases.map(\.rawValue).joined(separator: ", "))" }

    public static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> Self {
        let name = try String.decode(from: container, forKey: key)
        guard let value = Self(rawValue: name) else {
            throw ExperimentError.invalidConfiguration(unknownName(name, key: key.stringValue))
        }
        return value
    }

    /// The message for an unknown name given for `key`.
    static func unknownName(_ name: String, key: String) -> String {
        "\(key): unknown \(key.replacingOccurrences(of: "_", with: " ")) '\(name)'; valid: \(allCases.map(\.rawValue).joined(separator: ", "))"
    }
}

extension ExperimentTask: NamedConfigurationValue {}
extension OptimizerKind: NamedConfigurationValue {}
extension MetanetworkKind.Size: NamedConfigurationValue {}

extension ExperimentTask {
    /// Task names are parsed by ``init(name:)``, whose message lists the valid tasks.
    public static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, forKey key: K) throws -> ExperimentTask {
        try ExperimentTask(name: try String.decode(from: container, forKey: key))
    }
}
