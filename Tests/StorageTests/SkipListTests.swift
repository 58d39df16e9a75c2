import XCTest
@testable import Storage

/// The skiplist and the scalable sorted set against a plain sorted array of
/// (score, member): every rank, span and link is checked after random
/// inserts, score updates and deletes.
final class SkipListTests: XCTestCase {
    typealias Item = (score: Double, member: [UInt8])

    static func less(_ a: Item, _ b: Item) -> Bool {
        if a.score != b.score { return a.score < b.score }
        return a.member.lexicographicallyPrecedes(b.member)
    }

    /// Walks every level checking that spans add up to ranks and that the
    /// level-0 chain, the backward links and the tail match `model`.
    func check(_ l: SkipList, _ model: [Item], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(l.count, model.count, "count", file: file, line: line)
        var n = l.first
        var i = 0
        var prev: SLNode? = nil
        while let nd = n {
            guard i < model.count else { return XCTFail("more nodes than members", file: file, line: line) }
            XCTAssertEqual(nd.score, model[i].score, file: file, line: line)
            XCTAssertEqual(Array(nd.member), model[i].member, file: file, line: line)
            XCTAssertEqual(nd.backward, prev, "backward link of rank \(i + 1)", file: file, line: line)
            XCTAssertEqual(l.rank(of: nd), i + 1, "rank of \(model[i])", file: file, line: line)
            prev = nd
            n = nd.next
            i += 1
        }
        XCTAssertEqual(i, model.count, file: file, line: line)
        XCTAssertEqual(l.tail, prev, "tail", file: file, line: line)
        // Each level's spans sum to the rank of the node it reaches.
        for lv in 0..<l.level {
            var x = l.head
            var rank = 0
            while let f = x.forward(lv) {
                rank += x.span(lv)
                let fn = SLNode(f)
                XCTAssertEqual(l.rank(of: fn), rank, "span sum at level \(lv)", file: file, line: line)
                x = fn
            }
        }
        for r in [0, 1, model.count / 2, model.count, model.count + 1] {
            let nd = l.node(atRank: r)
            if r >= 1 && r <= model.count {
                XCTAssertEqual(nd.map { Array($0.member) }, model[r - 1].member, "node at rank \(r)", file: file, line: line)
            } else {
                XCTAssertNil(nd, file: file, line: line)
            }
        }
    }

