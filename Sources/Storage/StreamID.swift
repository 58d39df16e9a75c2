import RESP

/// A stream entry ID, `<ms>-<seq>`, ordered as a 128-bit number.
public struct StreamID: Comparable, Hashable, Sendable {
    public var ms: UInt64
    public var seq: UInt64

    @inlinable public init(_ ms: UInt64, _ seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = StreamID(0, 0)
    public static let max = StreamID(UInt64.max, UInt64.max)

    @inlinable public static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq)
    }

    @inlinable public var isZero: Bool { ms == 0 && seq == 0 }

    /// The next ID, or nil past the last possible one (Redis's streamIncrID).
    @inlinable public var incremented: StreamID? {
        if seq == UInt64.max {
            if ms == UInt64.max { return nil }
            return StreamID(ms + 1, 0)
        }
        return StreamID(ms, seq + 1)
    }

    /// The previous ID, or nil before 0-0 (Redis's streamDecrID).
    @inlinable public var decremented: StreamID? {
        if seq == 0 {
            if ms == 0 { return nil }
            return StreamID(ms - 1, UInt64.max)
        }
        return StreamID(ms, seq - 1)
    }

    /// `<ms>-<seq>` into `out` (needs 41 bytes); returns the length.
    @inlinable public func format(into out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = formatUnsigned(ms, into: out)
        out[n] = 45
        n += 1
        n += formatUnsigned(seq, into: out + n)
        return n
    }

    /// The formatted ID as bytes (XINFO, errors: not the hot path).
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 41) { b, n in n = format(into: b.baseAddress!) }
    }

    /// How the ID's text asked for the sequence.
    public enum Parsed: Equatable {
        case id(StreamID)
        /// `<ms>-*` (allowed only where `autoSeq` is): the sequence is the stream's to choose.
        case autoSeq(UInt64)
    }

    /// Redis's streamGenericParseIDOrReply: `-`/`+` (unless `strict`),
    /// `<ms>`, `<ms>-<seq>`, and `<ms>-*` when `autoSeq`. Numbers are read
    /// as Redis's string2ull. nil: "Invalid stream ID".
    public static func parse(_ p: UnsafePointer<UInt8>, _ len: Int, missingSeq: UInt64, strict: Bool,
                             autoSeq: Bool = false) -> Parsed? {
        // Redis copies into a 128-byte C string: longer is invalid, a NUL ends it.
        if len > 127 { return nil }
        var n = 0
        while n < len && p[n] != 0 { n += 1 }
        if n == 1 && (p[0] == 45 || p[0] == 43) {
            if strict { return nil }
            return .id(p[0] == 45 ? .zero : .max)
        }
        var dash = -1
        for i in 0..<n where p[i] == 45 { dash = i; break }
        if dash < 0 {
            guard let ms = parseULL(p, n) else { return nil }
            return .id(StreamID(ms, missingSeq))
        }
        guard let ms = parseULL(p, dash) else { return nil }
        let s = p + dash + 1, sn = n - dash - 1
        if autoSeq && sn == 1 && s[0] == 42 { return .autoSeq(ms) }
        guard let seq = parseULL(s, sn) else { return nil }
        return .id(StreamID(ms, seq))
    }
}

/// Redis's string2ull: string2ll when it parses (negative is an error),
/// else strtoull's rules (leading spaces, a sign, leading zeros; a '-'
/// wraps), with nothing after the digits and no overflow.
@inlinable public func parseULL(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64? {
    if let v = parseStrictInt(p, n) { return v < 0 ? nil : UInt64(v) }
    var i = 0
    while i < n && (p[i] == 32 || (p[i] >= 9 && p[i] <= 13)) { i += 1 }
    var neg = false
    if i < n && (p[i] == 43 || p[i] == 45) { neg = p[i] == 45; i += 1 }
    if i >= n { return nil }
    var v: UInt64 = 0
    while i < n {
        let d = p[i] &- 48
        if d > 9 { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(d))
        if o1 || o2 { return nil }
        v = a
        i += 1
    }
    return neg ? 0 &- v : v
}

@inlinable func formatUnsigned(_ v: UInt64, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &tmp) { raw -> Int in
        let t = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var x = v, k = 0
        repeat {
            t[k] = UInt8(truncatingIfNeeded: x % 10) + 48
            x /= 10
            k += 1
        } while x != 0
        for j in 0..<k { out[j] = t[k - 1 - j] }
        return k
    }
}
