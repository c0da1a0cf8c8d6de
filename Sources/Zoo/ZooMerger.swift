import Foundation

/// Joins zoo folders of the same spec (typically the shards of one zoo) into one folder.
///
/// The result is byte-for-byte the zoo a single uninterrupted run would have produced for the
/// members present: the same shard files, `members.jsonl` in canonical order, and a `zoo.json`
/// without a shard (`complete: true` when every member of the spec is present). Only complete
/// members are taken from each source; a member present in several sources must be identical in
/// all of them.
public enum ZooMerger {
    /// What a merge produced.
    public struct Report: Codable, Sendable {
        /// The merged folder.
        public var output: String
        /// The number of source folders.
        public var sources: Int
        /// Members in the merged zoo.
        public var members: Int
        /// Members in the spec.
        public var planned: Int
        /// Whether every member of the spec is present.
        public var complete: Bool
    }

    /// Merges `sources` into the new folder `output`.
    ///
    /// The output is assembled in a temporary folder next to `output` and renamed into place at
    /// the end, so a failed merge leaves nothing behind.
    ///
    /// - Throws: ``ZooError/specMismatch(file:detail:)`` naming the first source whose spec,
    ///   data fingerprint or image shape differs from the first source's, or a member that differs
    ///   between sources; ``ZooError/outputExists(file:)`` when `output` is a non-empty folder or a
    ///   file; the errors of ``ZooReader/init(directory:)`` for each source.
    public static func merge(sources: [URL], into output: URL) throws -> Report {
        guard let firstURL = sources.first else { throw ZooError.invalidSpec("merge needs at least one source zoo") }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: output.path, isDirectory: &isDirectory) {
            let names = isDirectory.boolValue ? ((try? fm.contentsOfDirectory(atPath: output.path)) ?? []) : ["file"]
            guard names.isEmpty else { throw ZooError.outputExists(file: output.path) }
        }
        let readers = try sources.map { try ZooReader(directory: $0) }
        let base = readers[0].manifest
        for (url, reader) in zip(sources, readers).dropFirst() {
            let m = reader.manifest
            let file = url.appendingPathComponent(ZooLayout.manifest).path
            let diff = m.spec.differences(from: base.spec)
            guard diff.isEmpty else {
                throw ZooError.specMismatch(file: file, detail: "spec differs from \(firstURL.path)'s in \(diff.joined(separator: ", ")); cannot merge")
            }
            guard m.dataFingerprint == base.dataFingerprint, m.imageShape == base.imageShape, m.classes == base.classes else {
                throw ZooError.specMismatch(file: file, detail: "trained on other data than \(firstURL.path) (data fingerprint \(m.dataFingerprint) vs \(base.dataFingerprint)); cannot merge")
            }
        }
        var chosen: [Int: (source: URL, checkpoints: [ZooCheckpoint])] = [:]
        for (url, reader) in zip(sources, readers) {
            for (member, lines) in Dictionary(grouping: reader.checkpoints, by: \.member) {
                if let previous = chosen[member] {
                    let a = try ZooFileSystem.read(previous.source.appendingPathComponent(ZooCheckpoint.shardName(member: member)))
                    let b = try ZooFileSystem.read(url.appendingPathComponent(ZooCheckpoint.shardName(member: member)))
                    guard previous.checkpoints == lines, a == b else {
                        throw ZooError.specMismatch(file: url.appendingPathComponent(ZooLayout.records).path,
                                                    detail: "member \(member) differs from the copy in \(previous.source.path); cannot merge")
                    }
                    continue
                }
                chosen[member] = (url, lines)
            }
        }

        let parent = output.deletingLastPathComponent()
        let staging = parent.appendingPathComponent("\(ZooFileSystem.temporaryPrefix)\(UUID().uuidString)-\(output.lastPathComponent)")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            for member in chosen.keys.sorted() {
                let name = ZooCheckpoint.shardName(member: member)
                try fm.copyItem(at: chosen[member]!.source.appendingPathComponent(name), to: staging.appendingPathComponent(name))
            }
            let all = chosen.values.flatMap(\.checkpoints)
            try ZooFileSystem.atomicWrite(try ZooRecordLog.canonicalData(all), to: staging.appendingPathComponent(ZooLayout.records))
            var manifest = base
            manifest.shard = nil
            manifest.complete = chosen.count == base.spec.members
            try ZooFileSystem.atomicWrite(try manifest.encoded(), to: staging.appendingPathComponent(ZooLayout.manifest))
            if fm.fileExists(atPath: output.path) { try fm.removeItem(at: output) }
            try ZooFileSystem.rename(staging, to: output)
        } catch {
            try? fm.removeItem(at: staging)
            if let e = error as? ZooError { throw e }
            throw ZooError.io(file: output.path, detail: "merge failed: \(error.localizedDescription)")
        }
        return Report(output: output.path, sources: sources.count, members: chosen.count,
                      planned: base.spec.members, complete: chosen.count == base.spec.members)
    }
}
