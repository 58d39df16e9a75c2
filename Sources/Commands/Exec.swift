import RESP
import Storage

/// Counters a shard keeps for INFO stats; touched only by its owner thread.
public final class ShardStats: @unchecked Sendable {
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    /// Random draws of this shard's commands (SPOP, HRANDFIELD, RANDOMKEY, ...).
    public var random = ShardRandom()
    public init() {}

    /// A generator for one command.
    public func rng() -> ShardRandom { random.split() }
}

/// Everything a command handler may touch: its arguments, the reply being
/// built, and the one shard it runs on. Handlers change only `db` and the
/// result fields; the rest is settable for `reuse`, which is inlined.
public struct Exec {
    public var args: ArgVector
    public var reply: Reply
    public var store: ShardStore
    public var stats: ShardStats
    public var db: Int
    /// Milliseconds, fixed for the whole command as Redis fixes mstime() per call.
    public var now: Int64
    public var shard: Int
    public var shardCount: Int
    /// The reply's error prefix when the handler wrote an error (for errorstats).
    public var failed = false
    /// Cross-shard pair commands (RENAME, COPY, LCS, ...): when the source key
    /// lives on another shard, its entry is exported there and handed in here.
    /// `importMode` says the handler must read the source key from `imported`
    /// (nil = the source key does not exist) instead of the local keyspace.
    public var importMode = false
    public var imported: Entry? = nil
    /// Every shard's store, when a command whose keys span shards runs with
    /// those shards held for it (SMOVE, SINTERSTORE, ... across shards): key
    /// arguments then resolve to their owners' keyspaces (`keyspace(of:)`).
    public var lent: [ShardStore]? = nil
    /// A blocking command found nothing to serve and wrote no reply: the
    /// server blocks the client (Server/Blocking) or, inside EXEC or a
    /// script, replies the timeout's null.
    public var wouldBlock = false
    /// The command runs from a Lua script (Redis's CLIENT_SCRIPT): SORT then
    /// orders an unsorted set so the script's result is deterministic.
    public var fromScript = false
    /// The existence check of a split MSETNX: Redis looks its keys up for
    /// writing, so a missing one is no `keymiss`.
    public var quietMiss = false

    public init(args: ArgVector, reply: Reply, store: ShardStore, stats: ShardStats, db: Int, now: Int64,
                shard: Int, shardCount: Int) {
        self.args = args
        self.reply = reply
        self.store = store
        self.stats = stats
        self.db = db
        self.now = now
        self.shard = shard
        self.shardCount = shardCount
    }

    /// Readies a context the Server keeps per worker for the next call, as
    /// a fresh `Exec` would be. A reference is stored only when it changed:
    /// building an Exec per command retained and released its objects (21 of
    /// the 121 reference count calls of a MULTI, three SETs and EXEC on one
    /// shard, counted with callgrind).
    @inlinable
    public mutating func reuse(args: ArgVector, out: ByteBuf, proto: Int, store: ShardStore, stats: ShardStats,
                               db: Int, now: Int64, shard: Int, shardCount: Int) {
        if self.args !== args { self.args = args }
        if reply.buf !== out {
            reply = Reply(out, proto: proto)
        } else {
            reply.proto = proto
        }
        if self.store !== store { self.store = store }
        if self.stats !== stats { self.stats = stats }
        self.db = db
        self.now = now
        self.shard = shard
        self.shardCount = shardCount
        failed = false
        importMode = false
        imported = nil
        if lent != nil { lent = nil }
        wouldBlock = false
        fromScript = false
        quietMiss = false
    }

    /// Points the reply at `buf`, so a kept context holds no closed client's buffer.
    public mutating func releaseReply(to buf: ByteBuf) {
        if reply.buf !== buf { reply = Reply(buf, proto: reply.proto) }
    }

    @inlinable public var argc: Int { args.count }

