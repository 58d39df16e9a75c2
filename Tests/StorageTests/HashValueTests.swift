import XCTest
@testable import Storage

/// The compact hash (inline packed pairs) and the scalable HashValue.
final class HashValueTests: XCTestCase {
    // MARK: helpers

    /// A compact hash entry holding `pairs`, built through the editor.
    func makeCompact(_ pairs: [([UInt8], [UInt8])]) -> Entry {
        let cap = pairs.reduce(16) { $0 + packedSize($1.0.count) + packedSize($1.1.count) }
        let buf = UnsafeMutableRawPointer.allocate(byteCount: cap, alignment: 8)
        defer { buf.deallocate() }
        var ed = CompactHashEditor(buffer: buf, capacity: cap, copying: nil)
        for (f, v) in pairs { set(&ed, f, v) }
        return entry(from: ed)
    }

    func entry(from ed: CompactHashEditor) -> Entry {
        let key = bytes("h")
        return key.withUnsafeBufferPointer { k in
            let (e, off) = Entry.makeCompact(type: .hash, key: k.baseAddress!, keyLen: k.count,
                                             length: ed.payloadLength, expireAt: -1, lru: 0)
            ed.write(to: e.raw + off)
            return e
        }
    }

    @discardableResult
    func set(_ ed: inout CompactHashEditor, _ f: [UInt8], _ v: [UInt8]) -> Bool {
        f.withUnsafeBufferPointer { fp in
            v.withUnsafeBufferPointer { vp in ed.set(fp.baseAddress, fp.count, vp.baseAddress, vp.count) }
        }
    }

