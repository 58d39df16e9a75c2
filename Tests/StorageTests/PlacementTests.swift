import XCTest
@testable import Storage

final class PlacementTests: XCTestCase {
    func shard(_ k: [UInt8], _ n: Int) -> Int { k.withUnsafeBufferPointer { shardOf($0.baseAddress!, $0.count, shards: n) } }
    func tag(_ k: [UInt8]) -> [UInt8] {
        k.withUnsafeBufferPointer { b in
            let (p, n) = placementBytes(b.baseAddress!, b.count)
            return Array(UnsafeBufferPointer(start: p, count: n))
        }
    }

    func testHashtagKeysShareAShard() {
        for n in [2, 3, 4, 7, 16] {
            XCTAssertEqual(shard(bytes("{user1}.a"), n), shard(bytes("{user1}.b"), n))
            XCTAssertEqual(shard(bytes("{user1}.a"), n), shard(bytes("user1"), n), "only the tag is hashed")
            XCTAssertEqual(shard(bytes("x{user1}"), n), shard(bytes("{user1}y"), n))
        }
    }

    func testTagRules() {
        XCTAssertEqual(tag(bytes("{user1}.a")), bytes("user1"))
        XCTAssertEqual(tag(bytes("{}x")), bytes("{}x"), "an empty tag hashes the whole key")
        XCTAssertEqual(tag(bytes("foo{}{bar}")), bytes("foo{}{bar}"))
        XCTAssertEqual(tag(bytes("foo{{bar}}")), bytes("{bar"))
        XCTAssertEqual(tag(bytes("foo{bar")), bytes("foo{bar"), "no closing brace: whole key")
        XCTAssertEqual(tag(bytes("plain")), bytes("plain"))
    }

    func testKeysSpreadOverShards() {
        var used = Set<Int>()
        for i in 0..<200 { used.insert(shard(decimalKey("{tag", i) + bytes("}.x"), 4)) }
        XCTAssertEqual(used, [0, 1, 2, 3], "distinct tags must spread over every shard")
        for i in 0..<50 { XCTAssertEqual(shard(decimalKey("k", i), 1), 0) }
    }
}
