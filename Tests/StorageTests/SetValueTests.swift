import XCTest
@testable import Storage

final class SetValueTests: XCTestCase {
    func add(_ s: SetValue, _ m: [UInt8]) -> Bool {
        m.withUnsafeBufferPointer { s.add($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    }

    func has(_ s: SetValue, _ m: [UInt8]) -> Bool {
        m.withUnsafeBufferPointer { s.contains($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    }

    func remove(_ s: SetValue, _ m: [UInt8]) -> Bool {
        m.withUnsafeBufferPointer { s.remove($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    }

    func members(_ s: SetValue) -> Set<[UInt8]> {
        var out = Set<[UInt8]>()
        for i in 0..<s.capacity where s.isLive(i) { out.insert(Array(s.member(at: i))) }
        return out
    }

    func testAddContainsRemove() {
        let s = SetValue()
        XCTAssertEqual(s.encodingName.description, "hashtable")
        XCTAssertTrue(add(s, bytes("a")))
        XCTAssertFalse(add(s, bytes("a")))
        XCTAssertTrue(add(s, []))
        XCTAssertTrue(add(s, [0, 255, 13, 10]))
        XCTAssertTrue(s.add(int: -42))
        XCTAssertEqual(s.count, 4)
        XCTAssertTrue(has(s, bytes("-42")))
        XCTAssertTrue(s.contains(int: -42))
        XCTAssertFalse(s.contains(int: 42))
        XCTAssertTrue(has(s, []))
        XCTAssertFalse(has(s, bytes("b")))
        XCTAssertEqual(members(s), [bytes("a"), [], [0, 255, 13, 10], bytes("-42")])
        XCTAssertTrue(remove(s, []))
        XCTAssertFalse(remove(s, []))
        XCTAssertEqual(s.count, 3)
        XCTAssertFalse(has(s, []))
    }

    func testMemoryAccountingFollowsMembers() {
        let s = SetValue()
        let base = s.allocatedBytes
        for i in 0..<1000 { XCTAssertTrue(add(s, decimalKey("m", i))) }
        XCTAssertGreaterThan(s.allocatedBytes, base + 1000 * 16)
        for i in 0..<1000 { XCTAssertTrue(remove(s, decimalKey("m", i))) }
        XCTAssertEqual(s.memberBytes, 0)
        XCTAssertEqual(s.count, 0)
    }

    func testCopyIsDeep() {
        let s = SetValue()
        for i in 0..<100 { _ = s.add(int: i) }
        let c = s.copy() as! SetValue
        XCTAssertEqual(members(c), members(s))
        _ = remove(s, bytes("7"))
        XCTAssertTrue(c.contains(int: 7))
        XCTAssertFalse(s.contains(int: 7))
        XCTAssertEqual(c.count, 100)
    }

    func testRandomSlotCoversEveryMember() {
        let s = SetValue()
        for i in 0..<20 { _ = s.add(int: i) }
        var rng = SystemRandomNumberGenerator()
        var seen = Set<[UInt8]>()
        for _ in 0..<2000 {
            let slot = s.randomSlot(using: &rng)
            XCTAssertTrue(s.isLive(slot))
            seen.insert(Array(s.member(at: slot)))
        }
        XCTAssertEqual(seen, members(s))
        let empty = SetValue()
        XCTAssertEqual(empty.randomSlot(using: &rng), -1)
    }

    func testScanVisitsEveryMemberOnce() {
        let s = SetValue()
        for i in 0..<500 { XCTAssertTrue(add(s, decimalKey("k", i))) }
        var seen: [[UInt8]] = []
        var cursor: UInt64 = 0
        repeat {
            cursor = s.scan(cursor) { seen.append(Array($0)) }
        } while cursor != 0
        XCTAssertEqual(seen.count, 500)
        XCTAssertEqual(Set(seen), members(s))
    }

    func testShrinksAfterMassRemoval() {
        let s = SetValue(capacity: 4000)
        for i in 0..<4000 { _ = s.add(int: i) }
        let big = s.capacity
        for i in 0..<3990 { XCTAssertTrue(s.remove(bytes: i)) }
        XCTAssertLessThan(s.capacity, big)
        XCTAssertEqual(s.count, 10)
        for i in 3990..<4000 { XCTAssertTrue(s.contains(int: i)) }
    }
}

extension SetValue {
    func remove(bytes v: Int) -> Bool { withDecimal(v) { remove($0, $1) } }
}
