import RESP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// RDB format constants of Redis 7.0 (RDB version 10).
public enum Rdb {
    public static let version: UInt16 = 10

    // Value types.
    public static let typeString: UInt8 = 0
    public static let typeList: UInt8 = 1
    public static let typeSet: UInt8 = 2
    public static let typeZSet: UInt8 = 3
    public static let typeHash: UInt8 = 4
    public static let typeZSet2: UInt8 = 5
    public static let typeHashZipmap: UInt8 = 9
    public static let typeListZiplist: UInt8 = 10
    public static let typeSetIntset: UInt8 = 11
    public static let typeZSetZiplist: UInt8 = 12
    public static let typeHashZiplist: UInt8 = 13
    public static let typeListQuicklist: UInt8 = 14
    public static let typeStreamListpacks: UInt8 = 15
    public static let typeHashListpack: UInt8 = 16
    public static let typeZSetListpack: UInt8 = 17
    public static let typeListQuicklist2: UInt8 = 18
    public static let typeStreamListpacks2: UInt8 = 19

    /// rdbcompression: LZF for strings over 20 bytes. Set by the server.
    public static let compression = Atomic<Bool>(true)
    /// rdbchecksum: an RDB file ends with its CRC64 (else 0), checked on load.
    public static let checksum = Atomic<Bool>(true)
}

/// Serialises values in RDB form, byte for byte as Redis 7.0's
/// rdbSaveObject writes the same value in the same encoding.
public struct RdbWriter {
    public var out: [UInt8] = []
    public let compress: Bool

    public init(compress: Bool = Rdb.compression.load(ordering: .relaxed)) {
        self.compress = compress
    }

    public mutating func byte(_ b: UInt8) { out.append(b) }

