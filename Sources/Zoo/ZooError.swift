import Foundation

/// Errors raised while specifying, generating, reading, merging, verifying or exporting a zoo.
///
/// Every case that concerns a file carries its path, and ``description`` starts with it, so a
/// message printed by `nfn` says which file was wrong and how. Nothing in the `Zoo` module traps
/// on bad input: corrupt, truncated or inconsistent files all end up here.
public enum ZooError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The spec or an option is invalid (a range, a count, an epoch list).
    case invalidSpec(String)
    /// A spec file cannot be read or decoded.
    case corruptSpec(file: String, detail: String)
    /// The folder has no `zoo.json`, so it is not a zoo.
    case notAZoo(directory: String)
    /// `zoo.json` cannot be decoded (bad JSON, unknown family, unknown format version, …).
    case corruptManifest(file: String, detail: String)
    /// A complete line of `members.jsonl` is malformed or inconsistent (line numbers start at 1).
    case corruptRecord(file: String, line: Int, detail: String)
    /// `members.jsonl` names a shard file that does not exist.
    case missingShard(file: String, referencedBy: String)
    /// A shard cannot be read (truncated, malformed safetensors, I/O failure).
    case corruptShard(file: String, detail: String)
    /// A shard lacks a tensor that `members.jsonl` refers to, or holds it in the wrong shape.
    case missingTensor(file: String, tensor: String)
    /// The zoo was created with another spec, shard or data set than the one given.
    case specMismatch(file: String, detail: String)
    /// Another process holds the folder's generation lock.
    case locked(file: String)
    /// The output location already holds something that would be overwritten.
    case outputExists(file: String)
    /// The operating system refused a read, write, rename or lock.
    case io(file: String, detail: String)
    /// A member could not be trained or rebuilt (bad hyper-parameters for the data, …).
    case memberFailed(member: Int, detail: String)
    /// A source being imported (``SmallCNNZooImporter``, ``PyTorchZooImporter``,
    /// ``TensorFileZooImporter``) is malformed or does not fit the family; nothing was written.
    case importFailed(file: String, detail: String)

    /// A one-line message that starts with the file concerned (when there is one).
    public var description: String {
        switch self {
        case .invalidSpec(let d): return "invalid zoo spec: \(d)"
        case .corruptSpec(let f, let d): return "\(f): invalid zoo spec file: \(d)"
        case .notAZoo(let d): return "\(d): not a zoo (no zoo.json)"
        case .corruptManifest(let f, let d): return "\(f): corrupt zoo manifest: \(d)"
        case .corruptRecord(let f, let l, let d): return "\(f):\(l): corrupt member record: \(d)"
        case .missingShard(let f, let r): return "\(f): shard file is missing (referenced by \(r))"
        case .corruptShard(let f, let d): return "\(f): corrupt weight shard: \(d)"
        case .missingTensor(let f, let t): return "\(f): missing or mis-shaped tensor '\(t)'"
        case .specMismatch(let f, let d): return "\(f): \(d)"
        case .locked(let f): return "\(f): another process is generating into this zoo (lock held)"
        case .outputExists(let f): return "\(f): already exists and is not empty; refusing to overwrite"
        case .io(let f, let d): return "\(f): \(d)"
        case .memberFailed(let m, let d): return "member \(m): \(d)"
        case .importFailed(let f, let d): return "\(f): cannot import: \(d)"
        }
    }
}

extension DecodingError {
    /// A short description with the JSON path of the failure, for error messages.
    var zooDescription: String {
        func path(_ c: [CodingKey]) -> String {
            let p = c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "top level" : String(p.drop(while: { $0 == "." }))
        }
        switch self {
        case .dataCorrupted(let c): return "\(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])): missing key"
        case .typeMismatch(_, let c): return "\(path(c.codingPath)): wrong type (\(c.debugDescription))"
        case .valueNotFound(_, let c): return "\(path(c.codingPath)): missing value"
        @unknown default: return "\(self)"
        }
    }
}

/// Describes any error for a message that already names its file.
func describe(_ error: Error) -> String {
    if let d = error as? DecodingError { return d.zooDescription }
    return "\(error)"
}
