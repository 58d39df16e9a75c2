import Commands
import Config
import RESP

/// The kinds of message a `.publish` hop carries (its first argument).
enum PubSubKind {
    static let channel: UInt8 = 48   // "0": PUBLISH, matched against patterns too
    static let shard: UInt8 = 49     // "1": SPUBLISH, shard channels only
    static let monitor: UInt8 = 50   // "2": a MONITOR line (the channel slot), for every monitor
}

/// SUBSCRIBE and friends, PUBLISH, PUBSUB.
///
/// Each worker keeps its own clients' subscriptions (`PubSubLocal`) and
/// counts them in `WorkerHandle.subscriptions`. PUBLISH delivers to this
/// worker's subscribers at once and appends the message to one `.publish`
/// hop per other worker that has subscribers: every PUBLISH of the
/// iteration, from any connection, rides in that one hop. Each target
/// answers how many of its clients received it, and the PUBLISH replies
/// with the sum, so the count is exact without a shared lock. A subscriber
/// is counted in its worker's `subscriptions` before its SUBSCRIBE reply is
/// sent, so a PUBLISH that starts after the reply reached anyone sees it.
/// Per target, hops leave in creation order: a publisher's messages reach
/// every subscriber in publish order.
extension Worker {
    func subscriptions(_ c: Client) -> ClientSubscriptions {
        if let s = c.subs { return s }
        let s = ClientSubscriptions()
        c.subs = s
        return s
    }

    /// The subscribe/unsubscribe confirmation: a push in RESP3, an array in RESP2.
    func confirm(_ r: Reply, _ kind: StaticString, _ name: Arg?, _ count: Int) {
        r.push(3)
        r.bulk(static: kind)
        if let n = name { r.bulk(n) } else { r.null() }
        r.int(count)
    }

    func subscribe(_ c: Client, _ r: Reply, shard: Bool) {
        let s = subscriptions(c)
        for i in 1..<args.count {
            let ch = args[i].bytes
            if shard {
                if s.shardChannels.insert(ch).inserted {
                    Self.addClient(c, &pubsub.shardChannels, ch)
                    noteSubscription(.shardChannels, ch, 1)
                }
                confirm(r, "ssubscribe", args[i], s.shardChannels.count)
            } else {
                if s.channels.insert(ch).inserted {
                    Self.addClient(c, &pubsub.channels, ch)
                    noteSubscription(.channels, ch, 1)
                }
                confirm(r, "subscribe", args[i], s.count)
            }
        }
    }

    func unsubscribe(_ c: Client, _ r: Reply, shard: Bool) {
        let kind: StaticString = shard ? "sunsubscribe" : "unsubscribe"
        func count() -> Int { shard ? (c.subs?.shardChannels.count ?? 0) : (c.subs?.count ?? 0) }
        if args.count == 1 {
            var n = 0
            if let s = c.subs {
                for ch in Array(shard ? s.shardChannels : s.channels) {
                    removeChannel(c, s, ch, shard: shard)
                    n += 1
                    ch.withUnsafeBufferPointer { confirm(r, kind, Arg($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count), count()) }
                }
            }
            if n == 0 { confirm(r, kind, nil, count()) }
            return
        }
        for i in 1..<args.count {
            if let s = c.subs { removeChannel(c, s, args[i].bytes, shard: shard) }
            confirm(r, kind, args[i], count())
        }
    }

    func psubscribe(_ c: Client, _ r: Reply) {
        let s = subscriptions(c)
        for i in 1..<args.count {
            let p = args[i].bytes
            if !s.patterns.contains(p) {
                s.patterns.append(p)
                Self.addClient(c, &pubsub.patterns, p)
                noteSubscription(.patterns, p, 1)
            }
            confirm(r, "psubscribe", args[i], s.count)
        }
    }

    func punsubscribe(_ c: Client, _ r: Reply) {
        if args.count == 1 {
            var n = 0
            if let s = c.subs {
                for p in s.patterns {
                    removePattern(c, s, p)
                    n += 1
                    p.withUnsafeBufferPointer {
                        confirm(r, "punsubscribe", Arg($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count), s.count)
                    }
                }
            }
            if n == 0 { confirm(r, "punsubscribe", nil, c.subs?.count ?? 0) }
            return
        }
        for i in 1..<args.count {
            if let s = c.subs { removePattern(c, s, args[i].bytes) }
            confirm(r, "punsubscribe", args[i], c.subs?.count ?? 0)
        }
    }

    func noteSubscription(_ t: PubSubDirectory.Table, _ name: [UInt8], _ delta: Int) {
        pubsub.lastValid = false
        pubsub.total += delta
        handle.subscriptions.add(delta)
        state.pubsub.add(t, name, delta)
    }

