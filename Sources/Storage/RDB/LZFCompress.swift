#if canImport(Glibc)
import Glibc
#endif

private let lzfKey: pthread_key_t = {
    var k = pthread_key_t()
    pthread_key_create(&k) { p in if let p { Unmanaged<LZFCompressor>.fromOpaque(p).release() } }
    return k
}()

/// LZF compression the way Redis's lzf_c.c runs it (HLOG 16, VERY_FAST,
/// greedy matches against one candidate per hash slot), so that a string or
/// listpack compressed for DUMP has the same bytes as Redis's payload.
///
/// The hash table is reused across calls: each slot holds the call's
/// generation in its high half, so a slot written by an earlier call reads
/// as empty without clearing 64K slots per string. Empty is what Redis's
/// candidates amount to as well: its stale slots never pass the match test
/// for a fresh input in practice, and position 0 never matches.
public final class LZFCompressor {
    /// This thread's compressor: its 512 KiB table is made once per thread,
    /// not once per DUMP.
    public static var forThisThread: LZFCompressor {
        if let p = pthread_getspecific(lzfKey) { return Unmanaged<LZFCompressor>.fromOpaque(p).takeUnretainedValue() }
        let c = LZFCompressor()
        pthread_setspecific(lzfKey, Unmanaged.passRetained(c).toOpaque())
        return c
    }

    private let table: UnsafeMutablePointer<UInt64>
    private var generation: UInt64 = 0
    /// Output scratch, reused: a result is valid until the next call.
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCap = 256
    private static let slots = 1 << 16
    private static let maxLit = 1 << 5
    private static let maxOff = 1 << 13
    private static let maxRef = (1 << 8) + (1 << 3)

    public init() {
        table = .allocate(capacity: LZFCompressor.slots)
        table.initialize(repeating: 0, count: LZFCompressor.slots)
        scratch = .allocate(capacity: scratchCap)
    }

    deinit {
        table.deallocate()
        scratch.deallocate()
    }

    @inline(__always) private static func idx(_ h: UInt32) -> Int {
        Int(((h >> 8) &- h &* 5) & 0xFFFF)
    }

    /// The compressed bytes, or nil when they would not fit in `outLimit`
    /// bytes (lzf_compress returning 0).
    public func compress(_ input: UnsafeRawBufferPointer, outLimit: Int) -> [UInt8]? {
        compressInPlace(input, outLimit: outLimit).map { Array($0) }
    }

    /// `compress` into this compressor's scratch: no allocation per call.
    /// The bytes are valid until the next call.
    public func compressInPlace(_ input: UnsafeRawBufferPointer, outLimit: Int) -> UnsafeBufferPointer<UInt8>? {
        let inLen = input.count
        guard inLen >= 3, outLimit > 0, let base = input.baseAddress else { return nil }
        generation &+= 1
        if generation >= 1 << 32 {
            table.update(repeating: 0, count: LZFCompressor.slots)
            generation = 1
        }
        let gen = generation << 32
        let ip0 = base.assumingMemoryBound(to: UInt8.self)
        // Slack past outLimit: the tail copy may run up to 3 bytes past the
        // last check, as in the C code; the result is cut at `op` anyway.
        if scratchCap < outLimit + 8 {
            scratch.deallocate()
            scratchCap = max(outLimit + 8, scratchCap * 2)
            scratch = .allocate(capacity: scratchCap)
        }
        do {
            let o = scratch
            let outEnd = outLimit
            let inEnd = inLen
            var op = 1   // start run
            var lit = 0
            var ip = 0
            var hval = UInt32(ip0[0]) << 8 | UInt32(ip0[1])
            func slot(_ h: UInt32) -> UnsafeMutablePointer<UInt64> { table + LZFCompressor.idx(h) }
            while ip < inEnd - 2 {
                hval = hval << 8 | UInt32(ip0[ip + 2])
                let hs = slot(hval)
                let stored = hs.pointee
                hs.pointee = gen | UInt64(ip)
                var ref = -1
                if stored >> 32 == generation { ref = Int(stored & 0xFFFF_FFFF) }
                if ref > 0, ref < ip, ip - ref - 1 < LZFCompressor.maxOff,
                   ip0[ref + 2] == ip0[ip + 2], ip0[ref] == ip0[ip], ip0[ref + 1] == ip0[ip + 1] {
                    let off = ip - ref - 1
                    var len = 2
                    let maxlen = min(inEnd - ip - len, LZFCompressor.maxRef)
                    if op + 3 + 1 >= outEnd {
                        if op - (lit == 0 ? 1 : 0) + 3 + 1 >= outEnd { return nil }
                    }
                    o[op - lit - 1] = UInt8(truncatingIfNeeded: lit - 1)   // stop run
                    if lit == 0 { op -= 1 }                                // undo an empty run
                    var mismatch = false
                    if maxlen > 16 {
                        for _ in 0..<16 {
                            len += 1
                            if ip0[ref + len] != ip0[ip + len] { mismatch = true; break }
                        }
                    }
                    if !mismatch {
                        repeat { len += 1 } while len < maxlen && ip0[ref + len] == ip0[ip + len]
                    }
                    len -= 2   // octets - 1
                    ip += 1
                    if len < 7 {
                        o[op] = UInt8(truncatingIfNeeded: (off >> 8) + (len << 5)); op += 1
                    } else {
                        o[op] = UInt8(truncatingIfNeeded: (off >> 8) + (7 << 5)); op += 1
                        o[op] = UInt8(truncatingIfNeeded: len - 7); op += 1
                    }
                    o[op] = UInt8(truncatingIfNeeded: off); op += 1
                    lit = 0; op += 1   // start run
                    ip += len + 1
                    if ip >= inEnd - 2 { break }
                    ip -= 2
                    hval = UInt32(ip0[ip]) << 8 | UInt32(ip0[ip + 1])
                    hval = hval << 8 | UInt32(ip0[ip + 2])
                    slot(hval).pointee = gen | UInt64(ip)
                    ip += 1
                    hval = hval << 8 | UInt32(ip0[ip + 2])
                    slot(hval).pointee = gen | UInt64(ip)
                    ip += 1
                } else {
                    if op >= outEnd { return nil }
                    lit += 1; o[op] = ip0[ip]; op += 1; ip += 1
                    if lit == LZFCompressor.maxLit {
                        o[op - lit - 1] = UInt8(lit - 1)
                        lit = 0; op += 1
                    }
                }
            }
            if op + 3 > outEnd { return nil }
            while ip < inEnd {
                lit += 1; o[op] = ip0[ip]; op += 1; ip += 1
                if lit == LZFCompressor.maxLit {
                    o[op - lit - 1] = UInt8(lit - 1)
                    lit = 0; op += 1
                }
            }
            o[op - lit - 1] = UInt8(truncatingIfNeeded: lit - 1)
            if lit == 0 { op -= 1 }
            return UnsafeBufferPointer(start: o, count: op)
        }
    }
}
