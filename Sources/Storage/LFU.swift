import Synchronization

/// How a key's 24-bit access field (`Entry.lru`) is kept, chosen by
/// maxmemory-policy as in Redis: seconds of the LRU clock, or under an LFU
/// policy Redis's split of it into the minute of the last decrement (16
/// bits, "ldt") and a logarithmic access counter (8 bits).
public enum AccessTracking {
    /// An LFU policy is selected (maxmemory-policy *-lfu).
    public static let lfu = Atomic<Bool>(false)
    /// lfu-log-factor: how hard the counter is to raise.
    public static let logFactor = Atomic<Int>(10)
    /// lfu-decay-time: minutes for the counter to lose one.
    public static let decayTime = Atomic<Int>(1)

    /// The field of a key created at `nowMs`.
    @inlinable public static func initial(_ nowMs: Int64) -> UInt32 {
        lfu.load(ordering: .relaxed) ? LFU.initial(nowMs) : lruClock(nowMs)
    }
}

/// Redis's LFU counter (evict.c): a new key starts at 5, an access raises the
/// counter with probability 1 / ((counter - 5) * lfu-log-factor + 1), and the
/// counter loses one for each lfu-decay-time minutes the key was not read.
public enum LFU {
    public static let initVal: UInt32 = 5

    /// Minutes on a 16-bit clock, as LFUGetTimeInMinutes.
    @inlinable public static func minutes(_ nowMs: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: (nowMs / 60_000) & 0xFFFF)
    }

    @inlinable public static func initial(_ nowMs: Int64) -> UInt32 { minutes(nowMs) << 8 | initVal }

    /// Minutes since `ldt`, across the 16-bit clock's wrap.
    @inlinable public static func elapsed(_ ldt: UInt32, now: UInt32) -> UInt32 {
        now >= ldt ? now - ldt : 65535 - ldt + now
    }

    /// The counter of `field` after decay, without storing it (OBJECT FREQ).
    @inlinable public static func decayed(_ field: UInt32, nowMs: Int64, decayTime: Int) -> UInt32 {
        let ldt = field >> 8
        let counter = field & 255
        guard decayTime > 0 else { return counter }
        let periods = Int(elapsed(ldt, now: minutes(nowMs))) / decayTime
        return periods > Int(counter) ? 0 : counter - UInt32(periods)
    }

    /// One logarithmic increment; `r` is uniform in [0, 1).
    @inlinable public static func increment(_ counter: UInt32, logFactor: Int, r: Double) -> UInt32 {
        if counter >= 255 { return 255 }
        let base = max(0, Double(counter) - Double(initVal))
        let p = 1.0 / (base * Double(logFactor) + 1)
        return r < p ? counter + 1 : counter
    }

    /// The field after an access at `nowMs` (Redis's updateLFU).
    @inlinable public static func touched(_ field: UInt32, nowMs: Int64, logFactor: Int, decayTime: Int,
                                          r: Double) -> UInt32 {
        let c = increment(decayed(field, nowMs: nowMs, decayTime: decayTime), logFactor: logFactor, r: r)
        return minutes(nowMs) << 8 | c
    }
}

extension Entry {
    /// Records an access at `nowMs`: the LRU clock, or the LFU counter.
    @inlinable public func touch(_ nowMs: Int64, _ g: inout ShardRandom) {
        if AccessTracking.lfu.load(ordering: .relaxed) {
            let r = Double(g.next() >> 11) * 0x1.0p-53
            lru = LFU.touched(lru, nowMs: nowMs, logFactor: AccessTracking.logFactor.load(ordering: .relaxed),
                              decayTime: AccessTracking.decayTime.load(ordering: .relaxed), r: r)
        } else {
            lru = lruClock(nowMs)
        }
    }
}
