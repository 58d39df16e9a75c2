import XCTest
@testable import PacketCapture

final class CaptureStatsTests: XCTestCase {
    typealias B = FrameBuilder

    func testCountersAndPortTraffic() {
        var s = CaptureStats(watchedPort: 6379)
        let request = B.tcp4Frame(sport: 40000, dport: 6379, payload: Array("*1\r\n$4\r\nPING\r\n".utf8))
        let reply = B.ethernet(dst: B.macA, src: B.macB, type: EtherType.ipv4,
                               payload: B.ipv4(src: B.ipB, dst: B.ipA, proto: 6,
                                               payload: B.tcp(sport: 6379, dport: 40000, flags: 0x18, payload: Array("+PONG\r\n".utf8))))
        s.record(FrameDecoder.decode(request))
        s.record(FrameDecoder.decode(reply, metadata: FrameMetadata(direction: .outgoing)))
        s.record(FrameDecoder.decode(B.arpFrame()))
        s.record(FrameDecoder.decode(B.udp6Frame()))
        s.record(FrameDecoder.decode([1, 2, 3]))

        XCTAssertEqual(s.frames, 5)
        XCTAssertEqual(s.bytes, UInt64(request.count + reply.count + 42 + B.udp6Frame().count + 3))
        XCTAssertEqual(s.damagedFrames, 1)
        XCTAssertEqual(s.outgoingFrames, 1)
        XCTAssertEqual(s.incomingFrames, 4)
        XCTAssertEqual(s.framesByEtherType[0x0800], 2)
        XCTAssertEqual(s.framesByEtherType[0x0806], 1)
        XCTAssertEqual(s.framesByEtherType[0x86DD], 1)
        XCTAssertEqual(s.framesByIPProtocol[6], 2)
        XCTAssertEqual(s.framesByIPProtocol[17], 1)
        XCTAssertEqual(s.toPort.packets, 1)
        XCTAssertEqual(s.toPort.bytes, UInt64(request.count))
        XCTAssertEqual(s.toPort.payloadBytes, 14)
        XCTAssertEqual(s.fromPort.packets, 1)
        XCTAssertEqual(s.fromPort.payloadBytes, 7)
    }

    func testTopPeersByBytes() {
        var s = CaptureStats()
        for i in 0..<10 {
            let ip = B.ipv4(src: IPv4Address(10, 0, 0, UInt8(i)), dst: IPv4Address(10, 0, 0, 200), proto: 17,
                            payload: B.udp(sport: 1, dport: 2, payload: [UInt8](repeating: 0, count: i * 100)))
            s.record(FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4, payload: ip)))
        }
        let top = s.topPeers(5)
        XCTAssertEqual(top.count, 5)
        XCTAssertEqual(top[0].peer, .ip(IPAddress("10.0.0.200")!))
        XCTAssertEqual(top[1].peer.description, "10.0.0.9")
        XCTAssertEqual(top.map(\.peer.description).suffix(4), ["10.0.0.9", "10.0.0.8", "10.0.0.7", "10.0.0.6"])
        // A non-IP frame is attributed to its MACs.
        var m = CaptureStats()
        m.record(FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: 0x88CC, payload: [0])))
        XCTAssertEqual(Set(m.topPeers().map(\.peer)), [.mac(B.macA), .mac(B.macB)])
    }

    func testPeerTableStaysBounded() {
        var s = CaptureStats()
        for i in 0..<10_000 {
            let src = IPv4Address(rawValue: 0x0B00_0000 + UInt32(i))
            let ip = B.ipv4(src: src, dst: B.ipA, proto: 17, payload: B.udp(sport: 1, dport: 2, payload: []))
            s.record(FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4, payload: ip)))
        }
        XCTAssertEqual(s.topPeers(1).first?.peer, .ip(.v4(B.ipA)), "the heavy hitter survives pruning")
    }

    func testInfoFieldsAreRedisStyle() {
        var s = CaptureStats(watchedPort: 6379)
        s.record(FrameDecoder.decode(B.tcp4Frame()))
        s.record(FrameDecoder.decode(B.arpFrame()))
        let fields = Dictionary(uniqueKeysWithValues: s.infoFields())
        XCTAssertEqual(fields["capture_frames"], "2")
        XCTAssertEqual(fields["capture_ethertypes"], "ipv4=1,arp=1")
        XCTAssertEqual(fields["capture_ip_protocols"], "tcp=1")
        XCTAssertEqual(fields["capture_port"], "6379")
        XCTAssertEqual(fields["capture_port_in"], "packets=1,bytes=60,payload_bytes=6")
        XCTAssertNotNil(fields["capture_top_peer_1"])
        for (k, v) in s.infoFields() {
            XCTAssertFalse(k.contains(":") || v.contains("\r") || v.contains("\n"), "\(k):\(v)")
        }
    }
}
