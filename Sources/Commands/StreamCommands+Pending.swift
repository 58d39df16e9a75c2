import RESP
import Storage

/// XPENDING, XCLAIM and XAUTOCLAIM: the pending entries lists. Idle times
/// are measured on the shard's command clock (`Exec.now`).
extension StreamCommands {
    static let pendingSpecs: [CommandSpec] = [
        CommandSpec("xpending", arity: -3, flags: [.readonly], keys: (1, 1, 1), route: .key, group: "stream",
                    summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
                    since: "5.0.0", acl: ["@stream"], handler: xpending),
        CommandSpec("xclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "stream",
                    summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
                    since: "5.0.0", acl: ["@stream"], handler: xclaim),
        CommandSpec("xautoclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "stream",
                    summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
                    since: "6.2.0", acl: ["@stream"], handler: xautoclaim),
    ]

    static func noSuchKeyOrGroup(_ x: inout Exec) {
        var m = Array("NOGROUP No such key '".utf8)
        m += KeyCommands.cString(x[1])
        m += Array("' or consumer group '".utf8)
        m += KeyCommands.cString(x[2])
        m += Array("'".utf8)
        x.failed = true
        x.reply.error(bytes: m)
    }

    /// The stream and group of arguments 1 and 2; nil after a reply.
    static func streamAndGroup(_ x: inout Exec, read: Bool) -> (StreamValue, ConsumerGroup)? {
        switch x.find(1, .stream, read: read) {
        case .wrongType: return nil
        case .missing: break
        case .found(let e, _):
            let s = e.objectRef(StreamValue.self)
            if let g = s.group(x[2].buffer) { return (s, g) }
        }
        noSuchKeyOrGroup(&x)
        return nil
    }

    static func parseLong(_ x: inout Exec, _ i: Int, _ msg: StaticString) -> Int? {
        guard let v = parseStrictInt(x[i].ptr, x[i].count) else {
            x.error(msg)
            return nil
        }
        return v
    }

    /// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
    static func xpending(_ x: inout Exec) {
        let info = x.argc == 3
        if x.argc != 3 && (x.argc < 6 || x.argc > 9) { return x.error(Err.syntax) }
        var start = StreamID.zero, end = StreamID.max
        var count = 0, minIdle = 0
        var consumerArg = -1
        if x.argc >= 6 {
            var si = 3
            if x[3].equalsLower("idle") {
                guard let v = parseLong(&x, 4) else { return }
                minIdle = v
                if x.argc < 8 { return x.error(Err.syntax) }
                si += 2
            }
            guard let c = parseLong(&x, si + 2) else { return }
            count = max(c, 0)
            guard let (s0, sx) = parseBound(&x, si, missingSeq: 0) else { return }
            start = s0
            if sx {
                guard let n = s0.incremented else { return x.error("ERR invalid start ID for the interval") }
                start = n
            }
            guard let (e0, ex) = parseBound(&x, si + 1, missingSeq: UInt64.max) else { return }
            end = e0
            if ex {
                guard let n = e0.decremented else { return x.error("ERR invalid end ID for the interval") }
                end = n
            }
            if si + 3 < x.argc { consumerArg = si + 3 }
        }
        guard let (_, g) = streamAndGroup(&x, read: true) else { return }
        let r = x.reply
        if info {
            r.array(4)
            r.int(g.pending.count)
            if g.pending.isEmpty {
                r.null()
                r.null()
                r.nullArray()
                return
            }
            replyID(r, g.pending.id(0))
            replyID(r, g.pending.id(g.pending.count - 1))
            var n = 0
            for c in g.consumers where !c.pending.isEmpty { n += 1 }
            r.array(n)
            for c in g.consumers where !c.pending.isEmpty {
                r.array(2)
                r.bulk(c.name)
                r.bulkDecimal(c.pending.count)
            }
            return
        }
        var pel = g.pending
        if consumerArg >= 0 {
            guard let c = g.consumer(x[consumerArg].buffer) else { return r.array(0) }
            pel = c.pending
        }
        // Count the matches first: the array header comes before them.
        let lo = pel.lowerBound(start)
        var n = 0, i = lo
        while n < count && i < pel.count && pel.id(i) <= end {
            if minIdle == 0 || x.now - pel.entry(i).deliveryTime >= Int64(minIdle) { n += 1 }
            i += 1
        }
        r.array(n)
        i = lo
        var k = 0
        while k < n {
            let p = pel.entry(i)
            if minIdle == 0 || x.now - p.deliveryTime >= Int64(minIdle) {
                r.array(4)
                replyID(r, pel.id(i))
                r.bulk(p.consumer.name)
                r.int(Int(max(x.now - p.deliveryTime, 0)))
                r.int(Int(p.deliveryCount))
                k += 1
            }
            i += 1
        }
    }

    /// Makes `c` the owner of pending entry `p` (id `id`).
    static func reassign(_ p: PendingEntry, _ id: StreamID, to c: StreamConsumer) {
        if p.consumer !== c {
            p.consumer.pending.remove(id)
            p.consumer = c
            c.pending.insert(id, p)
        }
    }

