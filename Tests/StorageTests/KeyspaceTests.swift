import Synchronization
import XCTest
@testable import Storage

final class KeyspaceTests: XCTestCase {
    /// The expiring list must hold exactly the entries with an expiry, each
    /// knowing its own index, each still in the table.
    func checkExpiringList(_ ks: Keyspace, file: StaticString = #filePath, line: UInt = #line) {
        var withExpiry = 0
        for i in 0..<ks.table.capacity where ks.table.isLive(i) && ks.table.entry(at: i).hasExpire { withExpiry += 1 }
        XCTAssertEqual(ks.expiringCount, withExpiry, "expiring list size", file: file, line: line)
        for i in 0..<ks.expiringCount {
            let e = Entry(ks.expiring[i]!)
            XCTAssertTrue(e.hasExpire, file: file, line: line)
            XCTAssertEqual(e.expireIndex, i, "stale back-index", file: file, line: line)
            let s = ks.table.find(e.keyBytes)
            XCTAssertGreaterThanOrEqual(s, 0, "listed entry not in table", file: file, line: line)
            if s >= 0 { XCTAssertEqual(ks.table.entry(at: s), e, "listed entry is not the table's", file: file, line: line) }
        }
    }

    func testLazyExpiryDeletesOnLookup() {
        let ks = Keyspace()
        ks.add(makeEntry(bytes("gone"), bytes("v"), expireAt: 1000))
        ks.add(makeEntry(bytes("live"), bytes("v"), expireAt: 5000))
        ks.add(makeEntry(bytes("forever"), bytes("v")))
        XCTAssertGreaterThanOrEqual(ks.find(bytes("gone"), now: 999), 0, "not yet expired")
        XCTAssertEqual(ks.find(bytes("gone"), now: 1000), -1, "expires at its deadline")
        XCTAssertEqual(ks.count, 2)
        XCTAssertEqual(ks.expiredKeys, 1)
        XCTAssertEqual(ks.table.find(bytes("gone")), -1, "deleted, not just hidden")
        XCTAssertGreaterThanOrEqual(ks.find(bytes("live"), now: 1000), 0)
        XCTAssertGreaterThanOrEqual(ks.find(bytes("forever"), now: Int64.max), 0)
        checkExpiringList(ks)
    }

    /// CLIENT PAUSE: an expired key reads as missing but stays (Redis 7.0's
    /// expireIfNeeded); an insert over it expires it first, so the key is
    /// never in the table twice; after the pause lazy expiry deletes again.
    func testPauseKeepsExpiredKeysAndInsertReplacesThem() {
        let ks = Keyspace()
        ks.add(makeEntry(bytes("gone"), bytes("v"), expireAt: 1000))
        Keyspace.expiryPausedUntil.store(5000, ordering: .relaxed)
        defer { Keyspace.expiryPausedUntil.store(0, ordering: .relaxed) }
        XCTAssertEqual(ks.find(bytes("gone"), now: 2000), -1, "reads as missing")
        XCTAssertEqual(ks.count, 1, "but is kept")
        XCTAssertEqual(ks.expiredKeys, 0)
        // A write looks the key up (missing) and inserts.
        let k = bytes("gone")
        let h = k.withUnsafeBufferPointer { hashBytes($0.baseAddress!, $0.count) }
        ks.put(makeEntry(k, bytes("new")), at: ks.find(k, now: 2000), hash: h)
        XCTAssertEqual(ks.count, 1, "the kept key made way")
        XCTAssertEqual(ks.expiredKeys, 1)
        XCTAssertGreaterThanOrEqual(ks.find(bytes("gone"), now: 2000), 0)
        checkExpiringList(ks)
        ks.add(makeEntry(bytes("late"), bytes("v"), expireAt: 1000))
        XCTAssertEqual(ks.find(bytes("late"), now: 6000), -1)
        XCTAssertEqual(ks.table.find(bytes("late")), -1, "deleted once the pause is over")
        checkExpiringList(ks)
    }

