import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// HSET, HMSET, HSETNX, HDEL, HINCRBY, HINCRBYFLOAT, and the conversion
/// rules they share. Redis converts a listpack hash to a hashtable when a
/// write brings a field or value longer than hash-max-listpack-value
/// (hashTypeTryConversion for HSET/HSETNX arguments, hashTypeSet for the
/// HINCRBY* results), or when a set leaves more than
/// hash-max-listpack-entries fields (checked after every set, updates
/// included, so a lowered limit converts on the next write).
extension HashCommands {
    /// Redis's lpSafeToAdd: a listpack never grows past 1 GiB.
    static let compactMaxBytes = 1 << 30

    /// The key of a write: its entry and slot when it exists (nil/-1 when not).
    /// nil when the key holds another type (WRONGTYPE replied).
    @inline(__always)
    static func writeTarget(_ x: inout Exec) -> (Entry?, Int)? {
        switch x.find(1, .hash, read: false) {
        case .missing: return (nil, -1)
        case .wrongType: return nil
        case .found(let e, let s): return (e, s)
        }
    }

    // MARK: HSET / HMSET / HSETNX

    static func hset(_ x: inout Exec) { hsetGeneric(&x, hmset: false) }
    static func hmset(_ x: inout Exec) { hsetGeneric(&x, hmset: true) }

    /// HSET replies the number of new fields, HMSET (deprecated) +OK.
    static func hsetGeneric(_ x: inout Exec, hmset: Bool) {
        if x.argc % 2 == 1 { return x.error(string: wrongArityError(hmset ? "hmset" : "hset")) }
        guard let (e, slot) = writeTarget(&x) else { return }
        var created = 0
        if let e, e.payload == .object {
            let t = e.objectRef(HashValue.self)
            created = setPairs(&x, t, from: 2)
            x.modified(1)
        } else if x.argc == 4 {
            let f = x[2], v = x[3]
            created = setOne(&x, e, slot, f.ptr, f.count, v.ptr, v.count) ? 1 : 0
        } else {
            created = setCompactPairs(&x, e, slot)
        }
        if x.failed { return }
        x.notify(.hash, "hset", 1)
        x.changed((x.argc - 2) / 2)
        if hmset { x.reply.ok() } else { x.reply.int(created) }
    }

    static func hsetnx(_ x: inout Exec) {
        guard let (e, slot) = writeTarget(&x) else { return }
        let f = x[2], v = x[3]
        if let e {
            if HashRef(e).get(f.ptr, f.count) != nil { return x.reply.int(0) }
            if e.payload == .object {
                _ = e.objectRef(HashValue.self).set(f.ptr, f.count, v.ptr, v.count)
                x.modified(1)
                x.notify(.hash, "hset", 1)
                return x.reply.int(1)
            }
        }
        _ = setOne(&x, e, slot, f.ptr, f.count, v.ptr, v.count)
        x.notify(.hash, "hset", 1)
        x.reply.int(1)
    }

    /// Sets the argument pairs from `from` on in a hashtable; returns the
    /// number of new fields.
    static func setPairs(_ x: inout Exec, _ t: HashValue, from: Int) -> Int {
        var created = 0
        var i = from
        while i + 1 < x.argc {
            let f = x[i], v = x[i + 1]
            if t.set(f.ptr, f.count, v.ptr, v.count) { created += 1 }
            i += 2
        }
        return created
    }

