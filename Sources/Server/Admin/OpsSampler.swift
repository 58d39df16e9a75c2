import CMalloc
import Storage
import Synchronization

/// Redis's instantaneous metrics (trackInstantaneousMetric in server.c):
/// every 100 ms the rate since the previous sample goes into a ring of 16,
/// and the metric is the ring's mean, so INFO shows the last ~1.6 s.
struct InstantaneousMetric {
    static let samples = 16
    var ring = [Int](repeating: 0, count: InstantaneousMetric.samples)
    var index = 0
    var lastValue = 0

    mutating func track(_ value: Int, elapsedMillis: Int64) {
        // A counter reset by CONFIG RESETSTAT reads as no traffic, not as a negative rate.
        let delta = max(0, value - lastValue)
        ring[index] = elapsedMillis > 0 ? Int(Int64(delta) * 1000 / elapsedMillis) : 0
        index = (index + 1) % InstantaneousMetric.samples
        lastValue = value
    }

    var mean: Int { ring.reduce(0, +) / InstantaneousMetric.samples }
}

/// One worker's samplers (`Worker.opsSampler`). A worker's counters are plain
/// Ints that only its thread touches, so each worker samples its own and INFO
/// sums the rates.
final class OpsSampler {
    var commands = InstantaneousMetric()
    var inputBytes = InstantaneousMetric()
    var outputBytes = InstantaneousMetric()
    var lastMillis: Int64 = 0
    var lastPeakCheck: Int64 = 0
}

/// Highest used_memory seen, by INFO or by worker 0's once-a-second check.
let usedMemoryPeak = Atomic<Int>(0)

/// Bytes allocated by malloc and not freed: the sum of CMalloc's per-thread
/// counters (every malloc, calloc, realloc, memalign and free of the
/// process, by malloc_usable_size). Without the interposed allocator, glibc's
/// mallinfo2 (uordblks + hblkhd), which walks the arenas under their locks.
func usedMemory() -> Int {
    let used = rk_mem_counting() != 0 ? Int(rk_mem_total_bytes()) : Int(rk_malloc_used_bytes())
    usedMemoryPeak.max(used, ordering: .relaxed)
    return used
}

extension Worker {
    /// Called from `cron`: takes a sample at most every 100 ms, as Redis's
    /// serverCron does with run_with_period(100).
    func sampleOps() {
        let s = opsSampler
        if s.lastMillis == 0 {
            s.lastMillis = now
            s.commands.lastValue = totalCommands
            s.inputBytes.lastValue = netInputBytes
            s.outputBytes.lastValue = netOutputBytes
            return
        }
        let elapsed = now - s.lastMillis
        if elapsed < 100 { return }
        s.lastMillis = now
        s.commands.track(totalCommands, elapsedMillis: elapsed)
        s.inputBytes.track(netInputBytes, elapsedMillis: elapsed)
        s.outputBytes.track(netOutputBytes, elapsedMillis: elapsed)
        if id == 0 && now - s.lastPeakCheck >= 1000 {
            s.lastPeakCheck = now
            _ = usedMemory()
        }
    }

    /// This worker's rates: commands/s and bytes/s in and out.
    var instantaneousRates: (ops: Int, input: Int, output: Int) {
        let s = opsSampler
        return (s.commands.mean, s.inputBytes.mean, s.outputBytes.mean)
    }
}
