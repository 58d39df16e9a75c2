import RESP
import Storage

/// BITFIELD and BITFIELD_RO. The subcommands are parsed twice, once to
/// check them all (Redis replies an error before running any) and find the
/// farthest bit written, once to run them: no per-command array of ops.
extension BitmapCommands {
    static func bitfield(_ x: inout Exec) { bitfieldGeneric(&x, readOnlyCommand: false) }
    static func bitfieldRO(_ x: inout Exec) { bitfieldGeneric(&x, readOnlyCommand: true) }

    enum FieldOp { case get, set, incrby }

    /// One parsed subcommand (OVERFLOW is folded into `overflow`).
    struct Field {
        var op = FieldOp.get
        var signed = false
        var bits = 0
        var offset = 0
        var value: Int64 = 0
        /// Arguments it took, the subcommand included.
        var width = 0
    }

    /// Parses the subcommand at `j` (not OVERFLOW); replies the error and
    /// returns nil when it is malformed.
    static func parseField(_ x: inout Exec, at j: Int) -> Field? {
        let rem = x.argc - j - 1
        let sub = x[j]
        var f = Field()
        if sub.equalsLower("get") && rem >= 2 { f.op = .get }
        else if sub.equalsLower("set") && rem >= 3 { f.op = .set }
        else if sub.equalsLower("incrby") && rem >= 3 { f.op = .incrby }
        else {
            x.error(Err.syntax)
            return nil
        }
        let t = x[j + 1]
        let typeError: StaticString =
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
        guard t.count > 0, t[0] == 105 || t[0] == 117,
              let bits = parseStrictInt(t.ptr + 1, t.count - 1), bits >= 1,
              bits <= (t[0] == 105 ? 64 : 63) else {
            x.error(typeError)
            return nil
        }
        f.signed = t[0] == 105
        f.bits = bits
        guard let off = bitOffset(x[j + 2], hashBits: bits) else {
            x.error(offsetError)
            return nil
        }
        f.offset = off
        f.width = 3
        if f.op != .get {
            let v = x[j + 3]
            guard let n = parseStrictInt(v.ptr, v.count) else {
                x.error(Err.notInteger)
                return nil
            }
            f.value = Int64(n)
            f.width = 4
        }
        return f
    }

    /// OVERFLOW's argument, or nil after replying the error.
    static func parseOverflow(_ x: inout Exec, _ a: Arg) -> Bitmap.Overflow? {
        if a.equalsLower("wrap") { return .wrap }
        if a.equalsLower("sat") { return .sat }
        if a.equalsLower("fail") { return .fail }
        x.error("ERR Invalid OVERFLOW type specified")
        return nil
    }

    static func bitfieldGeneric(_ x: inout Exec, readOnlyCommand: Bool) {
        // Pass 1: check every subcommand.
        var j = 2
        var count = 0
        var readOnly = true
        var highest = 0
        while j < x.argc {
            if x[j].equalsLower("overflow") && x.argc - j - 1 >= 1 {
                guard parseOverflow(&x, x[j + 1]) != nil else { return }
                j += 2
                continue
            }
            guard let f = parseField(&x, at: j) else { return }
            if f.op != .get {
                readOnly = false
                highest = max(highest, f.offset + f.bits - 1)
            }
            count += 1
            j += f.width
        }

        var p: UnsafeMutablePointer<UInt8>? = nil
        var len = 0
        var dirty = false
        var intBuf: (UInt64, UInt64, UInt64) = (0, 0, 0)
        if readOnly {
            let s = x.readSlot(1, hash: x.hash(1))
            if s >= 0 {
                let e = x.keyspace.entry(at: s)
                guard e.type == .string else { return x.error(Err.wrongType) }
                if e.payload == .int {
                    // GET reads an int-encoded string as its decimal bytes.
                    len = withUnsafeMutableBytes(of: &intBuf) {
                        formatDecimal(e.intValue, into: $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                } else {
                    p = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
                    len = e.bytes.count
                }
            }
        } else {
            if readOnlyCommand { return x.error("ERR BITFIELD_RO only supports the GET subcommand") }
            guard let (q, n, d) = stringForWrite(&x, byte: highest >> 3) else { return }
            p = q
            len = n
            dirty = d
        }

        // Pass 2: run them.
        x.reply.array(count)
        var changes = 0
        var ow = Bitmap.Overflow.wrap
        j = 2
        while j < x.argc {
            if x[j].equalsLower("overflow") && x.argc - j - 1 >= 1 {
                ow = parseOverflow(&x, x[j + 1])!
                j += 2
                continue
            }
            let f = parseField(&x, at: j)!
            j += f.width
            if f.op == .get {
                // Up to 9 bytes copied with zero padding: a field may run
                // past the end of the string.
                var buf: (UInt64, UInt64) = (0, 0)
                let byte = f.offset >> 3
                withUnsafeMutableBytes(of: &buf) { raw in
                    let b = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    withUnsafeMutableBytes(of: &intBuf) { ib in
                        let src = p ?? ib.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        var i = 0
                        while i < 9 && byte + i < len { b[i] = src[byte + i]; i += 1 }
                    }
                    let o = f.offset - byte * 8
                    if f.signed {
                        x.reply.int(Int(Bitmap.getSigned(b, offset: o, bits: f.bits)))
                    } else {
                        x.reply.int(Int(bitPattern: UInt(Bitmap.getUnsigned(b, offset: o, bits: f.bits))))
                    }
                }
                continue
            }
            let q = p!
            if f.signed {
                let old = Bitmap.getSigned(q, offset: f.offset, bits: f.bits)
                var wrapped: Int64 = 0
                let over: Int
                let new: Int64
                let ret: Int64
                if f.op == .incrby {
                    over = Bitmap.checkSigned(old, f.value, bits: f.bits, ow, limit: &wrapped)
                    new = over != 0 ? wrapped : old &+ f.value
                    ret = new
                } else {
                    over = Bitmap.checkSigned(f.value, 0, bits: f.bits, ow, limit: &wrapped)
                    new = over != 0 ? wrapped : f.value
                    ret = old
                }
                if over != 0 && ow == .fail {
                    x.reply.null()
                } else {
                    x.reply.int(Int(ret))
                    Bitmap.setUnsigned(q, offset: f.offset, bits: f.bits, UInt64(bitPattern: new))
                    if dirty || old != new { changes += 1 }
                }
            } else {
                let old = Bitmap.getUnsigned(q, offset: f.offset, bits: f.bits)
                var wrapped: UInt64 = 0
                let over: Int
                var new: UInt64
                let ret: UInt64
                if f.op == .incrby {
                    new = old &+ UInt64(bitPattern: f.value)
                    over = Bitmap.checkUnsigned(old, f.value, bits: f.bits, ow, limit: &wrapped)
                    if over != 0 { new = wrapped }
                    ret = new
                } else {
                    new = UInt64(bitPattern: f.value)
                    over = Bitmap.checkUnsigned(new, 0, bits: f.bits, ow, limit: &wrapped)
                    if over != 0 { new = wrapped }
                    ret = old
                }
                if over != 0 && ow == .fail {
                    x.reply.null()
                } else {
                    x.reply.int(Int(bitPattern: UInt(ret)))
                    Bitmap.setUnsigned(q, offset: f.offset, bits: f.bits, new)
                    if dirty || old != new { changes += 1 }
                }
            }
        }
        if changes > 0 {
            x.keyspace.mutations &+= 1
            x.notify(.string, "setbit", 1)
        }
    }
}
