import Commands
import RESP
import Storage

/// A client blocked by BLPOP and friends. Its worker owns the client and
/// the reply ticket; the shards that hold its keys keep it in their
/// `BlockRegistry`. Whoever moves `state` from waiting first decides how it
/// ends, so an element goes to it at most once even when it waits on keys
/// of several shards, and a timeout never races a wake-up.
final class BlockedClient: @unchecked Sendable {
    static let waiting = 0, claimed = 1, cancelled = 2

    let state = AtomicCounter(BlockedClient.waiting)
    /// INFO's blocked_clients counts a client once its wait is registered
    /// on a shard, as Redis counts it in blockClient (0 not yet, 1 counted,
    /// 2 ended). Counted earlier, when its worker sent the attempt, a client
    /// seen blocked could be overtaken by a later BLPOP whose registration
    /// landed first (2-entry inboxes).
    let counted = AtomicCounter(0)
    let worker: Int
    let plan: BlockingCommands.Plan
    /// The command as RESP: the serving shard parses its keys from it.
    let command: ByteBuf
    let db: Int
    let proto: Int
    /// Absolute ms; 0 waits forever.
    let deadline: Int64
    // Its worker only:
    weak var client: Client?
    var ticket: ReplyTicket?
    /// In its worker's `blockedWaits` (timeouts).
    var listed = false

    init(worker: Int, plan: BlockingCommands.Plan, args: ArgVector, db: Int, proto: Int, deadline: Int64) {
        self.worker = worker
        self.plan = plan
        self.db = db
        self.proto = proto
        self.deadline = deadline
        command = ByteBuf(capacity: 64)
        encodeCommand(command, args, from: 0)
    }

    @inline(__always) var isWaiting: Bool { state.value == BlockedClient.waiting }
    @inline(__always) func claim() -> Bool { state.compareExchange(BlockedClient.waiting, BlockedClient.claimed) }
    @inline(__always) func cancel() -> Bool { state.compareExchange(BlockedClient.waiting, BlockedClient.cancelled) }
}

/// A shard's blocked clients by key, first come first served (Redis's
/// db->blocking_keys), and the keys that got data while someone waits on
/// them (db->ready_keys). A coordinator holding this shard for a
/// transaction may mark keys ready; the owner serves them afterwards.
final class BlockRegistry {
    struct Waiter {
        let client: BlockedClient
        /// The argument that names this key.
        let arg: Int
        /// XREAD: the ID it reads after on this key, resolved when it
        /// blocked (`$` is the stream's last ID then, not when served).
        var after = StreamID.zero
    }
    private(set) var byKey: [DBKey: [Waiter]] = [:]
    var ready: [DBKey] = []

    var isEmpty: Bool { byKey.isEmpty }

    func add(_ k: DBKey, _ w: Waiter) { byKey[k, default: []].append(w) }

    /// A write touched `k`: if someone waits on it, it is ready to serve.
    func noteWrite(_ k: DBKey) {
        if byKey[k] != nil && !ready.contains(k) { ready.append(k) }
    }

    func waiters(_ k: DBKey) -> [Waiter]? { byKey[k] }

    func set(_ k: DBKey, _ list: [Waiter]) { byKey[k] = list.isEmpty ? nil : list }

    /// Drops the waiters that were served elsewhere, timed out or went away (cron).
    func purge() {
        for k in Array(byKey.keys) {
            var list = byKey[k]!
            list.removeAll { !$0.client.isWaiting }
            byKey[k] = list.isEmpty ? nil : list
        }
    }

    /// Blocked clients here, for INFO's blocked_keys-like figures.
    var count: Int { byKey.values.reduce(0) { $0 + $1.count } }
}
