import CMalloc
import XCTest
@testable import Storage

/// Redis's LFU counter math, the eviction pool's ordering, the policies'
/// choice of victims, and the allocator counters maxmemory reads.
final class EvictionTests: XCTestCase {
    // MARK: LFU counter

    func testLFUInitialFieldIsMinutesAndFive() {
        let now: Int64 = 90 * 60_000 + 5_000
        XCTAssertEqual(LFU.initial(now), 90 << 8 | 5)
        XCTAssertEqual(LFU.decayed(LFU.initial(now), nowMs: now, decayTime: 1), 5)
    }

    func testLFUIncrementProbability() {
        // At or below the initial value every access counts.
        XCTAssertEqual(LFU.increment(5, logFactor: 10, r: 0.999), 6)
        XCTAssertEqual(LFU.increment(0, logFactor: 10, r: 0.999), 1)
        // Above it, p = 1 / ((counter - 5) * factor + 1): 1/11 for counter 6.
        XCTAssertEqual(LFU.increment(6, logFactor: 10, r: 1.0 / 11 - 1e-9), 7)
        XCTAssertEqual(LFU.increment(6, logFactor: 10, r: 1.0 / 11 + 1e-9), 6)
        // 1/101 for counter 15.
        XCTAssertEqual(LFU.increment(15, logFactor: 10, r: 0.0099), 16)
        XCTAssertEqual(LFU.increment(15, logFactor: 10, r: 0.0100), 15)
        // Factor 0: always; saturates at 255.
        XCTAssertEqual(LFU.increment(200, logFactor: 0, r: 0.999), 201)
        XCTAssertEqual(LFU.increment(255, logFactor: 0, r: 0), 255)
    }

    func testLFUCounterGrowsLogarithmically() {
        // Redis's table (lfu-log-factor 10): about 10 after 100 hits, about 18 after 1000.
        var g = ShardRandom(seed: 42)
        var field = LFU.initial(0)
        var after100: UInt32 = 0
        for i in 1...1000 {
            let r = Double(g.next() >> 11) * 0x1.0p-53
            field = LFU.touched(field, nowMs: 0, logFactor: 10, decayTime: 1, r: r)
            if i == 100 { after100 = field & 255 }
        }
        XCTAssert((8...13).contains(after100), "\(after100)")
        XCTAssert((13...22).contains(field & 255), "\(field & 255)")
    }

    func testLFUDecayByMinutesAndWrap() {
        let field: UInt32 = 100 << 8 | 20
        XCTAssertEqual(LFU.decayed(field, nowMs: 100 * 60_000, decayTime: 1), 20)
        XCTAssertEqual(LFU.decayed(field, nowMs: 107 * 60_000 + 59_999, decayTime: 1), 13)
        XCTAssertEqual(LFU.decayed(field, nowMs: 107 * 60_000, decayTime: 2), 17)
        XCTAssertEqual(LFU.decayed(field, nowMs: 500 * 60_000, decayTime: 1), 0, "never below zero")
        XCTAssertEqual(LFU.decayed(field, nowMs: 500 * 60_000, decayTime: 0), 20, "decay time 0: no decay")
        // The 16-bit minute clock wraps: ldt 65530, now minute 3 -> 65535 - 65530 + 3 = 8 minutes.
        let old: UInt32 = 65530 << 8 | 10
        XCTAssertEqual(LFU.elapsed(65530, now: 3), 8)
        XCTAssertEqual(LFU.decayed(old, nowMs: (65536 + 3) * 60_000, decayTime: 1), 2)
        // An access stores the decayed counter plus the increment, at this minute.
        let t = LFU.touched(field, nowMs: 103 * 60_000, logFactor: 10, decayTime: 1, r: 0.99)
        XCTAssertEqual(t, 103 << 8 | 17)
    }

    // MARK: pool

    func key(_ s: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> Void) {
        s.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }

    func pop(_ p: EvictionPool) -> (Int, [UInt8], UInt64)? {
        p.popBest { db, k, n, score in (db, Array(UnsafeBufferPointer(start: k, count: n)), score) }
    }

