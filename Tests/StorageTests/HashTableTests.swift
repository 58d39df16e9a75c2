import XCTest
@testable import Storage

final class HashTableTests: XCTestCase {
    /// All keys collide on one home bucket (crafted hash), so removals in the
    /// middle of the probe chain must leave tombstones and removals at its
    /// end must clear them.
    func testTombstonesKeepProbeChainsIntact() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        let h: UInt64 = 0xABCD_0000_0000_0003   // home bucket 3
        let keys = [bytes("a"), bytes("b"), bytes("c")]
        var slots: [Int] = []
        for k in keys { slots.append(t.insert(makeEntry(k, bytes("v")), hash: h)) }
        XCTAssertEqual(slots, [3, 4, 5])
        func find(_ k: [UInt8]) -> Int { k.withUnsafeBufferPointer { t.find($0.baseAddress!, $0.count, hash: h) } }

        let b = t.entry(at: 4)
        t.remove(at: 4)
        b.free()
        XCTAssertEqual(t.slots[4], HashTable.tomb, "a removal inside a chain leaves a tombstone")
        XCTAssertEqual(find(bytes("c")), 5, "lookups probe past the tombstone")
        XCTAssertEqual(find(bytes("b")), -1)
        XCTAssertEqual(t.count, 2)

        let c = t.entry(at: 5)
        t.remove(at: 5)
        c.free()
        XCTAssertEqual(t.slots[5], HashTable.empty, "the chain's last slot is cleared")
        XCTAssertEqual(t.slots[4], HashTable.empty, "and the tombstone before it goes too")
        XCTAssertEqual(t.filled, 1)
        XCTAssertEqual(find(bytes("a")), 3)

        // A new insert reuses the freed slot right after the chain.
        XCTAssertEqual(t.insert(makeEntry(bytes("d"), bytes("v")), hash: h), 4)
        XCTAssertEqual(find(bytes("d")), 4)
    }

    func testGrowAndShrinkKeepEveryKeyFindable() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        let n = 20_000
        for i in 0..<n {
            let k = decimalKey("key:", i)
            XCTAssertEqual(t.find(k), -1)
            t.insert(makeEntry(k, bytes("value")), hash: hashOf(k))
        }
        XCTAssertEqual(t.count, n)
        XCTAssertGreaterThanOrEqual(t.capacity, n * 5 / 4)
        for i in 0..<n {
            let s = t.find(decimalKey("key:", i))
            XCTAssertGreaterThanOrEqual(s, 0, "key \(i) lost after growth")
            if s >= 0 { XCTAssertEqual(t.entry(at: s).keyBytes, decimalKey("key:", i)) }
        }
        let grown = t.capacity
        // Remove all but every 100th key: the table must shrink.
        for i in 0..<n where i % 100 != 0 {
            let s = t.find(decimalKey("key:", i))
            XCTAssertGreaterThanOrEqual(s, 0)
            let e = t.entry(at: s)
            t.remove(at: s)
            e.free()
        }
        XCTAssertEqual(t.count, n / 100)
        XCTAssertLessThan(t.capacity, grown / 8, "table did not shrink")
        for i in 0..<n {
            let s = t.find(decimalKey("key:", i))
            if i % 100 == 0 {
                XCTAssertGreaterThanOrEqual(s, 0, "key \(i) lost after shrink")
            } else {
                XCTAssertEqual(s, -1, "removed key \(i) still found")
            }
        }
    }

    /// Walks a full SCAN while `mutate` changes the table between steps, and
    /// checks every key present for the whole scan was returned.
    func scanAll(_ t: inout HashTable, stable: Set<[UInt8]>, mutate: (inout HashTable, Int) -> Void) -> Set<[UInt8]> {
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var step = 0
        repeat {
            cursor = t.scan(cursor) { seen.insert($0.keyBytes) }
            mutate(&t, step)
            step += 1
        } while cursor != 0 && step < 1_000_000
        XCTAssertEqual(cursor, 0, "scan did not terminate")
        return seen
    }

    func testScanVisitsStableKeysWhileTableGrows() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        var stable = Set<[UInt8]>()
        for i in 0..<500 {
            let k = decimalKey("s:", i)
            stable.insert(k)
            t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
        }
        let before = t.capacity
        var next = 0
        let seen = scanAll(&t, stable: stable) { t, step in
            // Add 200 keys every few steps: several doublings mid-scan.
            if step % 3 == 0 && next < 20_000 {
                for _ in 0..<200 {
                    let k = decimalKey("g:", next)
                    next += 1
                    t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
                }
            }
        }
        XCTAssertGreaterThan(t.capacity, before * 4, "the test must actually grow the table")
        XCTAssertTrue(stable.isSubset(of: seen), "missed \(stable.subtracting(seen).count) stable keys")
    }

    func testScanVisitsStableKeysWhileTableShrinks() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        var stable = Set<[UInt8]>()
        var churn: [[UInt8]] = []
        for i in 0..<300 {
            let k = decimalKey("s:", i)
            stable.insert(k)
            t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
        }
        for i in 0..<30_000 {
            let k = decimalKey("c:", i)
            churn.append(k)
            t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
        }
        let before = t.capacity
        let seen = scanAll(&t, stable: stable) { t, _ in
            // Drop 500 churn keys per step: the table shrinks several times.
            for _ in 0..<500 {
                guard let k = churn.popLast() else { return }
                let s = t.find(k)
                let e = t.entry(at: s)
                t.remove(at: s)
                e.free()
            }
        }
        XCTAssertLessThan(t.capacity, before / 8, "the test must actually shrink the table")
        XCTAssertTrue(stable.isSubset(of: seen), "missed \(stable.subtracting(seen).count) stable keys")
    }

    func testScanOfQuietTableReturnsEachKeyOnce() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        for i in 0..<1000 {
            let k = decimalKey("k:", i)
            t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
        }
        var seen: [[UInt8]] = []
        var cursor: UInt64 = 0
        repeat { cursor = t.scan(cursor) { seen.append($0.keyBytes) } } while cursor != 0
        XCTAssertEqual(seen.count, 1000)
        XCTAssertEqual(Set(seen).count, 1000)
    }

    func testRandomSlotIsLiveOrMinusOne() {
        var t = HashTable()
        defer { t.removeAll(); t.deallocate() }
        var g = ShardRandom(seed: 7)
        XCTAssertEqual(t.randomSlot(using: &g), -1)
        let k = bytes("only")
        let s = t.insert(makeEntry(k, bytes("v")), hash: hashOf(k))
        for _ in 0..<20 { XCTAssertEqual(t.randomSlot(using: &g), s) }
    }
}
