import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One database of one shard: the table plus the list of entries that carry
/// an expiry, which the active expiry cycle samples from as Redis samples its
/// expires dict. Touched only by the owning worker thread.
public final class Keyspace {
    public var table = HashTable()
    /// Entries with an expiry; each such entry stores its index here.
    var expiring: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    var expiringCap = 16
    public private(set) var expiringCount = 0
    /// Keys removed by lazy or active expiry (INFO stats expired_keys).
    public var expiredKeys = 0
    /// Keys removed to stay under maxmemory (INFO stats evicted_keys).
    public var evictedKeys = 0
    /// Bumped by every change to an entry: WATCH compares it around a write
    /// command to tell a real modification from a no-op (SET NX on a key that exists).
    public var mutations = 0
    /// The active expiry cycle's samples.
    var random = ShardRandom()
    /// The shard's event log (nil in unit tests) and this keyspace's db
    /// number, for `new` and `expired` events.
    public var events: KeyEvents?
    public var index = 0
    /// The running background snapshot of this keyspace, until its walk is
    /// done: every change below first hands it the entry it is about to
    /// change (Storage/KeyspaceSnapshot.swift). Nil: one load and a branch.
    @usableFromInline var snapshot: KeyspaceSnapshot?
    /// Outside a snapshot every entry's `snapMark` equals this; a snapshot
    /// starts by flipping it, so "not yet serialized" is one compare.
    public internal(set) var snapParity = false
    /// Set while appendonly is on (Storage/DeletionLog.swift).
    public var deletions: DeletionLog?

    public init() {
        expiring = .allocate(capacity: 16)
    }

    deinit {
        table.removeAll()
        table.deallocate()
        expiring.deallocate()
    }

    public var count: Int { table.count }

    /// While CLIENT PAUSE (WRITE or ALL) is in force: its end, wall-clock
    /// ms (0: no pause). Lazy expiry then reports an expired key missing but
    /// keeps it, as Redis 7.0's expireIfNeeded keeps the dataset constant
    /// while clients are paused; it goes after the pause.
    public static let expiryPausedUntil = Atomic<Int64>(0)

    /// The live slot for `key`, or -1. An expired key is deleted on the way
    /// (lazy expiry), unless a pause keeps it.
    @inlinable
    public func find(_ key: UnsafePointer<UInt8>, _ n: Int, hash: UInt64, now: Int64) -> Int {
        let i = table.find(key, n, hash: hash)
        if i >= 0 {
            let e = table.entry(at: i)
            // Any handler may change what it found in place.
            if let s = snapshot { s.preserve(e) }
            if e.hasExpire && e.expireAt <= now {
                if now < Keyspace.expiryPausedUntil.load(ordering: .relaxed) { return -1 }
                noteExpired(e)
                remove(at: i)
                expiredKeys += 1
                return -1
            }
        }
        return i
    }

    public func noteExpired(_ e: Entry) {
        let k = e.key
        deletions?.note(db: index, evicted: false, k.baseAddress!, k.count)
        guard let ev = events else { return }
        ev.note(.expired, "expired", db: index, k.baseAddress!, k.count)
    }

    /// Eviction (maxmemory) calls this for an entry it is about to remove
    /// (`evicted`, and an invalidation for clients tracking the key).
    /// `Worker.performEvictions` publishes what it logged before it
    /// returns: before the command that made room runs, or from cron.
    public func noteEvicted(_ e: Entry) {
        let k = e.key
        deletions?.note(db: index, evicted: true, k.baseAddress!, k.count)
        guard let ev = events else { return }
        ev.note(.evicted, "evicted", db: index, k.baseAddress!, k.count)
    }

    /// Redis's dbAdd fires `new`.
    @inline(__always) func noteNew(_ key: UnsafePointer<UInt8>, _ n: Int) {
        guard let ev = events, !ev.muteNew else { return }
        ev.note(.new, "new", db: index, key, n)
    }

    /// Without expiry checks: for the active cycle and for iteration.
    @inlinable public func entry(at i: Int) -> Entry { table.entry(at: i) }

