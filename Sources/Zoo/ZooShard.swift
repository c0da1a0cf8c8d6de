import Foundation

/// One of `count` deterministic parts of a zoo's member ids, for spreading generation over
/// machines (a Slurm job array: `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
///
/// `index` is 0-based (`0 ≤ index < count`). With N members:
/// - ``Strategy/contiguous`` (default): ids `⌊index·N/count⌋ ..< ⌊(index+1)·N/count⌋` — sizes differ
///   by at most one;
/// - ``Strategy/strided``: ids `i` with `i mod count == index`.
///
/// Either way the shards partition `0..<N`, and because a member depends only on (zoo seed, id),
/// merging the shard zoos gives exactly the zoo a single run would.
public struct ZooShard: Codable, Sendable, Equatable, CustomStringConvertible {
    /// How ids are dealt to shards.
    public enum Strategy: String, Codable, Sendable, CaseIterable {
        case contiguous, strided
    }

    /// The 0-based shard index k.
    public var index: Int
    /// The number of shards n.
    public var count: Int
    /// How ids are dealt.
    public var strategy: Strategy

    /// - Throws: ``ZooError/invalidSpec(_:)`` unless `0 ≤ index < count ≤` ``ZooLimits/members``
    ///   (more shards than members could ever be are nonsense, and the bound keeps
    ///   `index × members` in ``memberIDs(of:)`` far from overflowing).
    public init(index: Int, count: Int, strategy: Strategy = .contiguous) throws {
        guard count >= 1, index >= 0, index < count else {
            throw ZooError.invalidSpec("shard \(index)/\(count): need 0 ≤ k < n (k is 0-based)")
        }
        guard count <= ZooLimits.members else {
            throw ZooError.invalidSpec("shard \(index)/\(count): at most \(ZooLimits.members) shards")
        }
        self.index = index; self.count = count; self.strategy = strategy
    }

    enum CodingKeys: String, CodingKey { case index, count, strategy }

    /// Decodes a shard and checks it like ``init(index:count:strategy:)``: a shard read from
    /// `zoo.json` is as untrusted as one typed on the command line.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(index: try c.decode(Int.self, forKey: .index), count: try c.decode(Int.self, forKey: .count),
                      strategy: try c.decode(Strategy.self, forKey: .strategy))
    }

    /// Parses `"k/n"`.
    public init(parsing text: String, strategy: Strategy = .contiguous) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ZooError.invalidSpec("shard '\(text)' is not of the form k/n (0-based k, e.g. 0/4)")
        }
        try self.init(index: k, count: n, strategy: strategy)
    }

    /// `"k/n"`, plus the strategy when strided.
    public var description: String { "\(index)/\(count)" + (strategy == .strided ? " (strided)" : "") }

    /// This shard's member ids among `0..<members`, ascending.
    public func memberIDs(of members: Int) -> [Int] {
        switch strategy {
        case .contiguous:
            return Array((index * members / count)..<((index + 1) * members / count))
        case .strided:
            return Array(stride(from: index, to: members, by: count))
        }
    }
}
