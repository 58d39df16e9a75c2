import XCTest
@testable import Storage

/// A stand-in for the list/hash/set objects of later issues, counting live
/// instances so the tests see retains adopted and released exactly once.
final class CountingObject: ValueObject {
    nonisolated(unsafe) static var live = 0
    var items: [Int]
    init(_ items: [Int]) { self.items = items; CountingObject.live += 1 }
    deinit { CountingObject.live -= 1 }
    var encodingName: StaticString { "listpack" }
    func copy() -> ValueObject { CountingObject(items) }
    var allocatedBytes: Int { items.count * 8 }
}

final class EntryTransferTests: XCTestCase {
    func roundTrip(_ e: Entry, as key: [UInt8]) -> Entry {
        let blob = exportEntry(e)
        return blob.withUnsafeBufferPointer { b in
            key.withUnsafeBufferPointer { importEntry(b, key: $0.baseAddress!, keyLen: $0.count) }
        }
    }

    func testBytesRoundTripWithExpiryAndLRU() {
        let e = makeEntry(bytes("src"), bytes("hello world"), expireAt: 1_234_567)
        e.lru = 0xABCDE
        let blob = exportEntry(e)
        XCTAssertEqual(blob.count, EntryTransfer.headerSize + 11)
        XCTAssertEqual(blob[0], ValueType.string.rawValue)
        XCTAssertEqual(blob[1], Payload.bytes.rawValue)
        let c = roundTrip(e, as: bytes("dst"))
        e.free()
        defer { c.free() }
        XCTAssertEqual(c.keyBytes, bytes("dst"))
        XCTAssertEqual(c.payload, .bytes)
        XCTAssertEqual(Array(c.bytes), bytes("hello world"))
        XCTAssertEqual(c.expireAt, 1_234_567)
        XCTAssertEqual(c.lru, 0xABCDE)
    }

    func testIntAndEmptyAndNumericLookingBytes() {
        let i = makeEntry(bytes("n"), bytes("-77"))
        let ci = roundTrip(i, as: bytes("n"))
        XCTAssertEqual(ci.payload, .int)
        XCTAssertEqual(ci.intValue, -77)
        XCTAssertFalse(ci.hasExpire)
        XCTAssertFalse(ci.isUnsharedInt)
        i.isUnsharedInt = true
        let cu = roundTrip(i, as: bytes("n"))
        XCTAssertTrue(cu.isUnsharedInt, "a COPY-made int stays unshared across shards")
        i.free(); ci.free(); cu.free()

        let empty = makeEntry(bytes("e"), [])
        let ce = roundTrip(empty, as: bytes("e"))
        XCTAssertEqual(ce.payload, .bytes)
        XCTAssertEqual(ce.bytes.count, 0)
        empty.free(); ce.free()

        // A value kept as bytes stays bytes (its OBJECT ENCODING must not change).
        let b = makeEntry(bytes("b"), bytes("12"), tryInt: false)
        b.isRawString = true
        let cb = roundTrip(b, as: bytes("b"))
        XCTAssertEqual(cb.payload, .bytes)
        XCTAssertTrue(cb.isRawString)
        XCTAssertEqual(Array(cb.bytes), bytes("12"))
        b.free(); cb.free()
    }

    func testHugeValueAndLongKey() {
        let v = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let e = makeEntry(bytes("big"), v)
        let key = [UInt8](repeating: 65, count: 500)
        let c = roundTrip(e, as: key)
        XCTAssertEqual(Array(c.bytes), v)
        XCTAssertEqual(c.keyBytes, key)
        e.free(); c.free()
    }

    func testObjectIsDeepCopiedAndOwnedOnce() {
        CountingObject.live = 0
        let obj = CountingObject([1, 2, 3])
        let e = bytes("list").withUnsafeBufferPointer {
            Entry.makeObject(type: .list, key: $0.baseAddress!, keyLen: $0.count, object: obj, expireAt: 42, lru: 1)
        }
        let c = roundTrip(e, as: bytes("list2"))
        XCTAssertEqual(CountingObject.live, 2, "the exporter sends a private copy")
        XCTAssertEqual(c.type, .list)
        XCTAssertEqual(c.payload, .object)
        XCTAssertEqual(c.expireAt, 42)
        do {
            let copy = c.object as! CountingObject
            XCTAssertFalse(copy === obj)
            XCTAssertEqual(copy.items, [1, 2, 3])
            obj.items.append(4)
            XCTAssertEqual(copy.items, [1, 2, 3], "source changes must not reach the copy")
        }
        e.free()
        c.free()
        XCTAssertEqual(CountingObject.live, 1, "only the test's own reference remains")
    }
}