    /// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
    ///        [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
    static func xclaim(_ x: inout Exec) {
        guard let (s, g) = streamAndGroup(&x, read: true) else { return }
        guard let mi = parseLong(&x, 4, "ERR Invalid min-idle-time argument for XCLAIM") else { return }
        let minIdle = Int64(max(mi, 0))
        var j = 5
        var ids: [StreamID] = []
        while j < x.argc, case .id(let id)? = StreamID.parse(x[j].ptr, x[j].count, missingSeq: 0, strict: true) {
            ids.append(id)
            j += 1
        }
        let now = x.now
        var retry = -1
        var delivery: Int64 = -1
        var force = false, justid = false
        var lastID = StreamID.zero
        while j < x.argc {
            let more = x.argc - 1 - j
            let o = x[j]
            if o.equalsLower("force") {
                force = true
            } else if o.equalsLower("justid") {
                justid = true
            } else if o.equalsLower("idle") && more > 0 {
                j += 1
                guard let v = parseLong(&x, j, "ERR Invalid IDLE option argument for XCLAIM") else { return }
                delivery = now &- Int64(v)
            } else if o.equalsLower("time") && more > 0 {
                j += 1
                guard let v = parseLong(&x, j, "ERR Invalid TIME option argument for XCLAIM") else { return }
                delivery = Int64(v)
            } else if o.equalsLower("retrycount") && more > 0 {
                j += 1
                guard let v = parseLong(&x, j, "ERR Invalid RETRYCOUNT option argument for XCLAIM") else { return }
                retry = v
            } else if o.equalsLower("lastid") && more > 0 {
                j += 1
                guard let v = parseID(&x, j, strict: true) else { return }
                lastID = v
            } else {
                var m = Array("ERR Unrecognized XCLAIM option '".utf8)
                m += KeyCommands.cString(o)
                m += Array("'".utf8)
                x.failed = true
                return x.reply.error(bytes: m)
            }
            j += 1
        }
        if lastID > g.lastID { g.lastID = lastID }
        if delivery == -1 || delivery < 0 || delivery > now { delivery = now }
        // Claimed entries are counted first: the array header comes before them.
        var claimed: [StreamID] = []
        var consumer: StreamConsumer? = nil
        for id in ids {
            var p = g.pending.find(id)
            guard s.contains(id) else {
                if p != nil {
                    g.pending.remove(id)
                    p!.consumer.pending.remove(id)
                }
                continue
            }
            var fresh = false
            if force && p == nil { fresh = true }
            if p == nil && !fresh { continue }
            if let q = p, minIdle > 0, now - q.deliveryTime < minIdle { continue }
            if consumer == nil {
                let (c, created) = g.createConsumer(x[3].buffer, now: now)
                if created { x.notify([.stream, .unsignalled], "xgroup-createconsumer", 1) }
                c.seenTime = now
                consumer = c
            }
            let c = consumer!
            if fresh {
                let q = PendingEntry(consumer: c, time: delivery)
                g.pending.insert(id, q)
                c.pending.insert(id, q)
                p = q
            } else {
                reassign(p!, id, to: c)
            }
            let q = p!
            q.deliveryTime = delivery
            if retry >= 0 { q.deliveryCount = Int64(retry) } else if !justid { q.deliveryCount += 1 }
            claimed.append(id)
        }
        x.reply.array(claimed.count)
        for id in claimed {
            if justid { replyID(x.reply, id) } else if let e = s.entry(id) { replyEntry(x.reply, e) }
        }
    }

    /// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
    static func xautoclaim(_ x: inout Exec) {
        guard let mi = parseLong(&x, 4, "ERR Invalid min-idle-time argument for XAUTOCLAIM") else { return }
        let minIdle = Int64(max(mi, 0))
        guard let (s0, sx) = parseBound(&x, 5, missingSeq: 0) else { return }
        var start = s0
        if sx {
            guard let n = s0.incremented else { return x.error("ERR invalid start ID for the interval") }
            start = n
        }
        var count = 100
        var justid = false
        var j = 6
        while j < x.argc {
            let more = x.argc - 1 - j
            if x[j].equalsLower("count") && more > 0 {
                guard let v = parseStrictInt(x[j + 1].ptr, x[j + 1].count), v >= 1, v <= Int.max / 16 else {
                    return x.error("ERR COUNT must be > 0")
                }
                count = v
                j += 1
            } else if x[j].equalsLower("justid") {
                justid = true
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        guard let (s, g) = streamAndGroup(&x, read: true) else { return }
        let now = x.now
        var attempts = count * 10
        var claimed: [StreamID] = []
        var deleted: [StreamID] = []
        var consumer: StreamConsumer? = nil
        var i = g.pending.lowerBound(start)
        while attempts > 0 && count > 0 && i < g.pending.count {
            attempts -= 1
            let id = g.pending.id(i)
            let p = g.pending.entry(i)
            if !s.contains(id) {
                g.pending.remove(id)
                p.consumer.pending.remove(id)
                deleted.append(id)
                count -= 1
                continue
            }
            i += 1
            if minIdle > 0 && now - p.deliveryTime < minIdle { continue }
            if consumer == nil {
                let (c, created) = g.createConsumer(x[3].buffer, now: now)
                if created { x.notify([.stream, .unsignalled], "xgroup-createconsumer", 1) }
                c.seenTime = now
                consumer = c
            }
            reassign(p, id, to: consumer!)
            p.deliveryTime = now
            if !justid { p.deliveryCount += 1 }
            claimed.append(id)
            count -= 1
        }
        let r = x.reply
        r.array(3)
        replyID(r, i < g.pending.count ? g.pending.id(i) : .zero)
        r.array(claimed.count)
        for id in claimed {
            if justid { replyID(r, id) } else if let e = s.entry(id) { replyEntry(r, e) }
        }
        r.array(deleted.count)
        for id in deleted { replyID(r, id) }
    }
}
