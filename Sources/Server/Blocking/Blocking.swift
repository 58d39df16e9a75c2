import Commands
import RESP
import Storage

/// Blocking pops across shards (BLPOP, BLMOVE, BZPOPMIN, ...).
///
/// A blocking command first tries to serve itself, atomically over all of
/// its keys: on the owner shard when its keys share one, else as a
/// transaction holding their shards. Finding nothing, it registers the
/// client on each key's owner (`BlockRegistry`) in the same step, so no push
/// can slip between the try and the wait. A write to a key with waiters
/// marks it ready; after that command (or transaction) the owner serves the
/// waiters in arrival order, each with its own pop, and sends the reply to
/// the client's worker. A waiter on keys of several shards is served once:
/// `BlockedClient.claim` decides. A BLMOVE whose destination lives on
/// another shard is not moved by the source's owner: it is claimed and its
/// worker runs it again as a transaction over both shards.
extension Worker {
    func routeBlocking(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let t0 = clock.now()
        let out = replyBuffer(c)
        let before = out.count
        var px = Exec(args: args, reply: Reply(out, proto: c.proto), store: store, stats: stats, db: c.db, now: now,
                      shard: execShard, shardCount: shardCount)
        guard let plan = BlockingCommands.plan(&px), let need = colocatedShards(spec, args) else {
            recordCall(spec, since: t0, failed: true, out: out, at: before, args, client: c, message: nil)
            return
        }
        let shards = (0..<shardCount).filter { need[$0] }
        if lentDepth > 0 {
            // Inside EXEC or a script a blocking command does not block.
            var wouldBlock = false
            if shards.count <= 1 {
                withLentShard(shards.first ?? id) {
                    wouldBlock = runHandler(spec, args, out: out, proto: c.proto, db: c.db, client: c)
                }
            } else {
                wouldBlock = runLent(spec, args, out: out, proto: c.proto, db: c.db, client: c)
            }
            if wouldBlock { BlockingCommands.timeoutReply(plan.kind, Reply(out, proto: c.proto), inTransaction: true) }
            return
        }
        let single = shards.count == 1
        if single && shards[0] == id && locks.holds == 0 {
            if !runHandler(spec, args, out: out, proto: c.proto, db: c.db, client: c) { return }
            let b = newBlocked(c, plan)
            register(b, args, db: c.db)
            waitBlocked(b)
            return
        }
        if !single && mustWaitForEarlier(c) { return }
        if single && shards[0] == id && mustWaitForEarlier(c) { return }
        let b = newBlocked(c, plan)
        let s = b.ticket!
        if single && shards[0] != id {
            // One other shard: try there; it registers the client if it must wait.
            cmdCalls[spec.id] += 1
            let m = addPart(s, c, shard: shards[0])
            m.op = .blockAttempt
            m.blocked = b
            encodeCommand(m.requests, args, from: 0)
            m.commandCount = 1
            launch(s, [m])
            return
        }
        encodeCommand(s.saved, args, from: 0)
        holdShards(s, c, shards)
    }

    /// The client's blocked state and the ticket that keeps its reply's place.
    func newBlocked(_ c: Client, _ plan: BlockingCommands.Plan) -> BlockedClient {
        let b = BlockedClient(worker: id, plan: plan, args: args, db: c.db, proto: c.proto,
                              deadline: plan.timeoutMs == 0 ? 0 : now + plan.timeoutMs)
        b.client = c
        let s = beginFanout(c, .blocked)
        s.blocked = b
        b.ticket = s
        c.barrier = s
        c.blockWait = b
        return b
    }

    /// Waits on `b`'s keys in this shard's registry (the current one, which
    /// is a lent shard's inside a transaction).
    func register(_ b: BlockedClient, _ a: ArgVector, db: Int) {
        for k in b.plan.keys where shardOf(a[k].ptr, a[k].count, shards: shardCount) == execShard {
            var w = BlockRegistry.Waiter(client: b, arg: k)
            if case .xread = b.plan.kind {
                w.after = StreamCommands.readStart(store.dbs[db], a, key: k, now: now) ?? .zero
            }
            blocked.add(DBKey(db: db, a[k]), w)
        }
        if b.counted.compareExchange(0, 1) { state.blockedClients.add(1) }
    }

