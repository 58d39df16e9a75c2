import XCTest
@testable import Storage

/// The forkless snapshot of one keyspace: what it writes must be exactly
/// the keyspace at the cut, whatever happens to the table during the walk.
final class KeyspaceSnapshotTests: XCTestCase {
    /// The records wrapped as a one-database RDB file (checksum 0: unchecked).
    func load(_ records: [UInt8]) -> [[UInt8]: ([UInt8], Int64)]? {
        var file = Array("REDIS0010".utf8)
        file += [0xFE, 0x00]
        file += records
        file += [0xFF, 0, 0, 0, 0, 0, 0, 0, 0]
        var got: [[UInt8]: ([UInt8], Int64)] = [:]
        let r = file.withUnsafeBufferPointer { buf in
            loadRdbFile(buf, databases: 16, now: 0) { key, _, v, exp in
                guard got[key] == nil, case .string(let b) = v else { return false }
                got[key] = (b, exp)
                return true
            }
        }
        if case .failure(let e) = r { XCTFail(e.message); return nil }
        return got
    }

    func put(_ ks: Keyspace, _ k: [UInt8], _ v: [UInt8], expireAt: Int64 = -1) {
        let i = ks.find(k, now: 0)
        let e = makeEntry(k, v, expireAt: expireAt)
        k.withUnsafeBufferPointer { ks.put(e, at: i, hash: hashBytes($0.baseAddress!, $0.count)) }
    }

    func testCutSurvivesWritesDeletesGrowthAndFlushOrder() {
        let ks = Keyspace()
        var atCut: [[UInt8]: ([UInt8], Int64)] = [:]
        for i in 0..<3000 {
            let k = decimalKey("k:", i)
            let exp: Int64 = i % 7 == 0 ? 9_000_000_000_000 + Int64(i) : -1
            put(ks, k, decimalKey("g1:", i), expireAt: exp)
            atCut[k] = (decimalKey("g1:", i), exp)
        }
        let snap = ks.beginSnapshot(compress: false)!
        var out: [UInt8] = []
        var rounds = 0
        var done = false
        while !done {
            done = snap.step(ks, slots: 97, bytes: 1 << 20)
            out += snap.take()
            // Interleave every kind of change with the walk.
            let base = rounds * 40
            for j in base..<(base + 40) where j < 3000 {
                let k = decimalKey("k:", j)
                switch j % 5 {
                case 0: put(ks, k, decimalKey("g2:", j))                        // overwrite
                case 1: let s = ks.find(k, now: 0); if s >= 0 { ks.remove(at: s) } // delete
                case 2: let s = ks.find(k, now: 0); if s >= 0 { ks.setExpire(at: s, 5) } // expire
                case 3: put(ks, decimalKey("new:", j), bytes("x"))              // added after the cut
                default:                                                          // SET's in-place overwrite
                    let s = ks.find(k, now: 0)
                    if s >= 0 {
                        let v = decimalKey("g3:", j)
                        _ = v.withUnsafeBufferPointer { ks.table.entry(at: s).overwriteString($0.baseAddress!, $0.count, lru: 1) }
                    }
                }
            }
            rounds += 1
            XCTAssertLessThan(rounds, 10_000)
        }
        out += snap.take()
        XCTAssertNil(ks.snapshot, "hooks detach once the walk is complete")
        XCTAssertGreaterThan(ks.table.moves, 0, "the additions made the table grow during the walk")
        XCTAssertGreaterThan(snap.cowBytes, 0)
        XCTAssertEqual(snap.keys, 3000)
        guard let got = load(out) else { return }
        XCTAssertEqual(got.count, atCut.count)
        for (k, v) in atCut {
            XCTAssertEqual(got[k]?.0, v.0)
            XCTAssertEqual(got[k]?.1, v.1)
        }
        // Every entry now carries the parity: the next snapshot owes all of them.
        for i in 0..<ks.table.capacity where ks.table.isLive(i) {
            XCTAssertEqual(ks.table.entry(at: i).snapMark, ks.snapParity)
        }
        let again = ks.beginSnapshot(compress: true)!
        while !again.step(ks, slots: 1000, bytes: 1 << 20) {}
        XCTAssertEqual(load(again.take())?.count, ks.count)
    }

    func testFlushDuringWalkSavesEverythingOwed() {
        let ks = Keyspace()
        for i in 0..<500 { put(ks, decimalKey("f:", i), bytes("v")) }
        let snap = ks.beginSnapshot(compress: false)!
        _ = snap.step(ks, slots: 100, bytes: 1 << 20)
        ks.removeAll()
        put(ks, bytes("after"), bytes("v"))
        while !snap.step(ks, slots: 100, bytes: 1 << 20) {}
        let got = load(snap.take())
        XCTAssertEqual(got?.count, 500)
        XCTAssertNil(got?[bytes("after")])
    }

    func testEmptyKeyspaceHasNoSnapshotButFlipsParity() {
        let ks = Keyspace()
        let p = ks.snapParity
        XCTAssertNil(ks.beginSnapshot(compress: false))
        XCTAssertNotEqual(ks.snapParity, p)
        put(ks, bytes("a"), bytes("b"))
        XCTAssertEqual(ks.table.entry(at: ks.find(bytes("a"), now: 0)).snapMark, ks.snapParity)
    }
}
