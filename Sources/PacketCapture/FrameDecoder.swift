/// What the ring (or a test) knows about a frame besides its bytes.
public struct FrameMetadata: Sendable {
    public var originalLength: Int?
    public var timestampSeconds: UInt32
    public var timestampNanoseconds: UInt32
    public var direction: PacketDirection
    public var interfaceIndex: Int32
    /// A tag the NIC or veth stripped before the kernel queued the frame;
    /// it no longer appears in the bytes, so it is recorded from metadata.
    public var strippedVLAN: VLANTag?
    public var linkLayer: LinkLayer

    public init(
        originalLength: Int? = nil, timestampSeconds: UInt32 = 0, timestampNanoseconds: UInt32 = 0,
        direction: PacketDirection = .host, interfaceIndex: Int32 = 0,
        strippedVLAN: VLANTag? = nil, linkLayer: LinkLayer = .ethernet
    ) {
        self.originalLength = originalLength
        self.timestampSeconds = timestampSeconds
        self.timestampNanoseconds = timestampNanoseconds
        self.direction = direction
        self.interfaceIndex = interfaceIndex
        self.strippedVLAN = strippedVLAN
        self.linkLayer = linkLayer
    }
}

/// Bounds-checked big-endian reads: every access returns nil past the end,
/// which is what makes garbage and truncated frames safe to decode.
@usableFromInline
struct ByteReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer

    @inlinable init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inlinable var count: Int { bytes.count }

    @inlinable func has(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
    }

    @inlinable func u8(_ o: Int) -> UInt8? { has(o, 1) ? bytes[o] : nil }

    @inlinable func u16(_ o: Int) -> UInt16? {
        guard has(o, 2) else { return nil }
        return UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1])
    }

    @inlinable func u32(_ o: Int) -> UInt32? {
        guard has(o, 4) else { return nil }
        return UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
    }

    @inlinable func u64(_ o: Int) -> UInt64? {
        guard let h = u32(o), let l = u32(o + 4) else { return nil }
        return UInt64(h) << 32 | UInt64(l)
    }

    @inlinable func mac(_ o: Int) -> MACAddress? {
        guard let h = u16(o), let l = u32(o + 2) else { return nil }
        return MACAddress(rawValue: UInt64(h) << 32 | UInt64(l))
    }
}

/// Decodes Ethernet II (with VLAN tags), ARP, IPv4, IPv6 and TCP/UDP/SCTP
/// ports. It never reads past `bytes`; a frame that ends early or lies about
/// its lengths comes back with `problem` set and every field decoded so far.
public enum FrameDecoder {
    /// More tags than this is not a real frame; stop rather than walk garbage.
    static let maxVLANTags = 8
    static let maxIPv6ExtensionHeaders = 8