    func testRandomOperationsMatchSortedArray() {
        var rng = SystemRandomNumberGenerator()
        let z = ZSetValue()
        var model: [Item] = []
        let scores: [Double] = [0, 1, -1, 2.5, 3, -0.0, .infinity, -.infinity, 1e300, 7, 7, 7]
        for step in 0..<3000 {
            let member = Array("m\(Int.random(in: 0..<300, using: &rng))".utf8)
            let score = Bool.random(using: &rng) ? scores.randomElement(using: &rng)! : Double(Int.random(in: -50...50))
            let found = member.withUnsafeBufferPointer { z.find($0.baseAddress, $0.count) }
            let idx = model.firstIndex { $0.member == member }
            XCTAssertEqual(found != nil, idx != nil, "membership of \(member)")
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                if let node = found, let i = idx {
                    z.updateScore(node, score)
                    model[i].score = score
                } else {
                    member.withUnsafeBufferPointer { _ = z.insert($0.baseAddress, $0.count, score: score) }
                    model.append((score, member))
                }
            case 5..<8:
                if let node = found, let i = idx {
                    z.remove(node)
                    model.remove(at: i)
                }
            default:
                if !model.isEmpty {
                    model.sort(by: SkipListTests.less)
                    let start = Int.random(in: 0..<model.count, using: &rng)
                    let n = Int.random(in: 0...min(5, model.count - start), using: &rng)
                    z.removeRange(fromRank: start, count: n)
                    model.removeSubrange(start..<start + n)
                }
            }
            model.sort(by: SkipListTests.less)
            if step % 100 == 0 || step > 2950 { check(z.list, model) }
            XCTAssertEqual(z.index.count, model.count)
        }
        check(z.list, model)
        // Every member is found through the index, with its score.
        for it in model {
            let nd = it.member.withUnsafeBufferPointer { z.find($0.baseAddress, $0.count) }
            XCTAssertEqual(nd?.score, it.score)
            XCTAssertEqual(nd.map { z.rank(of: $0) }, model.firstIndex { $0.member == it.member })
        }
    }

    func testLastWhereGivesRangeBoundsByRank() {
        var l = SkipList()
        defer { l.free() }
        for i in 0..<500 {
            let m = Array("k\(i)".utf8)
            m.withUnsafeBufferPointer { _ = l.insert(score: Double(i / 2), $0.baseAddress, $0.count) }
        }
        // Members with score < 100: 200 of them.
        let (r, n) = l.lastWhere { $0.score < 100 }
        XCTAssertEqual(r, 200)
        XCTAssertEqual(n.score, 99)
        XCTAssertEqual(l.lastWhere { _ in false }.rank, 0)
        XCTAssertEqual(l.lastWhere { _ in false }.node, l.head)
        XCTAssertEqual(l.lastWhere { _ in true }.rank, 500)
    }

    func testUpdateScoreKeepsTheNodeAndItsIndexEntry() {
        let z = ZSetValue()
        let a = Array("a".utf8), b = Array("b".utf8), c = Array("c".utf8)
        let na = a.withUnsafeBufferPointer { z.insert($0.baseAddress, 1, score: 1) }
        b.withUnsafeBufferPointer { _ = z.insert($0.baseAddress, 1, score: 2) }
        c.withUnsafeBufferPointer { _ = z.insert($0.baseAddress, 1, score: 3) }
        z.updateScore(na, 1.5)   // stays in place
        XCTAssertEqual(z.rank(of: na), 0)
        z.updateScore(na, 10)    // moves to the end
        XCTAssertEqual(z.rank(of: na), 2)
        XCTAssertEqual(z.list.tail, na)
        XCTAssertEqual(a.withUnsafeBufferPointer { z.find($0.baseAddress, 1) }, na, "the index still finds the node")
        XCTAssertEqual(SLNode.from(entry: na.entry), na)
        XCTAssertEqual(Array(na.entry.key), a)
    }

    func testCopyIsDeepAndOrdered() {
        let z = ZSetValue()
        for i in 0..<200 {
            let m = Array("member-\(i)".utf8)
            m.withUnsafeBufferPointer { _ = z.insert($0.baseAddress, $0.count, score: Double(i % 17)) }
        }
        let c = z.copy() as! ZSetValue
        var p = z.list.first, q = c.list.first
        while let a = p, let b = q {
            XCTAssertNotEqual(a, b)
            XCTAssertEqual(a.score, b.score)
            XCTAssertEqual(Array(a.member), Array(b.member))
            p = a.next
            q = b.next
        }
        XCTAssertNil(p)
        XCTAssertNil(q)
        XCTAssertEqual(c.index.count, 200)
        XCTAssertEqual(c.encodingName.description, "skiplist")
        XCTAssertGreaterThan(c.allocatedBytes, 200 * 40)
    }

    func testStagedMembersAreOrderedOnce() {
        let z = ZSetValue()
        var model: [Item] = []
        for i in 0..<300 {
            let m = Array("s\(i % 100)".utf8)
            let s = Double((i * 37) % 11)
            if let nd = m.withUnsafeBufferPointer({ z.find($0.baseAddress, $0.count) }) {
                nd.score += s
                model[model.firstIndex { $0.member == m }!].score += s
            } else {
                m.withUnsafeBufferPointer { _ = z.stage($0.baseAddress, $0.count, score: s) }
                model.append((s, m))
            }
        }
        XCTAssertEqual(z.count, 0, "staged members are not in the list yet")
        z.orderStaged()
        model.sort(by: SkipListTests.less)
        check(z.list, model)
    }
}