    @discardableResult
    func removeChannel(_ c: Client, _ s: ClientSubscriptions, _ ch: [UInt8], shard: Bool) -> Bool {
        if shard {
            guard s.shardChannels.remove(ch) != nil else { return false }
            Self.removeClient(c, &pubsub.shardChannels, ch)
            noteSubscription(.shardChannels, ch, -1)
        } else {
            guard s.channels.remove(ch) != nil else { return false }
            Self.removeClient(c, &pubsub.channels, ch)
            noteSubscription(.channels, ch, -1)
        }
        return true
    }

    func removePattern(_ c: Client, _ s: ClientSubscriptions, _ p: [UInt8]) {
        guard let i = s.patterns.firstIndex(of: p) else { return }
        s.patterns.remove(at: i)
        Self.removeClient(c, &pubsub.patterns, p)
        noteSubscription(.patterns, p, -1)
    }

    static func addClient(_ c: Client, _ map: inout [[UInt8]: Subscribers], _ k: [UInt8]) {
        if let list = map[k] { list.clients.append(.passUnretained(c)) } else { map[k] = Subscribers(c) }
    }

    static func removeClient(_ c: Client, _ map: inout [[UInt8]: Subscribers], _ k: [UInt8]) {
        if let list = map[k], list.remove(c) { map[k] = nil }
    }

    /// Every subscription of a closing or RESET connection, without replies.
    func dropSubscriptions(_ c: Client) {
        stopTracking(c)
        guard let s = c.subs else { return }
        for ch in Array(s.channels) { removeChannel(c, s, ch, shard: false) }
        for ch in Array(s.shardChannels) { removeChannel(c, s, ch, shard: true) }
        for p in s.patterns { removePattern(c, s, p) }
        c.subs = nil
    }

    // MARK: publishing

    func publish(_ c: Client, _ r: Reply, shard: Bool) {
        let ch = args[1].buffer, msg = args[2].buffer
        let kind = shard ? PubSubKind.shard : PubSubKind.channel
        let local = deliverLocal(kind, ch, msg)
        if lentDepth > 0 || c === scriptClient {
            // Inside EXEC or a script the reply is due now: the count comes
            // from the server-wide table, the other workers' copies travel.
            for t in 0..<shardCount where t != id && state.handles[t].subscriptions.value > 0 {
                appendPublish(to: t, kind, ch, msg, waiter: nil)
            }
            return r.int(state.pubsub.receivers(ch, shard: shard))
        }
        var targets = 0
        for t in 0..<shardCount where t != id && state.handles[t].subscriptions.value > 0 { targets += 1 }
        if targets == 0 { return r.int(local) }
        let s = beginFanout(c, .sum)
        s.publisher = c
        s.receivers = local
        s.pending = targets
        for t in 0..<shardCount where t != id && state.handles[t].subscriptions.value > 0 {
            if targets == 0 { break }
            targets -= 1
            appendPublish(to: t, kind, ch, msg, waiter: s)
        }
        // A subscriber that left between the two loads: its worker would never answer.
        s.pending -= targets
        if s.pending == 0 { publishCounted(s) }
    }

    /// The hook for messages a shard produces itself (keyspace
    /// notifications): delivers `message` on `channel` to every subscriber
    /// of every worker, in call order per subscriber, without counting.
    func publishFromShard(channel: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>) {
        deliverLocal(PubSubKind.channel, channel, message)
        for t in 0..<shardCount where t != id && state.handles[t].subscriptions.value > 0 {
            appendPublish(to: t, PubSubKind.channel, channel, message, waiter: nil)
        }
    }

    /// Adds a message to this iteration's `.publish` hop for worker `t`.
    func appendPublish(to t: Int, _ kind: UInt8, _ ch: UnsafeBufferPointer<UInt8>, _ msg: UnsafeBufferPointer<UInt8>,
                       waiter: ReplyTicket?) {
        let m: ShardMessage
        if let last = outgoing[t].last, last.kind == .request, case .publish = last.op {
            m = last
        } else {
            m = newMessage(for: nil, target: t)
            m.op = .publish
            enqueue(m, to: t)
            publishQueued = true
        }
        var k = kind
        arrayHeader(m.requests, 3)
        appendBulkArg(m.requests, &k, 1)
        appendBulkArg(m.requests, ch.baseAddress ?? UnsafePointer(bitPattern: 1)!, ch.count)
        appendBulkArg(m.requests, msg.baseAddress ?? UnsafePointer(bitPattern: 1)!, msg.count)
        m.commandCount += 1
        m.publishers.append(waiter)
    }