    /// Stores `e` in the existing slot `i`, or inserts it when `i` is -1.
    /// Frees the entry it replaces. Returns the slot.
    @discardableResult
    public func put(_ e: Entry, at i: Int, hash: UInt64) -> Int {
        mutations &+= 1
        if i >= 0, let s = snapshot { s.preserve(table.entry(at: i)) }
        e.snapMark = snapParity
        if i >= 0 {
            let old = table.entry(at: i)
            // Redis's dbOverwrite keeps the LFU counter of the value it replaces.
            if old != e && AccessTracking.lfu.load(ordering: .relaxed) { e.lru = old.lru }
            if old.hasExpire { unlistExpiring(old) }
            table.replace(at: i, with: e)
            if old != e { old.free() }
            if e.hasExpire { listExpiring(e) }
            return i
        }
        let k = e.key
        // A write that was already under way when a pause began may insert
        // over an expired key the pause kept: that key expires first.
        if Keyspace.expiryPausedUntil.load(ordering: .relaxed) != 0 {
            let twin = table.find(k.baseAddress!, k.count, hash: hash)
            if twin >= 0 {
                noteExpired(table.entry(at: twin))
                remove(at: twin)
                expiredKeys += 1
            }
        }
        let s = table.insert(e, hash: hash)
        if e.hasExpire { listExpiring(e) }
        noteNew(k.baseAddress!, k.count)
        return s
    }

    /// Deletes and frees the entry in slot `i`.
    public func remove(at i: Int) {
        mutations &+= 1
        let e = table.entry(at: i)
        if let s = snapshot { s.preserve(e) }
        if e.hasExpire { unlistExpiring(e) }
        table.remove(at: i)
        e.free()
    }

    /// Takes the entry out of slot `i` without freeing it (MOVE, RENAME).
    public func detach(at i: Int) -> Entry {
        mutations &+= 1
        let e = table.entry(at: i)
        if let s = snapshot { s.preserve(e) }
        if e.hasExpire { unlistExpiring(e) }
        table.remove(at: i)
        return e
    }

    /// Rebuilds the entry in slot `i` as a compact collection of `type` whose
    /// payload is the `length` bytes `body` writes; key, TTL and LRU stay.
    /// The old entry is still readable inside `body` (an encoder copies from
    /// it) and is freed afterwards.
    public func rewriteCompact(at i: Int, type: ValueType, length: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        let old = table.entry(at: i)
        let k = old.key
        let (e, off) = Entry.makeCompact(type: type, key: k.baseAddress!, keyLen: k.count, length: length,
                                         expireAt: old.expireAt, lru: old.lru)
        body(e.raw + off)
        put(e, at: i, hash: 0)
    }

    /// A new key holding a compact collection; returns its slot.
    @discardableResult
    public func insertCompact(key: UnsafePointer<UInt8>, _ keyLen: Int, hash: UInt64, type: ValueType, length: Int,
                              lru: UInt32, _ body: (UnsafeMutableRawPointer) -> Void) -> Int {
        let (e, off) = Entry.makeCompact(type: type, key: key, keyLen: keyLen, length: length, expireAt: -1, lru: lru)
        body(e.raw + off)
        return put(e, at: -1, hash: hash)
    }

    /// Replaces the value in slot `i` (or inserts when `i` is -1) with an
    /// object of `type`, keeping key, TTL and LRU of an existing entry.
    @discardableResult
    public func putObject(_ o: ValueObject, type: ValueType, at i: Int, key: UnsafePointer<UInt8>, _ keyLen: Int,
                          hash: UInt64, lru: UInt32) -> Int {
        if i >= 0 {
            let old = table.entry(at: i)
            let e = Entry.makeObject(type: type, key: key, keyLen: keyLen, object: o, expireAt: old.expireAt, lru: old.lru)
            return put(e, at: i, hash: hash)
        }
        return put(Entry.makeObject(type: type, key: key, keyLen: keyLen, object: o, expireAt: -1, lru: lru), at: -1, hash: hash)
    }