    /// The command made `n` changes (Redis's server.dirty += n) where its
    /// one keyspace write counted one: SADD of three new members, RPUSH of three.
    @inline(__always) public func changed(_ n: Int) {
        if n > 1 { store.dirtyExtra &+= n - 1 }
    }
    @inlinable public subscript(i: Int) -> Arg { args[i] }
    @inlinable public var keyspace: Keyspace { store.dbs[db] }
    /// The access field of a key created now: the LRU clock, or under an LFU
    /// policy the initial counter (`AccessTracking`).
    @inlinable public var lru: UInt32 { AccessTracking.initial(now) }

    @inlinable public mutating func error(_ msg: StaticString) {
        failed = true
        reply.error(msg)
    }

    public mutating func error(string msg: String) {
        failed = true
        reply.error(string: msg)
    }

    /// The live slot of key argument `i` in the current db, or -1. Counts no
    /// hits or misses and leaves the LRU clock alone: see readSlot/writeSlot.
    @inlinable public func lookup(_ i: Int) -> Int {
        let a = args[i]
        let s = keyspace.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count), now: now)
        return s
    }

    @inlinable public func hash(_ i: Int) -> UInt64 {
        let a = args[i]
        return hashBytes(a.ptr, a.count)
    }
}

extension Exec {
    /// Redis's lookupKeyRead: the live slot of key argument `i` or -1. Counts
    /// a keyspace hit or miss (whatever the type) and touches the LRU clock
    /// unless `touch` is false (OBJECT, TYPE-like peeks).
    @inline(__always)
    public func readSlot(_ i: Int, hash h: UInt64, touch: Bool = true) -> Int {
        let a = args[i]
        let s = keyspace.find(a.ptr, a.count, hash: h, now: now)
        if s < 0 {
            stats.keyspaceMisses += 1
            noteMiss(i)
        } else {
            stats.keyspaceHits += 1
            if touch { keyspace.entry(at: s).touch(now, &stats.random) }
        }
        return s
    }

    @inline(__always)
    public func readSlot(_ i: Int, touch: Bool = true) -> Int { readSlot(i, hash: hash(i), touch: touch) }

    /// Redis's lookupKeyWrite: no hit/miss stats, touches the LRU clock.
    @inline(__always)
    public func writeSlot(_ i: Int, hash h: UInt64) -> Int {
        let a = args[i]
        let s = keyspace.find(a.ptr, a.count, hash: h, now: now)
        if s >= 0 { keyspace.entry(at: s).touch(now, &stats.random) }
        return s
    }

    @inline(__always)
    public func writeSlot(_ i: Int) -> Int { writeSlot(i, hash: hash(i)) }

    /// The entry for key argument `i` of a pair command (RENAME, COPY, LCS).
    /// In import mode argument 1 lives on another shard and arrives as
    /// `imported` (nil: missing); it may have expired in flight.
    public func pairEntry(_ i: Int, read: Bool) -> Entry? {
        if importMode && i == 1 {
            guard let e = imported, !(e.hasExpire && e.expireAt <= now) else {
                if read {
                    stats.keyspaceMisses += 1
                    noteMiss(i)
                }
                return nil
            }
            if read { stats.keyspaceHits += 1 }
            return e
        }
        let s = read ? readSlot(i) : writeSlot(i)
        return s < 0 ? nil : keyspace.entry(at: s)
    }
}

/// Redis's shared error replies, worded exactly as Redis 7.0 sends them.
public enum Err {
    public static let syntax: StaticString = "ERR syntax error"
    public static let wrongType: StaticString = "WRONGTYPE Operation against a key holding the wrong kind of value"
    public static let notInteger: StaticString = "ERR value is not an integer or out of range"
    public static let notFloat: StaticString = "ERR value is not a valid float"
    public static let overflow: StaticString = "ERR increment or decrement would overflow"
    public static let noSuchKey: StaticString = "ERR no such key"
    public static let outOfRange: StaticString = "ERR index out of range"
    public static let dbIndex: StaticString = "ERR DB index is out of range"
    public static let invalidExpire: StaticString = "ERR invalid expire time in 'set' command"
    public static let stringTooLong: StaticString = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    public static let noAuth: StaticString = "NOAUTH Authentication required."
}
