import CLua
import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// DEBUG DIGEST and DIGEST-VALUE: Redis's dataset digest (debug.c), so the
/// same data gives the same 40 hex digits here and in redis-server.
///
/// Per key: SHA1-chained ("mix") over the key, the type and the value's
/// elements in order; where order does not exist (set members, hash and
/// zset pairs) the SHA1s of the elements' digests are xored; per database
/// the SHA1s of the keys' digests are xored. Xor does not care which shard held a key, so every
/// shard sends its per-database xors and the caller's worker folds them,
/// mixing in each non-empty database's number as Redis does.
struct Digest {
    var bytes: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 20 bytes used

    mutating func withBytes<R>(_ body: (UnsafeMutablePointer<UInt8>) -> R) -> R {
        withUnsafeMutableBytes(of: &bytes) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }

    static func sha1(_ p: UnsafeRawPointer?, _ n: Int, into out: UnsafeMutablePointer<UInt8>) {
        var ctx = SHA1_CTX()
        SHA1Init(&ctx)
        if n > 0, let p { SHA1Update(&ctx, p.assumingMemoryBound(to: UInt8.self), n) }
        SHA1Final(out, &ctx)
    }

    /// xorDigest: digest ^= SHA1(data).
    mutating func xor(_ p: UnsafeRawPointer?, _ n: Int) {
        var h = Digest()
        h.withBytes { Digest.sha1(p, n, into: $0) }
        xor(h)
    }

    /// xorDigest over another digest's 20 bytes: digest ^= SHA1(d).
    mutating func xorHashed(_ d: Digest) {
        var c = d
        c.withBytes { xor($0, 20) }
    }

    mutating func xor(_ d: Digest) {
        bytes.0 ^= d.bytes.0
        bytes.1 ^= d.bytes.1
        bytes.2 ^= d.bytes.2
    }

    /// mixDigest: digest = SHA1(digest ^ SHA1(data)).
    mutating func mix(_ p: UnsafeRawPointer?, _ n: Int) {
        xor(p, n)
        var copy = self
        copy.withBytes { src in withBytes { Digest.sha1(src, 20, into: $0) } }
    }

    mutating func mix(_ b: UnsafeBufferPointer<UInt8>) { mix(b.baseAddress, b.count) }
    mutating func xor(_ b: UnsafeBufferPointer<UInt8>) { xor(b.baseAddress, b.count) }

    mutating func mix(int v: Int) { withDecimal(v) { mix($0, $1) } }

    mutating func mix(score d: Double) {
        var buf: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = Rdb.formatG17(p, d)
            mix(p, n)
        }
    }

    var isZero: Bool { bytes.0 == 0 && bytes.1 == 0 && bytes.2 == 0 }

    mutating func hex() -> String {
        withBytes { p in
            let digits = Array("0123456789abcdef".utf8)
            var s = [UInt8]()
            for i in 0..<20 {
                s.append(digits[Int(p[i] >> 4)])
                s.append(digits[Int(p[i] & 15)])
            }
            return String(decoding: s, as: UTF8.self)
        }
    }

    /// The type number debug.c mixes in (Redis's OBJ_* numbering).
    static func redisType(_ t: ValueType) -> UInt32 {
        switch t {
        case .string: return 0
        case .list: return 1
        case .set: return 2
        case .zset: return 3
        case .hash: return 4
        case .stream: return 6
        }
    }

    /// xorObjectDigest: the type, the value and whether it expires.
    mutating func addValue(_ e: Entry) {
        var type = Digest.redisType(e.type).bigEndian
        mix(&type, 4)
        switch e.type {
        case .string:
            e.withStringBytes { mix($0) }
        case .list:
            e.objectRef(ListValue.self).forEach(from: 0) { el in
                mix(el)
                return true
            }
        case .set:
            if e.payload == .bytes {
                let s = IntSet(e)
                for i in 0..<s.count { withDecimal(s[i]) { xor($0, $1) } }
            } else {
                let s = e.objectRef(SetValue.self)
                for i in 0..<s.capacity where s.isLive(i) { xor(s.member(at: i)) }
            }
        case .zset:
            if e.payload == .bytes {
                for pair in CompactZSet.Pairs(e.compact) { addPair(pair.member, pair.score) }
            } else {
                var n = e.objectRef(ZSetValue.self).list.first
                while let node = n {
                    addPair(node.member, node.score)
                    n = node.next
                }
            }
        case .hash:
            if e.payload == .bytes {
                var it = CompactHash(e).pairs
                while let (f, v) = it.next() { addPair(f, v) }
            } else {
                let h = e.objectRef(HashValue.self)
                for i in 0..<h.slotCount where h.isLive(i) { addPair(h.field(at: i), h.value(at: i)) }
            }
        case .stream:
            // debug.c: each entry's "<ms>.<seq>", then its fields and values.
            e.objectRef(StreamValue.self).forEach(from: .zero, to: .max, reverse: false) { en in
                var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
                withUnsafeMutableBytes(of: &tmp) { raw in
                    let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    let n = en.id.format(into: p)
                    for i in 0..<n where p[i] == 45 { p[i] = 46; break }
                    mix(p, n)
                }
                en.forEachPair { f, fn, v, vn in
                    mix(f, fn)
                    mix(v, vn)
                }
                return true
            }
        }
        if e.hasExpire {
            let tag: StaticString = "!!expire!!"
            xor(tag.utf8Start, tag.utf8CodeUnitCount)
        }
    }

    private mutating func addPair(_ m: UnsafeBufferPointer<UInt8>, _ score: Double) {
        var ele = Digest()
        ele.mix(m)
        ele.mix(score: score)
        xorHashed(ele)
    }

    private mutating func addPair(_ f: UnsafeBufferPointer<UInt8>, _ v: UnsafeBufferPointer<UInt8>) {
        var ele = Digest()
        ele.mix(f)
        ele.mix(v)
        xorHashed(ele)
    }

    /// A key's digest in DEBUG DIGEST: the key, then its value.
    static func ofKey(_ e: Entry) -> Digest {
        var d = Digest()
        d.mix(e.key)
        d.addValue(e)
        return d
    }

    func append(to out: inout [UInt8]) {
        var c = self
        c.withBytes { out.append(contentsOf: UnsafeBufferPointer(start: $0, count: 20)) }
    }

    static func read(_ p: UnsafePointer<UInt8>) -> Digest {
        var d = Digest()
        d.withBytes { $0.update(from: p, count: 20) }
        return d
    }
}

