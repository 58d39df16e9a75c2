import XCTest
@testable import Storage

final class EntryTests: XCTestCase {
    func testCanonicalIntegersAreIntEncoded() {
        let e = makeEntry(bytes("k"), bytes("-12345"))
        defer { e.free() }
        XCTAssertEqual(e.type, .string)
        XCTAssertEqual(e.payload, .int)
        XCTAssertEqual(e.intValue, -12345)
        XCTAssertEqual(e.valueBytes, bytes("-12345"))
        XCTAssertEqual(e.stringLength, 6)
        XCTAssertEqual(e.keyBytes, bytes("k"))
    }

    func testNonCanonicalNumbersStayBytes() {
        for v in [bytes("012"), bytes("+1"), bytes(" 1"), bytes("-0"), bytes("9223372036854775808"), bytes("")] {
            let e = makeEntry(bytes("k"), v)
            XCTAssertEqual(e.payload, .bytes, "\(v) must not be int-encoded")
            XCTAssertEqual(Array(e.bytes), v)
            e.free()
        }
        let m = makeEntry(bytes("k"), bytes("-9223372036854775808"))
        XCTAssertEqual(m.payload, .int)
        XCTAssertEqual(m.intValue, Int.min)
        m.free()
    }

    func testExpiryIsStoredAndChangesLayout() {
        let plain = makeEntry(bytes("key"), bytes("hello"))
        XCTAssertFalse(plain.hasExpire)
        XCTAssertEqual(plain.expireAt, -1)
        let timed = plain.withExpire(1_700_000_000_123)
        plain.free()
        XCTAssertTrue(timed.hasExpire)
        XCTAssertEqual(timed.expireAt, 1_700_000_000_123)
        XCTAssertEqual(timed.keyBytes, bytes("key"))
        XCTAssertEqual(timed.valueBytes, bytes("hello"))
        XCTAssertEqual(timed.lru, 7)
        let back = timed.withExpire(-1)
        timed.free()
        XCTAssertFalse(back.hasExpire)
        XCTAssertEqual(back.keyBytes, bytes("key"))
        XCTAssertEqual(back.valueBytes, bytes("hello"))
        back.free()

        let intTimed = makeEntry(bytes("n"), bytes("42"), expireAt: 99)
        XCTAssertTrue(intTimed.hasExpire)
        XCTAssertEqual(intTimed.expireAt, 99)
        XCTAssertEqual(intTimed.intValue, 42)
        intTimed.free()
    }

    /// Key lengths over 127 need a multi-byte varint; the value must still be
    /// found right after the key.
    func testLongKeysUseMultiByteVarints() {
        for len in [127, 128, 300, 16_383, 16_384, 70_000] {
            var key = [UInt8](repeating: 0, count: len)
            for i in 0..<len { key[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
            for exp: Int64 in [-1, 5000] {
                let e = makeEntry(key, bytes("payload"), expireAt: exp)
                XCTAssertEqual(e.key.count, len)
                XCTAssertEqual(e.keyBytes, key)
                XCTAssertEqual(e.valueBytes, bytes("payload"))
                XCTAssertEqual(e.expireAt, exp)
                XCTAssertTrue(key.withUnsafeBufferPointer { e.keyEquals($0.baseAddress!, len) })
                e.free()
            }
        }
    }

    func testHugeValueRoundTrips() {
        let n = 3 << 20
        var v = [UInt8](repeating: 0, count: n)
        for i in 0..<n { v[i] = UInt8(truncatingIfNeeded: i * 131 + i >> 9) }
        let e = makeEntry(bytes("big"), v, expireAt: 123)
        defer { e.free() }
        XCTAssertEqual(e.bytes.count, n)
        XCTAssertEqual(e.stringLength, n)
        XCTAssertEqual(Array(e.bytes), v)
        XCTAssertEqual(e.expireAt, 123)
    }

    func testBinaryKeysAndValues() {
        let key: [UInt8] = [0, 255, 13, 10, 0]
        let val: [UInt8] = [0, 0, 1, 2, 255]
        let e = makeEntry(key, val)
        defer { e.free() }
        XCTAssertEqual(e.keyBytes, key)
        XCTAssertEqual(Array(e.bytes), val)
        XCTAssertFalse([UInt8]([0, 255, 13, 10, 1]).withUnsafeBufferPointer { e.keyEquals($0.baseAddress!, 5) })
    }

    func testCopyUnderNewKeyKeepsValueAndChosenExpiry() {
        let e = makeEntry(bytes("src"), bytes("value"), expireAt: 500)
        defer { e.free() }
        let c = bytes("destination").withUnsafeBufferPointer { e.copy(newKey: $0.baseAddress!, $0.count, expireAt: -1, shareObject: true) }
        defer { c.free() }
        XCTAssertEqual(c.keyBytes, bytes("destination"))
        XCTAssertEqual(c.valueBytes, bytes("value"))
        XCTAssertFalse(c.hasExpire)
    }

    func testUnsharedIntFlagSurvivesCopiesAndClearsOnSet() {
        let e = makeEntry(bytes("k"), bytes("5"))
        XCTAssertFalse(e.isUnsharedInt)
        e.isUnsharedInt = true
        let t = e.withExpire(100)
        e.free()
        XCTAssertTrue(t.isUnsharedInt)
        XCTAssertTrue(t.hasExpire)
        let c = bytes("k2").withUnsafeBufferPointer { t.copy(newKey: $0.baseAddress!, $0.count, expireAt: -1, shareObject: true) }
        t.free()
        XCTAssertTrue(c.isUnsharedInt)
        c.setIntValue(6)
        XCTAssertFalse(c.isUnsharedInt)
        XCTAssertEqual(c.intValue, 6)
        c.free()
    }
}
