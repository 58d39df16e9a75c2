/// One 802.1Q / 802.1ad tag, either read from the frame bytes or reported by
/// the kernel when the NIC (or veth) stripped it into packet metadata.
public struct VLANTag: Hashable, Sendable {
    public var tpid: UInt16
    public var tci: UInt16
    public init(tpid: UInt16, tci: UInt16) { self.tpid = tpid; self.tci = tci }
    public var id: UInt16 { tci & 0x0FFF }
    public var priority: UInt8 { UInt8(tci >> 13) }
    public var dropEligible: Bool { tci & 0x1000 != 0 }
}

/// Up to two VLAN tags stored inline, so decoding never allocates; deeper
/// stacks are skipped and only counted.
public struct VLANTags: Hashable, Sendable {
    public private(set) var count: Int = 0
    public private(set) var outer: VLANTag?
    public private(set) var inner: VLANTag?

    public init() {}

    mutating func append(_ tag: VLANTag) {
        if outer == nil { outer = tag } else if inner == nil { inner = tag }
        count += 1
    }

    /// The stored tags, outermost first.
    public var tags: [VLANTag] { [outer, inner].compactMap { $0 } }
}

public struct ARPInfo: Hashable, Sendable {
    public var operation: UInt16
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public var operationName: String {
        switch operation {
        case 1: return "request"
        case 2: return "reply"
        default: return "op\(operation)"
        }
    }
}

public struct IPInfo: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// IPv4 protocol or the IPv6 upper-layer header after extension headers.
    public var proto: UInt8
    /// TTL or hop limit.
    public var ttl: UInt8
    /// Total length from the IP header (IPv6: 40 + payload length).
    public var totalLength: Int
    /// Non-first IPv4 fragments and IPv6 fragments carry no ports.
    public var isFragment: Bool
}

public struct TransportInfo: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Present for TCP only.
    public var tcpFlags: TCPFlags?
    /// Application bytes the segment or datagram carries, from the IP and
    /// transport length fields (so it holds even when the capture is cut short).
    public var payloadLength: Int?

    public init(sourcePort: UInt16, destinationPort: UInt16, tcpFlags: TCPFlags? = nil, payloadLength: Int? = nil) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.tcpFlags = tcpFlags
        self.payloadLength = payloadLength
    }
}

/// Why a frame could not be decoded as far as its headers claim.
public enum DecodeProblem: Hashable, Sendable, CustomStringConvertible {
    /// The frame ended inside the named header.
    case truncated(String)
    /// A header field made no sense (bad version, bad length).
    case malformed(String)

    public var description: String {
        switch self {
        case .truncated(let where_): return "truncated \(where_)"
        case .malformed(let what): return "malformed \(what)"
        }
    }
}

/// How the bytes handed to the decoder begin.
public enum LinkLayer: Hashable, Sendable {
    /// Ethernet II header (also loopback, which the kernel frames the same way).
    case ethernet
    /// No link header: the bytes begin with an IPv4 or IPv6 header (tun, wireguard).
    case rawIP
}

/// Everything the decoder learned about one frame. Plain values only, so a
/// frame can be kept after its ring block goes back to the kernel.
public struct DecodedFrame: Hashable, Sendable {
    public var linkLayer: LinkLayer = .ethernet
    public var source: MACAddress = .zero
    public var destination: MACAddress = .zero
    /// EtherType after any VLAN tags (the payload's type).
    public var etherType: UInt16 = 0
    public var vlans = VLANTags()
    /// Bytes present in the capture buffer.
    public var capturedLength: Int = 0
    /// Bytes the frame had on the wire.
    public var originalLength: Int = 0
    public var timestampSeconds: UInt32 = 0
    public var timestampNanoseconds: UInt32 = 0
    public var direction: PacketDirection = .host
    public var interfaceIndex: Int32 = 0
    public var arp: ARPInfo?
    public var ip: IPInfo?
    public var transport: TransportInfo?
    public var problem: DecodeProblem?

    public init() {}

    public var isDamaged: Bool { problem != nil }
}
