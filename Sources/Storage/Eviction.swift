/// maxmemory-policy, as Redis 7.0 names them.
public enum EvictionPolicy: UInt8, Sendable {
    case noeviction, allkeysLRU, allkeysLFU, allkeysRandom, volatileLRU, volatileLFU, volatileRandom, volatileTTL

    public init(name: String) {
        switch name {
        case "allkeys-lru": self = .allkeysLRU
        case "allkeys-lfu": self = .allkeysLFU
        case "allkeys-random": self = .allkeysRandom
        case "volatile-lru": self = .volatileLRU
        case "volatile-lfu": self = .volatileLFU
        case "volatile-random": self = .volatileRandom
        case "volatile-ttl": self = .volatileTTL
        default: self = .noeviction
        }
    }

    /// Candidates are every key, not only those with a TTL.
    public var allKeys: Bool { self == .allkeysLRU || self == .allkeysLFU || self == .allkeysRandom }
    public var isLFU: Bool { self == .allkeysLFU || self == .volatileLFU }
    public var isRandom: Bool { self == .allkeysRandom || self == .volatileRandom }
}

/// Picks and deletes keys of one shard under maxmemory, as Redis's
/// performEvictions does for its whole keyspace: random policies take a
/// random key of the next non-empty database in turn; the others sample
/// maxmemory-samples keys of every database into the eviction pool and
/// evict its best candidate, skipping candidates deleted since they were
/// pooled. Owned by one worker.
public final class Evictor {
    public let pool = EvictionPool()
    var random = ShardRandom()
    /// The database a random policy looks at next (Redis's static next_db).
    var nextDB = 0

    public init() {}

    /// Evicts one key of `store`; `evicted` sees its database and entry just
    /// before it is deleted. False when no key qualifies.
    public func evictOne(_ store: ShardStore, policy: EvictionPolicy, samples: Int, now: Int64,
                         evicted: (_ db: Int, _ entry: Entry) -> Void) -> Bool {
        let dbs = store.dbs
        if policy == .noeviction { return false }
        if policy.isRandom {
            for _ in 0..<dbs.count {
                nextDB = (nextDB + 1) % dbs.count
                let ks = dbs[nextDB]
                var slot = -1
                if policy.allKeys {
                    slot = ks.table.randomSlot(using: &random)
                } else if ks.expiringCount > 0 {
                    let e = Entry(ks.expiring[random.below(ks.expiringCount)]!)
                    let k = e.key
                    slot = ks.table.find(k.baseAddress!, k.count, hash: hashBytes(k.baseAddress!, k.count))
                }
                if slot >= 0 {
                    delete(ks, db: nextDB, slot: slot, evicted)
                    return true
                }
            }
            return false
        }
        let decay = AccessTracking.decayTime.load(ordering: .relaxed)
        while true {
            var total = 0
            for (i, ks) in dbs.enumerated() {
                let n = policy.allKeys ? ks.count : ks.expiringCount
                if n == 0 { continue }
                populate(ks, db: i, policy: policy, samples: max(1, samples), now: now, decay: decay)
                total += n
            }
            if total == 0 { return false }
            // Best first; a candidate gone since it was pooled is skipped.
            while let (db, slot) = pool.popBest({ (db, key, n, _) -> (Int, Int) in
                guard db < dbs.count else { return (db, -1) }
                let ks = dbs[db]
                let s = ks.table.find(key, n, hash: hashBytes(key, n))
                if s < 0 || (!policy.allKeys && !ks.entry(at: s).hasExpire) { return (db, -1) }
                return (db, s)
            }) {
                if slot >= 0 {
                    delete(dbs[db], db: db, slot: slot, evicted)
                    return true
                }
            }
        }
    }

    func delete(_ ks: Keyspace, db: Int, slot: Int, _ evicted: (Int, Entry) -> Void) {
        evicted(db, ks.entry(at: slot))
        ks.remove(at: slot)
        ks.evictedKeys += 1
    }

    /// Offers `samples` keys of `ks` to the pool: a run of table slots from a
    /// random start (Redis's dictGetSomeKeys walks buckets the same way), or
    /// random keys with a TTL.
    func populate(_ ks: Keyspace, db: Int, policy: EvictionPolicy, samples: Int, now: Int64, decay: Int) {
        if policy.allKeys {
            let t = ks.table
            var i = random.below(t.capacity)
            var got = 0
            var steps = 0
            let maxSteps = min(t.capacity, samples * 20)
            while got < samples && steps < maxSteps {
                if t.isLive(i) {
                    offer(t.entry(at: i), db: db, policy: policy, now: now, decay: decay)
                    got += 1
                }
                i = (i + 1) & t.mask
                steps += 1
            }
        } else {
            for _ in 0..<min(samples, ks.expiringCount) {
                offer(Entry(ks.expiring[random.below(ks.expiringCount)]!), db: db, policy: policy, now: now, decay: decay)
            }
        }
    }

    @inline(__always)
    func offer(_ e: Entry, db: Int, policy: EvictionPolicy, now: Int64, decay: Int) {
        let score = Evictor.score(e, policy: policy, now: now, decay: decay)
        let k = e.key
        pool.insert(score: score, db: db, key: k.baseAddress!, k.count)
    }

    /// The pool's ordering: higher is evicted first.
    public static func score(_ e: Entry, policy: EvictionPolicy, now: Int64, decay: Int) -> UInt64 {
        switch policy {
        case .volatileTTL:
            return UInt64.max &- UInt64(bitPattern: e.expireAt)
        case .allkeysLFU, .volatileLFU:
            return 255 - UInt64(LFU.decayed(e.lru, nowMs: now, decayTime: decay))
        default:
            return UInt64(lruIdleMillis(e.lru, now: lruClock(now)))
        }
    }
}

/// Redis's estimateObjectIdleTime: milliseconds since `lru` on the 24-bit
/// seconds clock, across its wrap.
@inlinable public func lruIdleMillis(_ lru: UInt32, now: UInt32) -> Int {
    let max: UInt32 = (1 << 24) - 1
    return Int(now >= lru ? now - lru : now + (max - lru)) * 1000
}
