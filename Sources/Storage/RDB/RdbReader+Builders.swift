import RESP
#if canImport(Glibc)
import Glibc
#endif

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

    /// Loading failed part-way: frees the run (a table is released with the builder).
    mutating func abandon() { packed.free() }

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
