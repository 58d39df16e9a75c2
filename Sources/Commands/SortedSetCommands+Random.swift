import Config
import RESP
import Storage

/// ZRANDMEMBER and ZSCAN: the commands whose replies depend on chance or
/// on the member index's layout.
extension SortedSetCommands {
    // MARK: ZRANDMEMBER

    /// ZRANDMEMBER key [count [WITHSCORES]]
    static func zrandmember(_ x: inout Exec) {
        if x.argc >= 3 {
            guard let l = parseLong(&x, 2) else { return }
            if l == Int.min {
                return x.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            }
            if x.argc > 4 || (x.argc == 4 && !x[3].equalsLower("withscores")) { return x.error(Err.syntax) }
            let withScores = x.argc == 4
            if withScores && (l < -(Int.max / 2) || l > Int.max / 2) { return x.error("ERR value is out of range") }
            return zrandmemberCount(&x, l, withScores: withScores)
        }
        guard case .found(let e, _) = x.find(1, .zset, read: true) else {
            if !x.failed { x.reply.null() }
            return
        }
        let r = x.reply
        var rng = x.stats.rng()
        let picker = x.stats.rng()
        withPicker(ZView(e), picker) { pick in
            let (m, _) = pick(Int.random(in: 0..<ZView(e).count, using: &rng))
            r.bulk(m)
        }
    }

    /// Random access to members by rank: an offset table for the compact
    /// encoding, the member index's random slots for the skiplist.
    static func withPicker(_ v: ZView, _ random: ShardRandom,
                           _ body: ((Int) -> (UnsafeBufferPointer<UInt8>, Double)) -> Void) {
        var rng = random
        switch v {
        case .compact(let c):
            withUnsafeTemporaryAllocation(of: Int.self, capacity: c.count) { offs in
                var ps = CompactZSet.Pairs(c)
                var k = 0
                while let p = ps.next() { offs[k] = p.start; k += 1 }
                body { i in
                    var q = CompactZSet.Pairs(c, from: offs[i])
                    let p = q.next()!
                    return (p.member, p.score)
                }
            }
        case .skiplist(let z):
            // Any member is as likely: the rank asked for is ignored.
            body { _ in
                let n = SLNode.from(entry: z.index.entry(at: z.index.randomSlot(using: &rng)))
                return (n.member, n.score)
            }
        }
    }

    static func zrandmemberCount(_ x: inout Exec, _ l: Int, withScores: Bool) {
        let v: ZView
        switch x.find(1, .zset, read: true) {
        case .missing: return x.reply.array(0)
        case .wrongType: return
        case .found(let e, _): v = ZView(e)
        }
        let r = x.reply
        var rng = x.stats.rng()
        let size = v.count
        let unique = l >= 0
        let count = l.magnitude
        if count == 0 { return r.array(0) }

        // Repeats allowed (or one member): independent draws.
        if !unique || count == 1 {
            rangeHeader(r, Int(count), withScores: withScores)
            withPicker(v, x.stats.rng()) { pick in
                for _ in 0..<count {
                    let (m, s) = pick(Int.random(in: 0..<size, using: &rng))
                    replyMember(r, m, s, withScores: withScores)
                }
            }
            return
        }
        // The whole set, last member first, as Redis's zuiNext walks it.
        if count >= UInt(size) {
            rangeHeader(r, size, withScores: withScores)
            v.forEach(from: size - 1, count: size, reverse: true) { m, s in
                replyMember(r, m, s, withScores: withScores)
            }
            return
        }
        let n = Int(count)
        rangeHeader(r, n, withScores: withScores)
        switch v {
        case .skiplist(let z) where n * 3 <= size:
            // Few from many: draw until `n` distinct members came up.
            var seen = Set<UInt>()
            seen.reserveCapacity(n)
            while seen.count < n {
                let node = SLNode.from(entry: z.index.entry(at: z.index.randomSlot(using: &rng)))
                if seen.insert(UInt(bitPattern: node.raw)).inserted {
                    replyMember(r, node.member, node.score, withScores: withScores)
                }
            }
        default:
            // A partial shuffle of the ranks picks `n` distinct ones.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { ranks in
                for i in 0..<size { ranks[i] = i }
                for i in 0..<n { ranks.swapAt(i, Int.random(in: i..<size, using: &rng)) }
                switch v {
                case .compact:
                    withPicker(v, x.stats.rng()) { pick in
                        for i in 0..<n {
                            let (m, s) = pick(ranks[i])
                            replyMember(r, m, s, withScores: withScores)
                        }
                    }
                case .skiplist(let z):
                    // Nodes by rank from one walk, not a descent per rank.
                    let nodes = UnsafeMutablePointer<SLNode?>.allocate(capacity: size)
                    defer { nodes.deallocate() }
                    var p = z.list.first
                    var k = 0
                    while let nd = p { nodes[k] = nd; k += 1; p = nd.next }
                    for i in 0..<n {
                        let nd = nodes[ranks[i]]!
                        replyMember(r, nd.member, nd.score, withScores: withScores)
                    }
                }
            }
        }
    }

    // MARK: ZSCAN

    /// ZSCAN key cursor [MATCH pattern] [COUNT count]. A compact set comes
    /// back whole with cursor 0, as Redis returns a listpack.
    static func zscan(_ x: inout Exec) {
        guard let cursor = KeyCommands.parseScanCursor(x[2]) else { return x.error("ERR invalid cursor") }
        let v: ZView
        switch x.find(1, .zset, read: true) {
        case .wrongType: return
        case .missing:
            x.reply.array(2)
            x.reply.bulk(static: "0")
            return x.reply.array(0)
        case .found(let e, _): v = ZView(e)
        }
        guard let (count, pattern, _) = KeyCommands.scanOptions(&x, from: 3) else { return }
        let r = x.reply
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        switch v {
        case .compact(let c):
            var kept = 0
            var ps = CompactZSet.Pairs(c)
            while let p = ps.next() { if pattern.map({ globMatch($0.buffer, p.member) }) ?? true { kept += 1 } }
            r.array(2)
            r.bulk(static: "0")
            r.array(kept * 2)
            ps = CompactZSet.Pairs(c)
            withUnsafeMutableBytes(of: &tmp) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                while let p = ps.next() {
                    if let pat = pattern, !globMatch(pat.buffer, p.member) { continue }
                    r.bulk(p.member)
                    // A listpack keeps a score as d2string's text.
                    r.bulk(UnsafePointer(out), formatRedisDouble(p.score, into: out))
                }
            }
        case .skiplist(let z):
            // Redis counts replies, two per member, against twice COUNT.
            let target = count.multipliedReportingOverflow(by: 2).overflow ? Int.max : count * 2
            var budget = target.multipliedReportingOverflow(by: 10).overflow ? Int.max : target * 10
            var found: [SLNode] = []
            var next = cursor
            repeat {
                next = z.index.scan(next) { found.append(SLNode.from(entry: $0)) }
                if next == 0 || budget == 0 { break }
                budget -= 1
            } while found.count * 2 < target
            if let pat = pattern { found.removeAll { !globMatch(pat.buffer, $0.member) } }
            r.array(2)
            KeyCommands.replyUnsigned(r, next)
            r.array(found.count * 2)
            withUnsafeMutableBytes(of: &tmp) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                for nd in found {
                    r.bulk(nd.member)
                    // Redis formats a skiplist score as a long double ("%.17Lg").
                    let len = formatRedisLongDouble(Float80(nd.score), human: false, into: out, capacity: 64)
                    r.bulk(UnsafePointer(out), len)
                }
            }
        }
    }
}
