import XCTest
@testable import PacketCapture

final class FrameDecoderTests: XCTestCase {
    typealias B = FrameBuilder

    func testARPRequestFields() {
        let bytes = B.arpFrame()
        XCTAssertEqual(bytes.count, 42)
        let f = FrameDecoder.decode(bytes)
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.destination, .broadcast)
        XCTAssertEqual(f.source.description, "02:fc:00:00:00:01")
        XCTAssertEqual(f.etherType, 0x0806)
        XCTAssertEqual(f.capturedLength, 42)
        XCTAssertEqual(f.originalLength, 42)
        XCTAssertEqual(f.vlans.count, 0)
        let arp = try! XCTUnwrap(f.arp)
        XCTAssertEqual(arp.operation, 1)
        XCTAssertEqual(arp.operationName, "request")
        XCTAssertEqual(arp.senderMAC, B.macA)
        XCTAssertEqual(arp.senderIP.description, "10.0.0.1")
        XCTAssertEqual(arp.targetMAC, .zero)
        XCTAssertEqual(arp.targetIP.description, "10.0.0.2")
        XCTAssertNil(f.ip)
        XCTAssertNil(f.transport)
    }

    func testIPv4TCPFields() {
        let bytes = B.tcp4Frame(flags: 0x12 /* SYN|ACK */, payload: Array("hello".utf8))
        XCTAssertEqual(bytes.count, 14 + 20 + 20 + 5)
        let meta = FrameMetadata(originalLength: 1500, timestampSeconds: 1_700_000_000, timestampNanoseconds: 123_456_789,
                                 direction: .outgoing, interfaceIndex: 7)
        let f = FrameDecoder.decode(bytes, metadata: meta)
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.source, B.macA)
        XCTAssertEqual(f.destination, B.macB)
        XCTAssertEqual(f.etherType, EtherType.ipv4)
        XCTAssertEqual(f.capturedLength, 59)
        XCTAssertEqual(f.originalLength, 1500)
        XCTAssertEqual(f.timestampSeconds, 1_700_000_000)
        XCTAssertEqual(f.timestampNanoseconds, 123_456_789)
        XCTAssertEqual(f.direction, .outgoing)
        XCTAssertEqual(f.interfaceIndex, 7)
        let ip = try! XCTUnwrap(f.ip)
        XCTAssertEqual(ip.source, .v4(B.ipA))
        XCTAssertEqual(ip.destination, .v4(B.ipB))
        XCTAssertEqual(ip.proto, IPProtocol.tcp)
        XCTAssertEqual(ip.ttl, 64)
        XCTAssertEqual(ip.totalLength, 45)
        XCTAssertFalse(ip.isFragment)
        let t = try! XCTUnwrap(f.transport)
        XCTAssertEqual(t.sourcePort, 40000)
        XCTAssertEqual(t.destinationPort, 6379)
        XCTAssertEqual(t.tcpFlags, [.syn, .ack])
        XCTAssertEqual(t.tcpFlags?.description, "S.")
        XCTAssertEqual(t.payloadLength, 5)
    }

    func testIPv4OptionsMoveTheTCPHeader() {
        let ip = B.ipv4(src: B.ipA, dst: B.ipB, proto: 6, options: [1, 1, 1, 0],
                        payload: B.tcp(sport: 1, dport: 2, flags: 0x01, options: [2, 4, 5, 180]))
        let f = FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4, payload: ip))
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.transport?.sourcePort, 1)
        XCTAssertEqual(f.transport?.destinationPort, 2)
        XCTAssertEqual(f.transport?.tcpFlags, .fin)
        XCTAssertEqual(f.transport?.payloadLength, 0)
    }

    func testIPv4LaterFragmentHasNoPorts() {
        let ip = B.ipv4(src: B.ipA, dst: B.ipB, proto: 17, fragment: 0x0010, payload: [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0])
        let f = FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4, payload: ip))
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.ip?.isFragment, true)
        XCTAssertNil(f.transport)
    }

    func testIPv6UDPFields() {
        let bytes = B.udp6Frame(payload: [9, 9, 9, 9])
        XCTAssertEqual(bytes.count, 14 + 40 + 8 + 4)
        let f = FrameDecoder.decode(bytes)
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.etherType, EtherType.ipv6)
        let ip = try! XCTUnwrap(f.ip)
        XCTAssertEqual(ip.source, .v6(B.ip6A))
        XCTAssertEqual(ip.destination, .v6(B.ip6B))
        XCTAssertEqual(ip.source.description, "2001:db8::1")
        XCTAssertEqual(ip.destination.description, "fe80::2")
        XCTAssertEqual(ip.proto, IPProtocol.udp)
        XCTAssertEqual(ip.ttl, 64)
        XCTAssertEqual(ip.totalLength, 52)
        let t = try! XCTUnwrap(f.transport)
        XCTAssertEqual(t.sourcePort, 5353)
        XCTAssertEqual(t.destinationPort, 9999)
        XCTAssertNil(t.tcpFlags)
        XCTAssertEqual(t.payloadLength, 4)
    }

    func testIPv6ExtensionHeadersAreWalked() {
        // Hop-by-hop (8 bytes) then destination options (16 bytes) then TCP.
        let hbh: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]
        let dst: [UInt8] = [6, 1] + [UInt8](repeating: 1, count: 14)
        let payload = hbh + dst + B.tcp(sport: 443, dport: 50000, flags: 0x10)
        let f = FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv6,
                                               payload: B.ipv6(src: B.ip6A, dst: B.ip6B, next: 0, payload: payload)))
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.ip?.proto, IPProtocol.tcp)
        XCTAssertEqual(f.transport?.sourcePort, 443)
        XCTAssertEqual(f.transport?.tcpFlags, .ack)
    }

    func test8021QTagIsSkippedAndRecorded() {
        let inner = B.ipv4(src: B.ipA, dst: B.ipB, proto: 17, payload: B.udp(sport: 53, dport: 5000, payload: []))
        let bytes = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                               vlans: [(EtherType.vlan8021Q, 0xA064)], payload: inner)
        let f = FrameDecoder.decode(bytes)
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.etherType, EtherType.ipv4)
        XCTAssertEqual(f.vlans.count, 1)
        let tag = try! XCTUnwrap(f.vlans.outer)
        XCTAssertEqual(tag.tpid, 0x8100)
        XCTAssertEqual(tag.id, 100)
        XCTAssertEqual(tag.priority, 5)
        XCTAssertFalse(tag.dropEligible)
        XCTAssertEqual(f.transport?.sourcePort, 53)
        XCTAssertEqual(f.ip?.source, .v4(B.ipA))
    }

    func test8021adStackedTags() {
        let bytes = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.arp,
                               vlans: [(EtherType.vlan8021AD, 0x0010), (EtherType.vlan8021Q, 0x1020)],
                               payload: B.arp(op: 2, sha: B.macA, spa: B.ipA, tha: B.macB, tpa: B.ipB))
        let f = FrameDecoder.decode(bytes)
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.vlans.count, 2)
        XCTAssertEqual(f.vlans.tags.map(\.tpid), [0x88A8, 0x8100])
        XCTAssertEqual(f.vlans.tags.map(\.id), [16, 32])
        XCTAssertEqual(f.vlans.inner?.dropEligible, true)
        XCTAssertEqual(f.etherType, EtherType.arp)
        XCTAssertEqual(f.arp?.operationName, "reply")
        XCTAssertEqual(f.arp?.targetMAC, B.macB)
    }

    func testKernelStrippedVLANIsRecordedFirst() {
        let f = FrameDecoder.decode(B.arpFrame(), metadata: FrameMetadata(strippedVLAN: VLANTag(tpid: 0x8100, tci: 7)))
        XCTAssertEqual(f.vlans.count, 1)
        XCTAssertEqual(f.vlans.outer?.id, 7)
        XCTAssertEqual(f.etherType, EtherType.arp)
    }

    func testRawIPLinkLayer() {
        let ip = B.ipv4(src: B.ipA, dst: B.ipB, proto: 17, payload: B.udp(sport: 1, dport: 2, payload: [0]))
        let f = FrameDecoder.decode(ip, metadata: FrameMetadata(linkLayer: .rawIP))
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.etherType, EtherType.ipv4)
        XCTAssertEqual(f.transport?.destinationPort, 2)
        XCTAssertEqual(f.source, .zero)
    }

    func testUnknownEtherTypeIsNotAProblem() {
        let f = FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: 0x88CC, payload: [1, 2, 3]))
        XCTAssertNil(f.problem)
        XCTAssertEqual(f.etherType, 0x88CC)
        XCTAssertNil(f.ip)
    }

    // MARK: damaged frames

    func testEveryPrefixOfEveryFrameDecodesSafely() {
        // (frame, where its last header ends)
        let frames: [([UInt8], Int)] = [
            (B.arpFrame(), 42), (B.tcp4Frame(), 54), (B.udp6Frame(), 62),
            (B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                        vlans: [(EtherType.vlan8021AD, 1), (EtherType.vlan8021Q, 2)],
                        payload: B.ipv4(src: B.ipA, dst: B.ipB, proto: 6, payload: B.tcp(sport: 1, dport: 2, flags: 2))), 62),
        ]
        for (full, headerEnd) in frames {
            for n in 0..<full.count {
                let prefix = Array(full[0..<n])
                let snapped = FrameDecoder.decode(prefix, metadata: FrameMetadata(originalLength: full.count))
                XCTAssertEqual(snapped.capturedLength, n)
                XCTAssertEqual(snapped.originalLength, full.count)
                if n < headerEnd {
                    XCTAssertNotNil(snapped.problem, "prefix \(n) ends inside a header of a \(full.count)-byte frame")
                } else {
                    XCTAssertNil(snapped.problem, "a snap length cut in the payload is not damage")
                    let whole = FrameDecoder.decode(prefix)
                    XCTAssertEqual(whole.problem, .truncated("ip payload"), "an unsnapped frame shorter than its IP length is")
                }
            }
            XCTAssertNil(FrameDecoder.decode(full).problem)
        }
    }

    func testTruncatedEthernetAndIPReasons() {
        XCTAssertEqual(FrameDecoder.decode([1, 2, 3]).problem, .truncated("ethernet"))
        let tcp = B.tcp4Frame()
        XCTAssertEqual(FrameDecoder.decode(Array(tcp[0..<30])).problem, .truncated("ipv4"))
        let f = FrameDecoder.decode(Array(tcp[0..<38]))
        XCTAssertEqual(f.problem, .truncated("tcp"))
        XCTAssertEqual(f.transport?.sourcePort, 40000, "ports that fit are still reported")
    }

    func testLyingHeadersAreMalformed() {
        var bad = B.tcp4Frame()
        bad[14] = 0x43 // IHL 3: shorter than the fixed header
        XCTAssertEqual(FrameDecoder.decode(bad).problem, .malformed("ipv4 header length"))
        var v = B.tcp4Frame()
        v[14] = 0x65 // version 6 inside an IPv4 EtherType
        XCTAssertEqual(FrameDecoder.decode(v).problem, .malformed("ipv4 version"))
        var off = B.tcp4Frame()
        off[14 + 20 + 12] = 0x10 // TCP data offset 1 word
        XCTAssertEqual(FrameDecoder.decode(off).problem, .malformed("tcp data offset"))
        let deep = B.ethernet(dst: B.macB, src: B.macA, type: 0x0800,
                              vlans: Array(repeating: (EtherType.vlan8021Q, UInt16(1)), count: 9), payload: [])
        XCTAssertEqual(FrameDecoder.decode(deep).problem, .malformed("vlan stack"))
    }

    func testIPv6ExtensionLoopIsBounded() {
        // Ten hop-by-hop headers in a row: garbage, not a real packet.
        var payload: [UInt8] = []
        for _ in 0..<10 { payload += [0, 0, 0, 0, 0, 0, 0, 0] }
        let f = FrameDecoder.decode(B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv6,
                                               payload: B.ipv6(src: B.ip6A, dst: B.ip6B, next: 0, payload: payload)))
        XCTAssertEqual(f.problem, .malformed("ipv6 extension chain"))
    }
}