    func testPoolKeepsAscendingScoresAndPopsHighest() {
        let p = EvictionPool()
        for (i, s) in [50, 10, 90, 30, 70].enumerated() {
            key(decimalKey("k", i)) { XCTAssertTrue(p.insert(score: UInt64(s), db: i % 2, key: $0, $1)) }
        }
        XCTAssertEqual(p.scores, [10, 30, 50, 70, 90])
        let best = pop(p)!
        XCTAssertEqual(best.0, 0)
        XCTAssertEqual(best.1, decimalKey("k", 2))
        XCTAssertEqual(best.2, 90)
        XCTAssertEqual(p.scores, [10, 30, 50, 70])
    }

    func testFullPoolDropsWorseSamplesAndDisplacesTheLowest() {
        let p = EvictionPool()
        for i in 0..<EvictionPool.size {
            key(decimalKey("k", i)) { _ = p.insert(score: UInt64(100 + i * 10), db: 0, key: $0, $1) }
        }
        XCTAssertEqual(p.count, 16)
        // Below every candidate of a full pool: refused.
        key(bytes("low")) { XCTAssertFalse(p.insert(score: 5, db: 0, key: $0, $1)) }
        // In the middle: the lowest (100) goes, order stays.
        key(bytes("mid")) { XCTAssertTrue(p.insert(score: 155, db: 3, key: $0, $1)) }
        XCTAssertEqual(p.count, 16)
        XCTAssertEqual(p.scores.first, 110)
        XCTAssertEqual(p.scores, p.scores.sorted())
        XCTAssertTrue(p.scores.contains(155))
        // Best first, all the way down.
        var last = UInt64.max
        var sawMid = false
        while let (db, k, s) = pop(p) {
            XCTAssertLessThanOrEqual(s, last)
            last = s
            if k == bytes("mid") { sawMid = true; XCTAssertEqual(db, 3) }
        }
        XCTAssertTrue(sawMid)
        XCTAssertNil(pop(p))
    }

    func testPoolCopiesLongKeys() {
        let p = EvictionPool()
        let long = [UInt8](repeating: 0x61, count: 1000) + [0x62]
        key(long) { _ = p.insert(score: 1, db: 0, key: $0, $1) }
        key(bytes("short")) { _ = p.insert(score: 2, db: 0, key: $0, $1) }
        XCTAssertEqual(pop(p)!.1, bytes("short"))
        XCTAssertEqual(pop(p)!.1, long)
    }

    // MARK: policies

    func store(_ n: Int, ttlEvery: Int = 0, lru: (Int) -> UInt32 = { _ in 0 }) -> ShardStore {
        let s = ShardStore(databases: 2)
        for i in 0..<n {
            let k = decimalKey("key:", i)
            let exp: Int64 = ttlEvery > 0 && i % ttlEvery == 0 ? Int64(1_000_000 + i * 1000) : -1
            let e = makeEntry(k, bytes("value"), expireAt: exp)
            e.lru = lru(i)
            s.dbs[i % 2].put(e, at: -1, hash: hashOf(k))
        }
        return s
    }

    func testVolatilePoliciesOnlyEvictKeysWithTTL() {
        for policy in [EvictionPolicy.volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL] {
            let s = store(400, ttlEvery: 4)
            let ev = Evictor()
            var n = 0
            while ev.evictOne(s, policy: policy, samples: 5, now: 5_000_000, evicted: { _, e in
                XCTAssertTrue(e.hasExpire, "\(policy)")
            }) { n += 1 }
            XCTAssertEqual(n, 100, "\(policy): every key with a TTL, then nothing")
            XCTAssertEqual(s.dbs[0].count + s.dbs[1].count, 300)
            XCTAssertEqual(s.dbs[0].evictedKeys + s.dbs[1].evictedKeys, 100)
        }
    }

