/// A peer as the stats see it: its IP address when the frame has one,
/// otherwise its MAC address.
public enum PeerAddress: Hashable, Sendable, CustomStringConvertible {
    case mac(MACAddress)
    case ip(IPAddress)

    public var description: String {
        switch self {
        case .mac(let m): return m.description
        case .ip(let a): return a.description
        }
    }
}

public struct TrafficCounter: Hashable, Sendable {
    public var packets: UInt64 = 0
    /// Wire bytes: whole frames including the Ethernet header.
    public var bytes: UInt64 = 0
    /// TCP/UDP payload bytes, comparable with what an application sent.
    public var payloadBytes: UInt64 = 0
    public init() {}
}

/// Aggregate counters over decoded frames. A value type: the capture thread
/// mutates its own copy and readers take snapshots.
public struct CaptureStats: Hashable, Sendable {
    public var frames: UInt64 = 0
    /// Wire bytes (original lengths).
    public var bytes: UInt64 = 0
    public var capturedBytes: UInt64 = 0
    /// Frames that ended early or had nonsense headers.
    public var damagedFrames: UInt64 = 0
    public var incomingFrames: UInt64 = 0
    public var outgoingFrames: UInt64 = 0
    public var kernel = KernelStatistics()
    public var framesByEtherType: [UInt16: UInt64] = [:]
    /// Protocols seen at least once; a flat table on the hot path because
    /// the protocol number is a byte.
    public var framesByIPProtocol: [UInt8: UInt64] {
        var d: [UInt8: UInt64] = [:]
        for (p, n) in ipProtocolCounts.enumerated() where n > 0 { d[UInt8(p)] = n }
        return d
    }
    private var ipProtocolCounts = [UInt64](repeating: 0, count: 256)
    /// The port whose traffic is counted in `toPort` / `fromPort`.
    public var watchedPort: UInt16?
    /// Frames whose destination port is `watchedPort`.
    public var toPort = TrafficCounter()
    /// Frames whose source port is `watchedPort`.
    public var fromPort = TrafficCounter()
    private var peerBytes: [PeerAddress: UInt64] = [:]

    /// Peer table bound: past it the smaller half is forgotten, so top-N is
    /// exact for heavy peers and approximate only under heavy churn.
    static let peerTableLimit = 4096

    public init(watchedPort: UInt16? = nil) { self.watchedPort = watchedPort }

    public mutating func record(_ f: DecodedFrame) {
        frames &+= 1
        let wire = UInt64(f.originalLength)
        bytes &+= wire
        capturedBytes &+= UInt64(f.capturedLength)
        if f.problem != nil { damagedFrames &+= 1 }
        if f.direction == .outgoing { outgoingFrames &+= 1 } else { incomingFrames &+= 1 }
        framesByEtherType[f.etherType, default: 0] &+= 1
        if let ip = f.ip {
            ipProtocolCounts[Int(ip.proto)] &+= 1
            addPeer(.ip(ip.source), wire)
            if ip.destination != ip.source { addPeer(.ip(ip.destination), wire) }
        } else if f.linkLayer == .ethernet {
            addPeer(.mac(f.source), wire)
            if f.destination != f.source { addPeer(.mac(f.destination), wire) }
        }
        if let port = watchedPort, let t = f.transport {
            let payload = UInt64(t.payloadLength ?? 0)
            if t.destinationPort == port {
                toPort.packets &+= 1; toPort.bytes &+= wire; toPort.payloadBytes &+= payload
            }
            if t.sourcePort == port {
                fromPort.packets &+= 1; fromPort.bytes &+= wire; fromPort.payloadBytes &+= payload
            }
        }
    }

    private mutating func addPeer(_ p: PeerAddress, _ n: UInt64) {
        peerBytes[p, default: 0] &+= n
        if peerBytes.count > CaptureStats.peerTableLimit {
            let keep = peerBytes.sorted { $0.value > $1.value }.prefix(CaptureStats.peerTableLimit / 2)
            peerBytes = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }

    /// Each frame's bytes count once for its source and once for its
    /// destination: a peer's total is all traffic it took part in.
    /// Peers by bytes, largest first; ties broken by address text so the
    /// order is stable between snapshots.
    public func topPeers(_ n: Int = 5) -> [(peer: PeerAddress, bytes: UInt64)] {
        peerBytes.sorted { a, b in
            a.value != b.value ? a.value > b.value : a.key.description < b.key.description
        }.prefix(n).map { (peer: $0.key, bytes: $0.value) }
    }

    /// `key:value` pairs in Redis INFO style, for an `INFO capture` section.
    /// Compound values follow INFO's `db0:keys=1,expires=0` convention.
    public func infoFields() -> [(String, String)] {
        var out: [(String, String)] = [
            ("capture_frames", "\(frames)"),
            ("capture_bytes", "\(bytes)"),
            ("capture_captured_bytes", "\(capturedBytes)"),
            ("capture_kernel_packets", "\(kernel.packets)"),
            ("capture_kernel_drops", "\(kernel.drops)"),
            ("capture_kernel_freezes", "\(kernel.freezes)"),
            ("capture_damaged_frames", "\(damagedFrames)"),
            ("capture_frames_in", "\(incomingFrames)"),
            ("capture_frames_out", "\(outgoingFrames)"),
            ("capture_ethertypes", CaptureStats.joined(framesByEtherType.sorted { $0.key < $1.key }.map {
                (CaptureStats.etherTypeKey($0.key), $0.value)
            })),
            ("capture_ip_protocols", CaptureStats.joined(framesByIPProtocol.sorted { $0.key < $1.key }.map {
                (IPProtocol.name($0.key)?.lowercased() ?? "proto\($0.key)", $0.value)
            })),
        ]
        if let port = watchedPort {
            out.append(("capture_port", "\(port)"))
            out.append(("capture_port_in", "packets=\(toPort.packets),bytes=\(toPort.bytes),payload_bytes=\(toPort.payloadBytes)"))
            out.append(("capture_port_out", "packets=\(fromPort.packets),bytes=\(fromPort.bytes),payload_bytes=\(fromPort.payloadBytes)"))
        }
        for (i, p) in topPeers(5).enumerated() {
            out.append(("capture_top_peer_\(i + 1)", "addr=\(p.peer),bytes=\(p.bytes)"))
        }
        return out
    }

    static func etherTypeKey(_ t: UInt16) -> String {
        if let n = EtherType.name(t) { return n.lowercased().replacingDots() }
        return hex16(t)
    }

    static func joined(_ pairs: [(String, UInt64)]) -> String {
        pairs.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }
}

extension String {
    /// INFO values must not contain ':' or ','; EtherType names only risk '.'.
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "_" : $0 }) }
}