    /// The reply of a blocking command that found nothing where it may not
    /// block (a one-shard EXEC block run on its owner): its timeout reply.
    func replyUnblocked(_ a: ArgVector, _ r: Reply, db: Int) {
        var px = Exec(args: a, reply: r, store: store, stats: stats, db: db, now: now,
                      shard: execShard, shardCount: shardCount)
        guard let plan = BlockingCommands.plan(&px) else { return }
        BlockingCommands.timeoutReply(plan.kind, r, inTransaction: true)
    }

    /// The shard side of a one-shard attempt.
    func blockAttempt(_ a: ArgVector, _ m: ShardMessage) {
        guard let b = m.blocked, b.isWaiting, let spec = table.lookup(a[0]) else { return }
        if runHandler(spec, a, out: m.replies, proto: m.proto, db: m.db, message: m, countStats: false) {
            register(b, a, db: m.db)
        } else {
            m.served = true
        }
    }

    /// A blocking command's parts are back (completeFanout).
    func completeBlocked(_ s: ReplyTicket, _ c: Client?) -> Bool {
        guard let b = s.blocked else { return false }
        switch s.stage {
        case 0 where s.txid != 0:
            // Its shards are held: try over all keys, else wait on each.
            let held = s.parts.map { $0.target }
            s.stage = 1
            if let c = c, !c.closed, !c.closing, b.isWaiting {
                let a = innerArgs
                let p = UnsafePointer(s.saved.base)
                if case .command = parseCommand(p, s.saved.count, into: a, limits: trustedLimits),
                   let spec = table.lookup(a[0]) {
                    lentDepth += 1
                    if runLent(spec, a, out: s.buf, proto: c.proto, db: b.db, client: c) {
                        s.stage = 2
                        for sh in held { withLentShard(sh) { register(b, a, db: b.db) } }
                    }
                    lentDepth -= 1
                }
            }
            releaseShards(s, c, held)
            return true
        case 0:
            if s.parts.first?.served == true {
                s.buf.append(s.parts[0].replies)
                endBlocked(b, c)
                return false
            }
            s.stage = 2
            fallthrough
        case 2:
            // Its client left while the parts were out: nothing to wait for.
            if c == nil || c!.closing {
                _ = b.cancel()
                endBlocked(b, c)
                return false
            }
            // Registered: it waits for a wake-up or its timeout.
            waitBlocked(b)
            return true
        case 3:
            // Served while its transaction was still releasing shards.
            return false
        default:
            endBlocked(b, c)
            return false
        }
    }

    func waitBlocked(_ b: BlockedClient) {
        if b.listed { return }
        b.listed = true
        blockedWaits.append(b)
        if b.deadline != 0 { blockedNearest = min(blockedNearest, b.deadline) }
    }

    /// The client is no longer blocked (served, timed out, unblocked).
    func endBlocked(_ b: BlockedClient, _ c: Client?) {
        b.ticket = nil
        // A cancel that beats the registration leaves 2: never counted.
        if b.counted.exchange(2) == 1 { state.blockedClients.add(-1) }
        if let c = c, c.blockWait === b { c.blockWait = nil }
        if b.listed, let i = blockedWaits.firstIndex(where: { $0 === b }) {
            blockedWaits.remove(at: i)
            b.listed = false
        }
    }

    /// The reply for a blocked client, on its worker.
    func finishBlocked(_ b: BlockedClient, _ p: UnsafePointer<UInt8>, _ n: Int) {
        guard let s = b.ticket else { return }
        let c = b.client
        s.buf.append(p, n)
        endBlocked(b, c)
        if s.pending > 0 {
            s.stage = 3
            return
        }
        s.ready = true
        guard let c = c, !c.closed else { return }
        if c.barrier === s { c.barrier = nil }
        flushTickets(c)
        resumeLater(c)
    }

    // MARK: owner side

    /// A write changed keys someone may wait on.
    @inline(__always) func noteBlockedWrites(_ spec: CommandSpec, _ a: ArgVector, db: Int) {
        _ = spec.forEachKey(a) { i in blocked.noteWrite(DBKey(db: db, a[i])) }
    }

