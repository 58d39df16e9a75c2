import RESP
#if canImport(Glibc)
import Glibc
#endif

/// Floating-point parsing and printing with Redis 7.0's exact rules, for
/// INCRBYFLOAT here and for HINCRBYFLOAT, ZADD scores and the like later.
///
/// Redis parses with the C library's strtod/strtold and prints with its
/// printf, and on x86-64 Linux `long double` is the 80-bit x87 format, which
/// Swift calls Float80. We call the same glibc routines so the digits are
/// identical, and add Redis's acceptance checks around them.

/// Redis's MAX_LONG_DOUBLE_CHARS: the longest long double text it reads or writes.
public let maxLongDoubleChars = 5 * 1024

@inline(__always) func isCSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }

/// Redis's string2ld: the whole input must be a number strtold accepts
/// ("1.5", "-3", "1e3", "0x1p4", "inf"); no leading space, nothing after,
/// no NaN, no overflow to ±inf or underflow to 0, and under 5120 bytes.
public func parseRedisLongDouble(_ p: UnsafePointer<UInt8>, _ n: Int) -> Float80? {
    if n == 0 || n >= maxLongDoubleChars || isCSpace(p[0]) { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Float80? in
        let b = buf.baseAddress!
        UnsafeMutableRawPointer(b).copyMemory(from: p, byteCount: n)
        b[n] = 0
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let v = strtold(b, &end)
        guard let e = end, e - b == n else { return nil }
        if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
        if errno == EINVAL || v.isNaN { return nil }
        return v
    }
}

/// Redis's string2d (ZADD scores, ZINCRBY, ...): as `parseRedisLongDouble`
/// but with strtod and no length limit.
public func parseRedisDouble(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
    if n == 0 || isCSpace(p[0]) { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
        let b = buf.baseAddress!
        UnsafeMutableRawPointer(b).copyMemory(from: p, byteCount: n)
        b[n] = 0
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let v = strtod(b, &end)
        guard let e = end, e - b == n else { return nil }
        if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
        if v.isNaN { return nil }
        return v
    }
}

/// Redis's ld2string. `human: true` is LD_STR_HUMAN (INCRBYFLOAT,
/// HINCRBYFLOAT): "%.17Lf", trailing zeros and a bare '.' removed, "-0" as
/// "0". `human: false` is LD_STR_AUTO: "%.17Lg". Infinity prints as
/// "inf"/"-inf". Writes at most `capacity - 1` bytes to `out` and returns the
/// length, or 0 when the text does not fit (Redis then stores "").
public func formatRedisLongDouble(_ v: Float80, human: Bool, into out: UnsafeMutablePointer<UInt8>,
                                  capacity: Int) -> Int {
    if v.isInfinite {
        if capacity < 5 { return 0 }
        return copyASCII(v > 0 ? "inf" : "-inf", out)
    }
    var l = out.withMemoryRebound(to: CChar.self, capacity: capacity) { c -> Int in
        Int(withVaList([v]) { vsnprintf(c, capacity, human ? "%.17Lf" : "%.17Lg", $0) })
    }
    if l < 0 || l + 1 > capacity { return 0 }
    if human {
        var hasDot = false
        for i in 0..<l where out[i] == 46 { hasDot = true; break }
        if hasDot {
            while out[l - 1] == 48 { l -= 1 }
            if out[l - 1] == 46 { l -= 1 }
        }
        if l == 2 && out[0] == 45 && out[1] == 48 {
            out[0] = 48
            l = 1
        }
    }
    return l
}

/// Redis's d2string (ZSCORE, ZRANGE WITHSCORES, RESP2 doubles): "nan",
/// "inf", "-inf", "-0", integers in ±2^62 without a fraction as integers,
/// everything else "%.17g". `out` needs 32 bytes.
public func formatRedisDouble(_ v: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
    if v.isNaN { return copyASCII("nan", out) }
    if v.isInfinite { return copyASCII(v < 0 ? "-inf" : "inf", out) }
    if v == 0 { return copyASCII(v.sign == .minus ? "-0" : "0", out) }
    let lim = Double(Int64.max / 2)
    if v >= -lim && v <= lim {
        let i = Int64(v)
        if Double(i) == v { return formatDecimal(Int(i), into: out) }
    }
    return out.withMemoryRebound(to: CChar.self, capacity: 32) { c -> Int in
        Int(withVaList([v]) { vsnprintf(c, 32, "%.17g", $0) })
    }
}

/// `formatRedisDouble` as an array, for code that builds replies from Strings.
public func redisDoubleBytes(_ v: Double) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 32) { buf, n in n = formatRedisDouble(v, into: buf.baseAddress!) }
}

@inline(__always) private func copyASCII(_ s: StaticString, _ out: UnsafeMutablePointer<UInt8>) -> Int {
    out.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
    return s.utf8CodeUnitCount
}
