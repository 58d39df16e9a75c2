import XCTest
@testable import Storage

/// IntSet payloads built in plain byte arrays, as they sit inside an entry.
final class IntSetTests: XCTestCase {
    /// Builds a payload from strictly ascending values at the width they need.
    func make(_ values: [Int]) -> [UInt8] {
        values.withUnsafeBufferPointer { v in
            let w = IntSet.width(ofSorted: v)
            var out = [UInt8](repeating: 0xAA, count: IntSet.size(count: v.count, width: w))
            out.withUnsafeMutableBytes { IntSet.write(v, width: w, into: $0.baseAddress!) }
            return out
        }
    }

    func values(_ payload: [UInt8]) -> [Int] {
        payload.withUnsafeBufferPointer { b in
            let s = IntSet(b)
            return (0..<s.count).map { s[$0] }
        }
    }

    func withSet<R>(_ payload: [UInt8], _ body: (IntSet) -> R) -> R {
        payload.withUnsafeBufferPointer { body(IntSet($0)) }
    }

    func testWidthsFollowRedisEncodings() {
        XCTAssertEqual(IntSet.width(for: 0), 2)
        XCTAssertEqual(IntSet.width(for: 32767), 2)
        XCTAssertEqual(IntSet.width(for: -32768), 2)
        XCTAssertEqual(IntSet.width(for: 32768), 4)
        XCTAssertEqual(IntSet.width(for: -32769), 4)
        XCTAssertEqual(IntSet.width(for: Int(Int32.max)), 4)
        XCTAssertEqual(IntSet.width(for: Int(Int32.min)), 4)
        XCTAssertEqual(IntSet.width(for: Int(Int32.max) + 1), 8)
        XCTAssertEqual(IntSet.width(for: Int.min), 8)
        XCTAssertEqual(IntSet.width(for: Int.max), 8)
    }

    func testLayoutIsOneWidthByteThenLittleEndianElements() {
        let p = make([-2, 1, 258])
        XCTAssertEqual(p, [2, 0xFE, 0xFF, 1, 0, 2, 1])
        let q = make([1, 70000])
        XCTAssertEqual(q.count, 1 + 2 * 4)
        XCTAssertEqual(q[0], 4)
        XCTAssertEqual(values(q), [1, 70000])
        XCTAssertEqual(values(make([Int.min, 0, Int.max])), [Int.min, 0, Int.max])
    }

    func testSearchFindsMembersAndInsertionPoints() {
        let p = make([-10, -3, 0, 7, 100])
        withSet(p) { s in
            XCTAssertEqual(s.count, 5)
            for (i, v) in [-10, -3, 0, 7, 100].enumerated() {
                XCTAssertTrue(s.search(v) == (true, i))
                XCTAssertTrue(s.contains(v))
            }
            XCTAssertTrue(s.search(-11) == (false, 0))
            XCTAssertTrue(s.search(-5) == (false, 1))
            XCTAssertTrue(s.search(5) == (false, 3))
            XCTAssertTrue(s.search(101) == (false, 5))
            // Wider than the set's width: never a member, whatever the low bits.
            XCTAssertFalse(s.contains(65536 + 7))
            XCTAssertFalse(s.contains(Int.max))
        }
        withSet(make([])) { s in
            XCTAssertEqual(s.count, 0)
            XCTAssertTrue(s.search(3) == (false, 0))
        }
    }

    func testInsertUpgradesWidthAndKeepsOrder() {
        var p = make([1, 5, 9])
        for v in [3, -40000, 10, Int.max, -1] {
            p = withSet(p) { s in
                let (found, at) = s.search(v)
                XCTAssertFalse(found)
                var out = [UInt8](repeating: 0, count: s.sizeInserting(v))
                out.withUnsafeMutableBytes { s.writeInserting(v, at: at, into: $0.baseAddress!) }
                return out
            }
        }
        XCTAssertEqual(values(p), [-40000, -1, 1, 3, 5, 9, 10, Int.max])
        XCTAssertEqual(p[0], 8)
    }

