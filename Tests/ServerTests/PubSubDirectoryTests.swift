import XCTest
@testable import Server

final class PubSubDirectoryTests: XCTestCase {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func receivers(_ d: PubSubDirectory, _ ch: String, shard: Bool = false) -> Int {
        b(ch).withUnsafeBufferPointer { d.receivers($0, shard: shard) }
    }

    func testCountsFollowSubscribesAndUnsubscribes() {
        let d = PubSubDirectory()
        d.add(.channels, b("news"), 1)
        d.add(.channels, b("news"), 1)
        d.add(.channels, b("other"), 1)
        XCTAssertEqual(d.read { $0.channels[self.b("news")] }, 2)
        d.add(.channels, b("news"), -1)
        d.add(.channels, b("other"), -1)
        XCTAssertEqual(d.read { $0.channels.count }, 1, "a channel nobody listens to is gone")
        XCTAssertNil(d.read { $0.channels[self.b("other")] })
    }

    func testReceiversCountEachClientOfEachMatchingPattern() {
        let d = PubSubDirectory()
        d.add(.channels, b("news"), 1)
        d.add(.patterns, b("n*"), 1)
        d.add(.patterns, b("n*"), 1)
        d.add(.patterns, b("*s"), 1)
        d.add(.patterns, b("x*"), 1)
        XCTAssertEqual(receivers(d, "news"), 1 + 2 + 1)
        XCTAssertEqual(receivers(d, "nope"), 2)
        XCTAssertEqual(receivers(d, "zzz"), 0)
    }

    func testShardChannelsIgnorePatternsAndPlainChannels() {
        let d = PubSubDirectory()
        d.add(.channels, b("s"), 1)
        d.add(.patterns, b("*"), 1)
        d.add(.shardChannels, b("s"), 1)
        XCTAssertEqual(receivers(d, "s", shard: true), 1)
        XCTAssertEqual(receivers(d, "s"), 2)
        d.add(.shardChannels, b("s"), -1)
        XCTAssertEqual(receivers(d, "s", shard: true), 0)
    }

    func testBinaryChannelNames() {
        let d = PubSubDirectory()
        let name: [UInt8] = [0, 255, 13, 10]
        d.add(.channels, name, 1)
        XCTAssertEqual(name.withUnsafeBufferPointer { d.receivers($0, shard: false) }, 1)
        XCTAssertEqual(receivers(d, ""), 0)
    }
}
