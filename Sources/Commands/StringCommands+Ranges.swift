import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE.
extension StringCommands {
    /// Redis's checkStringLength: a result over proto-max-bulk-len is refused.
    @inline(__always)
    static func lengthOK(_ x: inout Exec, _ size: Int, _ add: Int) -> Bool {
        let (total, o) = size.addingReportingOverflow(add)
        if o || total > protoMaxBulkLen.load(ordering: .relaxed) {
            x.error(Err.stringTooLong)
            return false
        }
        return true
    }

    /// Makes the string in `slot` a raw string of `newLen` bytes, keeping its
    /// first min(old, new) bytes and its TTL, and returns a pointer to the
    /// value bytes for the caller to fill past the old length. Grows in place
    /// with realloc when it can (no TTL), so repeated APPENDs do not copy the
    /// whole value each time.
    static func makeRaw(_ x: inout Exec, slot: Int, hash h: UInt64, newLen: Int) -> UnsafeMutablePointer<UInt8> {
        makeRaw(x.keyspace, slot: slot, hash: h, newLen: newLen)
    }

    /// makeRaw in a given keyspace (a key of a `.colocated` command).
    static func makeRaw(_ ks: Keyspace, slot: Int, hash h: UInt64, newLen: Int) -> UnsafeMutablePointer<UInt8> {
        let e = ks.entry(at: slot)
        if e.payload == .bytes && !e.hasExpire {
            let n = e.resizedString(newLen)
            n.isRawString = true
            ks.table.replace(at: slot, with: n)
            // A replacement behind put's back: WATCH must still see it.
            ks.mutations &+= 1
            return UnsafeMutablePointer(mutating: n.bytes.baseAddress!)
        }
        let k = e.key
        let n = Entry.makeString(key: k.baseAddress!, keyLen: k.count, value: nil, valueLen: newLen,
                                 expireAt: e.expireAt, lru: e.lru, tryInt: false)
        n.isRawString = true
        let dst = UnsafeMutablePointer(mutating: n.bytes.baseAddress!)
        e.withStringBytes { old in
            let keep = min(old.count, newLen)
            if keep > 0 { dst.update(from: old.baseAddress!, count: keep) }
        }
        ks.put(n, at: slot, hash: h)
        return dst
    }

    static func append(_ x: inout Exec) {
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        let add = x[2]
        if slot < 0 {
            // A new key takes the argument as SET would (int-encoded if canonical).
            store(&x, key: 1, value: 2, slot: -1, hash: h, expireAt: -1)
            x.notify(.string, "append", 1)
            return x.reply.int(add.count)
        }
        let e = x.keyspace.entry(at: slot)
        guard e.type == .string else { return x.error(Err.wrongType) }
        let olen = e.stringLength
        guard lengthOK(&x, olen, add.count) else { return }
        let total = olen + add.count
        let dst = makeRaw(&x, slot: slot, hash: h, newLen: total)
        if add.count > 0 { (dst + olen).update(from: add.ptr, count: add.count) }
        x.notify(.string, "append", 1)
        x.reply.int(total)
    }

    static func strlen(_ x: inout Exec) {
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.int(0) }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        x.reply.int(e.stringLength)
    }

    /// GETRANGE key start end (and SUBSTR): inclusive, negative from the end.
    static func getrange(_ x: inout Exec) {
        let a2 = x[2], a3 = x[3]
        guard var start = parseStrictInt(a2.ptr, a2.count) else { return x.error(Err.notInteger) }
        guard var end = parseStrictInt(a3.ptr, a3.count) else { return x.error(Err.notInteger) }
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.bulk(static: "") }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        let reply = x.reply
        e.withStringBytes { str in
            let len = str.count
            if start < 0 && end < 0 && start > end { return reply.bulk(static: "") }
            if start < 0 { start = len + start }
            if end < 0 { end = len + end }
            if start < 0 { start = 0 }
            if end < 0 { end = 0 }
            if end >= len { end = len - 1 }
            if start > end || len == 0 { return reply.bulk(static: "") }
            reply.bulk(str.baseAddress! + start, end - start + 1)
        }
    }

    /// SETRANGE key offset value: overwrites in place when the value fits,
    /// zero-pads when it starts past the end. The result is a raw string.
    static func setrange(_ x: inout Exec) {
        let a2 = x[2]
        guard let offset = parseStrictInt(a2.ptr, a2.count) else { return x.error(Err.notInteger) }
        if offset < 0 { return x.error("ERR offset is out of range") }
        let v = x[3]
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        if slot < 0 {
            if v.count == 0 { return x.reply.int(0) }
            guard lengthOK(&x, offset, v.count) else { return }
            let k = x[1]
            let total = offset + v.count
            let e = Entry.makeString(key: k.ptr, keyLen: k.count, value: nil, valueLen: total,
                                     expireAt: -1, lru: x.lru, tryInt: false)
            e.isRawString = true
            let dst = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
            if offset > 0 { dst.initialize(repeating: 0, count: offset) }
            (dst + offset).update(from: v.ptr, count: v.count)
            x.keyspace.put(e, at: -1, hash: h)
            x.notify(.string, "setrange", 1)
            return x.reply.int(total)
        }
        let e = x.keyspace.entry(at: slot)
        guard e.type == .string else { return x.error(Err.wrongType) }
        let olen = e.stringLength
        if v.count == 0 { return x.reply.int(olen) }
        guard lengthOK(&x, offset, v.count) else { return }
        let need = offset + v.count
        if e.payload == .bytes && need <= olen {
            // Fits: overwrite in place, no allocation.
            let dst = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
            (dst + offset).update(from: v.ptr, count: v.count)
            e.isRawString = true
            // Redis signals the key even when the bytes are the same.
            x.keyspace.mutations &+= 1
            x.notify(.string, "setrange", 1)
            return x.reply.int(olen)
        }
        let total = max(olen, need)
        let dst = makeRaw(&x, slot: slot, hash: h, newLen: total)
        if offset > olen { (dst + olen).initialize(repeating: 0, count: offset - olen) }
        (dst + offset).update(from: v.ptr, count: v.count)
        x.notify(.string, "setrange", 1)
        x.reply.int(total)
    }
}
