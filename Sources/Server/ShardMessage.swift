import RESP
import Commands

/// A hop between workers: a batch of RESP commands for the target shard and,
/// on the way back, their replies. Consecutive commands of one connection for
/// one shard share a message, so a pipeline costs one hop per shard, not one
/// per command. Messages are pooled by the worker that sends them.
///
/// A message with a `txid` is a transaction's part or stage: its first part
/// for a shard comes by that shard's `TxLane` with the `locks` it takes.
final class ShardMessage: @unchecked Sendable {
    enum Kind { case request, response }

    var kind = Kind.request
    /// What the target is asked to do. Only `.commands` goes through the
    /// command table; the rest are the shard-side steps of server commands
    /// and multi-stage commands, chosen by this tag, never by a name.
    var op = ShardOp.commands
    var source = 0
    var target = 0
    /// Only the source worker reads these.
    /// Its place among the messages its current sender queued
    /// (`Worker.enqueue`); overflow lists and publish barriers compare it.
    var sendSeq = 0
    var client: Client?
    var ticket: ReplyTicket?
    var db = 0
    var proto = 2
    /// The issuing client's address and name, for the target's SLOWLOG.
    var originAddr = ""
    var originName: [UInt8]? = nil
    /// The issuing client's id, and its CLIENT TRACKING token when its
    /// reads are to be tracked (0: not).
    var writer = 0
    var tracker = 0
    /// Keys its commands changed under a BCAST prefix, with the writer:
    /// its source sends them with the rest of the command's (Tracking.swift).
    var bcast: [([UInt8], Int)] = []
    /// The existence check of a split MSETNX (no `keymiss` events).
    var quietMiss = false
    let requests = ByteBuf(capacity: 1024)
    var commandCount = 0
    let replies = ByteBuf(capacity: 1024)
    /// End offset in `replies` of each command's reply.
    var replyEnds: [Int] = []
    /// Tickets that still read replies from this message.
    var refs = 0
    var done = false
    /// Transaction id (0: none), the part's intent locks, and whether this
    /// stage is the part's last on its shard (its locks go after it).
    var txid: UInt64 = 0
    var locks = LockSet()
    var txFinal = false
    /// A batch that waited for a locked key resumes here, and its waiting
    /// entry is released after the command it stopped at.
    var resumeAt = 0
    var parkItem: TxItem?
    var token: WatchToken?
    /// A blocking command's client (attempt, served, retry), and whether the
    /// attempt served it.
    var blocked: BlockedClient?
    var served = false
    /// `.publish`: per message carried, the PUBLISH waiting for its count
    /// (nil for a message nobody counts: EXEC, scripts, notifications).
    var publishers: [ReplyTicket?] = []

    init() { replyEnds.reserveCapacity(32) }

    func reset() {
        kind = .request
        op = .commands
        client = nil
        originName = nil
        writer = 0
        tracker = 0
        if !bcast.isEmpty { bcast.removeAll() }
        quietMiss = false
        ticket = nil
        requests.clear()
        replies.clear()
        replyEnds.removeAll(keepingCapacity: true)
        commandCount = 0
        refs = 0
        done = false
        txid = 0
        locks.clear()
        txFinal = false
        resumeAt = 0
        parkItem = nil
        token = nil
        blocked = nil
        served = false
        publishers.removeAll(keepingCapacity: true)
        if requests.capacity > 1 << 20 { requests.shrink(to: 1024) }
        if replies.capacity > 1 << 20 { replies.shrink(to: 1024) }
    }

    var carriesCommands: Bool {
        if case .commands = op { return true }
        return false
    }

    /// Replies of commands first...last.
    func replyRange(_ first: Int, _ last: Int) -> (Int, Int) {
        (first == 0 ? 0 : replyEnds[first - 1], replyEnds[last])
    }
}

/// A place in a connection's reply order. Replies leave strictly in request
/// order, so a reply that is ready waits behind tickets that are not.
final class ReplyTicket {
    enum Kind { case local, remote, fanout }
    var kind = Kind.local
    var ready = false
    /// CLIENT REPLY OFF/SKIP was in force: the reply is dropped, not sent.
    var discard = false
    /// Local replies produced while earlier tickets were outstanding, or a merged fan-out reply.
    let buf = ByteBuf(capacity: 128)
    // remote
    var msg: ShardMessage?
    var first = 0
    var last = 0
    // fan-out
    var parts: [ShardMessage] = []
    var pending = 0
    var merge = FanoutKind.sum
    var keyShards: [Int] = []
    /// A second round to send when the first comes back (MSETNX, pair commands).
    var nextParts: [ShardMessage] = []
    var stage = 0
    var pairSpec: CommandSpec?
    /// The original command, kept for a later stage (pair commands, INFO sections).
    let saved = ByteBuf(capacity: 64)
    var pairSource = 0
    var pairTarget = 0
    /// The transaction whose parts this ticket merges (0: none).
    var txid: UInt64 = 0
    /// EXEC: the queued block, run once its shards are held.
    var block: MultiState?
    /// Some part went by an inbox outside a transaction (counted in `plainInFlight`).
    var plain = false
    /// EVAL: the script waiting for its shards, and its connection.
    var script: ScriptJob?
    var scriptClient: Client?
    /// BLPOP and friends: the blocked client this ticket answers.
    var blocked: BlockedClient?
    /// PUBLISH: its connection, and the receivers counted so far.
    var publisher: Client?
    var receivers = 0
    /// BCAST keys of the parts that have answered, held until the last one
    /// does, so one command's keys leave in one message per prefix.
    var bcast: [([UInt8], Int)] = []