    /// Several pairs into a compact hash (or a new key): the result is
    /// built once in a scratch buffer sized by the bytes received, then
    /// stored as one new entry or converted.
    static func setCompactPairs(_ x: inout Exec, _ e: Entry?, _ slot: Int) -> Int {
        let vmax = EncodingLimits.hashValue
        let old = e.map { CompactHash($0) }
        var argBytes = 0, packed = 0
        var long = false
        for i in 2..<x.argc {
            let n = x[i].count
            if n > vmax { long = true }
            argBytes += n
            packed += packedSize(n)
        }
        if !long, let old, old.payload.end + argBytes > compactMaxBytes { long = true }
        if long {
            let t = old.map { HashValue($0) } ?? HashValue(capacity: (x.argc - 2) / 2)
            let created = setPairs(&x, t, from: 2)
            x.storeObject(1, slot: slot, type: .hash, t)
            return created
        }
        let emax = EncodingLimits.hashEntries
        let capacity = max((old?.payload.elementBytes ?? 0) + packed, 16)
        return withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { buf -> Int in
            var ed = CompactHashEditor(buffer: buf.baseAddress!, capacity: capacity, copying: old)
            var created = 0
            var i = 2
            while i < x.argc {
                let f = x[i], v = x[i + 1]
                if ed.set(f.ptr, f.count, v.ptr, v.count) { created += 1 }
                i += 2
                if ed.count > emax { break }
            }
            if ed.count > emax {
                // Past the limit mid-command: the rest goes to the hashtable, as Redis converts inside hashTypeSet.
                let t = HashValue(ed)
                created += setPairs(&x, t, from: i)
                x.storeObject(1, slot: slot, type: .hash, t)
            } else {
                let ed = ed
                x.storeCompact(1, slot: slot, type: .hash, length: ed.payloadLength) { ed.write(to: $0) }
            }
            return created
        }
    }

    /// One field into a compact hash or a new key (`e` nil), converting
    /// when Redis would: a field or value over hash-max-listpack-value, or
    /// more than hash-max-listpack-entries fields after the set. True when
    static func setOne(_ x: inout Exec, _ e: Entry?, _ slot: Int, _ f: UnsafePointer<UInt8>, _ fn: Int,
                       _ v: UnsafePointer<UInt8>, _ vn: Int) -> Bool {
        let vmax = EncodingLimits.hashValue, emax = EncodingLimits.hashEntries
        let long = fn > vmax || vn > vmax
        guard let e else {
            if long || emax < 1 {
                let t = HashValue(capacity: 1)
                _ = t.set(f, fn, v, vn)
                x.storeObject(1, slot: -1, type: .hash, t)
            } else {
                x.storeCompact(1, slot: -1, type: .hash,
                               length: CompactHash.lengthOfOne(fieldLength: fn, valueLength: vn)) {
                    CompactHash.writeOne(f, fn, v, vn, to: $0)
                }
            }
            return true
        }
        let c = CompactHash(e)
        let hit = c.find(f, fn)
        let after = hit == nil ? c.count + 1 : c.count
        if long || after > emax {
            let t = HashValue(c)
            let created = t.set(f, fn, v, vn)
            x.storeObject(1, slot: slot, type: .hash, t)
            return created
        }
        if let hit {
            if hit.value.count == vn {
                c.overwriteValue(hit, v, vn)
                x.modified(1)
            } else {
                x.storeCompact(1, slot: slot, type: .hash, length: c.lengthReplacing(hit, valueLength: vn)) {
                    c.writeReplacing(hit, v, vn, to: $0)
                }
            }
            return false
        }
        x.storeCompact(1, slot: slot, type: .hash, length: c.lengthAppending(fieldLength: fn, valueLength: vn)) {
            c.writeAppending(f, fn, v, vn, to: $0)
        }
        return true
    }

    // MARK: HDEL

