// Redis's stringmatchlen (util.c, 7.0.15): glob matching on raw bytes.
// Supports `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` and `\` escapes, with an
// optional case-insensitive mode. Characters are compared as C `char`
// (signed on x86-64), exactly as redis-server does, so ranges over bytes
// >= 0x80 behave the same way.

@inline(__always)
private func sch(_ b: UInt8) -> Int { Int(Int8(bitPattern: b)) }

@inline(__always)
private func lower(_ c: Int) -> Int {
    // C-locale tolower(): only ASCII A-Z change.
    (c >= 65 && c <= 90) ? c + 32 : c
}

/// Redis's `stringmatchlen` glob (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\` escapes)
/// on raw bytes, with a nocase option. Used by KEYS, SCAN MATCH and CONFIG GET.
public func globMatch(_ pattern: UnsafeBufferPointer<UInt8>, _ string: UnsafeBufferPointer<UInt8>, nocase: Bool = false) -> Bool {
    var skipLongerMatches = false
    return globMatchImpl(pattern, 0, string, 0, nocase, &skipLongerMatches, 0)
}

/// Convenience overload for Swift strings (matches their UTF-8 bytes).
public func globMatch(_ pattern: String, _ string: String, nocase: Bool = false) -> Bool {
    var p = pattern
    var s = string
    return p.withUTF8 { pb in s.withUTF8 { sb in globMatch(pb, sb, nocase: nocase) } }
}

private func globMatchImpl(
    _ pat: UnsafeBufferPointer<UInt8>, _ pStart: Int,
    _ str: UnsafeBufferPointer<UInt8>, _ sStart: Int,
    _ nocase: Bool, _ skipLongerMatches: inout Bool, _ nesting: Int
) -> Bool {
    // Protection against abusive patterns.
    if nesting > 1000 { return false }
    var p = pStart
    var s = sStart
    let pEnd = pat.count
    let sEnd = str.count
    // Byte at index i of the pattern, or 0 past the end (C's NUL terminator).
    @inline(__always) func pc(_ i: Int) -> UInt8 { i < pEnd ? pat[i] : 0 }
    @inline(__always) func sc(_ i: Int) -> UInt8 { i < sEnd ? str[i] : 0 }

    while p < pEnd && s < sEnd {
        switch pat[p] {
        case UInt8(ascii: "*"):
            while p < pEnd && pc(p + 1) == UInt8(ascii: "*") { p += 1 }
            if pEnd - p == 1 { return true }
            while s < sEnd {
                if globMatchImpl(pat, p + 1, str, s, nocase, &skipLongerMatches, nesting + 1) {
                    return true
                }
                if skipLongerMatches { return false }
                s += 1
            }
            // No match for the rest of the pattern from anywhere in the rest of
            // the string: earlier stars cannot help either.
            skipLongerMatches = true
            return false
        case UInt8(ascii: "?"):
            s += 1
        case UInt8(ascii: "["):
            p += 1
            let not = pc(p) == UInt8(ascii: "^")
            if not { p += 1 }
            var match = false
            while true {
                let plen = pEnd - p
                if pc(p) == UInt8(ascii: "\\") && plen >= 2 {
                    p += 1
                    if pc(p) == sc(s) { match = true }
                } else if pc(p) == UInt8(ascii: "]") {
                    break
                } else if plen <= 0 {
                    p -= 1
                    break
                } else if plen >= 3 && pc(p + 1) == UInt8(ascii: "-") {
                    var start = sch(pc(p))
                    var end = sch(pc(p + 2))
                    var c = sch(sc(s))
                    if start > end { swap(&start, &end) }
                    if nocase {
                        start = lower(start)
                        end = lower(end)
                        c = lower(c)
                    }
                    p += 2
                    if c >= start && c <= end { match = true }
                } else {
                    if !nocase {
                        if pc(p) == sc(s) { match = true }
                    } else {
                        if lower(sch(pc(p))) == lower(sch(sc(s))) { match = true }
                    }
                }
                p += 1
            }
            if not { match.toggle() }
            if !match { return false }
            s += 1
        default:
            if pat[p] == UInt8(ascii: "\\") && pEnd - p >= 2 { p += 1 }
            if !nocase {
                if pc(p) != sc(s) { return false }
            } else {
                if lower(sch(pc(p))) != lower(sch(sc(s))) { return false }
            }
            s += 1
        }
        p += 1
        if s >= sEnd {
            while p < pEnd && pat[p] == UInt8(ascii: "*") { p += 1 }
            break
        }
    }
    return p >= pEnd && s >= sEnd
}

/// True when the pattern contains glob metacharacters (`[`, `*`, `?`), the
/// test CONFIG GET uses to choose between exact lookup and matching.
public func hasGlobMetacharacters(_ pattern: String) -> Bool {
    pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
}