    /// Serves the waiters of keys that got data, first come first served.
    func serveReady() {
        guard lentDepth == 0 else { return }
        while !blocked.ready.isEmpty {
            let k = blocked.ready.removeFirst()
            guard var list = blocked.waiters(k) else { continue }
            var i = 0
            while i < list.count {
                let w = list[i]
                let b = w.client
                if !b.isWaiting { list.remove(at: i); continue }
                if case .xread = b.plan.kind {
                    // Each XREAD waiter has its own start: skip those it cannot serve.
                    guard streamWaiterReady(b, w) else { i += 1; continue }
                } else {
                    guard hasData(k, b.plan.kind.valueType) else { break }
                }
                list.remove(at: i)
                guard b.claim() else { continue }
                if let d = b.plan.dst, !dstIsHere(b, d) {
                    sendBlocked(b, .blockRetry, nil, 0)
                    continue
                }
                serveOne(b, arg: w.arg, after: w.after)
            }
            blocked.set(k, list)
        }
    }

    /// Whether a blocked XREAD/XREADGROUP would be answered now (entries
    /// past its start, or the error of a vanished key or group).
    func streamWaiterReady(_ b: BlockedClient, _ w: BlockRegistry.Waiter) -> Bool {
        guard case .xread(let count, _) = b.plan.kind else { return false }
        let a = blockArgsOf(b)
        let out = blockOut
        out.clear()
        var x = Exec(args: a, reply: Reply(out, proto: b.proto), store: store, stats: stats, db: b.db, now: now,
                     shard: id, shardCount: shardCount)
        return StreamCommands.serveBlocked(&x, key: w.arg, after: w.after, count: count, dryRun: true)
    }

    func hasData(_ k: DBKey, _ t: ValueType) -> Bool {
        let ks = store.dbs[k.db]
        return k.bytes.withUnsafeBufferPointer { kb in
            let p = kb.baseAddress ?? UnsafePointer(bitPattern: 8)!
            let s = ks.find(p, kb.count, hash: hashBytes(p, kb.count), now: now)
            return s >= 0 && ks.entry(at: s).type == t
        }
    }

    func dstIsHere(_ b: BlockedClient, _ d: Int) -> Bool {
        let a = blockArgs
        _ = parseCommand(UnsafePointer(b.command.base), b.command.count, into: a, limits: trustedLimits)
        return shardOf(a[d].ptr, a[d].count, shards: shardCount) == id
    }

    /// Pops for one claimed waiter here and hands the reply to its worker.
    func serveOne(_ b: BlockedClient, arg: Int, after: StreamID = .zero) {
        let a = blockArgs
        _ = parseCommand(UnsafePointer(b.command.base), b.command.count, into: a, limits: trustedLimits)
        let out = blockOut
        out.clear()
        var x = Exec(args: a, reply: Reply(out, proto: b.proto), store: store, stats: stats, db: b.db, now: now,
                     shard: id, shardCount: shardCount)
        let aofDirty = aofCapturing ? aofChanges(store) : nil
        _ = BlockingCommands.serve(&x, b.plan.kind, key: arg, dst: b.plan.dst, after: after)
        if let d = aofDirty, let spec = table.lookup(a[0]) {
            aofAfterHandler(spec, a, out: out, at: 0, db: b.db, before: d)
        }
        flushKeyEvents(store)
        if !watches.isEmpty {
            watches.touch(DBKey(db: b.db, a[arg]))
            if let d = b.plan.dst { watches.touch(DBKey(db: b.db, a[d])) }
        }
        // A move's destination may have waiters of its own.
        if let d = b.plan.dst { blocked.noteWrite(DBKey(db: b.db, a[d])) }
        if b.worker == id {
            finishBlocked(b, UnsafePointer(out.base), out.count)
        } else {
            sendBlocked(b, .blockServed, UnsafePointer(out.base), out.count)
        }
    }

    func sendBlocked(_ b: BlockedClient, _ op: ShardOp, _ p: UnsafePointer<UInt8>?, _ n: Int) {
        if b.worker == id {
            if case .blockRetry = op { retryBlocked(b) }
            return
        }
        let m = newMessage(for: nil, target: b.worker)
        m.op = op
        m.blocked = b
        if let p = p { m.requests.append(p, n) }
        m.commandCount = 1
        enqueue(m, to: b.worker)
    }

