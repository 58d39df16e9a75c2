/// The reply text of geo values, byte for byte Redis's.
extension GeoHash {
    /// Redis's addReplyHumanLongDouble text of a coordinate: "%.17Lf"
    /// (the exact value rounded half-even to 17 decimals, as glibc prints
    /// it), trailing zeros and a bare '.' dropped, "-0" as "0". Exact
    /// integer arithmetic instead of vsnprintf: no allocation. Needs
    /// |v| < 2^53 (coordinates are within ±180); `out` needs 48 bytes.
    public static func formatCoordinate(_ v: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let a = abs(v)
        precondition(a < 9007199254740992.0, "formatCoordinate: out of range")
        let sig = UInt128(a.significandBitPattern | (a.exponentBitPattern == 0 ? 0 : 1 << 52))
        let e = a.exponentBitPattern == 0 ? -1074 : Int(a.exponentBitPattern) - 1075
        let scale: UInt128 = 100_000_000_000_000_000
        let p = sig * scale
        var q: UInt128
        if e >= 0 {
            q = p << UInt128(e)
        } else if -e >= 120 {
            q = 0 // p < 2^110: under half a unit of the 17th decimal
        } else {
            let k = UInt128(-e)
            q = p >> k
            let rem = p & ((1 << k) - 1)
            let half: UInt128 = 1 << (k - 1)
            if rem > half || (rem == half && q & 1 == 1) { q += 1 }
        }
        var n = 0
        if v.sign == .minus && q != 0 {
            out[0] = 45
            n = 1
        }
        let ip = Int(q / scale)
        var frac = UInt64(q % scale)
        n += formatUnsigned(UInt64(ip), into: out + n)
        if frac == 0 { return n }
        var digits = 17
        while frac % 10 == 0 {
            frac /= 10
            digits -= 1
        }
        out[n] = 46
        n += 1
        var i = n + digits - 1
        while i >= n {
            out[i] = 48 + UInt8(frac % 10)
            frac /= 10
            i -= 1
        }
        return n + digits
    }

    /// Redis's fixedpoint_d2string(d, 4) (GEODIST, WITHDIST): llrint of
    /// d * 10^4 (half-even), printed with exactly four decimals.
    public static func formatDistance(_ d: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let s = (d * 10000.0).rounded(.toNearestOrEven)
        // Distances are at most half the earth's circumference in feet.
        let v = s >= -9.2e18 && s <= 9.2e18 ? Int64(s) : 0
        var n = 0
        if v < 0 {
            out[0] = 45
            n = 1
        }
        let m = v.magnitude
        n += formatUnsigned(m / 10000, into: out + n)
        out[n] = 46
        var f = m % 10000
        for i in stride(from: 4, through: 1, by: -1) {
            out[n + i] = 48 + UInt8(f % 10)
            f /= 10
        }
        return n + 5
    }

    static func formatUnsigned(_ v0: UInt64, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var v = v0
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &tmp) { raw -> Int in
            let t = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var k = 0
            repeat {
                t[k] = 48 + UInt8(v % 10)
                v /= 10
                k += 1
            } while v > 0
            for i in 0..<k { out[i] = t[k - 1 - i] }
            return k
        }
    }
}
