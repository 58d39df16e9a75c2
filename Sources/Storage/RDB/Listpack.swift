import RESP

/// Redis 7.0's listpack, the blob behind RDB_TYPE_HASH_LISTPACK,
/// ZSET_LISTPACK and the nodes of LIST_QUICKLIST_2:
///
///     [total bytes u32 LE][element count u16 LE (65535: unknown)]
///     entries... [0xFF]
///
/// An entry is its encoding (7-bit uint; 6/12/32-bit length string;
/// 13/16/24/32/64-bit int) followed by "backlen", the entry's length in
/// 7-bit groups, most significant first, every byte but the first with the
/// high bit set, so the list can be walked backwards.
public struct ListpackWriter {
    public private(set) var bytes: [UInt8]
    public private(set) var count = 0

    public init(capacity: Int = 64) {
        bytes = [0, 0, 0, 0, 0, 0]
        bytes.reserveCapacity(capacity)
    }

    /// Bytes the finished listpack takes (with its end byte).
    public var size: Int { bytes.count + 1 }

    /// Bytes an element takes as a listpack entry, backlen included.
    public static func entrySize(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int {
        if let p = p, n > 0, let v = parseStrictInt(p, n) { return intEntrySize(v) }
        let enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n
        return enc + backlenSize(enc)
    }

    public static func intEntrySize(_ v: Int) -> Int {
        let enc: Int
        switch v {
        case 0...127: enc = 1
        case -4096...4095: enc = 2
        case -32768...32767: enc = 3
        case -8388608...8388607: enc = 4
        case -2147483648...2147483647: enc = 5
        default: enc = 9
        }
        return enc + 1   // backlen of 9 bytes or fewer is one byte
    }

    @inline(__always) static func backlenSize(_ l: Int) -> Int {
        l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5
    }

    /// Appends an element as Redis's lpAppend does: a canonical integer
    /// string is stored as an integer.
    public mutating func append(_ p: UnsafePointer<UInt8>?, _ n: Int) {
        if let p = p, n > 0, let v = parseStrictInt(p, n) { return append(int: v) }
        let start = bytes.count
        if n < 64 {
            bytes.append(0x80 | UInt8(n))
        } else if n < 4096 {
            bytes.append(0xE0 | UInt8(n >> 8))
            bytes.append(UInt8(n & 0xFF))
        } else {
            bytes.append(0xF0)
            appendLE(UInt64(n), 4)
        }
        if n > 0, let p = p { bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n)) }
        appendBacklen(bytes.count - start)
        count += 1
    }

    public mutating func append(_ b: UnsafeBufferPointer<UInt8>) { append(b.baseAddress, b.count) }

    public mutating func append(int v: Int) {
        let start = bytes.count
        switch v {
        case 0...127:
            bytes.append(UInt8(v))
        case -4096...4095:
            let u = v < 0 ? (1 << 13) + v : v
            bytes.append(UInt8(u >> 8) | 0xC0)
            bytes.append(UInt8(u & 0xFF))
        case -32768...32767:
            bytes.append(0xF1)
            appendLE(UInt64(bitPattern: Int64(v)), 2)
        case -8388608...8388607:
            bytes.append(0xF2)
            appendLE(UInt64(bitPattern: Int64(v)), 3)
        case -2147483648...2147483647:
            bytes.append(0xF3)
            appendLE(UInt64(bitPattern: Int64(v)), 4)
        default:
            bytes.append(0xF4)
            appendLE(UInt64(bitPattern: Int64(v)), 8)
        }
        appendBacklen(bytes.count - start)
        count += 1
    }

    private mutating func appendLE(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    private mutating func appendBacklen(_ l: Int) {
        let n = ListpackWriter.backlenSize(l)
        for i in stride(from: n - 1, through: 0, by: -1) {
            let group = UInt8((l >> (7 * i)) & 127)
            bytes.append(i == n - 1 ? group : group | 128)
        }
    }

    /// The finished listpack: end byte, total bytes and count in the header.
    public mutating func finish() -> [UInt8] {
        bytes.append(0xFF)
        let total = UInt32(truncatingIfNeeded: bytes.count)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: total >> (8 * UInt32(i))) }
        let c = UInt16(count < 65535 ? count : 65535)
        bytes[4] = UInt8(c & 0xFF)
        bytes[5] = UInt8(c >> 8)
        return bytes
    }
}

/// One element of a listpack or ziplist: an integer or bytes in the blob.
public enum PackedElement {
    case int(Int)
    case bytes(UnsafeBufferPointer<UInt8>)

