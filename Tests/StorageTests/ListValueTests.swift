import XCTest
@testable import Storage

/// The quicklist behind lists, checked against a Swift array model.
final class ListValueTests: XCTestCase {
    override func tearDown() {
        EncodingLimits.listMaxListpackSize.store(-2, ordering: .relaxed)
        super.tearDown()
    }

    private func limit(_ v: Int) { EncodingLimits.listMaxListpackSize.store(v, ordering: .relaxed) }

    private func elems(_ l: ListValue) -> [[UInt8]] {
        var out: [[UInt8]] = []
        l.forEach(from: 0) { out.append(Array($0)); return true }
        return out
    }

    private func reversed(_ l: ListValue) -> [[UInt8]] {
        var out: [[UInt8]] = []
        l.forEachReverse(from: l.count - 1) { out.append(Array($0)); return true }
        return out
    }

    private func push(_ l: ListValue, _ v: [UInt8], front: Bool = false) {
        v.withUnsafeBufferPointer { front ? l.pushFront($0) : l.pushBack($0) }
    }

    private func val(_ i: Int, _ len: Int = 0) -> [UInt8] {
        var v = decimalKey("v", i)
        while v.count < len { v.append(UInt8(97 + v.count % 26)) }
        return v
    }

    /// Checks every invariant the list keeps, against `model`.
    private func check(_ l: ListValue, _ model: [[UInt8]], _ msg: String = "", file: StaticString = #filePath,
                       line: UInt = #line) {
        XCTAssertEqual(l.count, model.count, msg, file: file, line: line)
        XCTAssertEqual(elems(l), model, msg, file: file, line: line)
        XCTAssertEqual(reversed(l), model.reversed(), msg, file: file, line: line)
        XCTAssertEqual(l.nodeSizes.reduce(0, +), model.count, msg, file: file, line: line)
        XCTAssertFalse(l.nodeSizes.contains(0), "no empty nodes " + msg, file: file, line: line)
        for i in [0, model.count / 3, model.count / 2, model.count - 1] where i >= 0 && i < model.count {
            XCTAssertEqual(Array(l.element(at: i)), model[i], "index \(i) " + msg, file: file, line: line)
        }
    }

    func testEncodingIsAlwaysQuicklist() {
        let l = ListValue()
        XCTAssertEqual("\(l.encodingName)", "quicklist")
        push(l, bytes("a"))
        XCTAssertEqual("\(l.encodingName)", "quicklist")
    }

    func testNodesSplitAtTheByteLimit() {
        limit(-1)  // 4 KiB nodes
        let l = ListValue()
        var model: [[UInt8]] = []
        // 100-byte elements take 101 bytes packed: 40 fit in 4096, not 41.
        for i in 0..<200 {
            let v = val(i, 100)
            push(l, v)
            model.append(v)
        }
        XCTAssertEqual(l.nodeSizes, [40, 40, 40, 40, 40])
        check(l, model)
        for i in 0..<45 {
            let v = val(1000 + i, 100)
            push(l, v, front: true)
            model.insert(v, at: 0)
        }
        XCTAssertEqual(l.nodeSizes, [5, 40, 40, 40, 40, 40, 40])
        check(l, model)
    }

    func testNodesSplitAtTheEntryLimit() {
        limit(3)
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<10 {
            push(l, val(i))
            model.append(val(i))
        }
        XCTAssertEqual(l.nodeSizes, [3, 3, 3, 1])
        check(l, model)
        // An entry limit still caps bytes at 8 KiB, as Redis's safety limit.
        let big = ListValue()
        for i in 0..<3 { push(big, val(i, 5000)) }
        XCTAssertEqual(big.nodeSizes, [1, 1, 1])
    }

    func testAnElementOverTheLimitGetsItsOwnNode() {
        limit(-1)
        let l = ListValue()
        push(l, bytes("a"))
        push(l, val(1, 10000))
        push(l, bytes("b"))
        XCTAssertEqual(l.nodeSizes, [1, 1, 1])
        check(l, [bytes("a"), val(1, 10000), bytes("b")])
    }