    func testRemoveKeepsWidth() {
        let p = make([-1, 2, 3, 7, 100000])
        XCTAssertEqual(p[0], 4)
        let out: [UInt8] = withSet(p) { s in
            let gone = [0, 3, 4]
            var out = [UInt8](repeating: 0, count: IntSet.size(count: s.count - gone.count, width: s.width))
            gone.withUnsafeBufferPointer { g in out.withUnsafeMutableBytes { s.writeRemoving(g, into: $0.baseAddress!) } }
            return out
        }
        // Redis's intsetRemove never narrows: still 4 bytes per element.
        XCTAssertEqual(out[0], 4)
        XCTAssertEqual(values(out), [2, 3])
    }

    func testMergeInterleavesAndWidens() {
        let p = make([2, 4, 6, 8])
        let add = [-70000, 3, 5, 9, 10]
        let out: [UInt8] = withSet(p) { s in
            add.withUnsafeBufferPointer { a in
                let w = max(s.width, IntSet.width(ofSorted: a))
                var out = [UInt8](repeating: 0, count: IntSet.size(count: s.count + a.count, width: w))
                out.withUnsafeMutableBytes { s.writeMerging(a, width: w, into: $0.baseAddress!) }
                return out
            }
        }
        XCTAssertEqual(out[0], 4)
        XCTAssertEqual(values(out), [-70000, 2, 3, 4, 5, 6, 8, 9, 10])
        // Same width: old runs copied as blocks.
        let same: [UInt8] = withSet(make([1, 2, 3, 10])) { s in
            [0, 4, 11].withUnsafeBufferPointer { a in
                var out = [UInt8](repeating: 0, count: IntSet.size(count: 7, width: 2))
                out.withUnsafeMutableBytes { s.writeMerging(a, width: 2, into: $0.baseAddress!) }
                return out
            }
        }
        XCTAssertEqual(values(same), [0, 1, 2, 3, 4, 10, 11])
    }

    func testRandomisedAgainstSortedArray() {
        var rng = SystemRandomNumberGenerator()
        var model: [Int] = []
        var p = make([])
        for _ in 0..<2000 {
            let v: Int
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: v = Int.random(in: -50...50, using: &rng)
            case 1: v = Int.random(in: -100_000...100_000, using: &rng)
            default: v = Int.random(in: Int.min...Int.max, using: &rng)
            }
            p = withSet(p) { s in
                let (found, at) = s.search(v)
                XCTAssertEqual(found, model.contains(v))
                if found {
                    var out = [UInt8](repeating: 0, count: IntSet.size(count: s.count - 1, width: s.width))
                    [at].withUnsafeBufferPointer { g in out.withUnsafeMutableBytes { s.writeRemoving(g, into: $0.baseAddress!) } }
                    model.removeAll { $0 == v }
                    return out
                }
                var out = [UInt8](repeating: 0, count: s.sizeInserting(v))
                out.withUnsafeMutableBytes { s.writeInserting(v, at: at, into: $0.baseAddress!) }
                model.append(v)
                model.sort()
                return out
            }
            XCTAssertEqual(values(p), model)
        }
    }

    func testInsideAnEntry() {
        let key = bytes("s")
        let payload = make([5, 6, 7])
        let (e, off) = key.withUnsafeBufferPointer {
            Entry.makeCompact(type: .set, key: $0.baseAddress!, keyLen: $0.count, length: payload.count,
                              expireAt: -1, lru: 0)
        }
        defer { e.free() }
        payload.withUnsafeBytes { (e.raw + off).copyMemory(from: $0.baseAddress!, byteCount: payload.count) }
        let s = IntSet(e)
        XCTAssertEqual(e.type, .set)
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s[2], 7)
        XCTAssertTrue(s.contains(6))
        // One malloc block holds key and members: header + key + length + width + 3*2.
        XCTAssertEqual(Entry.sizeFor(keyLen: 1, payload: .bytes, valueLen: payload.count, expire: false), 5 + 2 + 1 + 7)

        // A cross-shard COPY or RENAME moves it as a blob: still a set, same members.
        let blob = exportEntry(e)
        let moved = bytes("t").withUnsafeBufferPointer { k in
            blob.withUnsafeBufferPointer { importEntry($0, key: k.baseAddress!, keyLen: k.count) }
        }
        defer { moved.free() }
        XCTAssertEqual(moved.type, .set)
        XCTAssertEqual(moved.payload, .bytes)
        XCTAssertEqual(Array(moved.bytes), payload)
        XCTAssertEqual(Array(moved.key), bytes("t"))
    }
}
