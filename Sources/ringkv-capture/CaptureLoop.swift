#if canImport(Glibc)
import Glibc
#endif
import PacketCapture

struct CaptureSettings {
    var options: CaptureOptions
    var count: Int?
    var duration: Double?
    var json: Bool
    var verbose: Bool
    var pcapPath: String?
    var printStats: Bool
}

/// The tool's main loop: sleep in poll(2) on the ring and a signalfd, drain
/// ready blocks, print, and stop on --count, --duration or a signal.
enum CaptureLoop {
    /// Returns the process exit code.
    static func run(_ s: CaptureSettings) -> Int32 {
        // Before anything else can start a thread, so every thread inherits
        // the blocked mask and SIGINT only ever arrives through the fd.
        let signals: TerminationSignals
        let ring: PacketRing
        var pcap: PcapWriter?
        do {
            signals = try TerminationSignals()
            ring = try PacketRing(options: s.options)
            if let path = s.pcapPath { pcap = try PcapWriter(path: path) }
        } catch {
            note("ringkv-capture: \(error)")
            return 1
        }

        let out = Output(fd: 1)
        var formatter = FrameFormatter()
        let filter = s.options.filter
        let userFilter = ring.filterInKernel || filter.isEmpty ? nil : filter
        var stats = CaptureStats(watchedPort: filter.port)
        var seen = 0
        var skippedForPcap = 0
        var writeError: Error?

        let where_ = s.options.interface ?? "all interfaces"
        var banner = "ringkv-capture: listening on \(where_), ring \(s.options.ring.blockCount) x \(s.options.ring.blockSize) bytes"
        if !filter.isEmpty {
            banner += userFilter == nil ? ", filter in kernel (BPF)" : ", filter in user space (kernel refused the BPF program)"
        }
        if ring.ignoresOutgoing { banner += ", ignoring outgoing" }
        note(banner)

        let start = monotonicNanoseconds()
        let deadline = s.duration.map { start + UInt64($0 * 1e9) }

        loop: while true {
            ring.drain { frame in
                let f = frame.decode()
                if let userFilter, !userFilter.matches(f) { return true }
                stats.record(f)
                seen += 1
                if s.json {
                    out.line(formatter.json(f))
                } else if s.verbose {
                    out.line(formatter.verboseLine(f))
                } else {
                    out.line(formatter.line(f))
                }
                if let w = pcap, writeError == nil {
                    if f.linkLayer == .ethernet {
                        do {
                            try w.write(seconds: f.timestampSeconds, nanoseconds: f.timestampNanoseconds,
                                        originalLength: f.originalLength, bytes: frame.bytes)
                        } catch { writeError = error }
                    } else {
                        skippedForPcap += 1
                    }
                }
                if let c = s.count, seen >= c { return false }
                return true
            }
            if let e = writeError { note("ringkv-capture: \(e)"); break }
            if let c = s.count, seen >= c { break }
            var timeout: Int32 = 1000
            if let deadline {
                let now = monotonicNanoseconds()
                if now >= deadline { break }
                timeout = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
            }
            out.flush()
            switch ring.wait(timeoutMilliseconds: timeout, wakeDescriptor: signals.fileDescriptor) {
            case .woken:
                _ = signals.take()
                break loop
            case .ready, .timedOut, .interrupted:
                continue
            }
        }

        if let k = try? ring.kernelStatistics() { stats.kernel = k }
        ring.close()
        var code: Int32 = writeError == nil ? 0 : 1
        if let w = pcap {
            do { try w.close() } catch { note("ringkv-capture: \(error)"); code = 1 }
        }
        if s.printStats {
            if s.json { out.line(StatsReport.json(stats)) } else { for l in StatsReport.text(stats) { out.line(l) } }
        }
        out.flush()
        var summary = "\(stats.frames) frames captured (\(stats.bytes) bytes), \(stats.kernel.drops) dropped by kernel"
        if stats.damagedFrames > 0 { summary += ", \(stats.damagedFrames) damaged" }
        if let w = pcap { summary += ", \(w.recordsWritten) written to \(s.pcapPath ?? "")" }
        if skippedForPcap > 0 { summary += " (\(skippedForPcap) non-Ethernet frames not written)" }
        note(summary)
        return code
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
