import RESP
#if canImport(Glibc)
import Glibc
#endif

/// A value read from RDB, in the encoding RingKV keeps for it under the
/// current thresholds, not yet attached to a key.
public enum LoadedValue {
    case string([UInt8])
    /// A compact collection's inline payload (intset, listpack hash/zset).
    case compact(ValueType, [UInt8])
    case object(ValueType, ValueObject)

    public var type: ValueType {
        switch self {
        case .string: return .string
        case .compact(let t, _), .object(let t, _): return t
        }
    }

    /// The entry for `key`; the caller owns it.
    public func makeEntry(key: UnsafePointer<UInt8>, keyLen: Int, expireAt: Int64, lru: UInt32) -> Entry {
        switch self {
        case .string(let b):
            return b.withUnsafeBufferPointer {
                Entry.makeString(key: key, keyLen: keyLen, value: $0.baseAddress, valueLen: $0.count,
                                 expireAt: expireAt, lru: lru)
            }
        case .compact(let t, let p):
            let (e, off) = Entry.makeCompact(type: t, key: key, keyLen: keyLen, length: p.count, expireAt: expireAt, lru: lru)
            p.withUnsafeBytes { if $0.count > 0 { (e.raw + off).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            return e
        case .object(let t, let o):
            return Entry.makeObject(type: t, key: key, keyLen: keyLen, object: o, expireAt: expireAt, lru: lru)
        }
    }
}

/// Reads RDB values as Redis 7.0's rdbLoadObject does, from every encoding
/// it loads (RDB 10 and the older ones), validating as its deep sanitizer
/// does: any inconsistency is nil (RESTORE's "Bad data format"), never a
/// trap, and no allocation is sized by a length before its bytes exist.
public struct RdbReader {
    public let base: UnsafePointer<UInt8>
    public let end: Int
    public var pos: Int

    public init(_ b: UnsafeBufferPointer<UInt8>, from: Int = 0) {
        base = b.baseAddress ?? UnsafePointer(bitPattern: 8)!
        end = b.count
        pos = from
    }

    public var remaining: Int { end - pos }

    public mutating func byte() -> UInt8? {
        guard pos < end else { return nil }
        pos += 1
        return base[pos - 1]
    }

    /// rdbLoadLenByRef: the length and whether it is a special encoding.
    public mutating func lengthOrEncoding() -> (Int, encoded: Bool)? {
        guard let b = byte() else { return nil }
        switch b >> 6 {
        case 0: return (Int(b & 0x3F), false)
        case 1:
            guard let c = byte() else { return nil }
            return (Int(b & 0x3F) << 8 | Int(c), false)
        case 2:
            let n: Int
            if b == 0x80 { n = 4 } else if b == 0x81 { n = 8 } else { return nil }
            guard remaining >= n else { return nil }
            var v: UInt64 = 0
            for _ in 0..<n { v = v << 8 | UInt64(base[pos]); pos += 1 }
            guard v <= UInt64(Int.max) else { return nil }
            return (Int(v), false)
        default:
            return (Int(b & 0x3F), true)
        }
    }

    public mutating func length() -> Int? {
        guard let (n, enc) = lengthOrEncoding(), !enc else { return nil }
        return n
    }

    /// rdbGenericLoadStringObject: plain, integer-encoded or LZF.
    public mutating func string() -> [UInt8]? {
        guard let (n, enc) = lengthOrEncoding() else { return nil }
        if enc {
            func le(_ k: Int) -> Int? {
                guard remaining >= k else { return nil }
                var v: UInt64 = 0
                for i in 0..<k { v |= UInt64(base[pos + i]) << (8 * UInt64(i)) }
                pos += k
                let shift = UInt64(64 - 8 * k)
                return Int(Int64(bitPattern: v << shift) >> Int64(shift))
            }
            switch n {
            case 0, 1, 2:
                guard let v = le(1 << n) else { return nil }
                return withDecimal(v) { Array(UnsafeBufferPointer(start: $0, count: $1)) }
            case 3:
                guard let clen = length(), let ulen = length(), clen <= remaining else { return nil }
                let raw = UnsafeRawBufferPointer(start: base + pos, count: clen)
                pos += clen
                return lzfDecompress(raw, outLen: ulen)
            default:
                return nil
            }
        }
        guard n <= remaining else { return nil }
        pos += n
        return Array(UnsafeBufferPointer(start: base + pos - n, count: n))
    }

    public mutating func binaryDouble() -> Double? {
        guard remaining >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(base[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return Double(bitPattern: v)
    }

    /// rdbLoadDoubleValue (RDB_TYPE_ZSET): a length byte, 253/254/255 for
    /// nan/inf/-inf, else the number as text.
    public mutating func textDouble() -> Double? {
        guard let n = byte() else { return nil }
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            guard remaining >= Int(n) else { return nil }
            pos += Int(n)
            return Rdb.parseDouble(UnsafeBufferPointer(start: base + pos - Int(n), count: Int(n)))
        }
    }

    /// A value of RDB type `t`; nil when the bytes are not a valid value
    /// (or hold a type RingKV cannot load yet).
    public mutating func value(type t: UInt8) -> LoadedValue? {
        switch t {
        case Rdb.typeString:
            return string().map { .string($0) }
        case Rdb.typeList:
            guard let n = length(), n > 0 else { return nil }
            let l = ListValue()
            for _ in 0..<n {
                guard let s = string() else { return nil }
                s.withUnsafeBufferPointer { l.pushBack($0) }
            }
            return .object(.list, l)
        case Rdb.typeListQuicklist, Rdb.typeListQuicklist2:
            return quicklist(v2: t == Rdb.typeListQuicklist2)
        case Rdb.typeListZiplist:
            guard let blob = string() else { return nil }
            let l = ListValue()
            let ok = blob.withUnsafeBufferPointer { b -> Bool in
                guard var r = ZiplistReader(b) else { return false }
                var ok = true
                while let e = r.next(&ok) { e.withBytes { l.pushBack($0) } }
                return ok
            }
            return ok && l.count > 0 ? .object(.list, l) : nil
        case Rdb.typeSet:
            return plainSet()
        case Rdb.typeSetIntset:
            guard let blob = string() else { return nil }
            return Rdb.loadIntset(blob)
        case Rdb.typeZSet, Rdb.typeZSet2:
            return plainZSet(binary: t == Rdb.typeZSet2)
        case Rdb.typeZSetZiplist, Rdb.typeZSetListpack:
            guard let blob = string() else { return nil }
            return blob.withUnsafeBufferPointer { b -> LoadedValue? in
                guard let pairs = Rdb.pairs(b, listpack: t == Rdb.typeZSetListpack) else { return nil }
                var members: [([UInt8], Double)] = []
                members.reserveCapacity(pairs.count)
                for (m, s) in pairs {
                    let score: Double
                    switch s {
                    case .int(let v): score = Double(v)
                    case .bytes(let sb): guard let d = Rdb.parseDouble(sb) else { return nil }; score = d
                    }
                    members.append((m.withBytes { Array($0) }, score))
                }
                if members.isEmpty { return nil }
                if members.count > EncodingLimits.zsetEntries { return Rdb.skiplistZSet(members) }
                return Rdb.compactZSet(members)
            }
        case Rdb.typeHash:
            return plainHash()
        case Rdb.typeHashZiplist, Rdb.typeHashListpack:
            guard let blob = string() else { return nil }
            return blob.withUnsafeBufferPointer { b -> LoadedValue? in
                guard let pairs = Rdb.pairs(b, listpack: t == Rdb.typeHashListpack), !pairs.isEmpty else { return nil }
                var hb = HashBuilder(compact: pairs.count <= EncodingLimits.hashEntries)
                for (f, v) in pairs {
                    let ok = f.withBytes { fb in v.withBytes { vb in hb.add(fb, vb) } }
                    if !ok { return nil }
                }
                return hb.finish()
            }
        case Rdb.typeHashZipmap:
            guard let blob = string() else { return nil }
            return blob.withUnsafeBufferPointer { b -> LoadedValue? in
                guard var r = ZipmapReader(b) else { return nil }
                var ok = true
                var pairs: [(UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)] = []
                var maxLen = 0
                while let (k, v) = r.next(&ok) {
                    pairs.append((k, v))
                    maxLen = max(maxLen, k.count, v.count)
                }
                guard ok, !pairs.isEmpty else { return nil }
                var hb = HashBuilder(compact: pairs.count <= EncodingLimits.hashEntries && maxLen <= EncodingLimits.hashValue)
                for (k, v) in pairs where !hb.add(k, v) { return nil }
                return hb.finish()
            }
        case Rdb.typeStreamListpacks, Rdb.typeStreamListpacks2:
            return stream(v2: t == Rdb.typeStreamListpacks2)
        default:
            return nil
        }
    }

    mutating func quicklist(v2: Bool) -> LoadedValue? {
        guard let n = length(), n > 0 else { return nil }
        let l = ListValue()
        for _ in 0..<n {
            var container = 2
            if v2 {
                guard let c = length(), c == 1 || c == 2 else { return nil }
                container = c
            }
            guard let data = string(), !data.isEmpty else { return nil }
            if container == 1 {
                data.withUnsafeBufferPointer { l.pushBack($0) }
                continue
            }
            let ok = data.withUnsafeBufferPointer { b -> Bool in
                var ok = true
                if v2 {
                    guard var r = ListpackReader(b) else { return false }
                    while let e = r.next(&ok) { e.withBytes { l.pushBack($0) } }
                } else {
                    guard var r = ZiplistReader(b) else { return false }
                    while let e = r.next(&ok) { e.withBytes { l.pushBack($0) } }
                }
                return ok
            }
            if !ok { return nil }
        }
        return l.count > 0 ? .object(.list, l) : nil
    }

    mutating func plainSet() -> LoadedValue? {
        guard let n = length(), n > 0 else { return nil }
        let maxIntset = min(EncodingLimits.intsetEntries, 1 << 30)
        var ints: [Int] = []
        var seen = Set<Int>()
        var obj: SetValue? = n > maxIntset ? SetValue() : nil
        for _ in 0..<n {
            guard let s = string() else { return nil }
            let added = s.withUnsafeBufferPointer { b -> Bool in
                if obj == nil {
                    if b.count > 0, let v = parseStrictInt(b.baseAddress!, b.count) {
                        if !seen.insert(v).inserted { return false }
                        ints.append(v)
                        return true
                    }
                    let o = SetValue()
                    for v in ints { _ = o.add(int: v) }
                    obj = o
                }
                return obj!.add(Rdb.ptr(b), b.count)
            }
            if !added { return nil }
        }
        if let o = obj { return .object(.set, o) }
        ints.sort()
        let w = ints.withUnsafeBufferPointer { IntSet.width(ofSorted: $0) }
        var payload = [UInt8](repeating: 0, count: IntSet.size(count: ints.count, width: w))
        payload.withUnsafeMutableBytes { p in ints.withUnsafeBufferPointer { IntSet.write($0, width: w, into: p.baseAddress!) } }
        return .compact(.set, payload)
    }

    mutating func plainZSet(binary: Bool) -> LoadedValue? {
        guard let n = length(), n > 0 else { return nil }
        var members: [([UInt8], Double)] = []
        var maxLen = 0
        for _ in 0..<n {
            guard let m = string(), let score = binary ? binaryDouble() : textDouble(), !score.isNaN else { return nil }
            maxLen = max(maxLen, m.count)
            members.append((m, score))
        }
        if members.count <= EncodingLimits.zsetEntries && maxLen <= EncodingLimits.zsetValue {
            return Rdb.compactZSet(members)
        }
        return Rdb.skiplistZSet(members)
    }

    mutating func plainHash() -> LoadedValue? {
        guard let n = length(), n > 0 else { return nil }
        var hb = HashBuilder(compact: n <= EncodingLimits.hashEntries)
        let limit = EncodingLimits.hashValue
        for _ in 0..<n {
            guard let f = string(), let v = string() else { return nil }
            if f.count > limit || v.count > limit { hb.convert() }
            let ok = f.withUnsafeBufferPointer { fb in v.withUnsafeBufferPointer { vb in hb.add(fb, vb) } }
            if !ok { return nil }
        }
        return hb.finish()
    }
}

/// Collects a hash's pairs: in order as a compact payload while it stays
/// compact, in a table once it is not (or once it is big enough that the
/// duplicate check wants one).
struct HashBuilder {
    var compact: Bool
    var table: HashValue?
    var packed = PackedBuffer()
    var fields = 0
    /// Up to this many fields, duplicates are found by walking the run.
    static let scanLimit = 32

    init(compact: Bool) {
        self.compact = compact
        if !compact { table = HashValue() }
    }

    private mutating func ensureTable() {
        guard table == nil else { return }
        let t = HashValue()
        var it = CompactHashPairs(PackedIterator(packed.bytes, from: 0, end: packed.used))
        while let (f, v) = it.next() { _ = t.set(Rdb.ptr(f), f.count, Rdb.ptr(v), v.count) }
        table = t
    }

    mutating func convert() {
        ensureTable()
        compact = false
        packed.free()
    }

    /// False for a duplicate field.
    mutating func add(_ f: UnsafeBufferPointer<UInt8>, _ v: UnsafeBufferPointer<UInt8>) -> Bool {
        if compact && table == nil && fields < HashBuilder.scanLimit {
            if compactHashFind(packed.bytes, from: 0, end: packed.used, Rdb.ptr(f), f.count) != nil {
                packed.free()
                return false
            }
        } else {
            ensureTable()
            guard table!.set(Rdb.ptr(f), f.count, Rdb.ptr(v), v.count) else {
                packed.free()
                return false
            }
        }
        if compact {
            packed.append(f)
            packed.append(v)
        }
        fields += 1
        return true
    }

    mutating func finish() -> LoadedValue? {
        if fields == 0 { packed.free(); return nil }
        guard compact else { return .object(.hash, table!) }
        var payload = [UInt8](repeating: 0, count: compactHashPayloadLength(fields: fields, elementBytes: packed.used))
        payload.withUnsafeMutableBytes { p in
            let off = compactHashWriteHeader(p.baseAddress!, fields: fields)
            if packed.used > 0 { (p.baseAddress! + off).copyMemory(from: packed.bytes, byteCount: packed.used) }
        }
        packed.free()
        return .compact(.hash, payload)
    }
}

extension Rdb {
    /// A non-nil pointer for an element's bytes (an empty one has none).
    @inline(__always) static func ptr(_ b: UnsafeBufferPointer<UInt8>) -> UnsafePointer<UInt8> {
        b.baseAddress ?? UnsafePointer(bitPattern: 8)!
    }

    /// A score as text: the whole of it must be a number (no NaN).
    public static func parseDouble(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard b.count > 0, b.count < 128 else { return nil }
        var buf = [CChar](repeating: 0, count: b.count + 1)
        for i in 0..<b.count {
            if b[i] == 0 || b[i] == 32 || (b[i] >= 9 && b[i] <= 13) { return nil }
            buf[i] = CChar(bitPattern: b[i])
        }
        return buf.withUnsafeMutableBufferPointer { p -> Double? in
            var endp: UnsafeMutablePointer<CChar>? = nil
            let d = strtod(p.baseAddress!, &endp)
            guard endp == p.baseAddress! + b.count, !d.isNaN else { return nil }
            return d
        }
    }

    /// The (first, second) pairs of a listpack or ziplist blob; nil when it
    /// is corrupt or holds an odd number of elements.
    static func pairs(_ b: UnsafeBufferPointer<UInt8>, listpack: Bool) -> [(PackedElement, PackedElement)]? {
        var elems: [PackedElement] = []
        var ok = true
        if listpack {
            guard var r = ListpackReader(b) else { return nil }
            while let e = r.next(&ok) { elems.append(e) }
        } else {
            guard var r = ZiplistReader(b) else { return nil }
            while let e = r.next(&ok) { elems.append(e) }
        }
        guard ok, elems.count % 2 == 0 else { return nil }
        var out: [(PackedElement, PackedElement)] = []
        out.reserveCapacity(elems.count / 2)
        var i = 0
        while i < elems.count {
            out.append((elems[i], elems[i + 1]))
            i += 2
        }
        return out
    }

    /// Redis's intset blob (encoding u32, length u32, ascending values):
    /// kept as an intset at its width, or a table past set-max-intset-entries.
    static func loadIntset(_ blob: [UInt8]) -> LoadedValue? {
        guard blob.count >= 8 else { return nil }
        func le(_ off: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(blob[off + i]) << (8 * UInt64(i)) }
            return v
        }
        let w = Int(le(0, 4))
        let count = Int(le(4, 4))
        guard w == 2 || w == 4 || w == 8, count > 0, 8 + count * w == blob.count else { return nil }
        let shift = UInt64(64 - 8 * w)
        var prev = Int.min
        var values: [Int] = []
        values.reserveCapacity(count)
        for i in 0..<count {
            let v = Int(Int64(bitPattern: le(8 + i * w, w) << shift) >> Int64(shift))
            if i > 0 && v <= prev { return nil }
            prev = v
            values.append(v)
        }
        if count > EncodingLimits.intsetEntries {
            let s = SetValue()
            for v in values { _ = s.add(int: v) }
            return .object(.set, s)
        }
        var payload = [UInt8](repeating: 0, count: 1 + count * w)
        payload[0] = UInt8(w)
        for i in 0..<count * w { payload[1 + i] = blob[8 + i] }
        return .compact(.set, payload)
    }

    /// A skiplist sorted set; nil on a duplicate member.
    static func skiplistZSet(_ members: [([UInt8], Double)]) -> LoadedValue? {
        let z = ZSetValue()
        for (m, score) in members {
            let ok = m.withUnsafeBufferPointer { b -> Bool in
                if z.find(ptr(b), b.count) != nil { return false }
                _ = z.insert(ptr(b), b.count, score: score)
                return true
            }
            if !ok { return nil }
        }
        return .object(.zset, z)
    }

    /// A compact sorted set in (score, member) order; nil on a duplicate member.
    static func compactZSet(_ members: [([UInt8], Double)]) -> LoadedValue? {
        let byMember = members.indices.sorted { members[$0].0.lexicographicallyPrecedes(members[$1].0) }
        for i in byMember.indices.dropFirst() where members[byMember[i]].0 == members[byMember[i - 1]].0 { return nil }
        let ordered = members.sorted { a, b in a.1 < b.1 || (a.1 == b.1 && a.0.lexicographicallyPrecedes(b.0)) }
        var size = packedVarintSize(ordered.count)
        for (m, s) in ordered { size += CompactZSet.pairSize(memberLength: m.count, score: s) }
        var payload = [UInt8](repeating: 0, count: size)
        payload.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            var off = 0
            packedWriteVarint(p, &off, ordered.count)
            for (m, s) in ordered { m.withUnsafeBufferPointer { CompactZSet.writePair(p, &off, $0.baseAddress, $0.count, s) } }
        }
        return .compact(.zset, payload)
    }
}

/// RESTORE's checks on a DUMP payload (verifyDumpPayload): at least 10
/// bytes, an RDB version this server reads, and the CRC64 of the rest.
public func verifyDumpPayload(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard b.count >= 10, let p = b.baseAddress else { return false }
    let footer = b.count - 10
    let ver = UInt16(p[footer]) | UInt16(p[footer + 1]) << 8
    guard ver <= Rdb.version else { return false }
    let crc = crc64(0, UnsafeRawBufferPointer(start: p, count: b.count - 8))
    for i in 0..<8 where p[footer + 2 + i] != UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i))) { return false }
    return true
}

/// The value in a verified DUMP payload, or nil ("Bad data format"). As
/// in Redis the reader is given the whole payload, footer included.
public func loadDumpPayload(_ b: UnsafeBufferPointer<UInt8>) -> LoadedValue? {
    var r = RdbReader(b)
    guard let t = r.byte() else { return nil }
    return r.value(type: t)
}
