import RESP
import Storage

/// INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT.
extension StringCommands {
    static func incr(_ x: inout Exec) { incrDecr(&x, 1) }
    static func decr(_ x: inout Exec) { incrDecr(&x, -1) }

    static func incrby(_ x: inout Exec) {
        let a = x[2]
        guard let by = parseStrictInt(a.ptr, a.count) else { return x.error(Err.notInteger) }
        incrDecr(&x, by)
    }

    static func decrby(_ x: inout Exec) {
        let a = x[2]
        guard let by = parseStrictInt(a.ptr, a.count) else { return x.error(Err.notInteger) }
        if by == Int.min { return x.error("ERR decrement would overflow") }
        incrDecr(&x, -by)
    }

    /// Adds `by` to the integer at key argument 1. An int-encoded value is
    /// updated in place (no allocation; TTL kept); a raw value that parses
    /// as an integer is replaced by an int-encoded one with the same TTL.
    @inline(__always)
    static func incrDecr(_ x: inout Exec, _ by: Int) {
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        if slot < 0 {
            let k = x[1]
            let e = Entry.makeInt(key: k.ptr, keyLen: k.count, value: by, expireAt: -1, lru: x.lru)
            x.keyspace.put(e, at: -1, hash: h)
            x.notify(.string, "incrby", 1)
            return x.reply.int(by)
        }
        let e = x.keyspace.entry(at: slot)
        guard e.type == .string else { return x.error(Err.wrongType) }
        if e.payload == .int {
            let (n, o) = e.intValue.addingReportingOverflow(by)
            if o { return x.error(Err.overflow) }
            e.setIntValue(n)
            x.keyspace.mutations &+= 1
            x.notify(.string, "incrby", 1)
            return x.reply.int(n)
        }
        let b = e.bytes
        guard let b0 = b.baseAddress, let old = parseStrictInt(b0, b.count) else {
            return x.error(Err.notInteger)
        }
        let (n, o) = old.addingReportingOverflow(by)
        if o { return x.error(Err.overflow) }
        let k = x[1]
        let ne = Entry.makeInt(key: k.ptr, keyLen: k.count, value: n, expireAt: e.expireAt, lru: x.lru)
        x.keyspace.put(ne, at: slot, hash: h)
        x.notify(.string, "incrby", 1)
        x.reply.int(n)
    }

    /// INCRBYFLOAT: long double arithmetic and "%.17Lf"-then-trim output, as
    /// Redis computes it; the result is stored as a plain (not int-encoded)
    /// string and the key keeps its TTL.
    static func incrbyfloat(_ x: inout Exec) {
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        var value: Float80 = 0
        var expireAt: Int64 = -1
        if slot >= 0 {
            let e = x.keyspace.entry(at: slot)
            guard e.type == .string else { return x.error(Err.wrongType) }
            expireAt = e.expireAt
            if e.payload == .int {
                value = Float80(e.intValue)
            } else {
                let b = e.bytes
                guard let v = parseRedisLongDouble(b.baseAddress!, b.count) else { return x.error(Err.notFloat) }
                value = v
            }
        }
        let a = x[2]
        guard let incr = parseRedisLongDouble(a.ptr, a.count) else { return x.error(Err.notFloat) }
        value += incr
        if value.isNaN || value.isInfinite { return x.error("ERR increment would produce NaN or Infinity") }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLongDoubleChars) { buf in
            let p = buf.baseAddress!
            let n = formatRedisLongDouble(value, human: true, into: p, capacity: maxLongDoubleChars)
            let k = x[1]
            let e = Entry.makeString(key: k.ptr, keyLen: k.count, value: p, valueLen: n, expireAt: expireAt,
                                     lru: x.lru, tryInt: false)
            x.keyspace.put(e, at: slot, hash: h)
            x.notify(.string, "incrbyfloat", 1)
            x.reply.bulk(p, n)
        }
    }
}
