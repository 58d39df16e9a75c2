@testable import PacketCapture

/// Builds frames byte by byte the way they appear on the wire, so decoder
/// tests check against independently written layouts.
enum FrameBuilder {
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func ethernet(dst: MACAddress, src: MACAddress, type: UInt16,
                         vlans: [(tpid: UInt16, tci: UInt16)] = [], payload: [UInt8]) -> [UInt8] {
        var f = dst.bytes + src.bytes
        for v in vlans { f += be16(v.tpid) + be16(v.tci) }
        f += be16(type)
        return f + payload
    }

    static func arp(op: UInt16, sha: MACAddress, spa: IPv4Address, tha: MACAddress, tpa: IPv4Address) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(op) + sha.bytes + be32(spa.rawValue) + tha.bytes + be32(tpa.rawValue)
    }

    static func ipv4(src: IPv4Address, dst: IPv4Address, proto: UInt8, ttl: UInt8 = 64,
                     fragment: UInt16 = 0x4000, options: [UInt8] = [], payload: [UInt8]) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let ihl = UInt8(5 + options.count / 4)
        let total = UInt16(Int(ihl) * 4 + payload.count)
        var h: [UInt8] = [0x40 | ihl, 0] + be16(total) + be16(0x1234) + be16(fragment) + [ttl, proto] + [0, 0]
        h += be32(src.rawValue) + be32(dst.rawValue) + options
        return h + payload
    }

    static func ipv6(src: IPv6Address, dst: IPv6Address, next: UInt8, hop: UInt8 = 64, payload: [UInt8]) -> [UInt8] {
        var h: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(payload.count)) + [next, hop]
        h += src.words.flatMap(be32) + dst.words.flatMap(be32)
        return h + payload
    }

    static func tcp(sport: UInt16, dport: UInt16, flags: UInt8, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let offset = UInt8(5 + options.count / 4) << 4
        return be16(sport) + be16(dport) + be32(1000) + be32(2000) + [offset, flags] + be16(65535) + [0, 0, 0, 0] + options + payload
    }

    static func udp(sport: UInt16, dport: UInt16, payload: [UInt8]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static let macA = MACAddress(0x02, 0xfc, 0x00, 0x00, 0x00, 0x01)
    static let macB = MACAddress(0x02, 0xfc, 0x00, 0x00, 0x00, 0x02)
    static let ipA = IPv4Address(10, 0, 0, 1)
    static let ipB = IPv4Address(10, 0, 0, 2)
    static let ip6A = IPv6Address("2001:db8::1")!
    static let ip6B = IPv6Address("fe80::2")!

    static func tcp4Frame(sport: UInt16 = 40000, dport: UInt16 = 6379, flags: UInt8 = 0x18, payload: [UInt8] = Array("PING\r\n".utf8)) -> [UInt8] {
        ethernet(dst: macB, src: macA, type: EtherType.ipv4,
                 payload: ipv4(src: ipA, dst: ipB, proto: 6, payload: tcp(sport: sport, dport: dport, flags: flags, payload: payload)))
    }

    static func udp6Frame(sport: UInt16 = 5353, dport: UInt16 = 9999, payload: [UInt8] = [1, 2, 3]) -> [UInt8] {
        ethernet(dst: macB, src: macA, type: EtherType.ipv6,
                 payload: ipv6(src: ip6A, dst: ip6B, next: 17, payload: udp(sport: sport, dport: dport, payload: payload)))
    }

    static func arpFrame() -> [UInt8] {
        ethernet(dst: .broadcast, src: macA, type: EtherType.arp,
                 payload: arp(op: 1, sha: macA, spa: ipA, tha: .zero, tpa: ipB))
    }
}