    /// rdbSaveLen: 6-bit, 14-bit big-endian, or 0x80/0x81 + 32/64-bit big-endian.
    public mutating func length(_ n: Int) {
        if n < 1 << 6 {
            out.append(UInt8(n))
        } else if n < 1 << 14 {
            out.append(0x40 | UInt8(n >> 8))
            out.append(UInt8(n & 0xFF))
        } else if n <= Int(UInt32.max) {
            out.append(0x80)
            for i in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> i)) }
        } else {
            out.append(0x81)
            for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> i)) }
        }
    }

    /// rdbEncodeInteger: the 8/16/32-bit forms, or false.
    mutating func encodedInt(_ v: Int) -> Bool {
        if v >= -128 && v <= 127 {
            out.append(0xC0)
            out.append(UInt8(truncatingIfNeeded: v))
        } else if v >= -32768 && v <= 32767 {
            out.append(0xC1)
            out.append(UInt8(truncatingIfNeeded: v))
            out.append(UInt8(truncatingIfNeeded: v >> 8))
        } else if v >= -2147483648 && v <= 2147483647 {
            out.append(0xC2)
            for i in stride(from: 0, through: 24, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> i)) }
        } else {
            return false
        }
        return true
    }

    /// rdbSaveRawString: an integer form for short canonical integers, LZF
    /// for longer strings when it saves at least 4 bytes... as Redis decides,
    /// else length and bytes.
    public mutating func string(_ p: UnsafePointer<UInt8>?, _ n: Int) {
        if n <= 11, let p = p, n > 0, let v = parseStrictInt(p, n), encodedInt(v) { return }
        if compress && n > 20, let p = p {
            if let c = LZFCompressor.forThisThread.compressInPlace(UnsafeRawBufferPointer(start: p, count: n), outLimit: n - 4) {
                out.append(0xC3)
                length(c.count)
                length(n)
                out.append(contentsOf: c)
                return
            }
        }
        length(n)
        if n > 0, let p = p { out.append(contentsOf: UnsafeBufferPointer(start: p, count: n)) }
    }

    public mutating func string(_ b: UnsafeBufferPointer<UInt8>) { string(b.baseAddress, b.count) }

    public mutating func string(_ b: [UInt8]) { b.withUnsafeBufferPointer { string($0) } }

    /// An int-encoded string object (rdbSaveLongLongAsStringObject).
    public mutating func string(int v: Int) {
        if encodedInt(v) { return }
        withDecimal(v) { string($0, $1) }
    }

    /// rdbSaveBinaryDoubleValue: 8 bytes little-endian.
    public mutating func binaryDouble(_ d: Double) {
        let bits = d.bitPattern
        for i in stride(from: 0, through: 56, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(i))) }
    }

    /// One key's record in a file: EXPIRETIME_MS when it has a TTL, then
    /// type, key and value. False (nothing written) for a type without an RDB form.
    public mutating func record(_ e: Entry) -> Bool {
        let mark = out.count
        if e.hasExpire {
            byte(0xFC)
            let v = UInt64(bitPattern: e.expireAt)
            for i in 0..<8 { byte(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        }
        guard value(e, key: e.key) else {
            out.removeSubrange(mark...)
            return false
        }
        return true
    }

    /// The RDB type byte and value of `e`; false for a type that cannot be
    /// serialised yet (streams), with nothing written.
    /// With `key`, the key follows the type byte (an RDB file's record).
    public mutating func value(_ e: Entry, key: UnsafeBufferPointer<UInt8>? = nil) -> Bool {
        guard let t = Rdb.type(of: e) else { return false }
        out.append(t)
        if let k = key { string(k) }
        switch e.type {
        case .string:
            if e.payload == .int { string(int: e.intValue) } else { string(e.bytes) }
        case .list:
            list(e.objectRef(ListValue.self))
        case .set:
            if e.payload == .bytes {
                intset(IntSet(e))
            } else {
                let s = e.objectRef(SetValue.self)
                length(s.count)
                for i in 0..<s.capacity where s.isLive(i) { string(s.member(at: i)) }
            }
        case .zset:
            if e.payload == .bytes {
                var lp = ListpackWriter(capacity: e.bytes.count + 16)
                for pair in CompactZSet.Pairs(e.compact) {
                    lp.append(pair.member)
                    Rdb.appendScore(&lp, pair.score)
                }
                string(lp.finish())
            } else {
                let z = e.objectRef(ZSetValue.self)
                length(z.count)
                // Highest first, as Redis walks its skiplist from the tail.
                var n = z.list.tail
                while let node = n {
                    string(node.member)
                    binaryDouble(node.score)
                    n = node.backward
                }
            }
        case .hash:
            if e.payload == .bytes {
                var lp = ListpackWriter(capacity: e.bytes.count + 16)
                var it = CompactHash(e).pairs
                while let (f, v) = it.next() {
                    lp.append(f)
                    lp.append(v)
                }
                string(lp.finish())
            } else {
                let h = e.objectRef(HashValue.self)
                length(h.count)
                for i in 0..<h.slotCount where h.isLive(i) {
                    string(h.field(at: i))
                    string(h.value(at: i))
                }
            }
        case .stream:
            stream(e.objectRef(StreamValue.self))
        }
        return true
    }

    /// Redis's intset blob: encoding u32 LE, length u32 LE, the values.
    mutating func intset(_ s: IntSet) {
        var blob = [UInt8]()
        blob.reserveCapacity(8 + s.count * s.width)
        func le(_ v: UInt64, _ n: Int) { for i in 0..<n { blob.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        le(UInt64(s.width), 4)
        le(UInt64(s.count), 4)
        for i in 0..<s.count { le(UInt64(bitPattern: Int64(s[i])), s.width) }
        string(blob)
    }

    /// A quicklist as Redis 7.0 would hold the same list built by RPUSH:
    /// listpack nodes filled up to list-max-listpack-size (Redis's
    /// _quicklistNodeAllowInsert), a plain node for an element of 1 GiB or more.
    mutating func list(_ l: ListValue) {
        var nodes: [(plain: Bool, bytes: [UInt8])] = []
        var lp = ListpackWriter()
        var open = false
        let fill = EncodingLimits.listMaxListpackSize.load(ordering: .relaxed)
        let levels = [4096, 8192, 16384, 32768, 65536]
        l.forEach(from: 0) { el in
            let n = el.count
            if n >= 1 << 30 {
                if open { nodes.append((false, lp.finish())); lp = ListpackWriter(); open = false }
                nodes.append((true, Array(el)))
                return true
            }
            if open {
                let newSize = lp.size + n + 8
                var allow: Bool
                if fill < 0 && -fill - 1 < levels.count && newSize <= levels[-fill - 1] {
                    allow = true
                } else if newSize > 8192 {
                    allow = false
                } else {
                    allow = lp.count < fill
                }
                if !allow { nodes.append((false, lp.finish())); lp = ListpackWriter() }
            }
            lp.append(el)
            open = true
            return true
        }
        if open { nodes.append((false, lp.finish())) }
        length(nodes.count)
        for nd in nodes {
            length(nd.plain ? 1 : 2)
            string(nd.bytes)
        }
    }
}

extension Rdb {
    /// The RDB type byte Redis 7.0 writes for the value's encoding; nil for
    /// a type without an RDB form yet.
    public static func type(of e: Entry) -> UInt8? {
        switch e.type {
        case .string: return typeString
        case .list: return typeListQuicklist2
        case .set: return e.payload == .bytes ? typeSetIntset : typeSet
        case .zset: return e.payload == .bytes ? typeZSetListpack : typeZSet2
        case .hash: return e.payload == .bytes ? typeHashListpack : typeHash
        case .stream: return typeStreamListpacks2
        }
    }

    /// A sorted set score in a listpack, as zzlInsertAt stores it: an
    /// integer when the double is one (within +-2^62), else its "%.17g" text.
    public static func appendScore(_ lp: inout ListpackWriter, _ d: Double) {
        if d >= -4611686018427387904.0 && d <= 4611686018427387904.0, d == d.rounded(.towardZero) {
            return lp.append(int: Int(d))
        }
        var buf: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatG17(p, d)
            lp.append(UnsafePointer(p), n)
        }
    }

    /// d2string's text for a non-integral double: inf, -inf, or "%.17g".
    public static func formatG17(_ out: UnsafeMutablePointer<UInt8>, _ d: Double) -> Int {
        if d.isInfinite {
            let s: [UInt8] = d < 0 ? Array("-inf".utf8) : Array("inf".utf8)
            for (i, c) in s.enumerated() { out[i] = c }
            return s.count
        }
        return out.withMemoryRebound(to: CChar.self, capacity: 40) { c -> Int in
            Int(rdbStrfromd(c, 40, "%.17g", d))
        }
    }
}

/// glibc's strfromd (not in Swift's Glibc module): "%.17g" without
/// building a C varargs list, which costs a dynamic cast per score.
@_silgen_name("strfromd")
func rdbStrfromd(_ str: UnsafeMutablePointer<CChar>, _ n: Int, _ format: UnsafePointer<CChar>, _ fp: Double) -> Int32
