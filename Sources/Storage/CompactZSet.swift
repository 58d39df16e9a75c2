#if canImport(Glibc)
import Glibc
#endif

/// A small sorted set stored inline in its entry (OBJECT ENCODING
/// "listpack", as Redis's listpack zset): the `CompactPayload` count is the
/// number of members, then each member is two packed elements, the member
/// bytes and its score, in (score, member bytes) order.
///
/// A score element of 8 bytes is the IEEE double; shorter ones are a
/// little-endian two's complement integer of that many bytes (0 bytes: 0),
/// used for integral scores below 2^53, so the common small integer score
/// costs 2 bytes as in a listpack rather than 9.
public enum CompactZSet {
    /// Payload bytes of a score element. -0 takes the integer form, so it
    /// reads back as 0, as Redis's listpack stores an integral score as an
    /// integer and loses the sign; `exact` keeps it (scratch runs whose
    /// scores may end up in a skiplist, which keeps -0).
    @inlinable public static func scoreBytes(_ d: Double, exact: Bool = false) -> Int {
        guard d == d.rounded(.towardZero), abs(d) < 9007199254740992, !(exact && d == 0 && d.sign == .minus) else {
            return 8
        }
        let v = Int64(d)
        if v == 0 { return 0 }
        // Bytes for the value plus its sign bit.
        let bits = 65 - (v < 0 ? (~v).leadingZeroBitCount : v.leadingZeroBitCount)
        return (bits + 7) / 8
    }

    /// Packed bytes of one member with its score.
    @inlinable public static func pairSize(memberLength n: Int, score: Double) -> Int {
        packedSize(n) + 1 + scoreBytes(score)
    }

    /// Writes the score element (length byte and bytes) at `off`.
    @inlinable public static func writeScore(_ p: UnsafeMutableRawPointer, _ off: inout Int, _ d: Double,
                                             exact: Bool = false) {
        let n = scoreBytes(d, exact: exact)
        p.storeBytes(of: UInt8(n), toByteOffset: off, as: UInt8.self)
        off += 1
        if n == 8 {
            p.storeBytes(of: d.bitPattern.littleEndian, toByteOffset: off, as: UInt64.self)
        } else {
            var v = UInt64(bitPattern: Int64(d))
            for i in 0..<n {
                p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: off + i, as: UInt8.self)
                v >>= 8
            }
        }
        off += n
    }

    @inlinable public static func decodeScore(_ b: UnsafeBufferPointer<UInt8>) -> Double {
        let n = b.count
        if n == 8 { return Double(bitPattern: UInt64(littleEndian: UnsafeRawPointer(b.baseAddress!).loadUnaligned(as: UInt64.self))) }
        if n == 0 { return 0 }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(b[i]) << UInt64(8 * i) }
        let shift = UInt64(64 - 8 * n)
        return Double(Int64(bitPattern: v << shift) >> Int64(shift))
    }

    /// Writes a member and its score at `off`.
    @inlinable public static func writePair(_ p: UnsafeMutableRawPointer, _ off: inout Int,
                                            _ m: UnsafePointer<UInt8>?, _ n: Int, _ score: Double) {
        writePacked(p, &off, m, n)
        writeScore(p, &off, score)
    }

    /// Appends a member and its exact score to a scratch run (its `count`
    /// counts elements, two per member).
    public static func appendPair(_ b: inout PackedBuffer, _ m: UnsafePointer<UInt8>?, _ n: Int, _ score: Double) {
        var tmp: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            var off = 0
            writeScore(raw.baseAddress!, &off, score, exact: true)
            b.append(m, n)
            b.appendRaw(raw.baseAddress!, off, elements: 1)
        }
    }

    /// One member of a compact sorted set and where its bytes lie in the payload.
    public struct Pair {
        public var member: UnsafeBufferPointer<UInt8>
        public var score: Double
        /// Offsets of the pair's first byte and of the byte after it.
        public var start: Int
        public var end: Int

        @inlinable public init(member: UnsafeBufferPointer<UInt8>, score: Double, start: Int, end: Int) {
            self.member = member
            self.score = score
            self.start = start
            self.end = end
        }
    }

    /// Walks the members in order.
    public struct Pairs: IteratorProtocol, Sequence {
        @usableFromInline var it: PackedIterator

        @inlinable public init(_ c: CompactPayload) { it = c.elements }
        @inlinable public init(_ c: CompactPayload, from offset: Int) { it = PackedIterator(c.base, from: offset, end: c.end) }

        @inlinable public var offset: Int { it.pos }

        @inlinable public mutating func next() -> Pair? {
            let start = it.pos
            guard let m = it.next(), let s = it.next() else { return nil }
            return Pair(member: m, score: decodeScore(s), start: start, end: it.pos)
        }
    }

    /// The member equal to `m` and its index, or nil.
    @inlinable public static func find(_ c: CompactPayload, _ m: UnsafePointer<UInt8>?, _ n: Int) -> (Pair, Int)? {
        var it = c.elements
        var i = 0
        while !it.atEnd {
            let start = it.pos
            let e = it.next()!
            if e.count == n && (n == 0 || memcmp(e.baseAddress!, m!, n) == 0) {
                let s = it.next()!
                return (Pair(member: e, score: decodeScore(s), start: start, end: it.pos), i)
            }
            _ = it.next()
            i += 1
        }
        return nil
    }

    /// Offset of the first pair ordered after (score, member): where it goes.
    @inlinable public static func insertionOffset(_ c: CompactPayload, _ score: Double,
                                                  _ m: UnsafePointer<UInt8>?, _ n: Int) -> Int {
        var ps = Pairs(c)
        while let p = ps.next() {
            if p.score > score || (p.score == score && compareMembers(p.member.baseAddress, p.member.count, m, n) > 0) {
                return p.start
            }
        }
        return c.end
    }

    /// Offset of the pair of index `i` (`c.end` for `i == count`).
    @inlinable public static func offset(_ c: CompactPayload, index i: Int) -> Int {
        var it = c.elements
        it.skip(2 * i)
        return it.pos
    }

    /// Writes `c`'s pairs with the bytes `cut` left out and, when `member`
    /// is given, one pair inserted at `insertAt` (an offset in `c`, outside
    /// the cut), under the count `members`. `member` may point into `c`.
    public static func writeSpliced(_ dst: UnsafeMutableRawPointer, from c: CompactPayload, members: Int,
                                    cut: Range<Int>, insertAt: Int,
                                    member: UnsafeBufferPointer<UInt8>?, score: Double) {
        var w = 0
        writeVarint(dst, &w, members)
        func copy(_ a: Int, _ b: Int) {
            if b > a {
                (dst + w).copyMemory(from: c.base + a, byteCount: b - a)
                w += b - a
            }
        }
        func put() {
            if let m = member { writePair(dst, &w, m.baseAddress, m.count, score) }
        }
        if member == nil || insertAt <= cut.lowerBound {
            let at = member == nil ? cut.lowerBound : insertAt
            copy(c.first, at)
            put()
            copy(at, cut.lowerBound)
            copy(cut.upperBound, c.end)
        } else {
            copy(c.first, cut.lowerBound)
            copy(cut.upperBound, insertAt)
            put()
            copy(insertAt, c.end)
        }
    }

    /// Payload length after `writeSpliced` with these arguments.
    @inlinable public static func splicedLength(_ c: CompactPayload, members: Int, cut: Range<Int>,
                                                memberLength: Int?, score: Double) -> Int {
        var n = varintSize(members) + c.elementBytes - cut.count
        if let m = memberLength { n += pairSize(memberLength: m, score: score) }
        return n
    }
}