    /// A cross-shard BLMOVE's source got data: run it again over both shards.
    func retryBlocked(_ b: BlockedClient) {
        guard let c = b.client, !c.closed, let s = b.ticket else { return }
        // Still blocked while it runs again: the count passes to the retry.
        let wasCounted = b.counted.exchange(2)
        endBlocked(b, c)
        let nb = BlockedClient(worker: id, plan: b.plan, args: blockArgsOf(b), db: b.db, proto: b.proto,
                               deadline: b.deadline)
        nb.client = c
        nb.ticket = s
        s.blocked = nb
        // The earlier parts are all back: the retry's own parts replace them.
        for p in s.parts { recycle(p) }
        s.parts.removeAll(keepingCapacity: true)
        c.blockWait = nb
        if wasCounted == 1 { nb.counted.store(1) }
        s.stage = 0
        s.txid = 0
        let a = blockArgsOf(nb)
        var need = [Bool](repeating: false, count: shardCount)
        for k in nb.plan.keys { need[shardOf(a[k].ptr, a[k].count, shards: shardCount)] = true }
        if let d = nb.plan.dst { need[shardOf(a[d].ptr, a[d].count, shards: shardCount)] = true }
        holdShards(s, c, (0..<shardCount).filter { need[$0] })
    }

    func blockArgsOf(_ b: BlockedClient) -> ArgVector {
        let a = blockArgs
        _ = parseCommand(UnsafePointer(b.command.base), b.command.count, into: a, limits: trustedLimits)
        return a
    }

    // MARK: timeouts, disconnects, CLIENT UNBLOCK

    /// Ms until the nearest deadline of a blocked client here, or nil.
    var nextBlockedDeadline: Int64? {
        blockedNearest == .max ? nil : max(0, blockedNearest - now)
    }

    /// Walks the blocked clients only once the nearest deadline has come
    /// (a client that left since only makes the walk early), so waiting
    /// clients cost nothing per loop iteration.
    func expireBlocked() {
        if now < blockedNearest { return }
        defer {
            blockedNearest = .max
            for b in blockedWaits where b.deadline != 0 { blockedNearest = min(blockedNearest, b.deadline) }
        }
        var i = 0
        while i < blockedWaits.count {
            let b = blockedWaits[i]
            if b.deadline != 0 && b.deadline <= now, let s = b.ticket, s.pending == 0, b.cancel() {
                let tmp = blockOut
                tmp.clear()
                BlockingCommands.timeoutReply(b.plan.kind, Reply(tmp, proto: b.proto))
                finishBlocked(b, UnsafePointer(tmp.base), tmp.count)
                continue
            }
            i += 1
        }
    }

    /// CLIENT UNBLOCK on this worker: 1 when the client was blocked here.
    func unblockClient(id cid: Int, error: Bool) -> Int {
        for case let c? in clients where c.id == cid {
            guard let b = c.blockWait, let s = b.ticket, s.pending == 0, b.cancel() else { return 0 }
            let tmp = blockOut
            tmp.clear()
            let r = Reply(tmp, proto: b.proto)
            if error { r.error("UNBLOCKED client unblocked via CLIENT UNBLOCK") } else { BlockingCommands.timeoutReply(b.plan.kind, r) }
            finishBlocked(b, UnsafePointer(tmp.base), tmp.count)
            return 1
        }
        return 0
    }

    /// A blocked client that goes away leaves nothing behind: shards drop
    /// its waits when they meet them, or at the next cron.
    /// Its reply ticket will never be written: when no part of it is still
    /// out, it is let go at once, or a close that flushes (the peer's FIN)
    /// would wait for it forever and leak the connection.
    func dropBlocked(_ c: Client) {
        guard let b = c.blockWait else { return }
        _ = b.cancel()
        let s = b.ticket
        endBlocked(b, c)
        if let s = s, s.pending == 0, !s.ready {
            s.ready = true
            if c.barrier === s { c.barrier = nil }
            flushTickets(c)
        }
    }
}