    public static func decode(_ bytes: [UInt8], metadata: FrameMetadata = FrameMetadata()) -> DecodedFrame {
        bytes.withUnsafeBytes { decode($0, metadata: metadata) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, metadata: FrameMetadata = FrameMetadata()) -> DecodedFrame {
        var f = DecodedFrame()
        f.linkLayer = metadata.linkLayer
        f.capturedLength = bytes.count
        f.originalLength = metadata.originalLength ?? bytes.count
        f.timestampSeconds = metadata.timestampSeconds
        f.timestampNanoseconds = metadata.timestampNanoseconds
        f.direction = metadata.direction
        f.interfaceIndex = metadata.interfaceIndex
        if let tag = metadata.strippedVLAN { f.vlans.append(tag) }
        let r = ByteReader(bytes)

        switch metadata.linkLayer {
        case .ethernet:
            decodeEthernet(r, &f)
        case .rawIP:
            guard let first = r.u8(0) else { f.problem = .truncated("ip"); return f }
            switch first >> 4 {
            case 4: f.etherType = EtherType.ipv4; decodeIPv4(r, at: 0, &f)
            case 6: f.etherType = EtherType.ipv6; decodeIPv6(r, at: 0, &f)
            default: f.problem = .malformed("ip version")
            }
        }
        return f
    }

    static func decodeEthernet(_ r: ByteReader, _ f: inout DecodedFrame) {
        guard let dst = r.mac(0), let src = r.mac(6), var type = r.u16(12) else {
            // Keep whatever addresses fit so a short frame still prints sensibly.
            if let dst = r.mac(0) { f.destination = dst }
            f.problem = .truncated("ethernet")
            return
        }
        f.destination = dst
        f.source = src
        var offset = 14
        var tags = 0
        while EtherType.isVLANTag(type) {
            tags += 1
            guard tags <= maxVLANTags else { f.etherType = type; f.problem = .malformed("vlan stack"); return }
            guard let tci = r.u16(offset), let inner = r.u16(offset + 2) else {
                f.etherType = type
                f.problem = .truncated("vlan")
                return
            }
            f.vlans.append(VLANTag(tpid: type, tci: tci))
            type = inner
            offset += 4
        }
        f.etherType = type
        switch type {
        case EtherType.ipv4: decodeIPv4(r, at: offset, &f)
        case EtherType.ipv6: decodeIPv6(r, at: offset, &f)
        case EtherType.arp: decodeARP(r, at: offset, &f)
        default: break
        }
    }

    static func decodeARP(_ r: ByteReader, at o: Int, _ f: inout DecodedFrame) {
        guard let htype = r.u16(o), let ptype = r.u16(o + 2), let hlen = r.u8(o + 4), let plen = r.u8(o + 5) else {
            f.problem = .truncated("arp")
            return
        }
        // Only Ethernet/IPv4 ARP has the fixed layout below.
        guard htype == 1, ptype == EtherType.ipv4, hlen == 6, plen == 4 else { return }
        guard let op = r.u16(o + 6), let sha = r.mac(o + 8), let spa = r.u32(o + 14),
              let tha = r.mac(o + 18), let tpa = r.u32(o + 24) else {
            f.problem = .truncated("arp")
            return
        }
        f.arp = ARPInfo(operation: op, senderMAC: sha, senderIP: IPv4Address(rawValue: spa),
                        targetMAC: tha, targetIP: IPv4Address(rawValue: tpa))
    }

    static func decodeIPv4(_ r: ByteReader, at o: Int, _ f: inout DecodedFrame) {
        guard let vihl = r.u8(o) else { f.problem = .truncated("ipv4"); return }
        guard vihl >> 4 == 4 else { f.problem = .malformed("ipv4 version"); return }
        let headerLength = Int(vihl & 0x0F) * 4
        guard headerLength >= 20 else { f.problem = .malformed("ipv4 header length"); return }
        guard r.has(o, headerLength), let total = r.u16(o + 2), let fragField = r.u16(o + 6),
              let ttl = r.u8(o + 8), let proto = r.u8(o + 9), let src = r.u32(o + 12), let dst = r.u32(o + 16) else {
            f.problem = .truncated("ipv4")
            return
        }
        let fragmentOffset = fragField & 0x1FFF
        let moreFragments = fragField & 0x2000 != 0
        f.ip = IPInfo(source: .v4(IPv4Address(rawValue: src)), destination: .v4(IPv4Address(rawValue: dst)),
                      proto: proto, ttl: ttl, totalLength: Int(total),
                      isFragment: fragmentOffset != 0 || moreFragments)
        // TSO/GSO hands AF_PACKET super-packets with total length 0; only a
        // nonzero length shorter than the header is really wrong.
        if total != 0 && Int(total) < headerLength { f.problem = .malformed("ipv4 total length"); return }
        let end = total == 0 ? r.count : o + Int(total)
        checkPayloadPresent(r, end: end, &f)
        guard fragmentOffset == 0 else { return }
        decodeTransport(r, at: o + headerLength, end: end, proto: proto, &f)
    }

    static func decodeIPv6(_ r: ByteReader, at o: Int, _ f: inout DecodedFrame) {
        guard let first = r.u8(o) else { f.problem = .truncated("ipv6"); return }
        guard first >> 4 == 6 else { f.problem = .malformed("ipv6 version"); return }
        guard let payload = r.u16(o + 4), var next = r.u8(o + 6), let hop = r.u8(o + 7),
              let sh = r.u64(o + 8), let sl = r.u64(o + 16), let dh = r.u64(o + 24), let dl = r.u64(o + 32) else {
            f.problem = .truncated("ipv6")
            return
        }
        var ip = IPInfo(source: .v6(IPv6Address(high: sh, low: sl)), destination: .v6(IPv6Address(high: dh, low: dl)),
                        proto: next, ttl: hop, totalLength: 40 + Int(payload), isFragment: false)
        var offset = o + 40
        var walked = 0
        extensionLoop: while true {
            switch next {
            case 0, 43, 60: // hop-by-hop, routing, destination options
                guard let nh = r.u8(offset), let len = r.u8(offset + 1) else {
                    ip.proto = next; f.ip = ip; f.problem = .truncated("ipv6 extension"); return
                }
                next = nh
                offset += (Int(len) + 1) * 8
            case 44: // fragment
                guard let nh = r.u8(offset), let fo = r.u16(offset + 2) else {
                    ip.proto = next; f.ip = ip; f.problem = .truncated("ipv6 fragment"); return
                }
                ip.isFragment = true
                next = nh
                offset += 8
                if fo >> 3 != 0 { ip.proto = next; f.ip = ip; return }
            case 51: // authentication header counts its length in 4-byte units
                guard let nh = r.u8(offset), let len = r.u8(offset + 1) else {
                    ip.proto = next; f.ip = ip; f.problem = .truncated("ipv6 extension"); return
                }
                next = nh
                offset += (Int(len) + 2) * 4
            default:
                break extensionLoop
            }
            walked += 1
            if walked > maxIPv6ExtensionHeaders { ip.proto = next; f.ip = ip; f.problem = .malformed("ipv6 extension chain"); return }
        }
        ip.proto = next
        f.ip = ip
        // A zero payload length means a jumbogram or a GSO super-packet.
        let end = payload == 0 ? r.count : o + 40 + Int(payload)
        checkPayloadPresent(r, end: end, &f)
        decodeTransport(r, at: offset, end: end, proto: next, &f)
    }

    /// A whole frame (nothing cut by the snap length) that ends before its
    /// IP length says is damaged; a snapped one is merely short.
    static func checkPayloadPresent(_ r: ByteReader, end: Int, _ f: inout DecodedFrame) {
        if end > r.count && f.capturedLength >= f.originalLength && f.problem == nil {
            f.problem = .truncated("ip payload")
        }
    }

    /// `end` is where the IP header says the packet ends; it may lie past
    /// the captured bytes, and frames may carry padding after it.
    static func decodeTransport(_ r: ByteReader, at o: Int, end: Int, proto: UInt8, _ f: inout DecodedFrame) {
        let needed: Int
        switch proto {
        case IPProtocol.tcp: needed = 20
        case IPProtocol.udp: needed = 8
        case IPProtocol.sctp: needed = 12
        default: return
        }
        guard let sp = r.u16(o), let dp = r.u16(o + 2) else {
            f.problem = .truncated(proto == IPProtocol.tcp ? "tcp" : proto == IPProtocol.udp ? "udp" : "sctp")
            return
        }
        var t = TransportInfo(sourcePort: sp, destinationPort: dp)
        if proto == IPProtocol.tcp, let flags = r.u16(o + 12) {
            t.tcpFlags = TCPFlags(rawValue: flags & 0x00FF)
            let headerLength = Int(flags >> 12) * 4
            if headerLength < 20 { f.problem = .malformed("tcp data offset") } else { t.payloadLength = max(0, end - o - headerLength) }
        } else if proto == IPProtocol.udp, let length = r.u16(o + 4) {
            t.payloadLength = length >= 8 ? Int(length) - 8 : max(0, end - o - 8)
        }
        f.transport = t
        if !r.has(o, needed) {
            f.problem = .truncated(proto == IPProtocol.tcp ? "tcp" : proto == IPProtocol.udp ? "udp" : "sctp")
        }
    }
}
