/// Readers for the blobs older RDB versions stored and Redis 7.0 still
/// loads: the ziplist (hash, zset and list encodings before listpack) and
/// the zipmap (hashes before Redis 2.6). Each entry is checked as Redis's
/// deep validation does; a corrupt blob is refused, never trusted.
public struct ZiplistReader {
    let base: UnsafePointer<UInt8>
    let size: Int
    var pos = 10
    var prevLen = 0
    public let headerCount: Int
    public private(set) var seen = 0

    public init?(_ b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 11, let p = b.baseAddress else { return nil }
        let total = Int(p[0]) | Int(p[1]) << 8 | Int(p[2]) << 16 | Int(p[3]) << 24
        let tail = Int(p[4]) | Int(p[5]) << 8 | Int(p[6]) << 16 | Int(p[7]) << 24
        guard total == b.count, p[b.count - 1] == 0xFF, tail < b.count else { return nil }
        base = p
        size = b.count
        headerCount = Int(p[8]) | Int(p[9]) << 8
    }

    public mutating func next(_ ok: inout Bool) -> PackedElement? {
        guard ok else { return nil }
        let end = size - 1
        if pos == end {
            if headerCount != 65535 && headerCount != seen { ok = false }
            return nil
        }
        let start = pos
        var p = pos
        func fail() -> PackedElement? { ok = false; return nil }
        guard p < end else { return fail() }
        // prevlen: the previous entry's length, 1 byte or 0xFE + 4 bytes.
        var prev = 0
        if base[p] < 254 {
            prev = Int(base[p]); p += 1
        } else if base[p] == 254 {
            guard p + 5 <= end else { return fail() }
            prev = Int(base[p + 1]) | Int(base[p + 2]) << 8 | Int(base[p + 3]) << 16 | Int(base[p + 4]) << 24
            p += 5
        } else { return fail() }
        guard prev == prevLen, p < end else { return fail() }
        let enc = base[p]
        var elem: PackedElement
        func le(_ off: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(base[off + i]) << (8 * UInt64(i)) }
            return v
        }
        func signed(_ v: UInt64, _ bits: Int) -> Int {
            let shift = UInt64(64 - bits)
            return Int(Int64(bitPattern: v << shift) >> Int64(shift))
        }
        if enc < 0xC0 {
            var n = 0, h = 0
            switch enc >> 6 {
            case 0: n = Int(enc & 0x3F); h = 1
            case 1:
                guard p + 2 <= end else { return fail() }
                n = Int(enc & 0x3F) << 8 | Int(base[p + 1]); h = 2
            default:
                guard p + 5 <= end else { return fail() }
                n = Int(base[p + 1]) << 24 | Int(base[p + 2]) << 16 | Int(base[p + 3]) << 8 | Int(base[p + 4]); h = 5
            }
            guard n <= end - p - h else { return fail() }
            elem = .bytes(UnsafeBufferPointer(start: base + p + h, count: n))
            p += h + n
        } else {
            var w = 0
            switch enc {
            case 0xC0: w = 2
            case 0xD0: w = 4
            case 0xE0: w = 8
            case 0xF0: w = 3
            case 0xFE: w = 1
            case 0xF1...0xFD: w = 0
            default: return fail()
            }
            guard p + 1 + w <= end else { return fail() }
            elem = w == 0 ? .int(Int(enc & 0x0F) - 1) : .int(signed(le(p + 1, w), w * 8))
            p += 1 + w
        }
        prevLen = p - start
        pos = p
        seen += 1
        return elem
    }
}

/// A zipmap: [count byte] then [klen][key][vlen][free][value][free bytes]
/// per pair, lengths 1 byte (< 254) or 254 + 4 bytes, then 0xFF.
public struct ZipmapReader {
    let base: UnsafePointer<UInt8>
    let size: Int
    var pos = 1

    public init?(_ b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 2, let p = b.baseAddress, p[b.count - 1] == 0xFF else { return nil }
        base = p
        size = b.count
    }

    private mutating func len(_ ok: inout Bool) -> Int {
        guard pos < size - 1 else { ok = false; return 0 }
        let b = base[pos]
        if b < 254 { pos += 1; return Int(b) }
        guard b == 254, pos + 5 <= size - 1 else { ok = false; return 0 }
        let v = Int(base[pos + 1]) | Int(base[pos + 2]) << 8 | Int(base[pos + 3]) << 16 | Int(base[pos + 4]) << 24
        pos += 5
        return v
    }

    public mutating func next(_ ok: inout Bool) -> (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)? {
        guard ok else { return nil }
        if pos == size - 1 { return nil }
        let kl = len(&ok)
        guard ok, kl <= size - 1 - pos else { ok = false; return nil }
        let k = UnsafeBufferPointer(start: base + pos, count: kl)
        pos += kl
        let vl = len(&ok)
        guard ok, pos < size - 1 else { ok = false; return nil }
        let free = Int(base[pos])
        pos += 1
        guard vl <= size - 1 - pos, free <= size - 1 - pos - vl else { ok = false; return nil }
        let v = UnsafeBufferPointer(start: base + pos, count: vl)
        pos += vl + free
        return (k, v)
    }
}