    func testActiveExpireCycleDeletesExpiredAndKeepsLive() {
        let ks = Keyspace()
        for i in 0..<1000 { ks.add(makeEntry(decimalKey("dead:", i), bytes("v"), expireAt: 100)) }
        for i in 0..<500 { ks.add(makeEntry(decimalKey("ttl:", i), bytes("v"), expireAt: 10_000)) }
        for i in 0..<500 { ks.add(makeEntry(decimalKey("keep:", i), bytes("v"))) }
        checkExpiringList(ks)
        var deleted = 0
        var calls = 0
        while ks.expiringCount > 500 && calls < 100_000 {
            deleted += ks.activeExpireCycle(now: 200, budgetNanos: 1_000_000_000, clock: { 0 })
            calls += 1
        }
        XCTAssertEqual(deleted, 1000)
        XCTAssertEqual(ks.expiredKeys, 1000)
        XCTAssertEqual(ks.count, 1000)
        for i in 0..<1000 { XCTAssertEqual(ks.table.find(decimalKey("dead:", i)), -1) }
        for i in 0..<500 {
            XCTAssertGreaterThanOrEqual(ks.find(decimalKey("ttl:", i), now: 200), 0)
            XCTAssertGreaterThanOrEqual(ks.find(decimalKey("keep:", i), now: 200), 0)
        }
        checkExpiringList(ks)
        // Nothing left to expire: a cycle deletes nothing.
        XCTAssertEqual(ks.activeExpireCycle(now: 200, budgetNanos: 1_000_000_000, clock: { 0 }), 0)
    }

    func testExpiringListFollowsPutRemoveAndSetExpire() {
        let ks = Keyspace()
        for i in 0..<100 {
            ks.add(makeEntry(decimalKey("k", i), bytes("v"), expireAt: i % 2 == 0 ? 1_000 + Int64(i) : -1))
        }
        XCTAssertEqual(ks.expiringCount, 50)
        checkExpiringList(ks)

        // Removing listed entries from the middle and the end of the list.
        for i in stride(from: 0, to: 40, by: 4) { ks.remove(at: ks.table.find(decimalKey("k", i))) }
        XCTAssertEqual(ks.expiringCount, 40)
        checkExpiringList(ks)

        // Replacing an expiring entry with a plain one, and the reverse.
        ks.add(makeEntry(decimalKey("k", 42), bytes("new")))
        ks.add(makeEntry(decimalKey("k", 43), bytes("new"), expireAt: 7))
        XCTAssertEqual(ks.expiringCount, 40)
        checkExpiringList(ks)

        // setExpire: add, update in place, clear.
        ks.setExpire(at: ks.table.find(decimalKey("k", 1)), 5_000)
        XCTAssertEqual(ks.expiringCount, 41)
        ks.setExpire(at: ks.table.find(decimalKey("k", 1)), 6_000)
        XCTAssertEqual(ks.expiringCount, 41)
        XCTAssertEqual(ks.entry(at: ks.table.find(decimalKey("k", 1))).expireAt, 6_000)
        ks.setExpire(at: ks.table.find(decimalKey("k", 44)), -1)
        XCTAssertEqual(ks.expiringCount, 40)
        ks.setExpire(at: ks.table.find(decimalKey("k", 3)), -1)   // had none: no change
        XCTAssertEqual(ks.expiringCount, 40)
        checkExpiringList(ks)

        // Detach (MOVE) takes the entry off this keyspace's list.
        let other = Keyspace()
        let e = ks.detach(at: ks.table.find(decimalKey("k", 46)))
        other.add(e)
        XCTAssertEqual(ks.expiringCount, 39)
        XCTAssertEqual(other.expiringCount, 1)
        checkExpiringList(ks)
        checkExpiringList(other)

        ks.removeAll()
        XCTAssertEqual(ks.expiringCount, 0)
        XCTAssertEqual(ks.count, 0)
    }
}
