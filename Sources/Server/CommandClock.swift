import CLiburing
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// The clock INFO commandstats and SLOWLOG time each call with. Redis times
/// every call too, so it cannot be sampled; but two clock_gettime calls per
/// command were 4% of a 2-shard GET -P 16 profile
/// (perf/results/flamegraph-hops-before-get-p16-s2). Where the CPU has a
/// constant, non-stop TSC (the kernel's own condition for using it as a
/// clocksource) a call reads the TSC, a few nanoseconds, and ticks become
/// nanoseconds at a rate measured against CLOCK_MONOTONIC once at start.
/// Elsewhere ticks are CLOCK_MONOTONIC nanoseconds.
struct CommandClock {
    let tsc: Bool
    /// Nanoseconds per tick, scaled by 2^20 (fixed point: no float per call).
    let nsPerTick20: Int

    static let shared = CommandClock()

    private init() {
        guard CommandClock.stableTSC(), rk_rdtsc() != 0 else {
            tsc = false
            nsPerTick20 = 1 << 20
            return
        }
        // Pairs read back to back; the tightest of three bounds the error
        // a preemption between the two reads would add.
        func pair() -> (ns: Int, ticks: Int) {
            var best = (ns: 0, ticks: 0, span: Int.max)
            for _ in 0..<3 {
                let a = monotonicNanos()
                let t = Int(truncatingIfNeeded: rk_rdtsc())
                let b = monotonicNanos()
                if b - a < best.span { best = ((a + b) / 2, t, b - a) }
            }
            return (best.ns, best.ticks)
        }
        let p0 = pair()
        var req = timespec(tv_sec: 0, tv_nsec: 5_000_000)
        _ = nanosleep(&req, nil)
        let p1 = pair()
        let dt = p1.ticks - p0.ticks
        if dt <= 0 || p1.ns <= p0.ns {
            tsc = false
            nsPerTick20 = 1 << 20
            return
        }
        tsc = true
        nsPerTick20 = max(1, ((p1.ns - p0.ns) << 20) / dt)
    }

    @inline(__always) func now() -> Int {
        tsc ? Int(truncatingIfNeeded: rk_rdtsc()) : monotonicNanos()
    }

    @inline(__always) func nanos(_ ticks: Int) -> Int {
        // 2^43 ticks (an hour at 2.4 GHz) keeps the product in range.
        let t = max(0, min(ticks, 1 << 43))
        return (t &* nsPerTick20) >> 20
    }

    /// /proc/cpuinfo's flags name constant_tsc and nonstop_tsc.
    private static func stableTSC() -> Bool {
        guard let f = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            guard let l = line, strncmp(l, "flags", 5) == 0 else { continue }
            return strstr(l, " constant_tsc") != nil && strstr(l, " nonstop_tsc") != nil
        }
        return false
    }
}
