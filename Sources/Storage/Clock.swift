#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock milliseconds since the epoch (expiry times are absolute, as in Redis).
@inlinable public func wallMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

@inlinable public func wallMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

@inlinable public func monotonicNanos() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Redis's LRU clock: seconds, 24 bits.
@inlinable public func lruClock(_ nowMs: Int64) -> UInt32 { UInt32(truncatingIfNeeded: nowMs / 1000) & 0xFF_FFFF }
