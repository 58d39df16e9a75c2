/// EtherType values the decoder and filters know by name.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let vlan8021Q: UInt16 = 0x8100
    public static let vlan8021AD: UInt16 = 0x88A8
    /// Pre-standard QinQ outer tag some switches still emit.
    public static let vlanQinQLegacy: UInt16 = 0x9100
    public static let ipv6: UInt16 = 0x86DD
    public static let lldp: UInt16 = 0x88CC

    public static func isVLANTag(_ t: UInt16) -> Bool {
        t == vlan8021Q || t == vlan8021AD || t == vlanQinQLegacy
    }

    public static func name(_ t: UInt16) -> String? {
        switch t {
        case ipv4: return "IPv4"
        case arp: return "ARP"
        case ipv6: return "IPv6"
        case vlan8021Q: return "802.1Q"
        case vlan8021AD: return "802.1ad"
        case lldp: return "LLDP"
        case 0x8035: return "RARP"
        case 0x8847: return "MPLS"
        case 0x888E: return "EAPOL"
        default: return nil
        }
    }
}

/// IP protocol numbers (IPv4 protocol / IPv6 next header).
public enum IPProtocol {
    public static let icmp: UInt8 = 1
    public static let igmp: UInt8 = 2
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv6: UInt8 = 58
    public static let sctp: UInt8 = 132

    public static func name(_ p: UInt8) -> String? {
        switch p {
        case icmp: return "ICMP"
        case igmp: return "IGMP"
        case tcp: return "TCP"
        case udp: return "UDP"
        case icmpv6: return "ICMPv6"
        case sctp: return "SCTP"
        case 47: return "GRE"
        case 50: return "ESP"
        default: return nil
        }
    }
}

public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)

    /// tcpdump's letters, so the output reads like what people already know.
    public var description: String {
        var s = ""
        if contains(.syn) { s += "S" }
        if contains(.fin) { s += "F" }
        if contains(.rst) { s += "R" }
        if contains(.psh) { s += "P" }
        if contains(.urg) { s += "U" }
        if contains(.ece) { s += "E" }
        if contains(.cwr) { s += "W" }
        if contains(.ack) { s += "." }
        return s.isEmpty ? "none" : s
    }
}

/// Where the kernel says a frame was going, from sockaddr_ll.sll_pkttype.
public enum PacketDirection: Hashable, Sendable, CustomStringConvertible {
    case host, broadcast, multicast, otherHost, outgoing
    case other(UInt8)

    public init(pkttype: UInt8) {
        switch pkttype {
        case 0: self = .host
        case 1: self = .broadcast
        case 2: self = .multicast
        case 3: self = .otherHost
        case 4: self = .outgoing
        default: self = .other(pkttype)
        }
    }

    public var isOutgoing: Bool { self == .outgoing }

    public var description: String {
        switch self {
        case .host: return "in"
        case .broadcast: return "in-broadcast"
        case .multicast: return "in-multicast"
        case .otherHost: return "in-otherhost"
        case .outgoing: return "out"
        case .other(let v): return "pkttype-\(v)"
        }
    }
}