    /// Calls `body` with the element as bytes (an integer in decimal).
    @inlinable public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .bytes(let b): return body(b)
        case .int(let v): return withDecimal(v) { body(UnsafeBufferPointer(start: $0, count: $1)) }
        }
    }

    /// Length of the element as a string.
    public var length: Int {
        switch self {
        case .bytes(let b): return b.count
        case .int(let v): return withDecimal(v) { $1 }
        }
    }
}

/// Walks a listpack blob, checking every entry as Redis's deep integrity
/// check does (header, encodings, bounds, backlen, count, end byte): a
/// payload from a client is never trusted.
public struct ListpackReader {
    let base: UnsafePointer<UInt8>
    let size: Int
    var pos = 6
    /// The header's element count (65535: not recorded).
    public let headerCount: Int
    public private(set) var seen = 0

    /// Nil when the header does not describe a blob of `b.count` bytes.
    public init?(_ b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 7, let p = b.baseAddress else { return nil }
        let total = Int(p[0]) | Int(p[1]) << 8 | Int(p[2]) << 16 | Int(p[3]) << 24
        guard total == b.count, p[b.count - 1] == 0xFF else { return nil }
        base = p
        size = b.count
        headerCount = Int(p[4]) | Int(p[5]) << 8
    }

    /// The next element; nil at the end. `ok` turns false on a corrupt entry.
    public mutating func next(_ ok: inout Bool) -> PackedElement? {
        guard ok else { return nil }
        let end = size - 1
        if pos == end {
            if headerCount != 65535 && headerCount != seen { ok = false }
            return nil
        }
        guard pos < end else { ok = false; return nil }
        let b = base[pos]
        var encLen = 0
        var elem: PackedElement
        func need(_ n: Int) -> Bool { pos + n <= end }
        func le(_ off: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(base[pos + off + i]) << (8 * UInt64(i)) }
            return v
        }
        func signed(_ v: UInt64, _ bits: Int) -> Int {
            let shift = UInt64(64 - bits)
            return Int(Int64(bitPattern: v << shift) >> Int64(shift))
        }
        if b & 0x80 == 0 {
            encLen = 1
            elem = .int(Int(b & 0x7F))
        } else if b & 0xC0 == 0x80 {
            let n = Int(b & 0x3F)
            encLen = 1 + n
            guard need(encLen) else { ok = false; return nil }
            elem = .bytes(UnsafeBufferPointer(start: base + pos + 1, count: n))
        } else if b & 0xE0 == 0xC0 {
            encLen = 2
            guard need(2) else { ok = false; return nil }
            elem = .int(signed(UInt64(b & 0x1F) << 8 | UInt64(base[pos + 1]), 13))
        } else if b & 0xF0 == 0xE0 {
            guard need(2) else { ok = false; return nil }
            let n = Int(b & 0x0F) << 8 | Int(base[pos + 1])
            encLen = 2 + n
            guard need(encLen) else { ok = false; return nil }
            elem = .bytes(UnsafeBufferPointer(start: base + pos + 2, count: n))
        } else {
            switch b {
            case 0xF0:
                guard need(5) else { ok = false; return nil }
                let n = Int(le(1, 4))
                guard n <= end - pos - 5 else { ok = false; return nil }
                encLen = 5 + n
                elem = .bytes(UnsafeBufferPointer(start: base + pos + 5, count: n))
            case 0xF1: encLen = 3
            case 0xF2: encLen = 4
            case 0xF3: encLen = 5
            case 0xF4: encLen = 9
            default: ok = false; return nil
            }
            if b != 0xF0 {
                guard need(encLen) else { ok = false; return nil }
                elem = .int(signed(le(1, encLen - 1), (encLen - 1) * 8))
            } else {
                elem = .bytes(UnsafeBufferPointer(start: base + pos + 5, count: encLen - 5))
            }
        }
        // The backlen must say the entry's length, in its canonical form.
        let bl = ListpackWriter.backlenSize(encLen)
        guard need(encLen + bl) else { ok = false; return nil }
        for i in 0..<bl {
            let shift = 7 * (bl - 1 - i)
            let group = UInt8((encLen >> shift) & 127)
            let want = i == 0 ? group : group | 128
            if base[pos + encLen + i] != want { ok = false; return nil }
        }
        pos += encLen + bl
        seen += 1
        if headerCount != 65535 && seen > headerCount { ok = false; return nil }
        return elem
    }
}
