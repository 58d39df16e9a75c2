#if canImport(Glibc)
import Glibc
#endif
import Storage

/// Experiment switches for the cross-shard hop (issue 14), read once from
/// the environment so one build can be A/B-measured against itself.
enum HopTuning {
    /// RINGKV_HOP_HOLD=0 sends a connection's first replies while replies of
    /// a forwarded batch are still owed (two sends per pipeline).
    static let holdPartial: Bool = env("RINGKV_HOP_HOLD", 1) != 0
    /// RINGKV_HOP_SPIN_US: after sending batches to other shards, poll the
    /// inbox this long before blocking (0: off).
    static let spinNanos: Int = env("RINGKV_HOP_SPIN_US", 0) * 1000

    private static func env(_ name: String, _ dflt: Int) -> Int {
        guard let p = getenv(name) else { return dflt }
        return Int(atoi(p))
    }
}

extension Worker {
    /// Whether `c`'s output should wait for the forwarded batch at the head
    /// of its reply order: that batch comes back within an iteration or two,
    /// and its replies then leave in the same send instead of a second one
    /// (a pipeline that starts with a local key cost two sends with 2 shards).
    /// Only a plain batch qualifies: a blocked pop or a multi-stage command
    /// can wait for long, and what precedes it must not wait with it.
    @inline(__always) func awaitsHop(_ c: Client) -> Bool {
        guard HopTuning.holdPartial, c.ticketHead < c.tickets.count, !c.closing else { return false }
        let s = c.tickets[c.ticketHead]
        guard s.kind == .remote, let m = s.msg, !m.done else { return false }
        return m.carriesCommands && m.txid == 0
    }

    /// Polls the inbox for up to `HopTuning.spinNanos` after this iteration
    /// sent batches to other shards; whether something arrived.
    func spinForReplies() -> Bool {
        let end = monotonicNanos() + HopTuning.spinNanos
        repeat {
            for _ in 0..<64 {
                if handle.inbox.hasItems || handle.lane.hasItems { return true }
            }
        } while monotonicNanos() < end
        return false
    }
}
