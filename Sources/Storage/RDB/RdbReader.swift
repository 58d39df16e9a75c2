import RESP
#if canImport(Glibc)
import Glibc
#endif

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
            // A body cut short: what was read so far is freed, not leaked.
            guard let f = string(), let v = string() else { hb.abandon(); return nil }
            if f.count > limit || v.count > limit { hb.convert() }
            let ok = f.withUnsafeBufferPointer { fb in v.withUnsafeBufferPointer { vb in hb.add(fb, vb) } }
            if !ok { return nil }
        }
        return hb.finish()
    }
}
