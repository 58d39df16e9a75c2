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

/// How far a partial multibulk command has been checked, so the next recv
/// resumes there instead of rescanning every header from the start: a big
/// command trickling in would otherwise cost O(argc²), as Redis avoids with
/// its own saved parse position.
public struct ParseProgress: Sendable {
    /// The command's argument count; 0 when no partial command is held.
    public var argc = 0
    /// Arguments whose bytes have fully arrived and been checked.
    public var done = 0
    /// Offset, from the command's first byte, of the next bulk header.
    public var pos = 0
    /// Bytes the command needs before it can advance (0: unknown).
    public var need = 0
    public init() {}
    @inlinable public var active: Bool { argc > 0 }
    @inlinable public mutating func clear() { self = ParseProgress() }
}

/// Redis's initial argv allocation cap: room for more arguments is made as
/// they arrive, never from the count a client announced.
public let initialArgvCap = 1024

/// Parses one RESP2 multibulk or inline command from `p[0..<n]`.
///
/// When `progress` says a partial command was checked up to some offset, the
/// headers before it are not rescanned until the whole command is present;
/// then it is parsed once from the start to fill `args`. Payload bytes are
/// never copied.
@inlinable
public func parseCommand(_ p: UnsafePointer<UInt8>, _ n: Int, into args: ArgVector, limits: ProtocolLimits,
                         progress: inout ParseProgress) -> ParseResult {
    if progress.active {
        if progress.need > n { return .incomplete(need: progress.need) }
        switch scanBulks(p, n, argc: progress.argc, from: progress.done, at: progress.pos, into: nil, limits: limits) {
        case .complete:
            progress.clear()
        case .partial(let done, let pos, let need):
            progress.done = done
            progress.pos = pos
            progress.need = need
            return .incomplete(need: need)
        case .failed(let msg):
            progress.clear()
            return .error(msg)
        }
    }
    return parseCommand(p, n, into: args, limits: limits, partial: &progress)
}

/// The stateless form: a partial command is parsed again from its start.
@inlinable
public func parseCommand(_ p: UnsafePointer<UInt8>, _ n: Int, into args: ArgVector, limits: ProtocolLimits) -> ParseResult {
    var ignored = ParseProgress()
    return parseCommand(p, n, into: args, limits: limits, partial: &ignored)
}

@inlinable
func parseCommand(_ p: UnsafePointer<UInt8>, _ n: Int, into args: ArgVector, limits: ProtocolLimits,
                  partial: inout ParseProgress) -> ParseResult {
    args.reset()
    if n == 0 { return .incomplete(need: 1) }
    if p[0] != 42 /* * */ { return parseInline(p, n, into: args, limits: limits) }

    guard let (count, after) = readLine(p, n, from: 1) else {
        return n > limits.inlineMax ? .error("too big mbulk count string") : .incomplete(need: 0)
    }
    guard let argc = count, argc <= limits.maxMultibulk else { return .error("invalid multibulk length") }
    if argc > 10 && limits.authRequired { return .error("unauthenticated multibulk length") }
    if argc <= 0 { return .skip(consumed: after) }
    args.reserve(min(argc, initialArgvCap))
    switch scanBulks(p, n, argc: argc, from: 0, at: after, into: args, limits: limits) {
    case .complete(let end):
        return .command(consumed: end)
    case .partial(let done, let pos, let need):
        partial = ParseProgress()
        partial.argc = argc
        partial.done = done
        partial.pos = pos
        partial.need = need
        return .incomplete(need: need)
    case .failed(let msg):
        return .error(msg)
    }
}

public enum BulkScan: Sendable {
    case complete(end: Int)
    /// `done` arguments are whole; the next header starts at `pos`.
    case partial(done: Int, pos: Int, need: Int)
    case failed(String)
}

/// Checks bulk arguments `from..<argc` starting at offset `at`, pushing them
/// into `args` when one is given.
@inlinable
public func scanBulks(_ p: UnsafePointer<UInt8>, _ n: Int, argc: Int, from: Int, at: Int, into args: ArgVector?,
                      limits: ProtocolLimits) -> BulkScan {
    var pos = at
    var i = from
    while i < argc {
        if pos >= n { return .partial(done: i, pos: pos, need: 0) }
        // Redis looks for the line end before it looks at the '$'.
        guard let (blen, dataStart) = readLine(p, n, from: pos + 1) else {
            return n - pos > limits.inlineMax ? .failed("too big bulk count string") : .partial(done: i, pos: pos, need: 0)
        }
        if p[pos] != 36 /* $ */ {
            return .failed("expected '$', got '\(errorChar(p[pos]))'")
        }
        guard let len = blen, len >= 0, len <= limits.maxBulkLen else { return .failed("invalid bulk length") }
        if len > 16384 && limits.authRequired { return .failed("unauthenticated bulk length") }
        let end = dataStart + len + 2
        if end > n { return .partial(done: i, pos: pos, need: end) }
        args?.push(Arg(p + dataStart, len))
        pos = end
        i += 1
    }
    return .complete(end: pos)
}

/// The offending byte as Redis prints it in an error: CR and LF become spaces
/// (an error line cannot hold them); any other byte is itself, carried as the
/// Latin-1 scalar of the same value so the reply writer can emit the raw byte.
@inlinable
func errorChar(_ b: UInt8) -> Character {
    b == 13 || b == 10 ? " " : Character(Unicode.Scalar(b))
}

/// Finds the CRLF-terminated integer starting at `from`. Returns nil when the
/// line is not complete yet; the inner value is nil when it is not a valid integer.
@inlinable
func readLine(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int) -> (Int?, Int)? {
    // One or two digits, nearly every array and bulk length: no scan and no
    // general parse (parseStrictInt was 10% of a MULTI/EXEC's instructions).
    // The same values as below: "0".."9", "10".."99", CR, and a byte after it.
    if from + 3 < n {
        let d0 = p[from] &- 48, c1 = p[from + 1]
        if d0 <= 9 && c1 == 13 { return (Int(d0), from + 3) }
        let d1 = c1 &- 48
        if d0 >= 1 && d0 <= 9 && d1 <= 9 && p[from + 2] == 13 { return (Int(d0) * 10 + Int(d1), from + 4) }
    }
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
