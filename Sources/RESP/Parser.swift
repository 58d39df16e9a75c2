/// Redis's limits on what a client may send before it is cut off.
public struct ProtocolLimits: Sendable {
    public var maxBulkLen: Int = 512 * 1024 * 1024
    /// Redis's PROTO_INLINE_MAX_SIZE: the longest line without a newline.
    public var inlineMax: Int = 64 * 1024
    public var maxMultibulk: Int = Int(Int32.max)
    /// Before AUTH, Redis refuses big multibulk and bulk lengths outright.
    public var authRequired = false
    public init() {}
}

public enum ParseResult: Sendable {
    /// A full command is in the ArgVector; `consumed` bytes belong to it.
    case command(consumed: Int)
    /// An empty multibulk or blank inline line: skip it.
    case skip(consumed: Int)
    /// More bytes are needed; `need` is the total the command will take when known.
    case incomplete(need: Int)
    /// The connection must get `-ERR Protocol error: <msg>` and be closed.
    case error(String)
}

/// Parses one RESP2 multibulk or inline command from `p[0..<n]`.
///
/// It is stateless: an incomplete command is parsed again from its start when
/// more bytes arrive. Only headers are rescanned; payload bytes are never copied.
@inlinable
public func parseCommand(_ p: UnsafePointer<UInt8>, _ n: Int, into args: ArgVector, limits: ProtocolLimits) -> ParseResult {
    args.reset()
    if n == 0 { return .incomplete(need: 1) }
    if p[0] != 42 /* * */ { return parseInline(p, n, into: args, limits: limits) }

    guard let (count, after) = readLine(p, n, from: 1) else {
        return n > limits.inlineMax ? .error("too big mbulk count string") : .incomplete(need: 0)
    }
    guard let argc = count, argc <= limits.maxMultibulk else { return .error("invalid multibulk length") }
    if argc > 10 && limits.authRequired { return .error("unauthenticated multibulk length") }
    if argc <= 0 { return .skip(consumed: after) }
    args.reserve(argc)
    var pos = after
    for _ in 0..<argc {
        if pos >= n { return .incomplete(need: 0) }
        // Redis looks for the line end before it looks at the '$'.
        guard let (blen, dataStart) = readLine(p, n, from: pos + 1) else {
            return n - pos > limits.inlineMax ? .error("too big bulk count string") : .incomplete(need: 0)
        }
        if p[pos] != 36 /* $ */ {
            return .error("expected '$', got '\(Character(Unicode.Scalar(p[pos])))'")
        }
        guard let len = blen, len >= 0, len <= limits.maxBulkLen else { return .error("invalid bulk length") }
        if len > 16384 && limits.authRequired { return .error("unauthenticated bulk length") }
        let end = dataStart + len + 2
        if end > n { return .incomplete(need: end) }
        args.push(Arg(p + dataStart, len))
        pos = end
    }
    return .command(consumed: pos)
}

/// Finds the CRLF-terminated integer starting at `from`. Returns nil when the
/// line is not complete yet; the inner value is nil when it is not a valid integer.
@inlinable
func readLine(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int) -> (Int?, Int)? {
    var i = from
    while i < n && p[i] != 13 { i += 1 }
    if i + 1 >= n { return nil }
    // Redis requires only the '\r'; it skips the next byte as the '\n'.
    return (parseStrictInt(p + from, i - from), i + 2)
}

/// Redis's string2ll: optional '-', digits, no leading zeros, no '+', no spaces.
@inlinable
public func parseStrictInt(_ p: UnsafePointer<UInt8>, _ len: Int) -> Int? {
    if len == 0 || len > 20 { return nil }
    if len == 1 && p[0] == 48 { return 0 }
    var i = 0
    var neg = false
    if p[0] == 45 { neg = true; i = 1; if len == 1 { return nil } }
    if p[i] < 49 || p[i] > 57 { return nil }
    var v: UInt64 = 0
    while i < len {
        let d = p[i] &- 48
        if d > 9 { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(d))
        if o1 || o2 { return nil }
        v = a
        i += 1
    }
    if neg {
        if v > UInt64(Int64.max) + 1 { return nil }
        return v == UInt64(Int64.max) + 1 ? Int.min : -Int(v)
    }
    if v > UInt64(Int64.max) { return nil }
    return Int(v)
}

@inlinable func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }

@inlinable func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
}

/// Telnet-style commands, split the way redis-cli users expect
/// (Redis's sdssplitargs): double quotes with escapes, single quotes with \'.
@usableFromInline
func parseInline(_ p: UnsafePointer<UInt8>, _ n: Int, into args: ArgVector, limits: ProtocolLimits) -> ParseResult {
    var nl = 0
    while nl < n && p[nl] != 10 { nl += 1 }
    if nl == n { return n > limits.inlineMax ? .error("too big inline request") : .incomplete(need: 0) }
    var lineEnd = nl
    if lineEnd > 0 && p[lineEnd - 1] == 13 { lineEnd -= 1 }
    let consumed = nl + 1
    guard splitArgs(p, lineEnd, into: args) else { return .error("unbalanced quotes in request") }
    return args.count == 0 ? .skip(consumed: consumed) : .command(consumed: consumed)
}