    /// Deletes fields; the key goes when its last field does.
    static func hdel(_ x: inout Exec) {
        let e: Entry, slot: Int
        switch x.find(1, .hash, read: false) {
        case .missing: return x.reply.int(0)
        case .wrongType: return
        case .found(let f, let s): e = f; slot = s
        }
        var deleted = 0
        if e.payload == .object {
            let t = e.objectRef(HashValue.self)
            for i in 2..<x.argc {
                let f = x[i]
                if t.delete(f.ptr, f.count) {
                    deleted += 1
                    if t.count == 0 {
                        x.deleteKey(1, slot: slot)
                        x.changed(deleted)
                        hdelNotify(&x, removed: true)
                        return x.reply.int(deleted)
                    }
                }
            }
            if deleted > 0 {
                x.modified(1)
                hdelNotify(&x, removed: false)
            }
            x.changed(deleted)
            return x.reply.int(deleted)
        }
        let c = CompactHash(e)
        if x.argc == 3 {
            let f = x[2]
            guard let hit = c.find(f.ptr, f.count) else { return x.reply.int(0) }
            if c.count == 1 {
                x.deleteKey(1, slot: slot)
            } else {
                x.storeCompact(1, slot: slot, type: .hash, length: c.lengthRemoving(hit)) { c.writeRemoving(hit, to: $0) }
            }
            hdelNotify(&x, removed: c.count == 1)
            return x.reply.int(1)
        }
        let capacity = max(c.payload.elementBytes, 16)
        withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { buf in
            var ed = CompactHashEditor(buffer: buf.baseAddress!, capacity: capacity, copying: c)
            for i in 2..<x.argc {
                let f = x[i]
                if ed.delete(f.ptr, f.count) {
                    deleted += 1
                    if ed.count == 0 { break }
                }
            }
            if ed.count == 0 {
                x.deleteKey(1, slot: slot)
            } else if deleted > 0 {
                let ed = ed
                x.storeCompact(1, slot: slot, type: .hash, length: ed.payloadLength) { ed.write(to: $0) }
            }
            if deleted > 0 { hdelNotify(&x, removed: ed.count == 0) }
        }
        x.changed(deleted)
        x.reply.int(deleted)
    }

    @inline(__always) static func hdelNotify(_ x: inout Exec, removed: Bool) {
        x.notify(.hash, "hdel", 1)
        if removed { x.notify(.generic, "del", 1) }
    }

    // MARK: HINCRBY / HINCRBYFLOAT

    static func hincrby(_ x: inout Exec) {
        let a = x[3]
        guard let incr = parseStrictInt(a.ptr, a.count) else { return x.error(Err.notInteger) }
        guard let (e, slot) = writeTarget(&x) else { return }
        let f = x[2]
        var old = 0
        if let e, let v = HashRef(e).get(f.ptr, f.count) {
            guard let n = parseStrictInt(v.baseAddress ?? UnsafePointer(bitPattern: 1)!, v.count) else {
                return x.error("ERR hash value is not an integer")
            }
            old = n
        }
        let (sum, overflow) = old.addingReportingOverflow(incr)
        if overflow { return x.error(Err.overflow) }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatDecimal(sum, into: p)
            setValue(&x, e, slot, f, UnsafePointer(p), n)
        }
        x.notify(.hash, "hincrby", 1)
        x.reply.int(sum)
    }

    static func hincrbyfloat(_ x: inout Exec) {
        let a = x[3]
        guard let incr = parseRedisLongDouble(a.ptr, a.count) else { return x.error(Err.notFloat) }
        if incr.isNaN || incr.isInfinite { return x.error("ERR value is NaN or Infinity") }
        guard let (e, slot) = writeTarget(&x) else { return }
        let f = x[2]
        var value: Float80 = 0
        if let e, let v = HashRef(e).get(f.ptr, f.count) {
            guard let n = parseRedisLongDouble(v.baseAddress ?? UnsafePointer(bitPattern: 1)!, v.count) else {
                return x.error("ERR hash value is not a float")
            }
            value = n
        }
        value += incr
        if value.isNaN || value.isInfinite { return x.error("ERR increment would produce NaN or Infinity") }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLongDoubleChars) { buf in
            let p = buf.baseAddress!
            let n = formatRedisLongDouble(value, human: true, into: p, capacity: maxLongDoubleChars)
            setValue(&x, e, slot, f, UnsafePointer(p), n)
            x.notify(.hash, "hincrbyfloat", 1)
            x.reply.bulk(UnsafePointer(p), n)
        }
    }

    /// Stores an HINCRBY* result: hashTypeSet's rules (no argument-length
    /// pre-check, but the field and the new value are checked).
    static func setValue(_ x: inout Exec, _ e: Entry?, _ slot: Int, _ f: Arg, _ v: UnsafePointer<UInt8>, _ n: Int) {
        if let e, e.payload == .object {
            _ = e.objectRef(HashValue.self).set(f.ptr, f.count, v, n)
            x.modified(1)
        } else {
            _ = setOne(&x, e, slot, f.ptr, f.count, v, n)
        }
    }
}