    func pairs(_ c: CompactHash) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var it = c.pairs
        while let (f, v) = it.next() { out.append(Array(f)); out.append(Array(v)) }
        return out
    }

    func get(_ c: CompactHash, _ f: [UInt8]) -> [UInt8]? {
        f.withUnsafeBufferPointer { p in c.get(p.baseAddress ?? UnsafePointer(bitPattern: 1)!, p.count).map(Array.init) }
    }

    func get(_ h: HashValue, _ f: [UInt8]) -> [UInt8]? {
        f.withUnsafeBufferPointer { p in h.get(p.baseAddress ?? UnsafePointer(bitPattern: 1)!, p.count).map(Array.init) }
    }

    @discardableResult
    func set(_ h: HashValue, _ f: [UInt8], _ v: [UInt8]) -> Bool {
        f.withUnsafeBufferPointer { fp in
            v.withUnsafeBufferPointer { vp in h.set(fp.baseAddress, fp.count, vp.baseAddress, vp.count) }
        }
    }

    func delete(_ h: HashValue, _ f: [UInt8]) -> Bool {
        f.withUnsafeBufferPointer { p in h.delete(p.baseAddress ?? UnsafePointer(bitPattern: 1)!, p.count) }
    }

    // MARK: compact

    func testCompactKeepsInsertionOrderAndReplacesInPlace() {
        let e = makeCompact([(bytes("a"), bytes("1")), (bytes("b"), bytes("2")), (bytes("a"), bytes("long one")),
                             (bytes("c"), bytes(""))])
        defer { e.free() }
        XCTAssertEqual(e.type, .hash)
        XCTAssertEqual(e.payload, .bytes)
        let c = CompactHash(e)
        XCTAssertEqual(c.count, 3)
        XCTAssertEqual(c.payload.count, 6, "the element count is twice the fields")
        XCTAssertEqual(pairs(c), [bytes("a"), bytes("long one"), bytes("b"), bytes("2"), bytes("c"), bytes("")])
        XCTAssertEqual(get(c, bytes("b")), bytes("2"))
        XCTAssertEqual(get(c, bytes("c")), [])
        XCTAssertNil(get(c, bytes("d")))
        XCTAssertNil(get(c, bytes("long one")), "values are not fields")
    }

    func testEditorDeleteAndBinaryFields() {
        let cap = 256
        let buf = UnsafeMutableRawPointer.allocate(byteCount: cap, alignment: 8)
        defer { buf.deallocate() }
        var ed = CompactHashEditor(buffer: buf, capacity: cap, copying: nil)
        XCTAssertTrue(set(&ed, [], [0, 13, 10]))
        XCTAssertTrue(set(&ed, [0, 255], bytes("x")))
        XCTAssertTrue(set(&ed, bytes("z"), bytes("y")))
        XCTAssertFalse(set(&ed, [], bytes("again")))
        XCTAssertEqual(ed.count, 3)
        let z = bytes("z")
        XCTAssertTrue(z.withUnsafeBufferPointer { ed.delete($0.baseAddress!, $0.count) })
        XCTAssertFalse(z.withUnsafeBufferPointer { ed.delete($0.baseAddress!, $0.count) })
        let e = entry(from: ed)
        defer { e.free() }
        XCTAssertEqual(pairs(CompactHash(e)), [[], bytes("again"), [0, 255], bytes("x")])
    }

    func testOneFieldRewritesMatchTheEditor() {
        let base: [([UInt8], [UInt8])] = [(bytes("f1"), bytes("v1")), (bytes("f2"), bytes("v2")),
                                         (bytes("f3"), bytes("v3"))]
        let e = makeCompact(base)
        defer { e.free() }
        let c = CompactHash(e)
        let f2 = bytes("f2")
        let hit = f2.withUnsafeBufferPointer { c.find($0.baseAddress!, $0.count) }!
        XCTAssertEqual(Array(hit.value), bytes("v2"))

        func rebuilt(_ length: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> [[UInt8]] {
            let k = bytes("h")
            let (n, off) = k.withUnsafeBufferPointer {
                Entry.makeCompact(type: .hash, key: $0.baseAddress!, keyLen: 1, length: length, expireAt: -1, lru: 0)
            }
            defer { n.free() }
            body(n.raw + off)
            XCTAssertEqual(n.bytes.count, length)
            return pairs(CompactHash(n))
        }

        let longer = Array(repeating: UInt8(120), count: 300)   // a two-byte varint
        XCTAssertEqual(rebuilt(c.lengthReplacing(hit, valueLength: 300)) { p in
            longer.withUnsafeBufferPointer { c.writeReplacing(hit, $0.baseAddress, 300, to: p) }
        }, [bytes("f1"), bytes("v1"), bytes("f2"), longer, bytes("f3"), bytes("v3")])

        XCTAssertEqual(rebuilt(c.lengthRemoving(hit)) { c.writeRemoving(hit, to: $0) },
                       [bytes("f1"), bytes("v1"), bytes("f3"), bytes("v3")])

        let nf = bytes("new"), nv = bytes("val")
        XCTAssertEqual(rebuilt(c.lengthAppending(fieldLength: 3, valueLength: 3)) { p in
            nf.withUnsafeBufferPointer { f in nv.withUnsafeBufferPointer { v in
                c.writeAppending(f.baseAddress, 3, v.baseAddress, 3, to: p)
            } }
        }, [bytes("f1"), bytes("v1"), bytes("f2"), bytes("v2"), bytes("f3"), bytes("v3"), nf, nv])

        bytes("V2").withUnsafeBufferPointer { c.overwriteValue(hit, $0.baseAddress, 2) }
        XCTAssertEqual(get(c, bytes("f2")), bytes("V2"))
    }

    func testCountVarintGrowsPast63Fields() {
        // 64 fields = 128 elements: the count needs a second varint byte.
        var pairsIn: [([UInt8], [UInt8])] = []
        for i in 0..<64 { pairsIn.append((decimalKey("f", i), decimalKey("v", i))) }
        let e = makeCompact(pairsIn)
        defer { e.free() }
        let c = CompactHash(e)
        XCTAssertEqual(c.count, 64)
        XCTAssertEqual(get(c, bytes("f63")), bytes("v63"))
        XCTAssertEqual(get(c, bytes("f0")), bytes("v0"))
    }

    // MARK: hashtable

    func testConversionKeepsEveryPair() {
        var pairsIn: [([UInt8], [UInt8])] = []
        for i in 0..<100 { pairsIn.append((decimalKey("field", i), decimalKey("value", i))) }
        pairsIn.append(([], []))
        let e = makeCompact(pairsIn)
        defer { e.free() }
        let h = HashValue(CompactHash(e))
        XCTAssertEqual(h.count, 101)
        XCTAssertEqual(h.encodingName.description, "hashtable")
        for (f, v) in pairsIn { XCTAssertEqual(get(h, f), v) }
    }

    func testSetReplaceDeleteAndShrink() {
        let h = HashValue()
        for i in 0..<5000 { XCTAssertTrue(set(h, decimalKey("k", i), decimalKey("v", i))) }
        XCTAssertEqual(h.count, 5000)
        // Same-size and different-size replacements, in place or in a new block.
        XCTAssertFalse(set(h, bytes("k7"), bytes("w7")))
        XCTAssertFalse(set(h, bytes("k8"), Array(repeating: 65, count: 1000)))
        XCTAssertFalse(set(h, bytes("k9"), []))
        XCTAssertEqual(get(h, bytes("k7")), bytes("w7"))
        XCTAssertEqual(get(h, bytes("k8")), Array(repeating: 65, count: 1000))
        XCTAssertEqual(get(h, bytes("k9")), [])
        XCTAssertFalse(set(h, bytes("k8"), bytes("short")))
        XCTAssertEqual(get(h, bytes("k8")), bytes("short"))
        for i in 0..<4990 { XCTAssertTrue(delete(h, decimalKey("k", i))) }
        XCTAssertFalse(delete(h, bytes("k1")))
        XCTAssertEqual(h.count, 10)
        XCTAssertLessThan(h.table.capacity, 1024, "the table shrinks as fields go")
        for i in 4990..<5000 { XCTAssertEqual(get(h, decimalKey("k", i)), decimalKey("v", i)) }
    }

    func testCopyIsDeepAndRandomSlotsAreLive() {
        let h = HashValue()
        for i in 0..<50 { set(h, decimalKey("k", i), decimalKey("v", i)) }
        let c = h.copy() as! HashValue
        set(c, bytes("k1"), bytes("changed"))
        XCTAssertTrue(delete(c, bytes("k2")))
        XCTAssertEqual(get(h, bytes("k1")), bytes("v1"))
        XCTAssertEqual(get(h, bytes("k2")), bytes("v2"))
        XCTAssertEqual(c.count, 49)
        XCTAssertGreaterThan(h.allocatedBytes, 50 * 16)
        var g = SystemRandomNumberGenerator()
        var seen = Set<[UInt8]>()
        for _ in 0..<2000 {
            let s = h.randomSlot(using: &g)
            XCTAssertTrue(h.isLive(s))
            seen.insert(Array(h.field(at: s)))
        }
        XCTAssertEqual(seen.count, 50)
        XCTAssertEqual(HashValue().randomSlot(using: &g), -1)
    }

    func testScanVisitsEveryFieldOnce() {
        let h = HashValue()
        for i in 0..<1000 { set(h, decimalKey("k", i), []) }
        var seen: [[UInt8]] = []
        var cursor: UInt64 = 0
        repeat { cursor = h.scan(cursor) { seen.append(Array($0.key)) } } while cursor != 0
        XCTAssertEqual(seen.count, 1000)
        XCTAssertEqual(Set(seen).count, 1000)
    }
}
