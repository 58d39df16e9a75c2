#if canImport(Glibc)
import Glibc
#endif
import CPacket
import Synchronization

/// Capture on a thread of its own, for a server to embed: it never runs on
/// a worker's data path, and a capture failure surfaces as an error from
/// `start()` that the server can log and carry on past. The capture thread
/// holds the service until `stop()`, so dropping the last reference without
/// stopping leaves capture running.
public final class CaptureService: Sendable {
    public let options: CaptureOptions
    /// Traffic to and from this port is counted separately (the server's own).
    public let watchedPort: UInt16?

    private struct Control {
        var thread: pthread_t?
        var wakeFD: Int32 = -1
        var lastError: CaptureError?
        var startedAt: UInt64 = 0
    }

    private let control = Mutex(Control())
    /// Locked once per ring block, not per frame, so a snapshot waits at
    /// most one block's worth of decoding.
    private let stats: Mutex<CaptureStats>

    /// How often the thread refreshes kernel drop counters while idle.
    static let pollIntervalMilliseconds: Int32 = 250

    public init(options: CaptureOptions, watchedPort: UInt16? = nil) {
        self.options = options
        self.watchedPort = watchedPort
        self.stats = Mutex(CaptureStats(watchedPort: watchedPort))
    }

    deinit { stop() }

    public var isRunning: Bool { control.withLock { $0.thread != nil } }

    /// The interface captured on, "all" when bound to every interface.
    public var interfaceLabel: String { options.interface ?? "all" }

    /// Opens the ring on the calling thread, so CAP_NET_RAW and interface
    /// errors are thrown here, then starts the capture thread. Calling it
    /// while running does nothing.
    public func start() throws {
        try control.withLock { c in
            guard c.thread == nil else { return }
            let ring = try PacketRing(options: options)
            let wake = cpacket_eventfd()
            guard wake >= 0 else { throw CaptureError.system("eventfd", errno: errno) }
            let job = CaptureJob(ring: ring, wakeFD: wake, service: self)
            let context = Unmanaged.passRetained(job).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let job = Unmanaged<CaptureJob>.fromOpaque(raw!).takeRetainedValue()
                job.run()
                return nil
            }, context)
            guard rc == 0 else {
                Unmanaged<CaptureJob>.fromOpaque(context).release()
                close(wake)
                throw CaptureError.system("pthread_create", errno: rc)
            }
            c.thread = tid
            c.wakeFD = wake
            c.lastError = nil
            c.startedAt = CaptureService.monotonicSeconds()
        }
    }

    /// Wakes the thread, waits for it to close the ring, and keeps the
    /// stats gathered so far.
    public func stop() {
        let (thread, wake) = control.withLock { c -> (pthread_t?, Int32) in
            defer { c.thread = nil; c.wakeFD = -1 }
            return (c.thread, c.wakeFD)
        }
        guard let thread else { return }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
        pthread_join(thread, nil)
        close(wake)
    }

    /// A consistent copy of the counters, cheap enough to call per INFO.
    public func snapshot() -> CaptureStats { stats.withLock { $0 } }

    /// Zeroes the counters (CONFIG RESETSTAT style); capture keeps running.
    public func resetStats() { stats.withLock { $0 = CaptureStats(watchedPort: watchedPort) } }

    /// The error that ended the capture thread early, if any.
    public var lastError: CaptureError? { control.withLock { $0.lastError } }

    /// The `# Capture` section of INFO, CRLF-terminated lines.
    public func infoSection() -> String {
        let s = snapshot()
        var lines = ["# Capture", "capture_enabled:\(isRunning ? 1 : 0)", "capture_interface:\(interfaceLabel)"]
        if let e = lastError { lines.append("capture_error:\(e.description.map { $0 == "\r" || $0 == "\n" ? " " : $0 })") }
        for (k, v) in s.infoFields() { lines.append("\(k):\(v)") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    fileprivate func record(block: (inout CaptureStats) -> Void) { stats.withLock { block(&$0) } }
    fileprivate func failed(_ e: CaptureError) { control.withLock { $0.lastError = e } }

    static func monotonicSeconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec)
    }
}

/// The capture thread's state. @unchecked Sendable because ownership moves:
/// `start()` creates it and hands it to the new thread, and only that thread
/// touches the ring afterwards.
private final class CaptureJob: @unchecked Sendable {
    let ring: PacketRing
    let wakeFD: Int32
    let service: CaptureService

    init(ring: PacketRing, wakeFD: Int32, service: CaptureService) {
        self.ring = ring
        self.wakeFD = wakeFD
        self.service = service
    }

    func run() {
        let userFilter = ring.filterInKernel || ring.options.filter.isEmpty ? nil : ring.options.filter
        var lastKernelRead = CaptureService.monotonicMilliseconds()
        while true {
            let result = ring.wait(timeoutMilliseconds: CaptureService.pollIntervalMilliseconds, wakeDescriptor: wakeFD)
            // On stop, count what the kernel already handed over, then leave.
            drainReadyBlocks(userFilter)
            if result == .woken { break }
            let now = CaptureService.monotonicMilliseconds()
            if now - lastKernelRead >= UInt64(CaptureService.pollIntervalMilliseconds) {
                lastKernelRead = now
                readKernelCounters()
            }
        }
        readKernelCounters()
        ring.close()
    }

    private func drainReadyBlocks(_ userFilter: CaptureFilter?) {
        // One block per lock hold, so snapshots are never starved.
        while true {
            var drained = 0
            service.record { stats in
                drained = ring.drain(maxBlocks: 1) { frame in
                    let decoded = frame.decode()
                    if let userFilter, !userFilter.matches(decoded) { return true }
                    stats.record(decoded)
                    return true
                }
            }
            if drained == 0 { break }
        }
    }

    private func readKernelCounters() {
        do {
            let k = try ring.kernelStatistics()
            service.record { $0.kernel = k }
        } catch let e as CaptureError {
            service.failed(e)
        } catch {}
    }
}

extension CaptureService {
    static func monotonicMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