extension Worker {
    /// This shard's part of DEBUG DIGEST: per database a flag byte (any
    /// key at all, expired ones included, as Redis's dictSize) and the xor
    /// of its keys' digests.
    func shardDigest() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(store.dbs.count * 21)
        for ks in store.dbs {
            var d = Digest()
            let t = ks.table
            if t.count > 0 {
                for i in 0..<t.capacity where t.isLive(i) { d.xorHashed(Digest.ofKey(t.entry(at: i))) }
            }
            out.append(t.count > 0 ? 1 : 0)
            d.append(to: &out)
        }
        return out
    }

    /// DEBUG DIGEST-VALUE on this shard: 20 bytes per key, zero for keys
    /// not here. Like Redis it looks keys up without expiring them.
    func shardDigestValues(_ a: ArgVector, db: Int) -> [UInt8] {
        var out: [UInt8] = []
        let ks = store.dbs[db]
        for i in 0..<a.count {
            var d = Digest()
            let k = a[i]
            let s = ks.table.find(k.ptr, k.count, hash: hashBytes(k.ptr, k.count))
            if s >= 0 { d.addValue(ks.entry(at: s)) }
            d.append(to: &out)
        }
        return out
    }

    /// Folds the shards' digests: xor, then (DEBUG DIGEST) Redis's walk
    /// over the databases.
    func mergeDigest(_ s: ReplyTicket, _ r: Reply) {
        var acc: [UInt8] = []
        for m in s.parts {
            let (len, start) = ReplyReader(m).lineInt(at: 0)
            let p = m.replies.base + start
            if acc.isEmpty { acc = [UInt8](repeating: 0, count: len) }
            guard len == acc.count else { continue }
            for i in 0..<len { acc[i] = s.saved.bytes.first == 0x64 && i % 21 == 0 ? acc[i] | p[i] : acc[i] ^ p[i] }
        }
        if s.saved.bytes.first == 0x64 {
            var final = Digest()
            var j = 0
            while j * 21 + 21 <= acc.count {
                if acc[j * 21] != 0 {
                    var dbid = UInt32(j).bigEndian
                    final.mix(&dbid, 4)
                    acc.withUnsafeBufferPointer { final.xor(Digest.read($0.baseAddress! + j * 21 + 1)) }
                }
                j += 1
            }
            r.simple(string: final.hex())
        } else {
            let n = acc.count / 20
            r.array(n)
            for i in 0..<n {
                var d = acc.withUnsafeBufferPointer { Digest.read($0.baseAddress! + i * 20) }
                r.simple(string: d.hex())
            }
        }
    }
}
