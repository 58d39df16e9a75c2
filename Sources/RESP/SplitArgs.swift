/// Redis's sdssplitargs, the one splitter for inline commands and for
/// redis.conf lines: whitespace-separated arguments, "double quotes" with
/// \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \'. A closing
/// quote must be followed by whitespace or the end; a NUL byte ends the line,
/// as in C. Arguments are unescaped into `args.scratch` and pushed to `args`.
/// Returns false on unbalanced quotes.
@usableFromInline
func splitArgs(_ p: UnsafePointer<UInt8>, _ lineEnd: Int, into args: ArgVector) -> Bool {
    let scratch = args.scratch
    scratch.clear()
    // Unescaping never lengthens, so scratch cannot move under the pushed Args.
    scratch.reserve(lineEnd + 1)
    var i = 0
    @inline(__always) func at(_ k: Int) -> UInt8 { k < lineEnd ? p[k] : 0 }
    while true {
        while i < lineEnd && isSpace(p[i]) { i += 1 }
        if at(i) == 0 { break }
        let start = scratch.count
        var inq = false, insq = false, done = false
        while !done {
            let c = at(i)
            if inq {
                if c == 92 && at(i + 1) == 120, let h = hexValue(at(i + 2)), let l = hexValue(at(i + 3)) {
                    scratch.append(h << 4 | l); i += 3
                } else if c == 92 && at(i + 1) != 0 {
                    i += 1
                    switch at(i) {
                    case 110: scratch.append(10)
                    case 114: scratch.append(13)
                    case 116: scratch.append(9)
                    case 98: scratch.append(8)
                    case 97: scratch.append(7)
                    default: scratch.append(at(i))
                    }
                } else if c == 34 {
                    if at(i + 1) != 0 && !isSpace(at(i + 1)) { return false }
                    done = true
                } else if c == 0 {
                    return false
                } else {
                    scratch.append(c)
                }
            } else if insq {
                if c == 92 && at(i + 1) == 39 {
                    i += 1; scratch.append(39)
                } else if c == 39 {
                    if at(i + 1) != 0 && !isSpace(at(i + 1)) { return false }
                    done = true
                } else if c == 0 {
                    return false
                } else {
                    scratch.append(c)
                }
            } else {
                switch c {
                case 32, 10, 13, 9, 0: done = true
                case 34: inq = true
                case 39: insq = true
                default: scratch.append(c)
                }
            }
            if at(i) != 0 { i += 1 }
        }
        args.push(Arg(UnsafePointer(scratch.base + start), scratch.count - start))
        if i >= lineEnd { break }
    }
    return true
}

/// The same split as byte arrays (config files), or nil on unbalanced quotes.
public func splitArgs(_ line: UnsafeBufferPointer<UInt8>) -> [[UInt8]]? {
    let v = ArgVector(capacity: 8)
    guard let base = line.baseAddress else { return [] }
    guard splitArgs(base, line.count, into: v) else { return nil }
    return (0..<v.count).map { v[$0].bytes }
}
