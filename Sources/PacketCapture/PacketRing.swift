#if canImport(Glibc)
import Glibc
#endif
import CPacket

/// What to capture and how.
public struct CaptureOptions: Hashable, Sendable {
    /// Interface name, or nil for every interface in the namespace.
    public var interface: String?
    public var ring: RingConfig
    /// Compiled to classic BPF and run in the kernel, before the ring.
    public var filter: CaptureFilter
    /// PACKET_IGNORE_OUTGOING. Loopback shows every packet twice (once
    /// outgoing, once incoming); nil turns this on for a loopback interface
    /// only, where nothing is lost by it.
    public var ignoreOutgoing: Bool?
    /// Bytes the kernel copies of each accepted frame; nil keeps whole frames.
    /// Statistics need only the headers, and every byte not copied into the
    /// ring is work the sender's data path does not do.
    public var snapLength: UInt32?

    public init(interface: String? = nil, ring: RingConfig = RingConfig(), filter: CaptureFilter = CaptureFilter(),
                ignoreOutgoing: Bool? = nil, snapLength: UInt32? = nil) {
        self.interface = interface
        self.ring = ring
        self.filter = filter
        self.ignoreOutgoing = ignoreOutgoing
        self.snapLength = snapLength
    }
}

/// Cumulative PACKET_STATISTICS since the ring was opened. `packets`
/// counts frames the filter accepted, including the dropped ones.
public struct KernelStatistics: Hashable, Sendable {
    public var packets: UInt64 = 0
    public var drops: UInt64 = 0
    /// Times the ring was full and the kernel froze the queue.
    public var freezes: UInt64 = 0
    public init() {}
}

/// One frame still inside the ring. `bytes` points into a block that goes
/// back to the kernel when the drain callback returns: decode or copy what
/// you need before then.
public struct CapturedFrame {
    public let bytes: UnsafeRawBufferPointer
    public let metadata: FrameMetadata
    /// sll_hatype, the ARPHRD_* type of the interface it came from.
    public let hardwareType: UInt16

    public var originalLength: Int { metadata.originalLength ?? bytes.count }
    public func decode() -> DecodedFrame { FrameDecoder.decode(bytes, metadata: metadata) }
}

/// An AF_PACKET socket with a TPACKET_V3 receive ring mapped into memory.
/// Not thread-safe: one thread waits and drains it.
public final class PacketRing {
    public enum WaitResult: Sendable { case ready, timedOut, woken, interrupted }

    public let options: CaptureOptions
    /// 0 when bound to all interfaces.
    public let interfaceIndex: Int32
    public let ignoresOutgoing: Bool
    /// False when the kernel refused the BPF program; callers must then
    /// apply `options.filter.matches` themselves.
    public private(set) var filterInKernel: Bool
    /// Block or frame headers that pointed outside their block. Always zero
    /// with a sane kernel; counted instead of trusted.
    public private(set) var ringAnomalies: UInt64 = 0

    public private(set) var fileDescriptor: Int32
    private var ring: UnsafeMutableRawPointer?
    private let ringSize: Int
    private let blockSize: Int
    private let blockCount: Int
    private var currentBlock = 0
    private var totals = KernelStatistics()
    private let frameHeaderLength = Int(cpacket_tpacket3_hdrlen())

