import Foundation
import TensorIO

/// The parsed state of a zoo folder's `members.jsonl`.
///
/// A member is *complete* when it has exactly one line per checkpoint epoch of the spec (identical
/// repeated lines, which a resumed crash can leave, count once) and its shard file exists. In an
/// imported zoo (``ZooManifest/source``) one line is enough: its members have the checkpoints
/// their source had.
/// Anything else a crash can leave behind — a trailing line without its newline, the lines of a
/// member whose append was cut short, a shard without lines — is *ignored*, never an error.
/// What a crash cannot produce is an error naming the file and line: malformed JSON in the middle,
/// an unknown member id or epoch, conflicting lines for one checkpoint, a member whose lines
/// disagree on hyper-parameters, or a wrong shard or tensor name.
struct ZooRecordLog {
    /// Complete members' checkpoints in canonical order (by member, then epoch).
    var checkpoints: [ZooCheckpoint]
    /// Ids of members with some but not all lines (ignored).
    var incompleteMembers: [Int]
    /// Ids of members whose lines are complete but whose shard file is missing.
    var membersMissingShards: [Int]
    /// Whether the file ends in a partial line (ignored).
    var hasPartialTail: Bool
    /// Bytes up to and including the last newline.
    var completeLength: Int
    /// The complete lines in file order (for rewrites that keep the order).
    var lineCount: Int

    /// The set of complete member ids.
    var completeMemberIDs: Set<Int> { Set(checkpoints.map(\.member)) }

    /// Parses `members.jsonl` in `directory` (a missing file is an empty log).
    static func load(directory: URL, manifest: ZooManifest) throws -> ZooRecordLog {
        let url = directory.appendingPathComponent(ZooLayout.records)
        let file = url.path
        guard FileManager.default.fileExists(atPath: file) else {
            return ZooRecordLog(checkpoints: [], incompleteMembers: [], membersMissingShards: [],
                                hasPartialTail: false, completeLength: 0, lineCount: 0)
        }
        let data = try ZooFileSystem.read(url)
        let bytes = [UInt8](data)
        let completeLength = (bytes.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        let spec = manifest.spec
        let epochs = spec.training.sortedCheckpointEpochs
        let epochSet = Set(epochs)
        let decoder = JSONDecoder()
        var byMember: [Int: [Int: ZooCheckpoint]] = [:]
        var lineNumber = 0
        var start = 0
        while start < completeLength {
            let end = bytes[start..<completeLength].firstIndex(of: 0x0A) ?? completeLength
            lineNumber += 1
            defer { start = end + 1 }
            if end == start { continue }   // tolerate blank lines
            let record: ZooCheckpoint
            let line = Data(bytes[start..<end])
            if let problem = StructureScan.jsonProblem(line, maximumDepth: ZooFileSystem.maximumJSONDepth) {
                throw ZooError.corruptRecord(file: file, line: lineNumber, detail: "\(problem)")
            }
            do {
                record = try decoder.decode(ZooCheckpoint.self, from: line)
            } catch {
                throw ZooError.corruptRecord(file: file, line: lineNumber, detail: describe(error))
            }
            guard record.member >= 0, record.member < spec.members else {
                throw ZooError.corruptRecord(file: file, line: lineNumber, detail: "member \(record.member) is outside 0..<\(spec.members)")
            }
            guard epochSet.contains(record.epoch) else {
                throw ZooError.corruptRecord(file: file, line: lineNumber, detail: "epoch \(record.epoch) is not a checkpoint epoch \(epochs)")
            }
            guard record.shard == ZooCheckpoint.shardName(member: record.member),
                  record.tensorPrefix == ZooCheckpoint.tensorPrefix(member: record.member, epoch: record.epoch) else {
                throw ZooError.corruptRecord(file: file, line: lineNumber,
                                             detail: "shard '\(record.shard)' / tensor prefix '\(record.tensorPrefix)' do not match member \(record.member), epoch \(record.epoch)")
            }
            if let previous = byMember[record.member]?[record.epoch], previous != record {
                throw ZooError.corruptRecord(file: file, line: lineNumber,
                                             detail: "member \(record.member), epoch \(record.epoch) appears twice with different contents")
            }
            if let other = byMember[record.member]?.values.first, other.hyperparameters != record.hyperparameters {
                throw ZooError.corruptRecord(file: file, line: lineNumber,
                                             detail: "member \(record.member)'s lines disagree on hyper-parameters")
            }
            if let other = byMember[record.member]?.values.first, other.shardCRC32 != record.shardCRC32 {
                throw ZooError.corruptRecord(file: file, line: lineNumber,
                                             detail: "member \(record.member)'s lines disagree on shard_crc32 (\(other.shardCRC32 ?? "none"), \(record.shardCRC32 ?? "none"))")
            }
            if let crc = record.shardCRC32, crc.count != 8 || !crc.allSatisfy(\.isHexDigit) {
                throw ZooError.corruptRecord(file: file, line: lineNumber, detail: "shard_crc32 '\(crc)' is not 8 hexadecimal digits")
            }
            byMember[record.member, default: [:]][record.epoch] = record
        }
        var checkpoints: [ZooCheckpoint] = []
        var incomplete: [Int] = [], missing: [Int] = []
        // An imported zoo is written whole and renamed into place, so it has no crash leftovers,
        // and its members have the checkpoints their source had (a subset of the epochs).
        let imported = manifest.isImported
        for member in byMember.keys.sorted() {
            let lines = byMember[member]!
            guard lines.count == epochs.count || imported else { incomplete.append(member); continue }
            let shard = directory.appendingPathComponent(ZooCheckpoint.shardName(member: member))
            guard FileManager.default.fileExists(atPath: shard.path) else { missing.append(member); continue }
            checkpoints += epochs.compactMap { lines[$0] }
        }
        return ZooRecordLog(checkpoints: checkpoints, incompleteMembers: incomplete, membersMissingShards: missing,
                            hasPartialTail: completeLength < bytes.count, completeLength: completeLength,
                            lineCount: lineNumber)
    }

    /// The canonical file contents for `checkpoints`: one sorted-keys JSON object per line, in
    /// canonical order, each ending in a newline.
    static func canonicalData(_ checkpoints: [ZooCheckpoint]) throws -> Data {
        var data = Data()
        for c in checkpoints.sorted(by: ZooCheckpoint.canonicalOrder) {
            data.append(try c.jsonLine())
            data.append(0x0A)
        }
        return data
    }
}
