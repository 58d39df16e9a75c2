import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// XREAD and XREADGROUP, blocking or not. Both route as blocking commands
/// (`BlockingCommands`): their keys may live on several shards, and the
/// attempt runs with all of them held. Without BLOCK the attempt answers
/// the null array itself, so the client never waits.
extension StreamCommands {
    static let readSpecs: [CommandSpec] = [
        CommandSpec("xread", arity: -4, flags: [.readonly, .blocking, .movableKeys], route: .blocking,
                    group: "stream",
                    summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
                    since: "5.0.0", acl: ["@stream"], keysOf: { readKeys($0) }, handler: xread),
        CommandSpec("xreadgroup", arity: -7, flags: [.write, .blocking, .movableKeys], route: .blocking,
                    group: "stream",
                    summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
                    since: "5.0.0", acl: ["@stream"], keysOf: { readKeys($0) }, handler: xread),
    ]

    /// The keys after STREAMS (Redis's xreadGetKeys): nil when malformed.
    static func readKeys(_ a: ArgVector) -> KeySpan? {
        var i = 1
        while i < a.count {
            if a[i].equalsLower("streams") {
                let n = a.count - i - 1
                if n == 0 || n % 2 != 0 { return nil }
                return .positions(Array((i + 1)...(i + n / 2)))
            }
            i += 1
        }
        return nil
    }

    /// A parsed XREAD / XREADGROUP.
    struct ReadArgs {
        var timeoutMs: Int64 = -1
        var count = 0
        var streamsArg = 0
        var streams = 0
        var group = -1
        var noack = false
    }

