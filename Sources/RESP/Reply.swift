/// RESP2/RESP3 reply encoding on top of a ByteBuf. The protocol version is
/// per connection (HELLO 3); types that RESP2 lacks fall back the way Redis does.
public struct Reply {
    public let buf: ByteBuf
    public var proto: Int

    @inlinable public init(_ buf: ByteBuf, proto: Int = 2) {
        self.buf = buf
        self.proto = proto
    }

    @inlinable public func ok() { buf.append("+OK\r\n") }
    @inlinable public func simple(_ s: StaticString) { buf.append(43); buf.append(s); buf.append("\r\n") }
    public func simple(string s: String) { buf.append(43); buf.append(string: s); buf.append("\r\n") }
    /// A status line from bytes, newlines made spaces (as Redis does).
    public func simple(bytes s: [UInt8]) {
        buf.append(43)
        for c in s { buf.append(c == 13 || c == 10 ? 32 : c) }
        buf.append("\r\n")
    }

    /// `msg` is the whole error line after '-', e.g. "ERR syntax error".
    @inlinable public func error(_ msg: StaticString) { buf.append(45); buf.append(msg); buf.append("\r\n") }
    public func error(string msg: String) {
        buf.append(45)
        // Error lines must stay one line: Redis replaces newlines with spaces.
        var m = msg
        m.withUTF8 { u in
            for c in u { buf.append(c == 13 || c == 10 ? 32 : c) }
        }
        buf.append("\r\n")
    }

    public func error(bytes msg: [UInt8]) {
        buf.append(45)
        for c in msg { buf.append(c == 13 || c == 10 ? 32 : c) }
        buf.append("\r\n")
    }

    @inlinable public func int(_ v: Int) {
        buf.reserve(24)
        buf.append(58)
        buf.appendDecimal(v)
        buf.append("\r\n")
    }

    @inlinable public func bulk(_ p: UnsafePointer<UInt8>, _ n: Int) {
        buf.reserve(n + 24)
        buf.append(36)
        buf.appendDecimal(n)
        buf.append("\r\n")
        buf.append(p, n)
        buf.append("\r\n")
    }

    @inlinable public func bulk(_ a: Arg) { bulk(a.ptr, a.count) }
    @inlinable public func bulk(_ b: UnsafeBufferPointer<UInt8>) { bulk(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count) }
    public func bulk(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { bulk($0) } }
    public func bulk(string s: String) { var s = s; s.withUTF8 { bulk($0) } }
    @inlinable public func bulk(static s: StaticString) { bulk(s.utf8Start, s.utf8CodeUnitCount) }

    /// An integer sent as a bulk string (GET of an int-encoded value).
    @inlinable public func bulkDecimal(_ v: Int) {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatDecimal(v, into: p)
            bulk(UnsafePointer(p), n)
        }
    }

    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    @inlinable public func null() { buf.append(proto == 3 ? "_\r\n" : "$-1\r\n") }
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable public func nullArray() { buf.append(proto == 3 ? "_\r\n" : "*-1\r\n") }

    @inlinable public func array(_ n: Int) { header(42, n) }
    @inlinable public func map(_ n: Int) { if proto == 3 { header(37, n) } else { header(42, n * 2) } }
    @inlinable public func set(_ n: Int) { header(proto == 3 ? 126 : 42, n) }
    @inlinable public func push(_ n: Int) { header(proto == 3 ? 62 : 42, n) }

    @inlinable func header(_ tag: UInt8, _ n: Int) {
        buf.reserve(24)
        buf.append(tag)
        buf.appendDecimal(n)
        buf.append("\r\n")
    }

    public func bool(_ v: Bool) {
        if proto == 3 { buf.append(v ? "#t\r\n" : "#f\r\n") } else { int(v ? 1 : 0) }
    }

    /// A double already formatted the way Redis prints it.
    public func double(formatted s: String) {
        if proto == 3 {
            buf.append(44); buf.append(string: s); buf.append("\r\n")
        } else {
            bulk(string: s)
        }
    }

    /// A HELP reply: one simple string per line.
    public func helpLines(_ lines: [String]) {
        array(lines.count)
        for l in lines { simple(string: l) }
    }

    /// Human-readable text (INFO, CLIENT LIST): verbatim in RESP3, bulk in RESP2.
    public func verbatim(_ s: String) {
        if proto == 3 {
            var s = s
            s.withUTF8 { u in
                header(61, u.count + 4)
                buf.append("txt:")
                buf.append(u.baseAddress!, u.count)
                buf.append("\r\n")
            }
        } else {
            bulk(string: s)
        }
    }
}
