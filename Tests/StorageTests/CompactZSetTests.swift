import XCTest
@testable import Storage

/// The inline sorted set payload: score elements, pair walking, lookups,
/// and the one-rewrite splices ZADD, ZREM and the range deletions use.
final class CompactZSetTests: XCTestCase {
    func roundTrip(_ d: Double, exact: Bool = false) -> (Double, Int) {
        var buf = [UInt8](repeating: 0, count: 16)
        return buf.withUnsafeMutableBytes { raw -> (Double, Int) in
            var off = 0
            CompactZSet.writeScore(raw.baseAddress!, &off, d, exact: exact)
            let n = Int(raw[0])
            XCTAssertEqual(off, 1 + n)
            let b = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + 1, count: n)
            return (CompactZSet.decodeScore(b), n)
        }
    }

    func testScoresRoundTripInTheirSmallestForm() {
        let cases: [(Double, Int)] = [
            (0, 0), (1, 1), (-1, 1), (127, 1), (128, 2), (-128, 1), (-129, 2), (32767, 2), (32768, 3),
            (-2147483649, 5), (281474976710656, 7), (9007199254740991, 7), (-9007199254740991, 7),
            (9007199254740992, 8), (0.5, 8), (0.1, 8), (1e308, 8), (.infinity, 8), (-.infinity, 8),
            (5e-324, 8), (-1.5, 8), (12345678901234567890, 8),
        ]
        for (d, size) in cases {
            let (back, n) = roundTrip(d)
            XCTAssertEqual(back, d, "\(d)")
            XCTAssertEqual(back.sign, d.sign, "\(d)")
            XCTAssertEqual(n, size, "bytes for \(d)")
        }
    }

    func testNegativeZeroBecomesZeroUnlessExact() {
        let (plain, n) = roundTrip(-0.0)
        XCTAssertEqual(n, 0)
        XCTAssertEqual(plain.sign, .plus, "a listpack keeps -0 as the integer 0")
        let (exact, m) = roundTrip(-0.0, exact: true)
        XCTAssertEqual(m, 8)
        XCTAssertEqual(exact.sign, .minus)
    }

    /// A zset entry holding `pairs` (already in order).
    func makeZSet(_ pairs: [(String, Double)]) -> Entry {
        var len = packedVarintSize(pairs.count)
        for (m, s) in pairs { len += CompactZSet.pairSize(memberLength: m.utf8.count, score: s) }
        let k = bytes("z")
        let (e, off) = k.withUnsafeBufferPointer {
            Entry.makeCompact(type: .zset, key: $0.baseAddress!, keyLen: 1, length: len, expireAt: -1, lru: 0)
        }
        var w = off
        packedWriteVarint(e.raw, &w, pairs.count)
        for (m, s) in pairs {
            let b = Array(m.utf8)
            b.withUnsafeBufferPointer { CompactZSet.writePair(e.raw, &w, $0.baseAddress, $0.count, s) }
        }
        XCTAssertEqual(w - off, len)
        return e
    }

    func contents(_ c: CompactPayload) -> [(String, Double)] {
        var out: [(String, Double)] = []
        var ps = CompactZSet.Pairs(c)
        while let p = ps.next() { out.append((String(decoding: p.member, as: UTF8.self), p.score)) }
        XCTAssertEqual(out.count, c.count, "stored count")
        return out
    }

    func same(_ a: [(String, Double)], _ b: [(String, Double)], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map { $0.0 }, b.map { $0.0 }, file: file, line: line)
        XCTAssertEqual(a.map { $0.1 }, b.map { $0.1 }, file: file, line: line)
    }

    func testFindAndInsertionOffsets() {
        let e = makeZSet([("a", 1), ("b", 2), ("c", 2), ("", 3), ("d", 1e10)])
        defer { e.free() }
        let c = e.compact
        XCTAssertEqual(c.count, 5)
        for (m, i, s) in [("a", 0, 1.0), ("c", 2, 2), ("", 3, 3), ("d", 4, 1e10)] {
            let b = Array(m.utf8)
            let f = b.withUnsafeBufferPointer { CompactZSet.find(c, $0.baseAddress, $0.count) }
            XCTAssertEqual(f?.1, i, m)
            XCTAssertEqual(f?.0.score, s, m)
        }
        XCTAssertNil(bytes("zz").withUnsafeBufferPointer { CompactZSet.find(c, $0.baseAddress, $0.count) })
        // (2, "bb") goes between b and c; (2, "c") equal goes after; (0, x) first; (inf, x) last.
        func at(_ s: Double, _ m: String) -> Int {
            let b = Array(m.utf8)
            return b.withUnsafeBufferPointer { CompactZSet.insertionOffset(c, s, $0.baseAddress, $0.count) }
        }
        XCTAssertEqual(at(2, "bb"), CompactZSet.offset(c, index: 2))
        XCTAssertEqual(at(2, "c"), CompactZSet.offset(c, index: 3))
        XCTAssertEqual(at(0, "x"), c.first)
        XCTAssertEqual(at(.infinity, "x"), c.end)
        XCTAssertEqual(CompactZSet.offset(c, index: 5), c.end)
    }

    /// Applies a splice into a fresh block and reads it back.
    func spliced(_ c: CompactPayload, members: Int, cut: Range<Int>, insertAt: Int, member: String?,
                 score: Double) -> [(String, Double)] {
        let mb = member.map { Array($0.utf8) }
        let len = CompactZSet.splicedLength(c, members: members, cut: cut, memberLength: mb?.count, score: score)
        let k = bytes("z")
        let (e, off) = k.withUnsafeBufferPointer {
            Entry.makeCompact(type: .zset, key: $0.baseAddress!, keyLen: 1, length: len, expireAt: -1, lru: 0)
        }
        defer { e.free() }
        if let mb {
            mb.withUnsafeBufferPointer {
                CompactZSet.writeSpliced(e.raw + off, from: c, members: members, cut: cut, insertAt: insertAt,
                                         member: $0, score: score)
            }
        } else {
            CompactZSet.writeSpliced(e.raw + off, from: c, members: members, cut: cut, insertAt: insertAt,
                                     member: nil, score: score)
        }
        return contents(e.compact)
    }

    func testSplicesInsertUpdateAndRemove() {
        let base: [(String, Double)] = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
        let e = makeZSet(base)
        defer { e.free() }
        let c = e.compact
        let o = (0...4).map { CompactZSet.offset(c, index: $0) }
        // Inserts at the front, the middle and the end.
        same(spliced(c, members: 5, cut: o[0]..<o[0], insertAt: o[0], member: "z", score: 0),
             [("z", 0)] + base)
        same(spliced(c, members: 5, cut: o[2]..<o[2], insertAt: o[2], member: "bb", score: 2.5),
             [("a", 1), ("b", 2), ("bb", 2.5), ("c", 3), ("d", 4)])
        same(spliced(c, members: 5, cut: o[4]..<o[4], insertAt: o[4], member: "e", score: 9), base + [("e", 9)])
        // Score updates moving a member back, forward, and staying.
        same(spliced(c, members: 4, cut: o[3]..<o[4], insertAt: o[1], member: "d", score: 1.5),
             [("a", 1), ("d", 1.5), ("b", 2), ("c", 3)])
        same(spliced(c, members: 4, cut: o[0]..<o[1], insertAt: o[3], member: "a", score: 3.5),
             [("b", 2), ("c", 3), ("a", 3.5), ("d", 4)])
        same(spliced(c, members: 4, cut: o[1]..<o[2], insertAt: o[2], member: "b", score: 2.25),
             [("a", 1), ("b", 2.25), ("c", 3), ("d", 4)])
        same(spliced(c, members: 4, cut: o[1]..<o[2], insertAt: o[1], member: "b", score: 1.75),
             [("a", 1), ("b", 1.75), ("c", 3), ("d", 4)])
        // Removals: one member, a run, everything but one.
        same(spliced(c, members: 3, cut: o[1]..<o[2], insertAt: 0, member: nil, score: 0),
             [("a", 1), ("c", 3), ("d", 4)])
        same(spliced(c, members: 1, cut: o[0]..<o[3], insertAt: 0, member: nil, score: 0), [("d", 4)])
    }

    func testScratchPairsKeepExactScores() {
        var b = PackedBuffer()
        defer { b.free() }
        CompactZSet.appendPair(&b, nil, 0, -0.0)
        let m = bytes("member")
        m.withUnsafeBufferPointer { CompactZSet.appendPair(&b, $0.baseAddress, $0.count, 0.1) }
        XCTAssertEqual(b.count, 4)
        var it = b.elements
        XCTAssertEqual(it.next()?.count, 0)
        XCTAssertEqual(CompactZSet.decodeScore(it.next()!).sign, .minus)
        XCTAssertEqual(Array(it.next()!), m)
        XCTAssertEqual(CompactZSet.decodeScore(it.next()!), 0.1)
        XCTAssertNil(it.next())
    }

    func testRangeSpecs() {
        let r = ScoreRange(min: 1, max: 3, minex: true, maxex: false)
        XCTAssertFalse(r.gteMin(1))
        XCTAssertTrue(r.gteMin(1.5))
        XCTAssertTrue(r.lteMax(3))
        XCTAssertTrue(ScoreRange(min: 2, max: 2, minex: true, maxex: false).isEmpty)
        XCTAssertFalse(ScoreRange(min: 2, max: 2, minex: false, maxex: false).isEmpty)
        XCTAssertTrue(ScoreRange(min: 3, max: 2, minex: false, maxex: false).isEmpty)
        let b = bytes("b")
        b.withUnsafeBufferPointer { bb in
            let lex = LexRange(min: .minusInf, max: .bytes(bb), minex: true, maxex: true)
            XCTAssertFalse(lex.isEmpty)
            let a = bytes("a")
            a.withUnsafeBufferPointer { XCTAssertTrue(lex.lteMax(0, $0)) }
            XCTAssertFalse(lex.lteMax(0, bb))
            XCTAssertTrue(lex.gteMin(0, bb))
            XCTAssertTrue(LexRange(min: .plusInf, max: .plusInf, minex: true, maxex: true).isEmpty)
            XCTAssertTrue(LexRange(min: .bytes(bb), max: .minusInf, minex: false, maxex: true).isEmpty)
            XCTAssertFalse(LexRange(min: .bytes(bb), max: .bytes(bb), minex: false, maxex: false).isEmpty)
        }
        let ab = bytes("ab"), abc = bytes("abc")
        ab.withUnsafeBufferPointer { x in
            abc.withUnsafeBufferPointer { y in
                XCTAssertLessThan(compareMembers(x, y), 0, "a prefix sorts first")
                XCTAssertGreaterThan(compareMembers(y, x), 0)
                XCTAssertEqual(compareMembers(x, x), 0)
            }
        }
    }
}
