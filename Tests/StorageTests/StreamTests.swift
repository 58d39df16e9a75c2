import XCTest
@testable import Storage
import RESP

/// The packed-node stream, checked against a Swift array model.
final class StreamTests: XCTestCase {
    override func tearDown() {
        EncodingLimits.streamNodeMaxEntries.store(100, ordering: .relaxed)
        EncodingLimits.streamNodeMaxBytes.store(4096, ordering: .relaxed)
        super.tearDown()
    }

    private func add(_ s: StreamValue, _ id: StreamID, _ kv: [[UInt8]]) {
        let ptrs = kv.map { b -> Arg in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(b.count, 1))
            p.initialize(from: b, count: b.count)
            return Arg(UnsafePointer(p), b.count)
        }
        ptrs.withUnsafeBufferPointer { s.append(id, pairs: $0) }
        for p in ptrs { UnsafeMutablePointer(mutating: p.ptr).deallocate() }
    }

    private func read(_ s: StreamValue, _ a: StreamID = .zero, _ b: StreamID = .max, rev: Bool = false)
        -> [(StreamID, [[UInt8]])] {
        var out: [(StreamID, [[UInt8]])] = []
        s.forEach(from: a, to: b, reverse: rev) { e in
            var kv: [[UInt8]] = []
            e.forEachPair { f, fn, v, vn in
                kv.append(Array(UnsafeBufferPointer(start: f, count: fn)))
                kv.append(Array(UnsafeBufferPointer(start: v, count: vn)))
            }
            out.append((e.id, kv))
            return true
        }
        return out
    }

    private func fields(_ i: Int) -> [[UInt8]] {
        // Every third entry has other fields: both same-fields and full entries.
        i % 3 == 0 ? [Array("x\(i)".utf8), Array("v\(i)".utf8)]
                   : [Array("f".utf8), Array("\(i)".utf8), Array("g".utf8), Array(String(repeating: "z", count: i % 7).utf8)]
    }

    func testAppendAndRangeBothWays() {
        let s = StreamValue()
        var model: [(StreamID, [[UInt8]])] = []
        for i in 1...1000 {
            let id = StreamID(UInt64(i / 3 + 1), UInt64(i % 3))
            add(s, id, fields(i))
            model.append((id, fields(i)))
        }
        XCTAssertEqual(s.length, 1000)
        XCTAssertEqual(s.nodeCount, 10, "100 entries per node")
        let all = read(s)
        XCTAssertEqual(all.map { $0.0 }, model.map { $0.0 })
        XCTAssertEqual(all.map { $0.1 }, model.map { $0.1 })
        let rev = read(s, rev: true)
        XCTAssertEqual(rev.map { $0.0 }, model.reversed().map { $0.0 })
        // A range across node boundaries, both ways.
        let a = model[150].0, b = model[420].0
        XCTAssertEqual(read(s, a, b).map { $0.0 }, model[150...420].map { $0.0 })
        XCTAssertEqual(read(s, a, b, rev: true).map { $0.0 }, model[150...420].reversed().map { $0.0 })
        XCTAssertEqual(s.edgeID(first: true), model.first!.0)
        XCTAssertEqual(s.edgeID(first: false), model.last!.0)
        XCTAssertEqual(s.lastID, model.last!.0)
        XCTAssertEqual(s.entriesAdded, 1000)
    }

    func testDeleteAndWholeNodeRemoval() {
        let s = StreamValue()
        for i in 1...250 { add(s, StreamID(UInt64(i), 0), fields(i)) }
        XCTAssertTrue(s.delete(StreamID(5, 0)))
        XCTAssertFalse(s.delete(StreamID(5, 0)), "already deleted")
        XCTAssertFalse(s.delete(StreamID(9999, 0)))
        XCTAssertEqual(s.length, 249)
        XCTAssertNil(s.entry(StreamID(5, 0)))
        XCTAssertNotNil(s.entry(StreamID(6, 0)))
        // Emptying the second node removes it.
        for i in 101...200 { XCTAssertTrue(s.delete(StreamID(UInt64(i), 0))) }
        XCTAssertEqual(s.nodeCount, 2)
        XCTAssertEqual(read(s).count, 149)
        XCTAssertEqual(read(s, rev: true).first!.0, StreamID(250, 0))
        XCTAssertEqual(read(s, StreamID(99, 0), StreamID(202, 0)).map { $0.0.ms }, [99, 100, 201, 202])
        XCTAssertEqual(read(s, StreamID(99, 0), StreamID(202, 0), rev: true).map { $0.0.ms }, [202, 201, 100, 99])
    }

    func testTrimExactAndApprox() {
        let s = StreamValue()
        for i in 1...1000 { add(s, StreamID(UInt64(i), 0), fields(i)) }
        // Approximate: only whole nodes.
        XCTAssertEqual(s.trim(.maxLen(950), approx: true, limit: 10000), 0)
        XCTAssertEqual(s.trim(.maxLen(850), approx: true, limit: 10000), 100)
        XCTAssertEqual(s.length, 900)
        XCTAssertEqual(s.firstID, StreamID(101, 0))
        // Exact: into a node.
        XCTAssertEqual(s.trim(.maxLen(875), approx: false, limit: 0), 25)
        XCTAssertEqual(s.firstID, StreamID(126, 0))
        XCTAssertEqual(read(s).count, 875)
        XCTAssertEqual(s.trim(.minID(StreamID(500, 0)), approx: false, limit: 0), 374)
        XCTAssertEqual(s.firstID, StreamID(500, 0))
        // LIMIT stops before a node it cannot take whole.
        XCTAssertEqual(s.trim(.maxLen(0), approx: true, limit: 150), 101)
        XCTAssertEqual(s.trim(.maxLen(0), approx: false, limit: 0), 400)
        XCTAssertEqual(s.length, 0)
        XCTAssertEqual(s.firstID, .zero)
        XCTAssertEqual(s.nodeCount, 0)
    }

    func testNodeLimits() {
        EncodingLimits.streamNodeMaxEntries.store(5, ordering: .relaxed)
        let s = StreamValue()
        for i in 1...23 { add(s, StreamID(UInt64(i), 0), fields(i)) }
        XCTAssertEqual(s.nodeCount, 5)
        EncodingLimits.streamNodeMaxEntries.store(0, ordering: .relaxed)
        EncodingLimits.streamNodeMaxBytes.store(200, ordering: .relaxed)
        let t = StreamValue()
        let big = [Array("f".utf8), [UInt8](repeating: 65, count: 60)]
        for i in 1...20 { add(t, StreamID(UInt64(i), 0), big) }
        // Redis's listpack: 11 (header, counters) + 6 (master fields) + ~66 per entry, split at 200 bytes.
        XCTAssertEqual(t.nodeCount, 10)
        XCTAssertEqual(read(t).count, 20)
    }

    func testLargeStreamAndCopy() {
        let s = StreamValue()
        let n = 200_000
        for i in 0..<n { add(s, StreamID(1_700_000_000_000 + UInt64(i / 10), UInt64(i % 10)), [Array("k".utf8), Array("\(i)".utf8)]) }
        XCTAssertEqual(s.length, n)
        XCTAssertLessThan(s.allocatedBytes / n, 12, "packed: a few bytes per small entry")
        _ = s.trim(.maxLen(1000), approx: true, limit: 0)
        XCTAssertEqual(s.length, 1000)
        let c = s.copy() as! StreamValue
        XCTAssertEqual(read(c).map { $0.0 }, read(s).map { $0.0 })
        XCTAssertEqual(c.entriesAdded, Int64(n))
    }

    func testParseID() {
        func p(_ s: String, strict: Bool = false, auto: Bool = false) -> StreamID.Parsed? {
            var b = Array(s.utf8)
            return b.withUnsafeMutableBufferPointer {
                StreamID.parse($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, $0.count, missingSeq: 7,
                               strict: strict, autoSeq: auto)
            }
        }
        XCTAssertEqual(p("5"), .id(StreamID(5, 7)))
        XCTAssertEqual(p("5-3"), .id(StreamID(5, 3)))
        XCTAssertEqual(p("-"), .id(.zero))
        XCTAssertEqual(p("+"), .id(.max))
        XCTAssertNil(p("+", strict: true))
        XCTAssertNil(p("5-*"))
        XCTAssertEqual(p("5-*", auto: true), .autoSeq(5))
        XCTAssertNil(p("-5"))
        XCTAssertNil(p("5-"))
        XCTAssertNil(p("abc"))
        XCTAssertEqual(p("18446744073709551615-0"), .id(StreamID(UInt64.max, 0)))
        XCTAssertNil(p("18446744073709551616"))
        XCTAssertEqual(p("007"), .id(StreamID(7, 7)), "strtoull accepts leading zeros")
        XCTAssertEqual(StreamID(12, 34).bytes, Array("12-34".utf8))
        XCTAssertEqual(StreamID(1, UInt64.max).incremented, StreamID(2, 0))
        XCTAssertNil(StreamID.max.incremented)
        XCTAssertNil(StreamID.zero.decremented)
    }

    private func named<T>(_ n: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        Array(n.utf8).withUnsafeBufferPointer(body)
    }

    func testPendingListAgainstModel() {
        let g = ConsumerGroup(name: Array("g".utf8), lastID: .zero, entriesRead: 0)
        let (c, created) = named("c") { g.createConsumer($0, now: 0) }
        XCTAssertTrue(created)
        var pl = PendingList()
        var model: [StreamID] = []
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20000 {
            let id = StreamID(UInt64.random(in: 0..<3000, using: &rng), 0)
            switch step % 5 {
            case 0, 1, 2:
                let added = pl.insert(id, PendingEntry(consumer: c, time: 0))
                XCTAssertEqual(added, !model.contains(id))
                if added { model.append(id); model.sort() }
            case 3:
                // Front removals (acks in delivery order) take the dead-prefix path.
                if let f = model.first {
                    XCTAssertNotNil(pl.remove(f))
                    model.removeFirst()
                }
            default:
                let had = model.firstIndex(of: id)
                XCTAssertEqual(pl.remove(id) != nil, had != nil)
                if let i = had { model.remove(at: i) }
            }
        }
        XCTAssertEqual(pl.count, model.count)
        XCTAssertEqual((0..<pl.count).map { pl.id($0) }, model)
        if let m = model.dropFirst(model.count / 2).first {
            XCTAssertEqual(pl.lowerBound(m), model.count / 2)
            XCTAssertNotNil(pl.find(m))
        }
    }

    func testConsumerDeleteDropsItsPending() {
        let g = ConsumerGroup(name: Array("g".utf8), lastID: .zero, entriesRead: 0)
        let a = named("a") { g.createConsumer($0, now: 5) }.0
        let b = named("b") { g.createConsumer($0, now: 5) }.0
        for i in 1...10 {
            let owner = i % 2 == 0 ? a : b
            let e = PendingEntry(consumer: owner, time: 0)
            g.pending.insert(StreamID(UInt64(i), 0), e)
            owner.pending.insert(StreamID(UInt64(i), 0), e)
        }
        XCTAssertEqual(g.deleteConsumer(a), 5)
        XCTAssertEqual(g.pending.count, 5)
        XCTAssertEqual(g.consumers.map { $0.name }, [Array("b".utf8)])
        let copy = g.copy()
        XCTAssertEqual(copy.pending.count, 5)
        XCTAssertTrue(copy.pending.entry(0).consumer === copy.consumers[0])
    }
}