    public init(options: CaptureOptions) throws {
        try options.ring.validate()
        self.options = options
        // Resolve the name first: a typo deserves its own message even
        // without CAP_NET_RAW.
        let index: Int32 = try options.interface.map { try NetworkInterfaces.index(of: $0) } ?? 0
        interfaceIndex = index
        ignoresOutgoing = options.ignoreOutgoing ?? (options.interface.map(NetworkInterfaces.isLoopback) ?? false)
        blockSize = options.ring.blockSize
        blockCount = options.ring.blockCount
        ringSize = options.ring.totalBytes

        let fd = cpacket_open()
        guard fd >= 0 else {
            let e = errno
            if e == EPERM || e == EACCES { throw CaptureError.needsCapNetRaw }
            throw CaptureError.system("socket(AF_PACKET)", errno: e)
        }
        fileDescriptor = fd
        filterInKernel = false
        // Until bind below, protocol 0 keeps the socket deaf, so the filter
        // and the ring apply from the first frame.
        do {
            try check(cpacket_set_version_v3(fd), "setsockopt(PACKET_VERSION)")
            if ignoresOutgoing { try check(cpacket_set_ignore_outgoing(fd, 1), "setsockopt(PACKET_IGNORE_OUTGOING)") }
            if !options.filter.isEmpty || options.snapLength != nil {
                let program = options.filter.compile(snapLength: options.snapLength ?? CaptureFilter.defaultSnapLength)
                let code = program.instructions.map { cpacket_bpf_insn($0.code, $0.jt, $0.jf, $0.k) }
                filterInKernel = code.withUnsafeBufferPointer {
                    cpacket_attach_filter(fd, $0.baseAddress, UInt16($0.count)) == 0
                }
            }
            let r = options.ring
            if cpacket_set_rx_ring(fd, UInt32(r.blockSize), UInt32(r.blockCount), UInt32(r.frameSize),
                                   UInt32(r.retireTimeoutMilliseconds)) != 0 {
                let e = errno
                if e == EINVAL { throw CaptureError.badRingConfig("kernel refused \(r.blockCount) x \(r.blockSize) byte blocks, frame \(r.frameSize)") }
                throw CaptureError.system("setsockopt(PACKET_RX_RING)", errno: e)
            }
            let p = mmap(nil, ringSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            guard let p, p != MAP_FAILED else { throw CaptureError.system("mmap(packet ring)", errno: errno) }
            ring = p
            if cpacket_bind(fd, index) != 0 {
                let e = errno
                if e == ENODEV, let name = options.interface {
                    throw CaptureError.unknownInterface(name, available: NetworkInterfaces.names())
                }
                throw CaptureError.system("bind(AF_PACKET)", errno: e)
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public func close() {
        if let ring { munmap(ring, ringSize) }
        ring = nil
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
        fileDescriptor = -1
    }

    /// Sleeps in poll(2) until a block is ready, the timeout passes, or
    /// `wakeDescriptor` (an eventfd or signalfd the caller owns and drains)
    /// becomes readable. No busy spinning: the kernel wakes the poller when
    /// it retires a block.
    public func wait(timeoutMilliseconds: Int32, wakeDescriptor: Int32 = -1) -> WaitResult {
        if blockIsReady(currentBlock) { return .ready }
        var fds = [
            pollfd(fd: fileDescriptor, events: Int16(POLLIN | POLLERR), revents: 0),
            pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let n = poll(&fds, wakeDescriptor >= 0 ? 2 : 1, timeoutMilliseconds)
        if n < 0 { return .interrupted }
        if n == 0 { return .timedOut }
        if wakeDescriptor >= 0 && fds[1].revents != 0 { return .woken }
        return .ready
    }

    private func blockIsReady(_ i: Int) -> Bool {
        guard let ring else { return false }
        return cpacket_block_status_acquire(ring + i * blockSize) & CPACKET_TP_STATUS_USER != 0
    }

    /// Hands every ready frame to `body`, oldest first, returning each block
    /// to the kernel after its last frame. `body` returns false to stop; the
    /// rest of that block is discarded. Returns the number of frames seen.
    @discardableResult
    public func drain(maxBlocks: Int = Int.max, _ body: (CapturedFrame) throws -> Bool) rethrows -> Int {
        guard let ring else { return 0 }
        var frames = 0
        var blocks = 0
        while blocks < maxBlocks {
            let block = ring + currentBlock * blockSize
            guard cpacket_block_status_acquire(block) & CPACKET_TP_STATUS_USER != 0 else { break }
            // Whatever happens in body, the block must go back to the kernel
            // or capture stalls on it forever.
            defer {
                cpacket_block_return_to_kernel(block)
                currentBlock = (currentBlock + 1) % blockCount
                blocks += 1
            }
            var keepGoing = true
            let count = Int(cpacket_block_num_packets(block))
            var offset = Int(cpacket_block_first_offset(block))
            for _ in 0..<count {
                guard offset > 0, offset + frameHeaderLength <= blockSize else { ringAnomalies += 1; break }
                let header = cpacket_frame_at(block, UInt32(offset))!
                let mac = Int(cpacket_frame_mac_offset(header))
                let snap = Int(cpacket_frame_snaplen(header))
                guard mac >= frameHeaderLength, mac + snap <= blockSize - offset else { ringAnomalies += 1; break }
                let status = cpacket_frame_status(header)
                let sll = cpacket_frame_sll(header)!
                var stripped: VLANTag?
                if status & CPACKET_TP_STATUS_VLAN_VALID != 0 {
                    let tpid = status & CPACKET_TP_STATUS_VLAN_TPID_VALID != 0 ? cpacket_frame_vlan_tpid(header) : EtherType.vlan8021Q
                    stripped = VLANTag(tpid: tpid, tci: cpacket_frame_vlan_tci(header))
                }
                let hatype = cpacket_sll_hatype(sll)
                let meta = FrameMetadata(
                    originalLength: Int(cpacket_frame_len(header)),
                    timestampSeconds: cpacket_frame_sec(header),
                    timestampNanoseconds: cpacket_frame_nsec(header),
                    direction: PacketDirection(pkttype: cpacket_sll_pkttype(sll)),
                    interfaceIndex: cpacket_sll_ifindex(sll),
                    strippedVLAN: stripped,
                    linkLayer: PacketRing.linkLayer(hardwareType: hatype))
                let frame = CapturedFrame(
                    bytes: UnsafeRawBufferPointer(start: UnsafeRawPointer(header) + mac, count: snap),
                    metadata: meta, hardwareType: hatype)
                frames += 1
                if try !body(frame) { keepGoing = false; break }
                let next = Int(cpacket_frame_next_offset(header))
                if next == 0 { break }
                offset += next
            }
            if !keepGoing { break }
        }
        return frames
    }

    /// ARPHRD types whose SOCK_RAW frames start at the IP header.
    static func linkLayer(hardwareType: UInt16) -> LinkLayer {
        switch hardwareType {
        case 0xFFFE /* NONE: tun, wireguard */, 768 /* TUNNEL */, 769 /* TUNNEL6 */, 776 /* SIT */: return .rawIP
        default: return .ethernet
        }
    }

    /// Cumulative kernel counters. PACKET_STATISTICS resets on every read,
    /// so this object keeps the running totals.
    public func kernelStatistics() throws -> KernelStatistics {
        var p: UInt64 = 0, d: UInt64 = 0, f: UInt64 = 0
        try check(cpacket_read_stats(fileDescriptor, &p, &d, &f), "getsockopt(PACKET_STATISTICS)")
        totals.packets += p
        totals.drops += d
        totals.freezes += f
        return totals
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != 0 { throw CaptureError.system(what, errno: errno) }
    }
}
