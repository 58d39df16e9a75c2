import Config
import Synchronization

/// Server-wide subscriber counts by channel, shard channel and pattern,
/// summed over every worker's clients. SUBSCRIBE and friends update it under
/// its lock; PUBSUB, INFO and a PUBLISH inside EXEC or a script read it.
/// A plain PUBLISH never does: it counts its receivers on the workers that
/// have subscribers (`WorkerHandle.subscriptions`), so the lock stays off
/// the publish path.
final class PubSubDirectory: Sendable {
    struct Tables: Sendable {
        var channels: [[UInt8]: Int] = [:]
        var shardChannels: [[UInt8]: Int] = [:]
        var patterns: [[UInt8]: Int] = [:]
    }

    private let tables = Mutex(Tables())

    enum Table { case channels, shardChannels, patterns }

    /// One client more (`delta` 1) or less (-1) on `name`.
    func add(_ table: Table, _ name: [UInt8], _ delta: Int) {
        tables.withLock { t in
            switch table {
            case .channels: Self.bump(&t.channels, name, delta)
            case .shardChannels: Self.bump(&t.shardChannels, name, delta)
            case .patterns: Self.bump(&t.patterns, name, delta)
            }
        }
    }

    private static func bump(_ d: inout [[UInt8]: Int], _ k: [UInt8], _ delta: Int) {
        let n = (d[k] ?? 0) + delta
        if n <= 0 { d.removeValue(forKey: k) } else { d[k] = n }
    }

    func read<R>(_ f: (Tables) -> R) -> R {
        tables.withLock { f($0) }
    }

    /// Receivers of a message on `channel` right now, on every worker:
    /// subscribers of the channel plus one per client per matching pattern.
    func receivers(_ channel: UnsafeBufferPointer<UInt8>, shard: Bool) -> Int {
        let key = Array(channel)
        return tables.withLock { t in
            if shard { return t.shardChannels[key] ?? 0 }
            var n = t.channels[key] ?? 0
            for (p, count) in t.patterns {
                if p.withUnsafeBufferPointer({ globMatch($0, channel) }) { n += count }
            }
            return n
        }
    }
}
