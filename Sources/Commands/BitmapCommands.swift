import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Bitmaps on string values (Redis 7.0's bitops.c): SETBIT, GETBIT,
/// BITCOUNT, BITPOS, BITOP; BITFIELD and BITFIELD_RO in `+Bitfield`.
/// An int-encoded string reads as its decimal bytes; a write makes it raw.
public enum BitmapCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("setbit", arity: 4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Sets or clears the bit at offset in the string value stored at key",
                    since: "2.2.0", acl: ["@bitmap"], handler: setbit),
        CommandSpec("getbit", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Returns the bit value at offset in the string value stored at key",
                    since: "2.2.0", acl: ["@bitmap"], handler: getbit),
        CommandSpec("bitcount", arity: -2, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Count set bits in a string", since: "2.6.0", acl: ["@bitmap"],
                    handler: bitcount),
        CommandSpec("bitpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Find first bit set or clear in a string", since: "2.8.7",
                    acl: ["@bitmap"], handler: bitpos),
        CommandSpec("bitop", arity: -4, flags: [.write, .denyoom], keys: (2, -1, 1), route: .colocated,
                    group: "bitmap", summary: "Perform bitwise operations between strings", since: "2.6.0",
                    acl: ["@bitmap"], handler: bitop),
        CommandSpec("bitfield", arity: -2, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Perform arbitrary bitfield integer operations on strings",
                    since: "3.2.0", acl: ["@bitmap"], handler: bitfield),
        CommandSpec("bitfield_ro", arity: -2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "bitmap", summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
                    since: "6.0.0", acl: ["@bitmap"], handler: bitfieldRO),
    ]

    static let offsetError: StaticString = "ERR bit offset is not an integer or out of range"

    /// Redis's getBitOffsetFromArgument: a bit offset whose byte is under
    /// proto-max-bulk-len. With `hashBits` > 0 (BITFIELD) "#N" means N * bits.
    @inline(__always)
    static func bitOffset(_ a: Arg, hashBits: Int = 0) -> Int? {
        var p = a.ptr, n = a.count
        let hash = hashBits > 0 && n > 0 && p[0] == 35
        if hash { p += 1; n -= 1 }
        guard var v = parseStrictInt(p, n) else { return nil }
        // Redis multiplies in C long long: an overflow wraps, then fails the sign test.
        if hash { v = v &* hashBits }
        if v < 0 || (v >> 3) >= StringCommands.protoMaxBulkLen.load(ordering: .relaxed) { return nil }
        return v
    }

    /// Redis's lookupStringForBitCommand on key argument 1: the string made
    /// raw and zero-padded so byte `byte` exists. Returns its bytes, length
    /// and whether it was created or grew (Redis's `dirty`), or nil after
    /// replying WRONGTYPE. The keyspace's mutation counter is left as it
    /// was: the caller bumps it when Redis would signal the key.
    static func stringForWrite(_ x: inout Exec, byte: Int) -> (UnsafeMutablePointer<UInt8>, Int, Bool)? {
        let ks = x.keyspace
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        let need = byte + 1
        let m = ks.mutations
        defer { ks.mutations = m }
        if slot < 0 {
            let k = x[1]
            let e = Entry.makeString(key: k.ptr, keyLen: k.count, value: nil, valueLen: need,
                                     expireAt: -1, lru: x.lru, tryInt: false)
            e.isRawString = true
            let dst = UnsafeMutablePointer(mutating: e.bytes.baseAddress!)
            dst.initialize(repeating: 0, count: need)
            ks.put(e, at: -1, hash: h)
            return (dst, need, true)
        }
        let e = ks.entry(at: slot)
        guard e.type == .string else {
            x.error(Err.wrongType)
            return nil
        }
        let olen = e.stringLength
        if e.payload == .bytes && need <= olen {
            e.isRawString = true
            return (UnsafeMutablePointer(mutating: e.bytes.baseAddress!), olen, false)
        }
        let len = max(olen, need)
        let dst = StringCommands.makeRaw(&x, slot: slot, hash: h, newLen: len)
        if len > olen { (dst + olen).initialize(repeating: 0, count: len - olen) }
        return (dst, len, len != olen)
    }

    // MARK: SETBIT / GETBIT

    /// SETBIT key offset value: replies the bit's old value.
    static func setbit(_ x: inout Exec) {
        guard let offset = bitOffset(x[2]) else { return x.error(offsetError) }
        let a3 = x[3]
        guard let on = parseStrictInt(a3.ptr, a3.count), on & ~1 == 0 else {
            return x.error("ERR bit is not an integer or out of range")
        }
        guard let (p, _, dirty) = stringForWrite(&x, byte: offset >> 3) else { return }
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        let byte = p[offset >> 3]
        let old = byte & mask != 0
        if dirty || old != (on == 1) {
            p[offset >> 3] = on == 1 ? byte | mask : byte & ~mask
            x.keyspace.mutations &+= 1
            x.notify(.string, "setbit", 1)
        }
        x.reply.int(old ? 1 : 0)
    }

    static func getbit(_ x: inout Exec) {
        guard let offset = bitOffset(x[2]) else { return x.error(offsetError) }
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.int(0) }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        let bit = e.withStringBytes { b -> Bool in
            offset >> 3 < b.count && Bitmap.getBit(b.baseAddress!, offset)
        }
        x.reply.int(bit ? 1 : 0)
    }

    // MARK: BITCOUNT / BITPOS

    /// A parsed [start end [BYTE|BIT]] range over a string of `len` bytes,
    /// as byte bounds plus masks of the bits outside it in the edge bytes.
    struct BitRange {
        var start = 0
        var end = 0
        var firstMask: UInt8 = 0
        var lastMask: UInt8 = 0

        /// Redis's conversion: negative indexes from the end, clamped; in
        /// BIT units the edges become byte indexes and masks.
        init(start s: Int, end e: Int, len: Int, bit: Bool) {
            let total = bit ? len << 3 : len
            var s = s, e = e
            if s < 0 { s = total &+ s }
            if e < 0 { e = total &+ e }
            if s < 0 { s = 0 }
            if e < 0 { e = 0 }
            if e >= total { e = total - 1 }
            if bit && s <= e {
                firstMask = ~UInt8(truncatingIfNeeded: (1 << (8 - (s & 7))) - 1)
                lastMask = UInt8(truncatingIfNeeded: (1 << (7 - (e & 7))) - 1)
                s >>= 3
                e >>= 3
            }
            start = s
            end = e
        }
    }

    /// BITCOUNT key [start end [BYTE|BIT]]
    static func bitcount(_ x: inout Exec) {
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.int(0) }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        var start = 0, end = 0
        var isBit = false
        if x.argc == 4 || x.argc == 5 {
            guard let a = parseStrictInt(x[2].ptr, x[2].count), let b = parseStrictInt(x[3].ptr, x[3].count) else {
                return x.error(Err.notInteger)
            }
            if a < 0 && b < 0 && a > b { return x.reply.int(0) }
            if x.argc == 5 {
                if x[4].equalsLower("bit") { isBit = true } else if !x[4].equalsLower("byte") {
                    return x.error(Err.syntax)
                }
            }
            start = a
            end = b
        } else if x.argc != 2 {
            return x.error(Err.syntax)
        }
        let all = x.argc == 2
        let n = e.withStringBytes { str -> Int in
            let len = str.count
            let r = all ? BitRange(start: 0, end: len - 1, len: len, bit: false)
                        : BitRange(start: start, end: end, len: len, bit: isBit)
            if r.start > r.end { return 0 }
            let p = str.baseAddress!
            var c = Bitmap.popcount(p + r.start, r.end - r.start + 1)
            // Bits of the edge bytes outside a BIT range are taken back out.
            c -= (p[r.start] & r.firstMask).nonzeroBitCount
            c -= (p[r.end] & r.lastMask).nonzeroBitCount
            return c
        }
        x.reply.int(n)
    }

    /// BITPOS key bit [start [end [BYTE|BIT]]]
    static func bitpos(_ x: inout Exec) {
        guard let bit = parseStrictInt(x[2].ptr, x[2].count) else { return x.error(Err.notInteger) }
        if bit != 0 && bit != 1 { return x.error("ERR The bit argument must be 1 or 0.") }
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.int(bit == 1 ? -1 : 0) }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        let argc = x.argc
        var start = 0, end = 0
        var isBit = false, endGiven = false
        if argc >= 4 && argc <= 6 {
            guard let a = parseStrictInt(x[3].ptr, x[3].count) else { return x.error(Err.notInteger) }
            start = a
            if argc == 6 {
                if x[5].equalsLower("bit") { isBit = true } else if !x[5].equalsLower("byte") {
                    return x.error(Err.syntax)
                }
            }
            if argc >= 5 {
                guard let b = parseStrictInt(x[4].ptr, x[4].count) else { return x.error(Err.notInteger) }
                end = b
                endGiven = true
            }
        } else if argc != 3 {
            return x.error(Err.syntax)
        }
        let pos = e.withStringBytes { str -> Int in
            let len = str.count
            let r: BitRange
            if argc == 3 {
                r = BitRange(start: 0, end: len - 1, len: len, bit: false)
            } else {
                let e = endGiven ? end : (isBit ? (len << 3) + 7 : len - 1)
                r = BitRange(start: start, end: e, len: len, bit: isBit)
            }
            if r.start > r.end { return -1 }
            return position(str.baseAddress!, r, bit: bit, endGiven: endGiven)
        }
        x.reply.int(pos)
    }

    /// BITPOS over a non-empty range: the edge bytes of a BIT range are
    /// searched with the bits outside the range forced to the other value,
    /// in the same steps as Redis, so the "not found" answers agree.
    static func position(_ p: UnsafePointer<UInt8>, _ r: BitRange, bit: Int, endGiven: Bool) -> Int {
        var start = r.start
        var bytes = r.end - r.start + 1
        var pos = -1
        func edge(_ b: UInt8, _ mask: UInt8) -> UInt8 { bit == 1 ? b & ~mask : b | mask }
        search: do {
            if r.firstMask != 0 {
                var t = edge(p[start], r.firstMask)
                if r.lastMask != 0 && bytes == 1 { t = edge(t, r.lastMask) }
                pos = withUnsafePointer(to: &t) { Bitmap.firstBit($0, 1, bit) }
                if bytes == 1 || (pos != -1 && pos != 8) { break search }
                start += 1
                bytes -= 1
            }
            let cur = bytes - (r.lastMask != 0 ? 1 : 0)
            if cur > 0 {
                pos = Bitmap.firstBit(p + start, cur, bit)
                if bytes == cur || (pos != -1 && pos != cur << 3) { break search }
                start += cur
                bytes -= cur
            }
            var t = edge(p[r.end], r.lastMask)
            pos = withUnsafePointer(to: &t) { Bitmap.firstBit($0, 1, bit) }
        }
        // With an explicit end, a range of all ones has no clear bit: the
        // padding past it does not count.
        if endGiven && bit == 0 && pos == bytes << 3 { return -1 }
        return pos != -1 ? pos + (start << 3) : -1
    }

    // MARK: BITOP

    /// BITOP AND|OR|XOR|NOT destkey key [key ...]: `.colocated`, so every
    /// key is reached through the CollectionAccess helpers.
    static func bitop(_ x: inout Exec) {
        let name = x[1]
        let op: Combine
        if name.equalsLower("and") { op = .and }
        else if name.equalsLower("or") { op = .or }
        else if name.equalsLower("xor") { op = .xor }
        else if name.equalsLower("not") { op = .not }
        else { return x.error(Err.syntax) }
        if op == .not && x.argc != 4 { return x.error("ERR BITOP NOT must be called with a single source key.") }

        // Every source is type-checked before anything is written.
        var maxLen = 0
        var i = 3
        while i < x.argc {
            if let (e, _) = x.findAny(i, read: true) {
                guard e.type == .string else { return x.error(Err.wrongType) }
                maxLen = max(maxLen, e.stringLength)
            }
            i += 1
        }
        let dstKs = x.keyspace(of: 2)
        let d = x[2]
        let dh = hashBytes(d.ptr, d.count)
        if maxLen == 0 {
            if let (_, s) = x.findAny(2, read: false) {
                dstKs.remove(at: s)
                x.notify(.generic, "del", 2)
            }
            return x.reply.int(0)
        }
        // The result is built in its own entry before the destination is
        // replaced: the destination may also be a source.
        let out = Entry.makeString(key: d.ptr, keyLen: d.count, value: nil, valueLen: maxLen,
                                   expireAt: -1, lru: x.lru, tryInt: false)
        out.isRawString = true
        let res = UnsafeMutablePointer(mutating: out.bytes.baseAddress!)
        res.initialize(repeating: 0, count: maxLen)
        i = 3
        while i < x.argc {
            let first = i == 3
            if let (e, _) = x.findAny(i, read: false) {
                e.withStringBytes { src in
                    combine(res, maxLen, src.baseAddress!, src.count, first ? .copy : op)
                }
            } else if !first && op == .and {
                res.update(repeating: 0, count: maxLen)
            }
            i += 1
        }
        if op == .not {
            var j = 0
            let raw = UnsafeMutableRawPointer(res)
            while j + 8 <= maxLen {
                raw.storeBytes(of: ~raw.loadUnaligned(fromByteOffset: j, as: UInt64.self), toByteOffset: j, as: UInt64.self)
                j += 8
            }
            while j < maxLen { res[j] = ~res[j]; j += 1 }
        }
        let slot = x.findAny(2, read: false)?.slot ?? -1
        dstKs.put(out, at: slot, hash: dh)
        x.notify(.string, "set", 2)
        x.reply.int(maxLen)
    }

    /// NOT copies its one source, then inverts the result.
    enum Combine { case copy, and, or, xor, not }

    /// res[0..<n] op= src, with src read as zero past its `m` bytes.
    static func combine(_ res: UnsafeMutablePointer<UInt8>, _ n: Int, _ src: UnsafePointer<UInt8>, _ m: Int,
                        _ k: Combine) {
        let r = UnsafeMutableRawPointer(res)
        let s = UnsafeRawPointer(src)
        var j = 0
        switch k {
        case .copy, .not:
            r.copyMemory(from: s, byteCount: m)
        case .and:
            while j + 8 <= m {
                r.storeBytes(of: r.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                             & s.loadUnaligned(fromByteOffset: j, as: UInt64.self), toByteOffset: j, as: UInt64.self)
                j += 8
            }
            while j < m { res[j] &= src[j]; j += 1 }
            if m < n { (res + m).update(repeating: 0, count: n - m) }
        case .or:
            while j + 8 <= m {
                r.storeBytes(of: r.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                             | s.loadUnaligned(fromByteOffset: j, as: UInt64.self), toByteOffset: j, as: UInt64.self)
                j += 8
            }
            while j < m { res[j] |= src[j]; j += 1 }
        case .xor:
            while j + 8 <= m {
                r.storeBytes(of: r.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                             ^ s.loadUnaligned(fromByteOffset: j, as: UInt64.self), toByteOffset: j, as: UInt64.self)
                j += 8
            }
            while j < m { res[j] ^= src[j]; j += 1 }
        }
    }
}
