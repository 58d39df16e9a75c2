// sdssplitargs / sdscatrepr from Redis's sds.c, on raw bytes.

@inline(__always)
private func isSpace(_ c: UInt8) -> Bool {
    // C isspace() in the C locale: space, \t, \n, \v, \f, \r.
    c == 0x20 || (c >= 0x09 && c <= 0x0d)
}

@inline(__always)
private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Redis's `sdssplitargs` on raw bytes: whitespace-separated arguments,
/// "double quotes" with `\n \r \t \b \a \\ \" \xHH` escapes, 'single quotes'
/// with `\'`. A closing quote must be followed by whitespace or the end.
/// Returns nil on unbalanced quotes. Processing stops at a NUL byte, as in C.
public func splitArgs(_ line: UnsafeBufferPointer<UInt8>) -> [[UInt8]]? {
    let n = line.count
    @inline(__always) func at(_ i: Int) -> UInt8 { i < n ? line[i] : 0 }
    var p = 0
    var result: [[UInt8]] = []
    while true {
        while at(p) != 0 && isSpace(at(p)) { p += 1 }
        if at(p) == 0 { return result }
        var inq = false
        var insq = false
        var done = false
        var current: [UInt8] = []
        while !done {
            let c = at(p)
            if inq {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "x"),
                   let hi = hexValue(at(p + 2)), let lo = hexValue(at(p + 3)) {
                    current.append(hi * 16 + lo)
                    p += 3
                } else if c == UInt8(ascii: "\\") && at(p + 1) != 0 {
                    p += 1
                    switch at(p) {
                    case UInt8(ascii: "n"): current.append(0x0a)
                    case UInt8(ascii: "r"): current.append(0x0d)
                    case UInt8(ascii: "t"): current.append(0x09)
                    case UInt8(ascii: "b"): current.append(0x08)
                    case UInt8(ascii: "a"): current.append(0x07)
                    default: current.append(at(p))
                    }
                } else if c == UInt8(ascii: "\"") {
                    if at(p + 1) != 0 && !isSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else if insq {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "'") {
                    p += 1
                    current.append(UInt8(ascii: "'"))
                } else if c == UInt8(ascii: "'") {
                    if at(p + 1) != 0 && !isSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else {
                switch c {
                case 0x20, 0x0a, 0x0d, 0x09, 0x00:
                    done = true
                case UInt8(ascii: "\""):
                    inq = true
                case UInt8(ascii: "'"):
                    insq = true
                default:
                    current.append(c)
                }
            }
            if at(p) != 0 { p += 1 }
        }
        result.append(current)
    }
}

/// redis.conf argument splitting (sdssplitargs semantics). Returns nil on
/// unbalanced quotes. Bytes that are not valid UTF-8 (from `\xHH`) are
/// repaired by `String(decoding:)`; use `splitArgs` for raw bytes.
public func splitConfigLine(_ line: String) -> [String]? {
    var l = line
    guard let parts = l.withUTF8({ splitArgs($0) }) else { return nil }
    return parts.map { String(decoding: $0, as: UTF8.self) }
}

/// Redis's `sdscatrepr`: a double-quoted, escaped representation.
public func quotedRepr(_ s: String) -> String {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for c in s.utf8 {
        switch c {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""):
            out.append(UInt8(ascii: "\\")); out.append(c)
        case 0x0a: out.append(contentsOf: Array("\\n".utf8))
        case 0x0d: out.append(contentsOf: Array("\\r".utf8))
        case 0x09: out.append(contentsOf: Array("\\t".utf8))
        case 0x07: out.append(contentsOf: Array("\\a".utf8))
        case 0x08: out.append(contentsOf: Array("\\b".utf8))
        default:
            if c >= 0x20 && c <= 0x7e {
                out.append(c)
            } else {
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}
