import XCTest
@testable import Storage

/// MEMORY USAGE's accounting: exact counts, and the SAMPLES estimate for
/// the encodings that can only count by walking their elements.
final class MemoryUsageTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func set(_ h: HashValue, _ f: String, _ v: String) {
        let fb = bytes(f), vb = bytes(v)
        fb.withUnsafeBufferPointer { fp in
            vb.withUnsafeBufferPointer { vp in _ = h.set(fp.baseAddress, fp.count, vp.baseAddress, vp.count) }
        }
    }

    func testHashSamplesEveryFieldWhenAskedForAll() {
        let h = HashValue()
        for i in 0..<1000 { set(h, "field-\(i)", String(repeating: "v", count: i % 7 == 0 ? 500 : 5)) }
        var exact = objectBlockSize(h) + h.slotCount * 8
        for i in 0..<h.slotCount where h.isLive(i) { exact += mallocUsableSize(h.table.entry(at: i).raw) }
        XCTAssertEqual(h.allocatedBytes, exact)
        XCTAssertEqual(h.sampledBytes(samples: .max), exact)
        XCTAssertEqual(h.sampledBytes(samples: 1000), exact)
        // Values of 500 and 5 bytes: one field alone says one or the other size for all.
        let one = h.sampledBytes(samples: 1)
        XCTAssertNotEqual(one, exact)
        XCTAssertGreaterThan(one, objectBlockSize(h) + h.slotCount * 8 + 1000 * 16)
    }

    func testHashEstimateIsCloseForUniformFields() {
        let h = HashValue()
        for i in 0..<5000 { set(h, "field-\(100_000 + i)", "value-\(100_000 + i)") }
        let exact = h.allocatedBytes
        let est = h.sampledBytes(samples: 5)
        XCTAssertEqual(Double(est), Double(exact), accuracy: Double(exact) * 0.02)
        XCTAssertGreaterThan(exact, 5000 * 24)
    }

    func testEmptyHashCountsItsTable() {
        let h = HashValue()
        XCTAssertEqual(h.sampledBytes(samples: 5), objectBlockSize(h) + h.slotCount * 8)
    }

    func testListSamplesNodesFromTheHead() {
        let l = ListValue()
        for i in 0..<50_000 {
            let b = bytes("element-\(100_000 + i)")
            b.withUnsafeBufferPointer { l.pushBack($0) }
        }
        XCTAssertGreaterThan(l.nodeCount, 10)
        let exact = l.allocatedBytes
        XCTAssertEqual(l.sampledBytes(samples: .max), exact)
        XCTAssertEqual(Double(l.sampledBytes(samples: 5)), Double(exact), accuracy: Double(exact) * 0.05)
        XCTAssertGreaterThan(exact, 50_000 * 14)
        var nodes = 0, elements = 0
        l.forEachNode { n, it in
            nodes += 1
            var it = it
            var k = 0
            while it.next() != nil { k += 1 }
            XCTAssertEqual(k, n)
            elements += n
        }
        XCTAssertEqual(nodes, l.nodeCount)
        XCTAssertEqual(elements, 50_000)
    }

    func testEntryUsageAddsTheBlockTheSlotAndTheObject() {
        let key = bytes("some-key"), val = bytes(String(repeating: "x", count: 300))
        let e = key.withUnsafeBufferPointer { k in
            val.withUnsafeBufferPointer { v in
                Entry.makeString(key: k.baseAddress!, keyLen: k.count, value: v.baseAddress, valueLen: v.count,
                                 expireAt: -1, lru: 0)
            }
        }
        defer { e.free() }
        XCTAssertEqual(e.memoryUsage(samples: 5), mallocUsableSize(e.raw) + 8)
        XCTAssertGreaterThanOrEqual(e.memoryUsage(samples: 5), 300 + key.count)

        let h = HashValue()
        for i in 0..<100 { set(h, "f\(i)", "v\(i)") }
        let o = key.withUnsafeBufferPointer { k in
            Entry.makeObject(type: .hash, key: k.baseAddress!, keyLen: k.count, object: h, expireAt: -1, lru: 0)
        }
        defer { o.free() }
        XCTAssertEqual(o.memoryUsage(samples: .max), mallocUsableSize(o.raw) + 8 + h.allocatedBytes)
    }
}
