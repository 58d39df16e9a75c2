import Config
import RESP
import Storage

/// HRANDFIELD and HSCAN.
extension HashCommands {
    // MARK: HRANDFIELD

    /// HRANDFIELD key [count [WITHVALUES]]. As Redis, the count and the
    /// option are checked before the key is looked up.
    static func hrandfield(_ x: inout Exec) {
        if x.argc >= 3 {
            let a = x[2]
            guard let l = parseStrictInt(a.ptr, a.count) else { return x.error(Err.notInteger) }
            if l == Int.min {
                return x.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            if x.argc > 4 || (x.argc == 4 && !x[3].equalsLower("withvalues")) { return x.error(Err.syntax) }
            let withValues = x.argc == 4
            // Redis 7.0 refuses counts whose doubled reply length could overflow.
            if withValues && (l < -(Int.max / 2) || l > Int.max / 2) { return x.error("ERR value is out of range") }
            return randomWithCount(&x, l, withValues: withValues)
        }
        switch x.find(1, .hash, read: true) {
        case .missing: x.reply.null()
        case .wrongType: return
        case .found(let e, _):
            var rng = x.stats.rng()
            switch HashRef(e) {
            case .compact(let c):
                var it = c.pairs
                var k = Int.random(in: 0..<c.count, using: &rng)
                while k > 0 { _ = it.next(); k -= 1 }
                x.reply.bulk(it.next()!.field)
            case .table(let t):
                x.reply.bulk(t.field(at: t.randomSlot(using: &rng)))
            }
        }
    }

    /// Redis's hrandfieldWithCountCommand: a negative count (or 1) draws
    /// with repetition; a positive one returns distinct fields, the whole
    /// hash (in its order) when the count covers it. RESP3 with values
    /// replies [field, value] pairs, RESP2 a flat array. Scratch space is
    /// sized by the hash, never by the count.
    static func randomWithCount(_ x: inout Exec, _ l: Int, withValues: Bool) {
        let e: Entry
        switch x.find(1, .hash, read: true) {
        case .missing: return x.reply.array(0)
        case .wrongType: return
        case .found(let f, _): e = f
        }
        if l == 0 { return x.reply.array(0) }
        let h = HashRef(e)
        let size = h.count
        let count = l.magnitude
        let pairs = withValues && x.reply.proto == 3
        let width = withValues && !pairs ? 2 : 1
        var rng = x.stats.rng()
        let r = x.reply

        if l < 0 || count == 1 {
            let n = Int(count)
            r.array(n * width)
            switch h {
            case .compact(let c):
                withPairOffsets(c) { offs in
                    for _ in 0..<n {
                        let at = offs[Int.random(in: 0..<size, using: &rng)]
                        replyPair(r, c, at: at, withValues: withValues, pairs: pairs)
                    }
                }
            case .table(let t):
                for _ in 0..<n {
                    let s = t.randomSlot(using: &rng)
                    replyPair(r, t.field(at: s), t.value(at: s), withValues: withValues, pairs: pairs)
                }
            }
            return
        }

        if count >= UInt(size) {
            r.array(size * width)
            switch h {
            case .compact(let c):
                var it = c.pairs
                while let (f, v) = it.next() { replyPair(r, f, v, withValues: withValues, pairs: pairs) }
            case .table(let t):
                for i in 0..<t.slotCount where t.isLive(i) {
                    replyPair(r, t.field(at: i), t.value(at: i), withValues: withValues, pairs: pairs)
                }
            }
            return
        }

        let n = Int(count)
        r.array(n * width)
        switch h {
        case .compact(let c):
            withPairOffsets(c) { offs in
                // A partial Fisher-Yates shuffle: the first n positions are a uniform sample.
                for i in 0..<n {
                    offs.swapAt(i, Int.random(in: i..<size, using: &rng))
                    replyPair(r, c, at: offs[i], withValues: withValues, pairs: pairs)
                }
            }
        case .table(let t):
            if n * 3 > size {
                withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { buf in
                    var k = 0
                    for i in 0..<t.slotCount where t.isLive(i) {
                        buf[k] = i
                        k += 1
                    }
                    for i in 0..<n {
                        buf.swapAt(i, Int.random(in: i..<size, using: &rng))
                        replyPair(r, t.field(at: buf[i]), t.value(at: buf[i]), withValues: withValues, pairs: pairs)
                    }
                }
            } else {
                // Few fields from a big hash: draw slots until n distinct ones came up.
                var seen = Set<Int>(minimumCapacity: n)
                while seen.count < n {
                    let s = t.randomSlot(using: &rng)
                    if seen.insert(s).inserted {
                        replyPair(r, t.field(at: s), t.value(at: s), withValues: withValues, pairs: pairs)
                    }
                }
            }
        }
    }

    /// Calls `body` with the byte offset of every pair of `c`.
    static func withPairOffsets(_ c: CompactHash, _ body: (UnsafeMutableBufferPointer<Int>) -> Void) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: c.count) { buf in
            var it = c.payload.elements
            var k = 0
            while !it.atEnd {
                buf[k] = it.offset
                k += 1
                it.skip(2)
            }
            body(buf)
        }
    }

    @inline(__always)
    static func replyPair(_ r: Reply, _ c: CompactHash, at off: Int, withValues: Bool, pairs: Bool) {
        var it = PackedIterator(c.base, from: off, end: c.payload.end)
        let f = it.next()!, v = it.next()!
        replyPair(r, f, v, withValues: withValues, pairs: pairs)
    }

    @inline(__always)
    static func replyPair(_ r: Reply, _ f: UnsafeBufferPointer<UInt8>, _ v: UnsafeBufferPointer<UInt8>,
                          withValues: Bool, pairs: Bool) {
        if pairs { r.array(2) }
        r.bulk(f)
        if withValues { r.bulk(v) }
    }

    // MARK: HSCAN

    /// HSCAN key cursor [MATCH pattern] [COUNT count]. As Redis: the cursor
    /// is checked first, then the key, then the options (so a missing key
    /// answers an empty scan whatever the options). A compact hash comes
    /// back whole with cursor 0.
    static func hscan(_ x: inout Exec) {
        guard let cursor = KeyCommands.parseScanCursor(x[2]) else { return x.error("ERR invalid cursor") }
        let e: Entry
        switch x.find(1, .hash, read: true) {
        case .missing:
            x.reply.array(2)
            x.reply.bulk(static: "0")
            x.reply.array(0)
            return
        case .wrongType: return
        case .found(let f, _): e = f
        }
        guard let (count, pattern, _) = KeyCommands.scanOptions(&x, from: 3) else { return }
        let r = x.reply
        switch HashRef(e) {
        case .compact(let c):
            var matched = c.count
            if let p = pattern {
                matched = 0
                var it = c.pairs
                while let (f, _) = it.next() { if globMatch(p.buffer, f) { matched += 1 } }
            }
            r.array(2)
            r.bulk(static: "0")
            r.array(matched * 2)
            var it = c.pairs
            while let (f, v) = it.next() {
                if let p = pattern, !globMatch(p.buffer, f) { continue }
                r.bulk(f)
                r.bulk(v)
            }
        case .table(let t):
            // Redis doubles COUNT for field+value replies and walks at most
            // ten times that many buckets; it counts fields before filtering.
            var budget = count.multipliedReportingOverflow(by: 20).overflow ? Int.max : count * 20
            var seen = 0
            var found: [Entry] = []
            var pos = cursor
            repeat {
                pos = t.scan(pos) { fe in
                    seen += 1
                    if let p = pattern, !globMatch(p.buffer, fe.key) { return }
                    found.append(fe)
                }
                if pos == 0 || budget == 0 { break }
                budget -= 1
            } while seen < count
            r.array(2)
            r.bulkDecimal(Int(pos))
            r.array(found.count * 2)
            for fe in found {
                r.bulk(fe.key)
                r.bulk(fe.bytes)
            }
        }
    }
}

