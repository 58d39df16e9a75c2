/// The capture tool's --ethertype/--port/--host filters, ANDed together.
///
/// `compile` turns them into classic BPF for SO_ATTACH_FILTER so unwanted
/// frames never reach the ring. The program reads fixed Ethernet offsets, as
/// tcpdump's simple expressions do: it expects untagged Ethernet II frames
/// (VLAN tags the NIC or veth stripped into metadata are fine). `matches`
/// is the same test on a decoded frame, for user-space filtering.
public struct CaptureFilter: Hashable, Sendable {
    public var etherType: UInt16?
    public var port: UInt16?
    public var host: IPAddress?

    public init(etherType: UInt16? = nil, port: UInt16? = nil, host: IPAddress? = nil) {
        self.etherType = etherType
        self.port = port
        self.host = host
    }

    public var isEmpty: Bool { etherType == nil && port == nil && host == nil }

    /// The kernel keeps at most this many bytes of an accepted frame.
    public static let defaultSnapLength: UInt32 = 262_144

    public func compile(snapLength: UInt32 = CaptureFilter.defaultSnapLength) -> BPFProgram {
        var asm = BPFAssembler()
        if let t = etherType {
            asm.load(BPFOp.ldH, 12)
            asm.jeq(UInt32(t), .next, .reject)
        }
        if let h = host { emitHost(&asm, h) }
        if let p = port { emitPort(&asm, p) }
        return asm.assemble(snapLength: snapLength)
    }

    /// IPv4 host matches IP source/destination or ARP sender/target, as
    /// tcpdump's `host` does; IPv6 compares all four words of each address.
    private func emitHost(_ asm: inout BPFAssembler, _ host: IPAddress) {
        let done = asm.newLabel()
        switch host {
        case .v4(let a):
            let notIP = asm.newLabel(), arp = asm.newLabel()
            asm.load(BPFOp.ldH, 12)
            asm.jeq(UInt32(EtherType.ipv4), .next, .label(notIP))
            asm.load(BPFOp.ldW, 26)
            asm.jeq(a.rawValue, .label(done), .next)
            asm.load(BPFOp.ldW, 30)
            asm.jeq(a.rawValue, .label(done), .reject)
            asm.place(notIP)
            asm.jeq(UInt32(EtherType.arp), .label(arp), .reject)
            asm.place(arp)
            asm.load(BPFOp.ldW, 28)
            asm.jeq(a.rawValue, .label(done), .next)
            asm.load(BPFOp.ldW, 38)
            asm.jeq(a.rawValue, .label(done), .reject)
        case .v6(let a):
            let words = a.words
            let tryDestination = asm.newLabel()
            asm.load(BPFOp.ldH, 12)
            asm.jeq(UInt32(EtherType.ipv6), .next, .reject)
            for (i, w) in words.enumerated() {
                asm.load(BPFOp.ldW, UInt32(22 + 4 * i))
                asm.jeq(w, i == 3 ? .label(done) : .next, .label(tryDestination))
            }
            asm.place(tryDestination)
            for (i, w) in words.enumerated() {
                asm.load(BPFOp.ldW, UInt32(38 + 4 * i))
                asm.jeq(w, i == 3 ? .label(done) : .next, .reject)
            }
        }
        asm.place(done)
    }

    /// TCP, UDP or SCTP source or destination port; IPv4 fragments after the
    /// first carry no ports and are rejected, as in tcpdump.
    private func emitPort(_ asm: inout BPFAssembler, _ port: UInt16) {
        let done = asm.newLabel(), v6 = asm.newLabel(), v4Ports = asm.newLabel(), v6Ports = asm.newLabel()
        let p = UInt32(port)
        asm.load(BPFOp.ldH, 12)
        asm.jeq(UInt32(EtherType.ipv6), .label(v6), .next)
        asm.jeq(UInt32(EtherType.ipv4), .next, .reject)
        asm.load(BPFOp.ldB, 23)
        asm.jeq(UInt32(IPProtocol.tcp), .label(v4Ports), .next)
        asm.jeq(UInt32(IPProtocol.udp), .label(v4Ports), .next)
        asm.jeq(UInt32(IPProtocol.sctp), .label(v4Ports), .reject)
        asm.place(v4Ports)
        asm.load(BPFOp.ldH, 20)
        asm.jset(0x1FFF, .reject, .next)
        asm.load(BPFOp.ldxMSH, 14)
        asm.load(BPFOp.ldHInd, 14)
        asm.jeq(p, .label(done), .next)
        asm.load(BPFOp.ldHInd, 16)
        asm.jeq(p, .label(done), .reject)
        asm.place(v6)
        asm.load(BPFOp.ldB, 20)
        asm.jeq(UInt32(IPProtocol.tcp), .label(v6Ports), .next)
        asm.jeq(UInt32(IPProtocol.udp), .label(v6Ports), .next)
        asm.jeq(UInt32(IPProtocol.sctp), .label(v6Ports), .reject)
        asm.place(v6Ports)
        asm.load(BPFOp.ldH, 54)
        asm.jeq(p, .label(done), .next)
        asm.load(BPFOp.ldH, 56)
        asm.jeq(p, .label(done), .reject)
        asm.place(done)
    }

    /// The same filter applied to a decoded frame.
    public func matches(_ f: DecodedFrame) -> Bool {
        if let t = etherType, f.etherType != t { return false }
        if let h = host {
            var hit = false
            if let ip = f.ip { hit = ip.source == h || ip.destination == h }
            if !hit, let arp = f.arp, case .v4(let a) = h { hit = arp.senderIP == a || arp.targetIP == a }
            if !hit { return false }
        }
        if let p = port {
            guard let t = f.transport, t.sourcePort == p || t.destinationPort == p else { return false }
        }
        return true
    }
}
