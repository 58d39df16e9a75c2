import XCTest
@testable import Storage
import RESP
#if canImport(Glibc)
import Glibc
#endif

/// RDB value codecs checked against bytes redis-server 7.0.15 wrote (DUMP
/// payloads captured with rdbcompression no unless noted).
final class RdbTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
        return out
    }

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    let hashPayload = "1037370000000c008161020101816202df9c02816302f178ec03816402f270110104816502f30000008005816602f400f2052a0100000009ff0a0095b57da3781c37fe"
    let listPayload = "1201021d1d00000005008568656c6c6f06cfff02d00002f1ff7f03f2ffff7f04ff0a008e8fd9b9fa787a7d"
    let list2Payload = "1201024082820000000300e0647979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797966f4ffffffffffffff7f09f4000000000000008009ff0a000c5ee02fdd97f394"
    let zsetPayload = "1122220000000600826d3203dffd02826d310383312e3504826d33038531652b323006ff0a001d1a8afd3dec8613"
    let intsetPayload = "0b140400000003000000feffffff01000000701101000a0030527df8cc311f3b"
    let stringPayload = "000b31323334353637383930310a00304e52d727176510"
    let lzfPayload = "00c30b1e0361626361e00f020162630a008874be6d67e59d2a"
    /// XADD st 1-1 a 1 b hello, 1-2 a 2 b world, 2-0 c -70000; XDEL st 1-2;
    /// XGROUP CREATE st g 0; XCLAIM st g bob 0 1-1 TIME 1700000000000 RETRYCOUNT 3 FORCE.
    let streamPayload = "13011000000000000000010000000000000001404a4a0000001900020101010201816102816202000102010001000101018568656c6c6f060501030100010101020185776f726c6406050100010101dfff020101816302f290eefe040601ff0202000101010203010167000081ffffffffffffffff01000000000000000100000000000000010068e5cf8b010000030103626f6283865431a201000001000000000000000100000000000000010a00ec1d73b8d8a6e16c"

    /// The payload's value bytes (type byte and footer cut off) for a
    /// listpack-carrying type: its RDB string header is 1 byte here.
    func listpackOf(_ payload: String, skip: Int) -> [UInt8] {
        let p = hex(payload)
        return Array(p[skip..<(p.count - 10)])
    }

    // MARK: listpack encodings

    func testListpackIntegerAndStringClassesMatchRedis() {
        // 7-bit uint, 6-bit strings, 13-bit (-100), 16-bit (-5000), 24-bit
        // (70000), 32-bit (-2^31) and 64-bit (5000000000) integers.
        var lp = ListpackWriter()
        for (f, v) in [("a", "1"), ("b", "-100"), ("c", "-5000"), ("d", "70000"), ("e", "-2147483648"), ("f", "5000000000")] {
            lp.append(b(f).withUnsafeBufferPointer { $0 })
            b(v).withUnsafeBufferPointer { lp.append($0) }
        }
        XCTAssertEqual(lp.finish(), listpackOf(hashPayload, skip: 2))
    }

    func testListpackTwelveBitStringAndInt64Extremes() {
        var lp = ListpackWriter()
        for s in [String(repeating: "y", count: 100), "9223372036854775807", "-9223372036854775808"] {
            b(s).withUnsafeBufferPointer { lp.append($0) }
        }
        // RDB string header: 0x40 0x82 (14-bit length 130), after the node's container byte.
        let want = listpackOf(list2Payload, skip: 5)
        XCTAssertEqual(lp.finish(), want)
    }

    func testListpackEdgeIntegers() {
        var lp = ListpackWriter()
        for s in ["hello", "4095", "-4096", "32767", "8388607"] { b(s).withUnsafeBufferPointer { lp.append($0) } }
        XCTAssertEqual(lp.finish(), listpackOf(listPayload, skip: 4))
    }

    func testNonCanonicalIntegersStayStrings() {
        for s in ["01", "+1", "-0", " 1", "1 ", "99999999999999999999", ""] {
            var lp = ListpackWriter()
            b(s).withUnsafeBufferPointer { lp.append($0) }
            let out = lp.finish()
            XCTAssertEqual(out[6], 0x80 | UInt8(s.utf8.count), "\(s) should be a 6-bit string")
        }
    }

    func testBacklenSizesAndReaderRoundTrip() {
        for n in [0, 1, 63, 64, 126, 127, 128, 4095, 4096, 16383, 20000] {
            let s = [UInt8](repeating: 120, count: n)
            var lp = ListpackWriter()
            s.withUnsafeBufferPointer { lp.append($0) }
            lp.append(int: -7)
            let blob = lp.finish()
            blob.withUnsafeBufferPointer { bp in
                guard var r = ListpackReader(bp) else { return XCTFail("header rejected for \(n)") }
                var ok = true
                guard case .bytes(let got)? = r.next(&ok) else { return XCTFail("no string for \(n)") }
                XCTAssertEqual(Array(got), s)
                guard case .int(let v)? = r.next(&ok) else { return XCTFail("no int for \(n)") }
                XCTAssertEqual(v, -7)
                XCTAssertNil(r.next(&ok))
                XCTAssertTrue(ok)
            }
        }
    }

    func testCorruptListpacksAreRejected() {
        var lp = ListpackWriter()
        for s in ["abc", "12", "hello world"] { b(s).withUnsafeBufferPointer { lp.append($0) } }
        let good = lp.finish()
        func walk(_ blob: [UInt8]) -> Bool {
            blob.withUnsafeBufferPointer { bp in
                guard var r = ListpackReader(bp) else { return false }
                var ok = true
                while r.next(&ok) != nil {}
                return ok
            }
        }
        XCTAssertTrue(walk(good))
        var badCount = good; badCount[4] = 4
        XCTAssertFalse(walk(badCount))
        var badBacklen = good; badBacklen[6 + 4] ^= 1
        XCTAssertFalse(walk(badBacklen))
        var badEncoding = good; badEncoding[6] = 0xF7
        XCTAssertFalse(walk(badEncoding))
        XCTAssertFalse(walk(Array(good.dropLast())))
        var badTotal = good; badTotal[0] &+= 1
        XCTAssertFalse(walk(badTotal))
    }

    // MARK: strings, LZF, payloads

    func testStringEncodingsMatchRedis() {
        var w = RdbWriter(compress: false)
        w.string(b("12345678901"))
        XCTAssertEqual(w.out, Array(hex(stringPayload)[1..<13]))
        var ints = RdbWriter(compress: false)
        ints.string(b("-128")); ints.string(b("32767")); ints.string(b("-2147483648")); ints.string(b("007"))
        XCTAssertEqual(ints.out, [0xC0, 0x80, 0xC1, 0xFF, 0x7F, 0xC2, 0x00, 0x00, 0x00, 0x80, 0x03, 48, 48, 55])
    }

    func testLZFMatchesRedis() {
        var w = RdbWriter(compress: true)
        w.string(b("abcabcabcabcabcabcabcabcabcabc"))
        let p = hex(lzfPayload)
        XCTAssertEqual(w.out, Array(p[1..<(p.count - 10)]))
        // Incompressible: stored as is.
        var r = RdbWriter(compress: true)
        let noise: [UInt8] = (0..<40).map { UInt8(($0 * 97 + 13) % 251) }
        r.string(noise)
        XCTAssertEqual(r.out, [40] + noise)
    }

    func testLZFRoundTripsThroughDecompressor() {
        let c = LZFCompressor()
        var seed: UInt64 = 42
        for round in 0..<200 {
            var input: [UInt8] = []
            let n = 21 + round * 37 % 5000
            for _ in 0..<n {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                // A small alphabet so matches happen.
                input.append(UInt8(97 + (seed >> 60) % 4))
            }
            guard let out = input.withUnsafeBytes({ c.compress($0, outLimit: n - 4) }) else { continue }
            let back = out.withUnsafeBytes { lzfDecompress($0, outLen: n) }
            XCTAssertEqual(back, input, "round \(round)")
        }
    }

    func testRedisPayloadsVerifyAndLoad() {
        for p in [hashPayload, listPayload, list2Payload, zsetPayload, intsetPayload, stringPayload, lzfPayload, streamPayload] {
            let bytes = hex(p)
            bytes.withUnsafeBufferPointer { bp in
                XCTAssertTrue(verifyDumpPayload(bp))
                XCTAssertNotNil(loadDumpPayload(bp))
            }
            var flipped = bytes
            flipped[1] ^= 0x10
            flipped.withUnsafeBufferPointer { XCTAssertFalse(verifyDumpPayload($0)) }
        }
    }

    func testLoadedValuesKeepRedisEncodings() {
        func load(_ p: String) -> LoadedValue? { hex(p).withUnsafeBufferPointer { loadDumpPayload($0) } }
        guard case .compact(.hash, _)? = load(hashPayload) else { return XCTFail("hash not compact") }
        guard case .compact(.zset, _)? = load(zsetPayload) else { return XCTFail("zset not compact") }
        guard case .compact(.set, let s)? = load(intsetPayload) else { return XCTFail("set not an intset") }
        XCTAssertEqual(s[0], 4, "the blob's width is kept")
        s.withUnsafeBufferPointer { bp in
            let set = IntSet(bp)
            XCTAssertEqual((0..<set.count).map { set[$0] }, [-2, 1, 70000])
        }
        guard case .object(.list, let o)? = load(listPayload) else { return XCTFail("list not loaded") }
        let l = o as! ListValue
        var got: [[UInt8]] = []
        l.forEach(from: 0) { got.append(Array($0)); return true }
        XCTAssertEqual(got, ["hello", "4095", "-4096", "32767", "8388607"].map { Array($0.utf8) })
        guard case .string(let str)? = load(lzfPayload) else { return XCTFail("string not loaded") }
        XCTAssertEqual(str, b("abcabcabcabcabcabcabcabcabcabc"))
    }

    /// Dumping a loaded value gives Redis's payload back, byte for byte.
    func testDumpOfLoadedValuesRoundTrips() {
        let key = b("k")
        for p in [hashPayload, listPayload, list2Payload, zsetPayload, intsetPayload, stringPayload, lzfPayload, streamPayload] {
            let bytes = hex(p)
            guard let v = bytes.withUnsafeBufferPointer({ loadDumpPayload($0) }) else { return XCTFail("load") }
            let e = key.withUnsafeBufferPointer { v.makeEntry(key: $0.baseAddress!, keyLen: 1, expireAt: -1, lru: 0) }
            defer { e.free() }
            // Captured with rdbcompression no, except the LZF one.
            var w = RdbWriter(compress: p == lzfPayload)
            XCTAssertTrue(w.value(e))
            XCTAssertEqual(w.out, Array(bytes[0..<(bytes.count - 10)]), p)
        }
    }

    func testFuzzedPayloadsNeverTrap() {
        var seed: UInt64 = 7
        func rnd() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for p in [hashPayload, listPayload, list2Payload, zsetPayload, intsetPayload, stringPayload, lzfPayload, streamPayload] {
            let base = hex(p)
            for _ in 0..<2000 {
                var m = Array(base[0..<(base.count - 10)])
                switch rnd() % 3 {
                case 0: m[Int(rnd()) % m.count] ^= UInt8(1 << (rnd() % 8))
                case 1: m = Array(m.prefix(Int(rnd()) % m.count))
                default: for _ in 0..<4 { m[Int(rnd()) % m.count] = UInt8(rnd() & 0xFF) }
                }
                // A correct footer, so the parser itself sees the damage.
                m.append(10); m.append(0)
                let crc = m.withUnsafeBytes { crc64(0, $0) }
                for i in 0..<8 { m.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
                m.withUnsafeBufferPointer { bp in
                    XCTAssertTrue(verifyDumpPayload(bp))
                    _ = loadDumpPayload(bp)
                }
            }
        }
    }

    /// `body` (type byte and value) with a correct footer.
    func footed(_ body: [UInt8]) -> [UInt8] {
        var m = body
        m.append(10); m.append(0)
        let crc = m.withUnsafeBytes { crc64(0, $0) }
        for i in 0..<8 { m.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        return m
    }

    /// `s` with the first `from` replaced by `to`.
    func replaced(_ s: String, _ from: String, _ to: String) -> String {
        let a = Array(s), f = Array(from)
        guard a.count >= f.count else { return s }
        for i in 0...(a.count - f.count) where Array(a[i..<(i + f.count)]) == f {
            return String(a[..<i]) + to + String(a[(i + f.count)...])
        }
        return s
    }

    func loadStream(_ body: [UInt8]) -> StreamValue? {
        guard case .object(.stream, let o)? = footed(body).withUnsafeBufferPointer({ loadDumpPayload($0) }) else { return nil }
        return (o as! StreamValue)
    }

    func testStreamPayloadLoadsEntriesGroupsAndPEL() {
        let body = Array(hex(streamPayload).dropLast(10))
        guard let s = loadStream(body) else { return XCTFail("stream not loaded") }
        XCTAssertEqual(s.length, 2)
        XCTAssertEqual(s.nodeCount, 1)
        XCTAssertEqual(s.nodes[s.head].deleted, 1)
        XCTAssertEqual(s.lastID, StreamID(2, 0))
        XCTAssertEqual(s.firstID, StreamID(1, 1))
        XCTAssertEqual(s.maxDeletedID, StreamID(1, 2))
        XCTAssertEqual(s.entriesAdded, 3)
        var ids: [StreamID] = []
        var values: [[UInt8]] = []
        s.forEach(from: .zero, to: .max, reverse: false) { e in
            ids.append(e.id)
            e.forEachPair { _, _, v, vn in values.append(Array(UnsafeBufferPointer(start: v, count: vn))) }
            return true
        }
        XCTAssertEqual(ids, [StreamID(1, 1), StreamID(2, 0)])
        XCTAssertEqual(values, [b("1"), b("hello"), b("-70000")])
        XCTAssertEqual(s.groups.count, 1)
        let g = s.groups[0]
        XCTAssertEqual(g.name, b("g"))
        XCTAssertEqual(g.entriesRead, ConsumerGroup.invalidEntriesRead)
        XCTAssertEqual(g.pending.count, 1)
        XCTAssertEqual(g.pending.id(0), StreamID(1, 1))
        XCTAssertEqual(g.pending.entry(0).deliveryTime, 1_700_000_000_000)
        XCTAssertEqual(g.pending.entry(0).deliveryCount, 3)
        XCTAssertEqual(g.consumers.map { $0.name }, [b("bob")])
        XCTAssertTrue(g.consumers[0].pending.entry(0) === g.pending.entry(0), "one NACK shared by both PELs")
        // A new entry lands after the loaded ones, in a node of its own IDs.
        let arg = b("v")
        arg.withUnsafeBufferPointer { p in
            let pairs = [Arg(p.baseAddress!, 1), Arg(p.baseAddress!, 1)]
            pairs.withUnsafeBufferPointer { s.append(StreamID(3, 0), pairs: $0) }
        }
        XCTAssertEqual(s.length, 3)
        XCTAssertEqual(s.edgeID(first: false), StreamID(3, 0))
    }

    /// RDB_TYPE_STREAM_LISTPACKS (Redis 5/6): no first/max-deleted IDs,
    /// entries-added or entries-read; 7.0 derives them as here.
    func testOlderStreamTypeLoads() {
        var h = String(streamPayload.dropLast(20))
        h = replaced(h, "0202000101010203010167000081ffffffffffffffff", "0202000101670000")
        var body = hex(h)
        body[0] = Rdb.typeStreamListpacks
        guard let s = loadStream(body) else { return XCTFail("type 15 not loaded") }
        XCTAssertEqual(s.entriesAdded, 2)
        XCTAssertEqual(s.firstID, StreamID(1, 1))
        XCTAssertEqual(s.maxDeletedID, .zero)
        XCTAssertEqual(s.groups[0].entriesRead, 0)
        XCTAssertEqual(s.groups[0].pending.count, 1)
    }

    func testInconsistentStreamsAreRejected() {
        let good = Array(hex(streamPayload).dropLast(10))
        XCTAssertNotNil(loadStream(good))
        func patched(_ from: String, _ to: String) -> [UInt8] {
            let h = String(streamPayload.dropLast(20))
            XCTAssertTrue(h.contains(from), from)
            return hex(replaced(h, from, to))
        }
        // Length 3 while the node holds 2 live entries.
        XCTAssertNil(loadStream(patched("ff0202000101010203", "ff0302000101010203")))
        // Last ID 1-0, before the node's entries.
        XCTAssertNil(loadStream(patched("ff0202000101010203", "ff0201000101010203")))
        // The consumer's PEL names an ID the group's PEL lacks.
        XCTAssertNil(loadStream(patched("626f6283865431a2010000010000000000000001000000000000000",
                                        "626f6283865431a2010000010000000000000001000000000000000".dropLast(1) + "2")))
        // No consumers: the group's pending entry would have no owner.
        XCTAssertNil(loadStream(patched("030103626f6283865431a201000001000000000000000100000000000000", "0300")))
        // A node key that is not 16 bytes.
        XCTAssertNil(loadStream(patched("13011000000000", "13010f00000000")))
        // Entries out of order: the deleted entry's seq-diff 1 made 5.
        XCTAssertNil(loadStream(patched("0301000101010201", "0301000100010201")))
    }

    /// A field count near Int64.max in an entry: rejected, no overflow.
    func testHugeStreamFieldCountIsRejected() {
        for huge in [Int.max, Int.max / 2 + 1, 1 << 40] {
            var lp = ListpackWriter()
            for v in [1, 0, 1] { lp.append(int: v) }
            lp.append(b("a").withUnsafeBufferPointer { $0 })
            for v in [0, 0, 0, 0, huge] { lp.append(int: v) }
            lp.append(b("f").withUnsafeBufferPointer { $0 })
            lp.append(b("v").withUnsafeBufferPointer { $0 })
            lp.append(int: 6)
            var w = RdbWriter(compress: false)
            w.byte(Rdb.typeStreamListpacks2)
            w.length(1)
            w.string([UInt8](repeating: 0, count: 16))
            w.string(lp.finish())
            for _ in 0..<9 { w.length(0) }
            XCTAssertNil(loadStream(w.out), "\(huge)")
        }
    }

    func testZiplistAndZipmapReaders() {
        // A ziplist holding "ab", 12 (immediate), 300 (int16), -1 (int8 would be 0xFE).
        var zl: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 3, 0]
        zl += [0, 0x02, 97, 98]                 // prevlen 0, 6-bit str "ab"
        zl += [4, 0xFD]                         // prevlen 4, immediate 12
        zl += [2, 0xC0, 0x2C, 0x01]             // prevlen 2, int16 300
        zl.append(0xFF)
        let total = zl.count
        zl[0] = UInt8(total); zl[4] = UInt8(total - 5)
        zl.withUnsafeBufferPointer { bp in
            guard var r = ZiplistReader(bp) else { return XCTFail("ziplist header") }
            var ok = true
            var got: [String] = []
            while let e = r.next(&ok) { got.append(e.withBytes { String(decoding: $0, as: UTF8.self) }) }
            XCTAssertTrue(ok)
            XCTAssertEqual(got, ["ab", "12", "300"])
        }
        var bad = zl; bad[14] = 9   // wrong prevlen
        bad.withUnsafeBufferPointer { bp in
            var r = ZiplistReader(bp)!
            var ok = true
            while r.next(&ok) != nil {}
            XCTAssertFalse(ok)
        }
        let zm: [UInt8] = [1, 1, 107, 2, 0, 118, 49, 0xFF]
        zm.withUnsafeBufferPointer { bp in
            var r = ZipmapReader(bp)!
            var ok = true
            guard let (k, v) = r.next(&ok) else { return XCTFail("zipmap pair") }
            XCTAssertEqual(Array(k), [107]); XCTAssertEqual(Array(v), [118, 49])
            XCTAssertNil(r.next(&ok)); XCTAssertTrue(ok)
        }
    }

    /// Duplicate fields and members are refused on every path: a compact
    /// hash found by scanning, one past the scan limit, a hashtable; compact
    /// and skiplist sorted sets; plain (non-listpack) encodings.
    func testDuplicatesAreRejected() {
        func load(_ type: UInt8, _ body: (inout RdbWriter) -> Void) -> LoadedValue? {
            var w = RdbWriter(compress: false)
            w.byte(type)
            body(&w)
            return w.out.withUnsafeBufferPointer { loadDumpPayload($0) }
        }
        for n in [3, 40, 600] {
            for dup in [false, true] {
                let hash = load(Rdb.typeHashListpack) { w in
                    var lp = ListpackWriter()
                    for i in 0..<n { lp.append(Array("f\(i)".utf8).withUnsafeBufferPointer { $0 }); lp.append(int: i) }
                    if dup { lp.append(Array("f0".utf8).withUnsafeBufferPointer { $0 }); lp.append(int: 1) }
                    w.string(lp.finish())
                }
                XCTAssertEqual(hash == nil, dup, "hash listpack n=\(n) dup=\(dup)")
                let plain = load(Rdb.typeHash) { w in
                    w.length(n + (dup ? 1 : 0))
                    for i in 0..<n { w.string(Array("f\(i)".utf8)); w.string(Array("v".utf8)) }
                    if dup { w.string(Array("f\(n - 1)".utf8)); w.string(Array("v".utf8)) }
                }
                XCTAssertEqual(plain == nil, dup, "plain hash n=\(n) dup=\(dup)")
                let zset = load(Rdb.typeZSetListpack) { w in
                    var lp = ListpackWriter()
                    for i in 0..<n { lp.append(Array("m\(i)".utf8).withUnsafeBufferPointer { $0 }); lp.append(int: n - i) }
                    if dup { lp.append(Array("m1".utf8).withUnsafeBufferPointer { $0 }); lp.append(int: 0) }
                    w.string(lp.finish())
                }
                XCTAssertEqual(zset == nil, dup, "zset listpack n=\(n) dup=\(dup)")
                let zset2 = load(Rdb.typeZSet2) { w in
                    w.length(n + (dup ? 1 : 0))
                    for i in 0..<n { w.string(Array("m\(i)".utf8)); w.binaryDouble(Double(i) / 3) }
                    if dup { w.string(Array("m0".utf8)); w.binaryDouble(7) }
                }
                XCTAssertEqual(zset2 == nil, dup, "zset2 n=\(n) dup=\(dup)")
                let set = load(Rdb.typeSet) { w in
                    w.length(n + (dup ? 1 : 0))
                    for i in 0..<n { w.string(Array("\(i * 7)".utf8)) }
                    if dup { w.string(Array("0".utf8)) }
                }
                XCTAssertEqual(set == nil, dup, "set n=\(n) dup=\(dup)")
            }
        }
        // A compact zset comes out sorted by (score, member) whatever the input order.
        guard case .compact(.zset, let z)? = load(Rdb.typeZSet2, { w in
            w.length(3)
            w.string(Array("b".utf8)); w.binaryDouble(2)
            w.string(Array("c".utf8)); w.binaryDouble(1)
            w.string(Array("a".utf8)); w.binaryDouble(2)
        }) else { return XCTFail("zset not compact") }
        let key = b("k")
        let e = key.withUnsafeBufferPointer { LoadedValue.compact(.zset, z).makeEntry(key: $0.baseAddress!, keyLen: 1, expireAt: -1, lru: 0) }
        defer { e.free() }
        XCTAssertEqual(CompactZSet.Pairs(e.compact).map { String(decoding: $0.member, as: UTF8.self) }, ["c", "a", "b"])
    }

    // MARK: RDB files

    func testFileRoundTripAndChecks() throws {
        let path = "/tmp/ringkv-rdbtests-\(getpid()).rdb"
        defer { unlink(path) }
        guard let f = RdbFileWriter(path: path, compress: true) else { return XCTFail("open") }
        f.header(version: "7.0.15", ctime: 1_700_000_000, usedMemory: 1 << 20)
        f.function(b("#!lua name=x\nredis.register_function('f', function() return 1 end)"))
        f.database(3, keys: 3, expires: 2)
        var entries: [Entry] = []
        for (i, p) in [hashPayload, zsetPayload, lzfPayload].enumerated() {
            let v = hex(p).withUnsafeBufferPointer { loadDumpPayload($0)! }
            let key = b("key\(i)")
            let exp: Int64 = i == 0 ? -1 : (i == 1 ? 1 : 4_102_444_800_000)   // key1 expired long ago
            entries.append(key.withUnsafeBufferPointer { v.makeEntry(key: $0.baseAddress!, keyLen: $0.count, expireAt: exp, lru: 0) })
        }
        defer { for e in entries { e.free() } }
        for e in entries { XCTAssertTrue(f.key(e)) }
        XCTAssertTrue(f.finish())

        let file = try XCTUnwrap(readAll(path))
        XCTAssertEqual(Array(file.prefix(9)), b("REDIS0010"))
        var got: [(String, Int, Int64)] = []
        let res = file.withUnsafeBufferPointer { buf in
            loadRdbFile(buf, databases: 16, now: 1_000) { key, db, v, exp in
                got.append((String(decoding: key, as: UTF8.self), db, exp))
                return true
            }
        }
        guard case .success(let r) = res else { return XCTFail("load failed") }
        XCTAssertEqual(r.keys, 2)
        XCTAssertEqual(r.expired, 1)
        XCTAssertEqual(r.producer, "7.0.15")
        XCTAssertEqual(r.functions.count, 1)
        XCTAssertEqual(got.map { $0.0 }, ["key0", "key2"])
        XCTAssertEqual(got.map { $0.1 }, [3, 3])
        XCTAssertEqual(got.map { $0.2 }, [-1, 4_102_444_800_000])

        // A flipped byte anywhere fails the load (checksum or format), never traps.
        for i in stride(from: 9, to: file.count, by: max(1, file.count / 97)) {
            var bad = file
            bad[i] ^= 0x40
            let rr = bad.withUnsafeBufferPointer { loadRdbFile($0, databases: 16, now: 0) { _, _, _, _ in true } }
            if case .success = rr { XCTFail("corrupt byte \(i) loaded") }
        }
        // Too few databases for the file.
        let few = file.withUnsafeBufferPointer { loadRdbFile($0, databases: 2, now: 0) { _, _, _, _ in true } }
        if case .success = few { XCTFail("db 3 loaded with 2 databases") }
    }

    func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        if fd < 0 { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }
}