    /// Sets or clears (`at` < 0) the expiry of the entry in slot `i`.
    public func setExpire(at i: Int, _ at: Int64) {
        let e = table.entry(at: i)
        mutations &+= 1
        if let s = snapshot { s.preserve(e) }
        if e.hasExpire && at >= 0 {
            e.expireAt = at
            return
        }
        if !e.hasExpire && at < 0 { return }
        let n = e.withExpire(at)
        n.snapMark = snapParity
        if e.hasExpire { unlistExpiring(e) }
        table.replace(at: i, with: n)
        e.free()
        if n.hasExpire { listExpiring(n) }
    }

    func listExpiring(_ e: Entry) {
        if expiringCount == expiringCap {
            let n = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: expiringCap * 2)
            n.update(from: expiring, count: expiringCount)
            expiring.deallocate()
            expiring = n
            expiringCap *= 2
        }
        e.expireIndex = expiringCount
        expiring[expiringCount] = e.raw
        expiringCount += 1
    }

    func unlistExpiring(_ e: Entry) {
        let i = e.expireIndex
        expiringCount -= 1
        if i != expiringCount {
            let last = Entry(expiring[expiringCount]!)
            expiring[i] = last.raw
            last.expireIndex = i
        }
    }

    /// Redis's active expiry: sample 20 keys with a TTL, delete the expired
    /// ones, and go again while more than a quarter were expired and time is
    /// left. Returns the number deleted.
    public func activeExpireCycle(now: Int64, budgetNanos: Int, clock: () -> Int) -> Int {
        var deleted = 0
        let start = clock()
        var rounds = 0
        while expiringCount > 0 {
            let sample = min(20, expiringCount)
            var expired = 0
            for _ in 0..<sample {
                if expiringCount == 0 { break }
                let e = Entry(expiring[Int.random(in: 0..<expiringCount, using: &random)]!)
                if e.expireAt <= now {
                    noteExpired(e)
                    let k = e.key
                    let slot = table.find(k.baseAddress!, k.count, hash: hashBytes(k.baseAddress!, k.count))
                    if slot >= 0 { remove(at: slot) }
                    expired += 1
                }
            }
            deleted += expired
            rounds += 1
            if expired * 4 <= sample { break }
            if rounds % 16 == 0 && clock() - start > budgetNanos { break }
        }
        expiredKeys += deleted
        return deleted
    }

    /// Average remaining TTL in ms over a sample, for INFO keyspace avg_ttl.
    public func averageTTL(now: Int64) -> Int {
        if expiringCount == 0 { return 0 }
        let n = min(expiringCount, 100)
        // Double: a few expiries near the Int64 limit must not overflow the sum.
        var sum = 0.0
        for i in 0..<n { sum += Double(max(0, Entry(expiring[i]!).expireAt &- now)) }
        return Int(min(sum / Double(n), Double(Int64.max / 2)))
    }

    public func removeAll() {
        mutations &+= 1
        if let s = snapshot { s.preserveAll(self) }
        table.removeAll()
        expiringCount = 0
    }
}

/// All databases of one shard.
public final class ShardStore {
    public private(set) var dbs: [Keyspace]
    /// Changes beyond the keyspace's own writes (SADD of three new members:
    /// two more), so `dirty` counts as Redis's server.dirty does.
    public var dirtyExtra = 0

    /// Redis's server.dirty, as a running total: every keyspace write that
    /// was not an expiry or an eviction, plus what handlers added. INFO and
    /// SAVE subtract the total at the last save.
    public var dirty: Int {
        var n = dirtyExtra
        for ks in dbs { n = n &+ ks.mutations &- ks.expiredKeys &- ks.evictedKeys }
        return n
    }

    /// Keyspace events not yet published.
    public let events: KeyEvents
    /// Keys tracking clients read here (CLIENT TRACKING).
    public let tracking = TrackingTable()
    /// Expiries and evictions to log while appendonly is on.
    public var deletions: DeletionLog? {
        didSet { for ks in dbs { ks.deletions = deletions } }
    }

    public init(databases: Int, notify: NotifySwitch = NotifySwitch()) {
        dbs = (0..<databases).map { _ in Keyspace() }
        events = KeyEvents(config: notify)
        for (n, ks) in dbs.enumerated() {
            ks.events = events
            ks.index = n
        }
    }

    public func swap(_ a: Int, _ b: Int) {
        dbs.swapAt(a, b)
        dbs[a].index = a
        dbs[b].index = b
    }
}
