import Commands
import RESP
import XCTest

/// WATCH leaves an absent key alone when the write's key spec can only
/// remove from it; these pin which positions the specs give.
final class RemoveOnlyKeysTests: XCTestCase {
    func positions(_ words: [String]) -> [Int] {
        let a = ArgVector()
        var owned: [UnsafeMutableBufferPointer<UInt8>] = []
        defer { owned.forEach { $0.deallocate() } }
        for w in words {
            let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(w.utf8.count, 1))
            _ = b.initialize(from: w.utf8)
            owned.append(b)
            a.push(Arg(UnsafePointer(b.baseAddress!), w.utf8.count))
        }
        guard let spec = CommandTable.shared.lookup(name: words[0]) else {
            XCTFail(words[0])
            return []
        }
        var out: [Int] = []
        spec.forEachRemoveOnlyKey(a) { out.append($0) }
        return out
    }

    func testDeletesAndPopSourcesAreRemoveOnly() {
        XCTAssertEqual(positions(["DEL", "a", "b", "c"]), [1, 2, 3])
        XCTAssertEqual(positions(["UNLINK", "a"]), [1])
        XCTAssertEqual(positions(["LMPOP", "2", "a", "b", "LEFT"]), [2, 3])
        XCTAssertEqual(positions(["BLPOP", "a", "b", "0"]), [1, 2])
        XCTAssertEqual(positions(["LMOVE", "src", "dst", "LEFT", "LEFT"]), [1], "the destination may be created")
        XCTAssertEqual(positions(["SMOVE", "src", "dst", "m"]), [1])
    }

    func testWritesThatMayCreateTheKeyAreNot() {
        XCTAssertEqual(positions(["INCR", "a"]), [], "INCR creates a missing key (spec: RW access update)")
        XCTAssertEqual(positions(["SET", "a", "1"]), [])
        XCTAssertEqual(positions(["SINTERSTORE", "d", "a", "b"]), [])
        XCTAssertEqual(positions(["GET", "a"]), [])
    }
}