    func testVolatileTTLEvictsNearestExpiryFirst() {
        let s = store(2000, ttlEvery: 1)
        let ev = Evictor()
        var expiries: [Int64] = []
        for _ in 0..<200 {
            XCTAssertTrue(ev.evictOne(s, policy: .volatileTTL, samples: 10, now: 0, evicted: { _, e in
                expiries.append(e.expireAt)
            }))
        }
        // The first 10% evicted come from the nearest quarter of expiries.
        let quarter: Int64 = 1_000_000 + 500 * 1000
        XCTAssertGreaterThan(expiries.filter { $0 < quarter }.count, 180)
    }

    func testLRUEvictsIdleKeysFirst() {
        // Half the keys were read a day ago, half just now.
        let now: Int64 = 100_000 * 1000
        let s = store(2000) { i in i % 3 == 0 ? lruClock(now - 86_400_000) : lruClock(now) }
        let ev = Evictor()
        var old = 0
        for _ in 0..<300 {
            _ = ev.evictOne(s, policy: .allkeysLRU, samples: 5, now: now, evicted: { _, e in
                if e.lru == lruClock(now - 86_400_000) { old += 1 }
            })
        }
        XCTAssertGreaterThan(old, 290, "the pool should nearly always hold an idle key")
    }

    func testLFUEvictsRarelyReadKeysFirst() {
        let now: Int64 = 100 * 60_000
        let s = store(2000) { i in LFU.minutes(now) << 8 | (i % 2 == 0 ? 5 : 30) }
        let ev = Evictor()
        var cold = 0
        for _ in 0..<300 {
            _ = ev.evictOne(s, policy: .allkeysLFU, samples: 5, now: now, evicted: { _, e in
                if e.lru & 255 == 5 { cold += 1 }
            })
        }
        XCTAssertGreaterThan(cold, 290)
    }

    func testEvictsUntilEmptyAndSkipsPooledGhosts() {
        let s = store(300)
        let ev = Evictor()
        // Pool some candidates, then delete keys behind the pool's back.
        XCTAssertTrue(ev.evictOne(s, policy: .allkeysLRU, samples: 16, now: 0, evicted: { _, _ in }))
        s.dbs[0].removeAll()
        let left = s.dbs[1].count
        var n = 0
        while ev.evictOne(s, policy: .allkeysLRU, samples: 5, now: 0, evicted: { db, _ in XCTAssertEqual(db, 1) }) {
            n += 1
        }
        XCTAssertEqual(n, left)
        XCTAssertEqual(s.dbs[0].count + s.dbs[1].count, 0)
        XCTAssertFalse(ev.evictOne(s, policy: .allkeysRandom, samples: 5, now: 0, evicted: { _, _ in }))
        XCTAssertFalse(ev.evictOne(store(10), policy: .noeviction, samples: 5, now: 0, evicted: { _, _ in }))
    }

    // MARK: allocation counters

    func testAllocatorCountersFollowThisThread() {
        XCTAssertEqual(rk_mem_counting(), 1, "malloc is interposed in this binary")
        let slot = rk_mem_thread_slot()
        let before = rk_mem_slot_bytes(slot)
        let p = malloc(1 << 20)!
        let grown = rk_mem_slot_bytes(slot) - before
        XCTAssertGreaterThanOrEqual(grown, 1 << 20)
        XCTAssertLessThan(grown, (1 << 20) + 8192)
        let q = realloc(p, 3 << 20)!
        XCTAssertGreaterThanOrEqual(rk_mem_slot_bytes(slot) - before, 3 << 20)
        free(q)
        XCTAssertLessThan(abs(rk_mem_slot_bytes(slot) - before), 4096)
        XCTAssertGreaterThan(rk_mem_total_bytes(), 0)
    }
}

extension EvictionTests {
    func testCreditMovesOwnedBytesNotTheTotal() {
        let slot = rk_mem_thread_slot()
        let owned = rk_mem_slot_owned(slot)
        let bytes = rk_mem_slot_bytes(slot)
        rk_mem_credit(slot, -1000)
        XCTAssertEqual(rk_mem_slot_owned(slot) - owned, -1000)
        XCTAssertEqual(rk_mem_slot_bytes(slot), bytes, "the counter itself is untouched")
        rk_mem_credit(slot, 1000)
        XCTAssertEqual(rk_mem_slot_owned(slot), owned)
    }
}
