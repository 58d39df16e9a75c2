import RESP
import XCTest
@testable import Server

final class LockTableTests: XCTestCase {
    func key(_ s: String, db: Int = 0) -> LockKey { LockKey(db: db, bytes: Array(s.utf8)) }

    func set(_ keys: [(String, Bool)], whole: WholeLock = .none) -> LockSet {
        var s = LockSet()
        for (k, x) in keys { s.add(key(k), exclusive: x) }
        s.whole = whole
        return s
    }

    func testSharedLocksShareAndExclusiveExcludes() {
        let t = LockTable()
        XCTAssertTrue(t.acquire(set([("a", false)])))
        XCTAssertTrue(t.acquire(set([("a", false)])), "two readers")
        XCTAssertFalse(t.acquire(set([("a", true)])), "a writer waits for readers")
        XCTAssertFalse(t.acquire(set([("a", false)])), "a reader waits for a queued writer")
        XCTAssertTrue(t.acquire(set([("b", true)])), "other keys are free")
        XCTAssertEqual(t.holds, 5)
    }

    func testReleaseFreesTheKey() {
        let t = LockTable()
        let w = set([("a", true)])
        XCTAssertTrue(t.acquire(w))
        XCTAssertTrue(t.conflicts(key("a"), exclusive: false))
        t.release(w)
        XCTAssertFalse(t.conflicts(key("a"), exclusive: true))
        XCTAssertEqual(t.holds, 0)
    }

    func testDatabasesAreSeparate() {
        let t = LockTable()
        var s = LockSet()
        s.add(key("a", db: 1), exclusive: true)
        XCTAssertTrue(t.acquire(s))
        XCTAssertFalse(t.conflicts(key("a", db: 0), exclusive: true))
        XCTAssertTrue(t.conflicts(key("a", db: 1), exclusive: false))
    }

    func testAKeyNamedTwiceDoesNotWaitForItself() {
        let t = LockTable()
        let s = set([("a", false), ("a", true), ("b", false)])
        XCTAssertTrue(t.acquire(s))
        XCTAssertTrue(t.conflicts(key("a"), exclusive: false))
        t.release(s)
        XCTAssertEqual(t.holds, 0)
        XCTAssertFalse(t.conflicts(key("a"), exclusive: true))
    }

    func testWholeShardLocks() {
        let t = LockTable()
        XCTAssertTrue(t.acquire(set([], whole: .shared)), "KEYS")
        XCTAssertTrue(t.acquire(set([("a", false)])), "a reader beside KEYS")
        XCTAssertFalse(t.acquire(set([("b", true)])), "a writer waits for KEYS")
        XCTAssertFalse(t.acquire(set([], whole: .exclusive)), "FLUSHALL waits for everything")
        let t2 = LockTable()
        XCTAssertTrue(t2.acquire(set([], whole: .exclusive)))
        XCTAssertTrue(t2.conflicts(key("z"), exclusive: false), "nothing runs beside a borrowed shard")
        XCTAssertFalse(t2.acquire(set([], whole: .shared)))
    }
}

final class TxQueueTests: XCTestCase {
    func testFindAndRemoveKeepOrder() {
        let q = TxQueue()
        let items = (1...4).map { TxItem(txid: UInt64($0), kind: .tx, locks: LockSet()) }
        for i in items { q.append(i) }
        XCTAssertTrue(q.find(3) === items[2])
        q.remove(items[1])
        XCTAssertEqual(q.items.map { $0.txid }, [1, 3, 4])
        XCTAssertTrue(q.head === items[0])
        XCTAssertNil(q.find(2))
    }
}

final class TxLaneTests: XCTestCase {
    func testFIFOAndEmpty() {
        let lane = TxLane()
        XCTAssertFalse(lane.hasItems)
        XCTAssertNil(lane.pop())
        let ms = (0..<5).map { i -> ShardMessage in
            let m = ShardMessage()
            m.txid = UInt64(i)
            return m
        }
        for m in ms { lane.push(m) }
        XCTAssertTrue(lane.hasItems)
        for i in 0..<5 { XCTAssertEqual(lane.pop()?.txid, UInt64(i)) }
        XCTAssertFalse(lane.hasItems)
        lane.push(ms[0])
        XCTAssertTrue(lane.pop() === ms[0])
    }

    /// Producers take turns through the sequencer, as workers do; the
    /// consumer must see every id exactly once and in increasing order.
    func testSequencedProducersDeliverInIdOrder() {
        let lane = TxLane()
        let seq = TxSequencer()
        let perThread = 2000
        let threads = 4
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                for _ in 0..<perThread {
                    let m = ShardMessage()
                    let t = seq.begin()
                    m.txid = t
                    lane.push(m)
                    seq.end(t)
                }
                group.leave()
            }
        }
        var last: UInt64 = 0
        var seen = 0
        while seen < perThread * threads {
            if let m = lane.pop() {
                XCTAssertEqual(m.txid, last + 1)
                last = m.txid
                seen += 1
            }
        }
        group.wait()
        XCTAssertFalse(lane.hasItems)
    }
}
