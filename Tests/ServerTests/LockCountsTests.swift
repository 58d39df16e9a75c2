import XCTest
@testable import Server

/// LockCounts against a Dictionary model: random holds and releases over a
/// few hashes that share their home slots, so probing runs, backward-shift
/// deletion across the wrap-around, and growth from the smallest table all
/// happen.
final class LockCountsTests: XCTestCase {
    func testMatchesADictionaryUnderRandomHoldsAndReleases() {
        var table = LockCounts(capacity: 8)
        defer { table.deallocate() }
        var model: [UInt64: (s: Int, x: Int)] = [:]
        // Hashes differing only above the bits `home` mixes in collide on
        // small tables; the rest spread out.
        var hashes: [UInt64] = (0..<24).map { UInt64($0) << 40 }
        hashes += (0..<40).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        var seed: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        for step in 0..<200_000 {
            let h = hashes[Int(next() % UInt64(hashes.count))]
            let x = next() & 1 == 0
            let held = model[h, default: (0, 0)]
            // Releases almost as often as holds: keys keep leaving and
            // re-entering the table, so deletions run inside probe runs.
            let had = x ? held.x > 0 : held.s > 0
            if next() % 100 < 45 && (had || (held.s == 0 && held.x == 0)) {
                // Only a hold of the kind the key has is released (as the
                // lock table does); a key held by nobody must be refused.
                let removed = table.remove(h, exclusive: x)
                if had {
                    XCTAssertTrue(removed, "step \(step)")
                    var n = held
                    if x { n.x -= 1 } else { n.s -= 1 }
                    model[h] = (n.s == 0 && n.x == 0) ? nil : n
                } else {
                    XCTAssertFalse(removed, "step \(step): nothing held")
                }
            } else {
                table.add(h, exclusive: x)
                model[h] = x ? (held.s, held.x + 1) : (held.s + 1, held.x)
            }
            if step % 997 == 0 {
                XCTAssertEqual(table.count, model.count, "step \(step)")
                for k in hashes {
                    let want = model[k, default: (0, 0)]
                    let got = table.counts(k)
                    XCTAssertTrue(got.0 == want.s && got.1 == want.x, "step \(step) key \(k): \(got) vs \(want)")
                }
            }
        }
    }

    func testAKeyHeldNoMoreLeavesTheTable() {
        var table = LockCounts(capacity: 8)
        defer { table.deallocate() }
        table.add(7, exclusive: false)
        table.add(7, exclusive: true)
        XCTAssertEqual(table.count, 1)
        XCTAssertTrue(table.remove(7, exclusive: false))
        XCTAssertEqual(table.count, 1, "still held exclusively")
        XCTAssertTrue(table.remove(7, exclusive: true))
        XCTAssertEqual(table.count, 0)
        XCTAssertEqual(table.find(7), -1)
        XCTAssertFalse(table.remove(7, exclusive: true))
    }
}
