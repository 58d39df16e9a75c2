import ArgumentParser
import PacketCapture

@main
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringkv-capture",
        abstract: "Print Ethernet frames from an AF_PACKET TPACKET_V3 ring, one line per frame.",
        discussion: """
            Needs CAP_NET_RAW: run as root, or in Docker add --cap-add NET_RAW.

            Filters (--ethertype, --port, --host) are ANDed and compiled to a classic BPF \
            program attached with SO_ATTACH_FILTER, so the kernel drops unwanted frames \
            before they reach the ring. The program reads untagged Ethernet II offsets, as \
            tcpdump's simple expressions do; VLAN tags the NIC stripped are fine, tags \
            still in the frame are not matched. If the kernel refuses the program the \
            same filter runs in user space instead, and a note says so on stderr.

            SIGINT or SIGTERM stops the capture, prints the summary and exits 0.
            """)

    @Option(name: [.short, .long], help: "Interface to capture on, or 'all'.")
    var interface: String = "all"

    @Option(name: [.short, .long], help: "Stop after this many frames.")
    var count: Int?

    @Option(name: [.short, .long], help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Only this EtherType: a number (0x0806, 2054) or arp, ipv4, ipv6.")
    var ethertype: String?

    @Option(help: "Only TCP, UDP or SCTP frames with this source or destination port.")
    var port: UInt16?

    @Option(help: "Only frames to or from this IPv4 or IPv6 address (IPv4 includes ARP).")
    var host: String?

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    @Option(name: [.short, .customLong("write")], help: ArgumentHelp("Also write frames to a classic libpcap file.", valueName: "file.pcap"))
    var write: String?

    @Flag(help: "Print totals at exit: frames, bytes, kernel drops, per EtherType and IP protocol.")
    var stats = false

    @Flag(name: [.short, .long], help: "Add direction, timestamp, VLAN, ARP, IP, port and TCP flag details.")
    var verbose = false

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Drop the outgoing copy of each frame (PACKET_IGNORE_OUTGOING). Default: on for loopback only, where every packet shows twice.")
    var ignoreOutgoing: Bool?

    @Option(help: "Ring block size in bytes (a multiple of the page size).")
    var blockSize: Int = RingConfig.defaultBlockSize

    @Option(help: "Number of ring blocks.")
    var blockCount: Int = RingConfig.defaultBlockCount

    @Option(help: "Nominal ring frame size in bytes.")
    var frameSize: Int = RingConfig.defaultFrameSize

    @Option(help: "Milliseconds before a partly filled block is handed over.")
    var retireTimeout: Int = RingConfig.defaultRetireTimeoutMilliseconds

    func validate() throws {
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
        if let e = ethertype, Self.parseEtherType(e) == nil {
            throw ValidationError("--ethertype '\(e)' is not a number (0x0800, 2048) or one of arp, ipv4, ipv6")
        }
        if let h = host, IPAddress(h) == nil { throw ValidationError("--host '\(h)' is not an IPv4 or IPv6 address") }
    }

    static func parseEtherType(_ text: String) -> UInt16? {
        switch text.lowercased() {
        case "arp": return EtherType.arp
        case "ip", "ipv4": return EtherType.ipv4
        case "ip6", "ipv6": return EtherType.ipv6
        case "vlan", "802.1q": return EtherType.vlan8021Q
        default: break
        }
        let t = text.lowercased()
        if t.hasPrefix("0x") { return UInt16(t.dropFirst(2), radix: 16) }
        return UInt16(t)
    }

    func run() throws {
        let options = CaptureOptions(
            interface: interface == "all" || interface == "any" ? nil : interface,
            ring: RingConfig(blockSize: blockSize, blockCount: blockCount, frameSize: frameSize,
                             retireTimeoutMilliseconds: retireTimeout),
            filter: CaptureFilter(etherType: ethertype.flatMap(Self.parseEtherType), port: port, host: host.flatMap(IPAddress.init)),
            ignoreOutgoing: ignoreOutgoing)
        let settings = CaptureSettings(
            options: options, count: count, duration: duration, json: json, verbose: verbose,
            pcapPath: write, printStats: stats)
        let code = CaptureLoop.run(settings)
        if code != 0 { throw ExitCode(code) }
    }
}
