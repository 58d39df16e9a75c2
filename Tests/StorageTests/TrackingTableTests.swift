import XCTest
@testable import Storage

final class TrackingTableTests: XCTestCase {
    func record(_ t: TrackingTable, _ k: String, _ token: Int) {
        Array(k.utf8).withUnsafeBufferPointer { t.record($0.baseAddress!, $0.count, token: token) }
    }

    func take(_ t: TrackingTable, _ k: String) -> [Int]? {
        Array(k.utf8).withUnsafeBufferPointer { t.take($0.baseAddress!, $0.count) }
    }

    func testTakeForgetsTheKeyAndCountsItems() {
        let t = TrackingTable()
        record(t, "a", 10)
        record(t, "a", 12)
        record(t, "a", 10)   // the same client twice counts once
        record(t, "b", 10)
        XCTAssertEqual(t.count, 2)
        XCTAssertEqual(t.items, 3)
        XCTAssertEqual(take(t, "a"), [10, 12])
        XCTAssertNil(take(t, "a"), "invalidated keys are forgotten")
        XCTAssertEqual(t.items, 1)
        XCTAssertNil(take(t, "zzz"))
    }

    func testTakeAnyAndRemoveAll() {
        let t = TrackingTable()
        for i in 0..<5 { record(t, "k\(i)", i) }
        var seen = 0
        while let (_, tokens) = t.takeAny() { seen += tokens.count }
        XCTAssertEqual(seen, 5)
        XCTAssertTrue(t.isEmpty)
        record(t, "x", 1)
        t.removeAll()
        XCTAssertTrue(t.isEmpty)
        XCTAssertEqual(t.items, 0)
    }
}