    /// Target side: deliver a hop's messages here, answer each one's count.
    func runPublishBatch(_ m: ShardMessage) {
        let p = UnsafePointer(m.requests.base)
        let n = m.requests.count
        let r = Reply(m.replies)
        var off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) {
            off += used
            r.int(deliverLocal(batchArgs[0][0], batchArgs[1].buffer, batchArgs[2].buffer))
        }
        m.kind = .response
        enqueue(m, to: m.source)
    }

    /// Source side: the counts came back.
    func publishAnswered(_ m: ShardMessage) {
        var rr = ReplyReader(m)
        for w in m.publishers {
            let (v, next) = rr.lineInt(at: rr.pos)
            rr.pos = next
            guard let s = w else { continue }
            s.receivers += v
            s.pending -= 1
            if s.pending == 0 { publishCounted(s) }
        }
        recycle(m)
    }

    func publishCounted(_ s: ReplyTicket) {
        Reply(s.buf, proto: s.publisher?.proto ?? 2).int(s.receivers)
        s.ready = true
        if let c = s.publisher, !c.closed {
            flushTickets(c)
            maybeResume(c)
        }
    }

    /// Sends one message to this worker's subscribers; returns how many got it.
    /// Each frame is encoded once and its bytes copied to every subscriber:
    /// RESP2 and RESP3 differ only in its first byte (`*` or `>`).
    @discardableResult
    func deliverLocal(_ kind: UInt8, _ ch: UnsafeBufferPointer<UInt8>, _ msg: UnsafeBufferPointer<UInt8>) -> Int {
        if kind == PubSubKind.monitor { return showMonitorLine(ch) }
        if pubsub.total == 0 { return 0 }
        let ps = pubsub
        let frame = ps.frame
        if kind == PubSubKind.shard {
            ps.setKey(ch)
            guard let list = ps.shardChannels[ps.key] else { return 0 }
            encodeFrame(frame, "smessage", nil, ch, msg)
            return pushFrame(list, frame)
        }
        var n = 0
        if let list = ps.channelSubscribers(ch) {
            encodeFrame(frame, "message", nil, ch, msg)
            n += pushFrame(list, frame)
        }
        if !ps.patterns.isEmpty {
            for (p, list) in ps.patterns {
                let hit = p.withUnsafeBufferPointer { pat in globMatch(pat, ch) }
                if !hit { continue }
                p.withUnsafeBufferPointer { pat in encodeFrame(frame, "pmessage", pat, ch, msg) }
                n += pushFrame(list, frame)
            }
        }
        return n
    }

    func encodeFrame(_ b: ByteBuf, _ kind: StaticString, _ pattern: UnsafeBufferPointer<UInt8>?,
                     _ ch: UnsafeBufferPointer<UInt8>, _ msg: UnsafeBufferPointer<UInt8>) {
        b.clear()
        let r = Reply(b, proto: 2)
        r.array(pattern == nil ? 3 : 4)
        r.bulk(static: kind)
        if let p = pattern { r.bulk(p) }
        r.bulk(ch)
        r.bulk(msg)
    }

    /// The frame to every client of `list`; returns how many that is.
    /// The walk copies the array (a retain of its storage, not of each
    /// client), so a receiver closed for its output limit on the way may
    /// leave the list without disturbing it.
    func pushFrame(_ list: Subscribers, _ frame: ByteBuf) -> Int {
        let clients = list.clients
        let p = UnsafePointer(frame.base), n = frame.count
        for u in clients { u._withUnsafeGuaranteedRef { pushFrame($0, p, n) } }
        return clients.count
    }

    func pushFrame(_ c: Client, _ frame: ByteBuf) {
        pushFrame(c, UnsafePointer(frame.base), frame.count)
    }

    /// A message goes out even under CLIENT REPLY OFF, as Redis pushes it.
    /// The common case (no reply owed by another shard, output under every
    /// limit) touches the client's buffer without retaining it and skips
    /// the full output-limit check.
    @inline(__always)
    func pushFrame(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) {
        if c.closing { return }
        guard c.ticketHead == c.tickets.count else { return pushFrameBehindTickets(c, p, n) }
        markDirty(c)
        let bytes = Unmanaged.passUnretained(c.out)._withUnsafeGuaranteedRef { out in
            let at = out.count
            out.append(p, n)
            if c.proto == 3 { out.base[at] = 62 }  // '>': a push
            return out.count
        }
        let pending = c.sendInFlight
            ? Unmanaged.passUnretained(c.sending)._withUnsafeGuaranteedRef { $0.count } - c.sendOffset : 0
        if bytes + pending >= outputLimitFloor || c.softLimitSince != 0 { checkOutputLimits(c) }
    }

    /// Replies still owed by other shards come first: the frame waits in a ticket behind them.
    func pushFrameBehindTickets(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) {
        let out: ByteBuf
        if let s = c.lastTicket, s.kind == .local {
            out = s.buf
        } else {
            let s = newTicket(.local)
            s.ready = true
            c.tickets.append(s)
            out = s.buf
        }
        let at = out.count
        out.append(p, n)
        if c.proto == 3 { out.base[at] = 62 }
        checkOutputLimits(c)
    }
}

extension Arg {
    /// ASCII case-insensitive comparison with a (lowercase) table name.
    func equalsName(_ name: String) -> Bool {
        var i = 0
        for ch in name.utf8 {
            if i >= count { return false }
            let x = self[i]
            if ((x >= 65 && x <= 90) ? x | 0x20 : x) != ch { return false }
            i += 1
        }
        return i == count
    }
}