    func testPopBothEnds() {
        limit(-1)
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<500 { push(l, val(i, 30)); model.append(val(i, 30)) }
        for i in 0..<500 {
            if i % 3 == 0 {
                let got = l.popFront { Array($0) }
                XCTAssertEqual(got, model.removeFirst())
            } else {
                let got = l.popBack { Array($0) }
                XCTAssertEqual(got, model.removeLast())
            }
            if i % 50 == 0 { check(l, model) }
        }
        XCTAssertEqual(l.count, 0)
        XCTAssertEqual(l.nodeCount, 0)
        XCTAssertNil(l.popBack { _ in 1 })
        XCTAssertNil(l.popFront { _ in 1 })
        push(l, bytes("again"))
        check(l, [bytes("again")])
    }

    func testTailPopsAfterOtherChangesSeeTheNewLayout() {
        // The tail-offset index must be dropped when the last node changes shape.
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<100 { push(l, val(i)); model.append(val(i)) }
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())   // builds the index
        push(l, bytes("front"), front: true); model.insert(bytes("front"), at: 0)
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        bytes("x").withUnsafeBufferPointer { l.insert($0.baseAddress, 1, at: 50) }
        model.insert(bytes("x"), at: 50)
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        val(7, 40).withUnsafeBufferPointer { l.replace(at: 20, with: $0.baseAddress, $0.count) }
        model[20] = val(7, 40)
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        l.removeRange(10, 5); model.removeSubrange(10..<15)
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        _ = l.popFront { _ in 0 }; model.removeFirst()
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        l.removeLast(3); model.removeLast(3)
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        push(l, bytes("tail")); model.append(bytes("tail"))
        XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
        check(l, model)
    }

    func testQueueOnOneNodeKeepsTheTailIndex() {
        // LPUSH + RPOP on a one-node list: head pushes and pops shift the
        // indexed offsets instead of dropping them.
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<200 { push(l, val(i)); model.append(val(i)) }
        XCTAssertEqual(l.nodeCount, 1)
        var rng = 12345
        for i in 0..<3000 {
            rng = (rng &* 1103515245 &+ 12345) & 0x7fffffff
            let v = val(i, rng % 40)
            let wasValid = l.tailValid, oneNode = l.nodeCount == 1
            switch rng % 5 {
            case 0, 1: push(l, v, front: true); model.insert(v, at: 0)
            case 2: XCTAssertEqual(l.popBack { Array($0) }, model.removeLast())
            case 3: XCTAssertEqual(l.popFront { Array($0) }, model.removeFirst())
            default: push(l, v); model.append(v)
            }
            if oneNode && l.nodeCount == 1 {
                // Once built, end operations keep the index; a pop builds it.
                XCTAssertTrue(l.tailValid == wasValid || (rng % 5 == 2 && l.tailValid), "step \(i)")
            }
            if i % 100 == 0 { check(l, model, "step \(i)") }
        }
        check(l, model)
    }

    func testInsertAndRemoveAcrossNodes() {
        limit(4)
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<12 { push(l, val(i)); model.append(val(i)) }
        XCTAssertEqual(l.nodeSizes, [4, 4, 4])
        // Into a full node's middle: split.
        bytes("m").withUnsafeBufferPointer { l.insert($0.baseAddress, 1, at: 6) }
        model.insert(bytes("m"), at: 6)
        check(l, model)
        XCTAssertEqual(l.nodeSizes.count, 4)
        XCTAssertEqual(l.nodeSizes, [4, 3, 2, 4])
        // At a full node's start: the previous node, which has room, takes it.
        bytes("s").withUnsafeBufferPointer { l.insert($0.baseAddress, 1, at: 9) }
        model.insert(bytes("s"), at: 9)
        check(l, model)
        XCTAssertEqual(l.nodeSizes, [4, 3, 3, 4])
        // Range removal across node boundaries merges thin neighbours.
        l.removeRange(2, 9)
        model.removeSubrange(2..<11)
        check(l, model)
        XCTAssertEqual(l.nodeSizes, [2, 3])
    }

    func testRemoveMatchingFromEitherEnd() {
        limit(5)
        let l = ListValue()
        var model: [[UInt8]] = []
        for i in 0..<40 {
            let v = i % 3 == 0 ? bytes("x") : val(i)
            push(l, v)
            model.append(v)
        }
        func removeModel(_ limit: Int, fromTail: Bool) -> Int {
            var removed = 0
            var idx = fromTail ? Array(model.indices.reversed()) : Array(model.indices)
            idx = idx.filter { model[$0] == bytes("x") }
            if limit > 0 { idx = Array(idx.prefix(limit)) }
            for i in idx.sorted(by: >) { model.remove(at: i); removed += 1 }
            return removed
        }
        let x = bytes("x")
        var got = x.withUnsafeBufferPointer { l.removeAll(matching: $0.baseAddress!, 1, limit: 2, fromTail: true) }
        XCTAssertEqual(got, removeModel(2, fromTail: true))
        check(l, model)
        got = x.withUnsafeBufferPointer { l.removeAll(matching: $0.baseAddress!, 1, limit: 3, fromTail: false) }
        XCTAssertEqual(got, removeModel(3, fromTail: false))
        check(l, model)
        got = x.withUnsafeBufferPointer { l.removeAll(matching: $0.baseAddress!, 1, limit: 0, fromTail: false) }
        XCTAssertEqual(got, removeModel(0, fromTail: false))
        XCTAssertEqual(got, 9)
        check(l, model)
        got = x.withUnsafeBufferPointer { l.removeAll(matching: $0.baseAddress!, 1, limit: 0, fromTail: true) }
        XCTAssertEqual(got, 0)
    }

    func testCopyIsDeep() {
        let l = ListValue()
        for i in 0..<3000 { push(l, val(i, 12)) }
        let c = l.copy() as! ListValue
        let before = elems(l)
        l.removeRange(0, 1000)
        _ = l.popBack { _ in 0 }
        push(c, bytes("only in copy"))
        XCTAssertEqual(elems(c), before + [bytes("only in copy")])
        XCTAssertEqual(l.count, 1999)
        XCTAssertGreaterThan(c.allocatedBytes, 3000 * 13)
    }

    func testMemoryIsBytesPlusOnePerElement() {
        let l = ListValue()
        for i in 0..<100_000 { push(l, val(i, 20)) }
        // 21 bytes packed per element; the node ring and slack stay small.
        XCTAssertLessThan(l.allocatedBytes, 100_000 * 21 * 105 / 100)
    }

    func testRandomisedAgainstArrayModel() {
        var rng = SystemRandomNumberGenerator()
        var seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        let origin = seed
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        for lim in [-1, 3, 7, -2] {
            limit(lim)
            let l = ListValue()
            var model: [[UInt8]] = []
            for step in 0..<6000 {
                let len = next(10) == 0 ? next(3000) : next(20)
                let v = val(next(50), len)
                switch next(10) {
                case 0: push(l, v); model.append(v)
                case 1: push(l, v, front: true); model.insert(v, at: 0)
                case 2: if let e = l.popBack({ Array($0) }) { XCTAssertEqual(e, model.removeLast()) }
                case 3: if let e = l.popFront({ Array($0) }) { XCTAssertEqual(e, model.removeFirst()) }
                case 4:
                    let i = next(model.count + 1)
                    v.withUnsafeBufferPointer { l.insert($0.baseAddress, $0.count, at: i) }
                    model.insert(v, at: i)
                case 5 where !model.isEmpty:
                    let i = next(model.count)
                    v.withUnsafeBufferPointer { l.replace(at: i, with: $0.baseAddress, $0.count) }
                    model[i] = v
                case 6 where !model.isEmpty:
                    let s = next(model.count), n = next(min(30, model.count - s) + 1)
                    l.removeRange(s, n)
                    model.removeSubrange(s..<(s + n))
                case 7 where !model.isEmpty:
                    let t = model[next(model.count)], lim = next(3), tail = next(2) == 0
                    let got = t.withUnsafeBufferPointer {
                        l.removeAll(matching: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count, limit: lim,
                                    fromTail: tail)
                    }
                    var idx = model.indices.filter { model[$0] == t }
                    if tail { idx.reverse() }
                    if lim > 0 { idx = Array(idx.prefix(lim)) }
                    for i in idx.sorted(by: >) { model.remove(at: i) }
                    XCTAssertEqual(got, idx.count, "seed \(origin) step \(step)")
                case 8:
                    let k = next(4)
                    if next(2) == 0 { l.removeLast(k); model.removeLast(min(k, model.count)) } else {
                        l.removeFirst(k); model.removeFirst(min(k, model.count))
                    }
                default:
                    if !model.isEmpty {
                        let i = next(model.count)
                        XCTAssertEqual(Array(l.element(at: i)), model[i], "seed \(origin) step \(step)")
                    }
                }
                if step % 500 == 0 { check(l, model, "seed \(origin) limit \(lim) step \(step)") }
            }
            check(l, model, "seed \(origin) limit \(lim)")
        }
    }
}
