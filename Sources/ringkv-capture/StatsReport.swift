import PacketCapture

/// The --stats summary, as text lines or one JSON object.
enum StatsReport {
    static func text(_ s: CaptureStats) -> [String] {
        var lines = [
            "frames: \(s.frames)",
            "bytes: \(s.bytes)",
            "kernel packets: \(s.kernel.packets)",
            "kernel drops: \(s.kernel.drops)",
            "damaged frames: \(s.damagedFrames)",
            "by EtherType:",
        ]
        for (t, n) in s.framesByEtherType.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(hex16(t)) \(EtherType.name(t) ?? "-"): \(n)")
        }
        lines.append("by IP protocol:")
        for (p, n) in s.framesByIPProtocol.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(p) \(IPProtocol.name(p) ?? "-"): \(n)")
        }
        if let port = s.watchedPort {
            lines.append("to port \(port): \(s.toPort.packets) packets, \(s.toPort.bytes) bytes, \(s.toPort.payloadBytes) payload bytes")
            lines.append("from port \(port): \(s.fromPort.packets) packets, \(s.fromPort.bytes) bytes, \(s.fromPort.payloadBytes) payload bytes")
        }
        lines.append("top peers by bytes:")
        for p in s.topPeers(5) { lines.append("  \(p.peer): \(p.bytes)") }
        return lines
    }

    static func json(_ s: CaptureStats) -> String {
        var o = JSONObject()
        o.uint("frames", s.frames)
        o.uint("bytes", s.bytes)
        o.uint("kernel_packets", s.kernel.packets)
        o.uint("kernel_drops", s.kernel.drops)
        o.uint("damaged_frames", s.damagedFrames)
        var types = JSONObject()
        for (t, n) in s.framesByEtherType.sorted(by: { $0.key < $1.key }) { types.uint(hex16(t), n) }
        o.raw("ethertypes", types.text)
        var protos = JSONObject()
        for (p, n) in s.framesByIPProtocol.sorted(by: { $0.key < $1.key }) { protos.uint(String(p), n) }
        o.raw("ip_protocols", protos.text)
        let peers = s.topPeers(5).map { "{\"addr\":\(JSONObject.quote($0.peer.description)),\"bytes\":\($0.bytes)}" }
        o.raw("top_peers", "[" + peers.joined(separator: ",") + "]")
        var wrapper = JSONObject()
        wrapper.raw("summary", o.text)
        return wrapper.text
    }
}