    func reset() {
        // Local and remote tickets, one or more per forwarded pipeline, set
        // only the fields above `parts`: the fan-out state is still clear.
        if kind != .fanout {
            kind = .local
            ready = false
            discard = false
            buf.clear()
            msg = nil
            if buf.capacity > 1 << 20 { buf.shrink(to: 128) }
            return
        }
        kind = .local
        ready = false
        discard = false
        buf.clear()
        msg = nil
        parts.removeAll(keepingCapacity: true)
        nextParts.removeAll(keepingCapacity: true)
        keyShards.removeAll(keepingCapacity: true)
        pending = 0
        stage = 0
        pairSpec = nil
        txid = 0
        block = nil
        plain = false
        script = nil
        scriptClient = nil
        blocked = nil
        publisher = nil
        receivers = 0
        if !bcast.isEmpty { bcast.removeAll() }
        saved.clear()
        if buf.capacity > 1 << 20 { buf.shrink(to: 128) }
    }
}

/// The typed hops between workers. Arguments that are not plain integers
/// ride in `requests` as one RESP array (keys, filters, an exported entry).
enum ShardOp {
    /// Client commands, as RESP, run through the command table in order.
    case commands
    case dbsize, flushdb, flushall, swapdb(Int, Int)
    /// This shard's INFO counters; RESETSTAT's reset.
    case stats, resetStats
    /// CLIENT LIST's clients of this worker; args: nothing, `ID id...` or `TYPE t`.
    case clientList
    /// CLIENT KILL; args: filter/value pairs.
    case clientKill(caller: Int)
    /// CLIENT KILL addr:port (the old form); args: [addr].
    case clientKillAddr
    case slowlogGet(count: Int), slowlogLen, slowlogReset
    /// DEBUG OBJECT on the key's shard; args: [key].
    case debugObject
    /// DEBUG DIGEST: per database a non-empty flag and the xor of its keys' digests.
    case debugDigest
    /// DEBUG DIGEST-VALUE; args: keys (20 bytes each back, zero when not here).
    case debugDigestValue
    /// MEMORY USAGE on the key's shard; args: [key].
    case memoryUsage(samples: Int)
    /// This worker's and shard's MEMORY STATS figures.
    case memoryStats
    /// Pair command stage 0: the source entry, serialised; args: [key].
    case export
    /// Stage 1: the command where the destination lives, with the source
    /// entry handed in; args: [blob, command...].
    case withImport(exists: Bool)
    /// Stage 2: delete the source a RENAME consumed; args: [key].
    case deleteExported
    /// A transaction part with no work of its own yet: it takes its locks
    /// and answers once it holds them (a pair command's destination, a shard
    /// EXEC borrows).
    case txHold
    /// The last stage of a part whose work is done or was called off.
    case txRelease
    /// WATCH of this shard's keys, for the token in the message; args: keys.
    case watch
    /// EXEC of a block whose keys all live on this shard: the queued
    /// commands as RESP, run in one step; the reply is EXEC's whole reply.
    case execBlock
    /// A script (or FCALL) whose declared keys all live on this shard, run
    /// here; args: [e|f, sha or function name], then the original command.
    case scriptCall(readOnly: Bool, numkeys: Int)
    /// A blocking command whose keys all live on this shard: serve it, or
    /// register its client here; args: the command.
    case blockAttempt
    /// To a blocked client's worker: its reply (in `requests`).
    case blockServed
    /// To a blocked client's worker: a cross-shard BLMOVE's source has data.
    case blockRetry
    /// CLIENT UNBLOCK for a client of this worker.
    case clientUnblock(id: Int, error: Bool)
    /// Pub/Sub messages for this worker's subscribers, in publish order;
    /// args: `[kind, channel, message]` arrays back to back. The reply is
    /// one integer per message: the receivers here.
    case publish
    /// CLIENT TRACKING invalidations for this worker's clients; args:
    /// `[client id, key]` (or `[client id]`: a flush's null; id 0: every
    /// tracking client) back to back. No reply.
    case invalidate
}

extension ShardOp {
    /// Steps that read or write a shard's data: inside an EXEC they run on
    /// the shard it holds; the rest read worker state and still travel.
    var touchesStore: Bool {
        switch self {
        case .commands, .dbsize, .flushdb, .flushall, .swapdb, .debugObject, .debugDigest, .debugDigestValue, .memoryUsage, .export, .withImport, .deleteExported,
             .txHold, .txRelease, .watch, .execBlock, .scriptCall, .blockAttempt:
            return true
        case .blockServed, .blockRetry, .clientUnblock, .publish, .invalidate:
            return false
        case .stats, .memoryStats, .resetStats, .clientList, .clientKill, .clientKillAddr, .slowlogGet, .slowlogLen, .slowlogReset:
            return false
        }
    }
}
