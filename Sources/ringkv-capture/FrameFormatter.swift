#if canImport(Glibc)
import Glibc
#endif
import PacketCapture

/// Renders a decoded frame as the seed's one-line text, its verbose form,
/// or a JSON object.
struct FrameFormatter {
    var interfaces = InterfaceNameCache()

    /// `Frame: 02:fc:00:00:00:01 -> ff:ff:ff:ff:ff:ff [Type: 0x0806] Size: 42 bytes`
    func line(_ f: DecodedFrame) -> String {
        "Frame: \(f.source) -> \(f.destination) [Type: \(hex16(f.etherType))] Size: \(f.originalLength) bytes"
    }

    mutating func verboseLine(_ f: DecodedFrame) -> String {
        var s = line(f)
        if f.capturedLength != f.originalLength { s += " (captured \(f.capturedLength))" }
        s += " | \(interfaces.name(of: f.interfaceIndex)) \(f.direction) \(Self.clock(f.timestampSeconds, f.timestampNanoseconds))"
        for tag in f.vlans.tags {
            s += " | vlan \(tag.id) pcp \(tag.priority) tpid \(hex16(tag.tpid))"
        }
        if let arp = f.arp {
            switch arp.operation {
            case 1: s += " | ARP who-has \(arp.targetIP) tell \(arp.senderIP)"
            case 2: s += " | ARP \(arp.senderIP) is-at \(arp.senderMAC)"
            default: s += " | ARP \(arp.operationName) \(arp.senderIP) -> \(arp.targetIP)"
            }
        }
        if let ip = f.ip {
            let family: String
            if case .v6 = ip.source { family = "IPv6" } else { family = "IPv4" }
            let proto = IPProtocol.name(ip.proto) ?? "proto \(ip.proto)"
            if let t = f.transport {
                s += " | \(family) \(Self.endpoint(ip.source, t.sourcePort)) -> \(Self.endpoint(ip.destination, t.destinationPort)) \(proto)"
                if let flags = t.tcpFlags { s += " [\(flags)]" }
                if let n = t.payloadLength { s += " len \(n)" }
            } else {
                s += " | \(family) \(ip.source) -> \(ip.destination) \(proto)"
            }
            s += " ttl \(ip.ttl)"
            if ip.isFragment { s += " frag" }
        }
        if let p = f.problem { s += " | \(p)" }
        return s
    }

    mutating func json(_ f: DecodedFrame) -> String {
        var o = JSONObject()
        o.raw("ts", "\(f.timestampSeconds).\(Self.pad9(f.timestampNanoseconds))")
        o.string("interface", interfaces.name(of: f.interfaceIndex))
        o.string("direction", "\(f.direction)")
        o.string("src", f.source.description)
        o.string("dst", f.destination.description)
        o.int("ethertype", Int(f.etherType))
        o.string("ethertype_hex", hex16(f.etherType))
        o.int("len", f.originalLength)
        o.int("caplen", f.capturedLength)
        if f.vlans.count > 0 {
            let tags = f.vlans.tags.map { "{\"tpid\":\($0.tpid),\"id\":\($0.id),\"pcp\":\($0.priority)}" }
            o.raw("vlans", "[" + tags.joined(separator: ",") + "]")
        }
        if let arp = f.arp {
            var a = JSONObject()
            a.int("op", Int(arp.operation))
            a.string("sender_mac", arp.senderMAC.description)
            a.string("sender_ip", arp.senderIP.description)
            a.string("target_mac", arp.targetMAC.description)
            a.string("target_ip", arp.targetIP.description)
            o.raw("arp", a.text)
        }
        if let ip = f.ip {
            var i = JSONObject()
            i.string("src", ip.source.description)
            i.string("dst", ip.destination.description)
            i.int("proto", Int(ip.proto))
            i.int("ttl", Int(ip.ttl))
            i.int("total_len", ip.totalLength)
            if ip.isFragment { i.raw("fragment", "true") }
            o.raw("ip", i.text)
        }
        if let t = f.transport {
            o.int("src_port", Int(t.sourcePort))
            o.int("dst_port", Int(t.destinationPort))
            if let flags = t.tcpFlags { o.string("tcp_flags", flags.description) }
            if let n = t.payloadLength { o.int("payload_len", n) }
        }
        if let p = f.problem { o.string("problem", p.description) }
        return o.text
    }

    static func endpoint(_ a: IPAddress, _ port: UInt16) -> String {
        if case .v6 = a { return "[\(a)]:\(port)" }
        return "\(a):\(port)"
    }

    static func pad9(_ n: UInt32) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 9 - s.count)) + s
    }

    /// Local wall-clock time of day with nanoseconds, like tcpdump's default.
    static func clock(_ sec: UInt32, _ nsec: UInt32) -> String {
        var t = time_t(sec)
        var parts = tm()
        localtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(pad9(nsec))"
    }
}

/// Minimal JSON object writer; values are numbers or escaped strings.
struct JSONObject {
    private var body = ""

    var text: String { "{" + body + "}" }

    mutating func raw(_ key: String, _ value: String) {
        if !body.isEmpty { body += "," }
        body += "\"\(key)\":\(value)"
    }

    mutating func int(_ key: String, _ value: Int) { raw(key, String(value)) }
    mutating func uint(_ key: String, _ value: UInt64) { raw(key, String(value)) }
    mutating func string(_ key: String, _ value: String) { raw(key, Self.quote(value)) }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
