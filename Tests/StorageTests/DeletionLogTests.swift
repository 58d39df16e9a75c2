import XCTest
@testable import Storage

final class DeletionLogTests: XCTestCase {
    func drained(_ l: DeletionLog) -> [(Int, Bool, String)] {
        var out: [(Int, Bool, String)] = []
        l.drain { db, ev, p, n in out.append((db, ev, String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))) }
        return out
    }

    func testRecordsInOrderAndEmpties() {
        let l = DeletionLog()
        let items: [(Int, Bool, StaticString)] = [(0, false, "a"), (300, true, "bb"), (15, false, "")]
        for (db, ev, k) in items {
            let b = bytes(k)
            b.withUnsafeBufferPointer { l.note(db: db, evicted: ev, $0.baseAddress ?? UnsafePointer(bitPattern: 8)!, $0.count) }
        }
        let got = drained(l)
        XCTAssertEqual(got.map { $0.0 }, [0, 300, 15])
        XCTAssertEqual(got.map { $0.1 }, [false, true, false])
        XCTAssertEqual(got.map { $0.2 }, ["a", "bb", ""])
        XCTAssertTrue(l.isEmpty)
        XCTAssertTrue(drained(l).isEmpty)
    }

    func testLazyExpiryIsLoggedOnlyWhileSet() {
        let store = ShardStore(databases: 4)
        let ks = store.dbs[2]
        func put(_ k: StaticString, expireAt: Int64) {
            let b = bytes(k)
            b.withUnsafeBufferPointer { kb in
                let h = hashBytes(kb.baseAddress!, kb.count)
                let e = Entry.makeString(key: kb.baseAddress!, keyLen: kb.count, value: kb.baseAddress!, valueLen: kb.count,
                                         expireAt: expireAt, lru: 0)
                ks.put(e, at: ks.table.find(kb.baseAddress!, kb.count, hash: h), hash: h)
            }
        }
        func find(_ k: StaticString) -> Int {
            let b = bytes(k)
            return b.withUnsafeBufferPointer { ks.find($0.baseAddress!, $0.count, hash: hashBytes($0.baseAddress!, $0.count), now: 100) }
        }
        put("old", expireAt: 50)
        XCTAssertEqual(find("old"), -1)
        XCTAssertNil(store.deletions, "off: nothing to log")
        store.deletions = DeletionLog()
        put("gone", expireAt: 50)
        put("live", expireAt: 500)
        XCTAssertEqual(find("gone"), -1)
        XCTAssertGreaterThanOrEqual(find("live"), 0)
        let got = drained(store.deletions!)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.0, 2)
        XCTAssertEqual(got.first?.2, "gone")
        // SWAPDB keeps the log on both keyspaces.
        store.swap(2, 3)
        XCTAssertTrue(store.dbs[2].deletions === store.deletions && store.dbs[3].deletions === store.deletions)
    }
}