    /// Options with Redis's checks in its order; nil after an error.
    static func parseRead(_ x: inout Exec) -> ReadArgs? {
        var r = ReadArgs()
        let group = x[0].count == 10
        var i = 1
        while i < x.argc {
            let more = x.argc - i - 1
            let o = x[i]
            if o.equalsLower("block") && more > 0 {
                if x.fromScript {
                    x.error(string: "ERR \(x[0].lossyString) command is not allowed with BLOCK option from scripts")
                    return nil
                }
                i += 1
                guard let t = BlockingCommands.parseTimeout(&x, i, unitMs: true) else { return nil }
                r.timeoutMs = t
            } else if o.equalsLower("count") && more > 0 {
                i += 1
                guard let c = parseLong(&x, i) else { return nil }
                r.count = max(c, 0)
            } else if o.equalsLower("streams") && more > 0 {
                r.streamsArg = i + 1
                let n = x.argc - r.streamsArg
                if n % 2 != 0 {
                    x.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                    return nil
                }
                r.streams = n / 2
                break
            } else if o.equalsLower("group") && more >= 2 {
                if !group {
                    x.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                r.group = i + 1
                i += 2
            } else if o.equalsLower("noack") {
                if !group {
                    x.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                r.noack = true
            } else {
                x.error(Err.syntax)
                return nil
            }
            i += 1
        }
        if r.streamsArg == 0 {
            x.error(Err.syntax)
            return nil
        }
        if group && r.group < 0 {
            x.error("ERR Missing GROUP option for XREADGROUP")
            return nil
        }
        return r
    }

    /// The blocking plan of XREAD/XREADGROUP (nil after an error reply).
    static func blockPlan(_ x: inout Exec) -> BlockingCommands.Plan? {
        guard let r = parseRead(&x) else { return nil }
        let keys = Array(r.streamsArg..<(r.streamsArg + r.streams))
        return BlockingCommands.Plan(kind: .xread(count: r.count == 0 ? 1000 : r.count, group: r.group >= 0),
                                     keys: keys, timeoutMs: max(r.timeoutMs, 0), dst: nil)
    }

    /// The start of key argument `k`'s read: its ID argument, with `$` as
    /// the stream's current last ID (for a blocked client: the ID when it
    /// blocked), and `>` as the maximum (the group decides later).
    public static func readStart(_ ks: Keyspace, _ a: ArgVector, key k: Int, now: Int64) -> StreamID? {
        var i = 1
        while i < a.count && !a[i].equalsLower("streams") { i += 1 }
        let n = (a.count - i - 1) / 2
        let idArg = a[k + n]
        if idArg.count == 1 && idArg[0] == 36 {
            let key = a[k]
            let s = ks.find(key.ptr, key.count, hash: hashBytes(key.ptr, key.count), now: now)
            if s < 0 { return .zero }
            let e = ks.entry(at: s)
            return e.type == .stream ? e.objectRef(StreamValue.self).lastID : .zero
        }
        if idArg.count == 1 && idArg[0] == 62 { return .max }
        guard case .id(let id)? = StreamID.parse(idArg.ptr, idArg.count, missingSeq: 0, strict: true) else {
            return nil
        }
        return id
    }

    /// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
    /// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
    static func xread(_ x: inout Exec) {
        guard let r = parseRead(&x) else { return }
        let xg = r.group >= 0
        // Check every key, group and ID before serving any (Redis's order).
        for j in 0..<r.streams {
            let k = r.streamsArg + j
            let idArg = x[k + r.streams]
            var s: StreamValue? = nil
            switch x.find(k, .stream, read: true) {
            case .wrongType: return
            case .missing: break
            case .found(let e, _): s = e.objectRef(StreamValue.self)
            }
            if xg && s?.group(x[r.group].buffer) == nil { return nogroup(&x, key: k, group: r.group) }
            if idArg.count == 1 && idArg[0] == 36 {
                if xg {
                    return x.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
                }
            } else if idArg.count == 1 && idArg[0] == 62 {
                if !xg {
                    return x.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
                }
            } else if parseID(&x, k + r.streams, strict: true) == nil {
                return
            }
        }
        // Serve; the outer header goes in front once the served streams are
        // counted (serving one may leave nothing for a repeated key).
        var served = 0
        let start = x.reply.buf.count
        for j in 0..<r.streams {
            let k = r.streamsArg + j
            guard let (s, gt, history, group) = servable(&x, r, j) else { continue }
            served += 1
            if x.reply.proto == 2 { x.reply.array(2) }
            x.reply.bulk(x[k])
            replyRead(&x, s, key: k, after: gt, count: r.count, group: group, consumerArg: r.group + 1,
                      noack: r.noack, history: history)
        }
        if served > 0 {
            // RESP2: an array of [key, entries] pairs; RESP3: a map.
            insertHeader(x.reply, at: start) { $0.proto == 2 ? $0.array(served) : $0.map(served) }
            return
        }
        if r.timeoutMs >= 0 {
            x.wouldBlock = true
            return
        }
        x.reply.nullArray()
    }

    /// Whether stream `j` of a checked XREAD/XREADGROUP has something to
    /// serve now: the stream, the ID to read after, whether it is a
    /// consumer's history, and its group.
    static func servable(_ x: inout Exec, _ r: ReadArgs, _ j: Int)
        -> (StreamValue, StreamID, Bool, ConsumerGroup?)? {
        let k = r.streamsArg + j
        // Redis looks every key up again to serve it (a second keyspace
        // hit or miss, and `keymiss`, as it counts them).
        guard let (e, _) = x.findAny(k, read: true) else { return nil }
        let s = e.objectRef(StreamValue.self)
        let idArg = x[k + r.streams]
        if r.group >= 0 {
            guard let g = s.group(x[r.group].buffer) else { return nil }
            if !(idArg.count == 1 && idArg[0] == 62) {
                guard case .id(let id)? = StreamID.parse(idArg.ptr, idArg.count, missingSeq: 0, strict: true)
                else { return nil }
                return (s, id, true, g)
            }
            guard s.length > 0, let top = s.edgeID(first: false), top > g.lastID else { return nil }
            return (s, g.lastID, false, g)
        }
        let gt: StreamID
        if idArg.count == 1 && idArg[0] == 36 {
            gt = s.lastID
        } else {
            guard case .id(let id)? = StreamID.parse(idArg.ptr, idArg.count, missingSeq: 0, strict: true)
            else { return nil }
            gt = id
        }
        guard s.length > 0, let top = s.edgeID(first: false), top > gt else { return nil }
        return (s, gt, false, nil)
    }

    /// Puts an aggregate header in front of what was written since `start`,
    /// as Redis's deferred lengths do: the count is known only afterwards.
    static func insertHeader(_ r: Reply, at start: Int, _ header: (Reply) -> Void) {
        let buf = r.buf
        let end = buf.count
        header(r)
        let h = buf.count - end
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: h) { tmp in
            let t = tmp.baseAddress!
            t.update(from: buf.base + end, count: h)
            memmove(buf.base + start + h, buf.base + start, end - start)
            (buf.base + start).update(from: t, count: h)
        }
    }

    static func nogroup(_ x: inout Exec, key k: Int, group g: Int) {
        var m = Array("NOGROUP No such key '".utf8)
        m += x[k].bytes.prefix { $0 != 0 }
        m += Array("' or consumer group '".utf8)
        m += x[g].bytes.prefix { $0 != 0 }
        m += Array("' in XREADGROUP with GROUP option".utf8)
        x.failed = true
        x.reply.error(bytes: m)
    }

    /// The entries after `after` (streamReplyWithRange with a group: moves
    /// the group's last ID and adds the entries to the PELs), or a
    /// consumer's history (from its PEL) when `history`.
    static func replyRead(_ x: inout Exec, _ s: StreamValue, key: Int, after: StreamID, count: Int,
                          group: ConsumerGroup?, consumerArg: Int, noack: Bool, history: Bool) {
        var consumer: StreamConsumer? = nil
        if let g = group {
            let (c, created) = g.createConsumer(x[consumerArg].buffer, now: x.now)
            if created { x.notify([.stream, .unsignalled], "xgroup-createconsumer", key) }
            c.seenTime = x.now
            consumer = c
        }
        if let g = group, let c = consumer, history {
            replyHistory(&x, s, c, from: after, count: count)
            _ = g
            return
        }
        guard let start = after.incremented else { return x.reply.array(0) }
        let n = replyRange(x.reply, s, start, .max, count: count, reverse: false)
        guard let g = group, let c = consumer, n > 0 else { return }
        // The entries just sent, again, to move the group and fill the PELs.
        var k = 0
        s.forEach(from: start, to: .max, reverse: false) { e in
            if e.id > g.lastID { s.advance(g, to: e.id) }
            if !noack { deliver(g, c, e.id, now: x.now) }
            k += 1
            return k < n
        }
    }

    /// Adds `id` to the PELs for consumer `c` (or moves it to `c`).
    static func deliver(_ g: ConsumerGroup, _ c: StreamConsumer, _ id: StreamID, now: Int64) {
        if let old = g.pending.find(id) {
            old.consumer.pending.remove(id)
            old.consumer = c
            old.deliveryTime = now
            old.deliveryCount = 1
            c.pending.insert(id, old)
        } else {
            let e = PendingEntry(consumer: c, time: now)
            g.pending.insert(id, e)
            c.pending.insert(id, e)
        }
    }

    /// streamReplyWithRangeFromConsumerPEL: the consumer's pending entries
    /// from `from` on; one deleted since is `[id, nil]`.
    static func replyHistory(_ x: inout Exec, _ s: StreamValue, _ c: StreamConsumer, from: StreamID, count: Int) {
        let p = c.pending
        let lo = p.lowerBound(from)
        let n = count == 0 ? p.count - lo : min(count, p.count - lo)
        x.reply.array(n)
        for i in lo..<(lo + n) {
            let id = p.id(i)
            if let e = s.entry(id) {
                replyEntry(x.reply, e)
                p.entry(i).deliveryTime = x.now
                p.entry(i).deliveryCount += 1
            } else {
                x.reply.array(2)
                replyID(x.reply, id)
                x.reply.nullArray()
            }
        }
    }

    // MARK: serving a blocked client

    /// What a blocked XREAD/XREADGROUP waiting on key argument `k` (from
    /// `after`, resolved when it blocked) gets now: nil while it must
    /// wait; otherwise the reply is written (entries or an error).
    /// `dryRun` only answers whether it would be served.
    public static func serveBlocked(_ x: inout Exec, key k: Int, after: StreamID, count: Int, dryRun: Bool) -> Bool {
        let a = x[k]
        let ks = x.keyspace(of: k)
        let slot = ks.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count), now: x.now)
        let xg = x[0].count == 10
        let s: StreamValue? = slot >= 0 && ks.entry(at: slot).type == .stream
            ? ks.entry(at: slot).objectRef(StreamValue.self) : nil
        guard let s else {
            // XREADGROUP needs its key: gone (or another type now) ends the wait.
            if !xg { return false }
            if !dryRun { x.error("UNBLOCKED the stream key no longer exists") }
            return true
        }
        var gt = after
        var group: ConsumerGroup? = nil
        var r = ReadArgs()
        if xg {
            guard let pr = parseRead(&x) else { return false }
            r = pr
            guard let g = s.group(x[r.group].buffer) else {
                if !dryRun { x.error("NOGROUP the consumer group this client was blocked on no longer exists") }
                return true
            }
            group = g
            gt = g.lastID
        }
        guard s.lastID > gt else { return false }
        if dryRun { return true }
        if x.reply.proto == 2 {
            x.reply.array(1)
            x.reply.array(2)
        } else {
            x.reply.map(1)
        }
        x.reply.bulk(a)
        replyRead(&x, s, key: k, after: gt, count: count, group: group, consumerArg: r.group + 1, noack: r.noack,
                  history: false)
        return true
    }
}
