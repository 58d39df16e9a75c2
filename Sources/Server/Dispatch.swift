import CLiburing
import Commands
import RESP
import Storage

/// parse → route → execute, for bytes a connection sent.
extension Worker {
    /// Runs every complete command in `p[0..<n]`; returns the bytes used.
    func process(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        // Transaction parts pushed before these bytes were sent come first.
        drainLaneIfNeeded()
        // `p` may be `inbuf`: a busy script serving events must not append to it.
        let wasOnStack = c.onStack
        c.onStack = true
        defer { c.onStack = wasOnStack }
        // A partial command at the front was scanned already; prefetching would rescan it.
        if n >= 64 && !c.parse.active && locks.wholeExclusive == 0 { prefetchKeys(c, p, n) }
        var off = 0
        var count = 0
        while off < n && !c.closing && c.barrier == nil && !c.stalled {
            limits.authRequired = !c.authenticated
            // outputBytes walks the pending tickets, so it is sampled, not run per command:
            // at the first command of each read too, or reads of fewer than 64
            // commands (a 1 KiB receive buffer) were never checked at all.
            count &+= 1
            if c.remoteOutstanding >= maxRemoteOutstanding || (count & 63 == 1 && c.outputBytes > outputPauseBytes) {
                // The client is not reading its replies: stop reading its requests.
                holdInput(c)
                break
            }
            if overflowCount >= maxOverflow {
                // Other shards' inboxes are full: read nothing more until they drain.
                holdInput(c)
                overflowPaused.append(c)
                break
            }
            switch parseCommand(p + off, n - off, into: args, limits: limits, progress: &c.parse) {
            case .command(let used):
                execute(c, raw: p + off, rawCount: used)
                // Not started: it stays in the input and runs again later.
                if c.stalled { return off }
                off += used
            case .skip(let used):
                off += used
            case .incomplete:
                // No reserve by the announced length: the buffer grows as bytes arrive.
                return off
            case .error(let msg):
                let out = replyBuffer(c)
                out.append(string: "-ERR Protocol error: ")
                // Latin-1: a quoted byte of the input goes back as that raw byte.
                for u in msg.unicodeScalars { out.append(UInt8(truncatingIfNeeded: u.value)) }
                out.append(string: "\r\n")
                state.logger.debug("Protocol error (\(msg)) from client: id=\(c.id) addr=\(c.addr)")
                closeClient(c, flush: true)
                return n
            }
        }
        return off
    }

    /// A pipelined batch's key lookups are cache misses over a large table
    /// (the biggest box in perf/results/flamegraph-get-p16.svg). Touch the
    /// slots of the first commands' keys, then the entries they point to, so
    /// the misses overlap instead of coming one command at a time.
    func prefetchKeys(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) {
        prefetchKeys(db: c.db, p, n, limits: limits, forwarded: false)
    }

    /// `forwarded`: a batch another shard sent here, whose keys are all this
    /// shard's, so no key is filtered by owner. Without this pass a forwarded
    /// GET's lookup missed the cache one command at a time (16% of a 2-shard
    /// GET -P 16 profile, perf/results/flamegraph-hops-before-get-p16-s2).
    func prefetchKeys(db: Int, _ p: UnsafePointer<UInt8>, _ n: Int, limits: ProtocolLimits, forwarded: Bool) {
        let table = store.dbs[db].table
        let slots = table.slots
        let mask = table.mask
        var off = 0
        var k = 0
        while off < n && k < prefetchHashes.count {
            guard case .command(let used) = parseCommand(p + off, n - off, into: prefetchArgs, limits: limits) else { break }
            off += used
            // A lone command gains nothing from prefetching; skip its extra hash.
            if k == 0 && off >= n { return }
            if prefetchArgs.count < 2 { continue }
            let key = scriptKeyIndex(prefetchArgs)
            if key < 0 { continue }
            let a = prefetchArgs[key]
            if !forwarded && shardCount > 1 && shardOf(a.ptr, a.count, shards: shardCount) != id { continue }
            let h = hashBytes(a.ptr, a.count)
            prefetchHashes[k] = h
            k += 1
            rk_prefetch(slots + (Int(truncatingIfNeeded: h) & mask))
        }
        if k < 2 { return }
        for i in 0..<k {
            let h = prefetchHashes[i]
            let s = slots[Int(truncatingIfNeeded: h) & mask]
            if s > 1 && s & ~HashTable.ptrMask == h & ~HashTable.ptrMask {
                rk_prefetch(UnsafeRawPointer(bitPattern: UInt(s & HashTable.ptrMask)))
            }
        }
    }

    /// The argument `prefetchKeys` touches: the first, or for EVAL, EVALSHA
    /// and FCALL (and their _RO forms) the first declared key, -1 when none
    /// is declared. Hashing the script's digest instead left every EVALSHA's
    /// key lookup a cache miss (HashTable.find: 17% of an EVALSHA -P 16
    /// profile, perf/results/flamegraph-tx-evalsha-before).
    @inline(__always)
    func scriptKeyIndex(_ a: ArgVector) -> Int {
        let name = a[0]
        let first = name.count >= 4 ? name[0] | 0x20 : 0
        guard first == 101 || first == 102 else { return 1 }  // e, f
        guard name.equalsLower("evalsha") || name.equalsLower("eval") || name.equalsLower("fcall")
            || name.equalsLower("evalsha_ro") || name.equalsLower("eval_ro") || name.equalsLower("fcall_ro") else { return 1 }
        if a.count < 4 || (a[2].count == 1 && a[2][0] == 48) { return -1 }
        return 3
    }

    /// MGET, DEL, EXISTS, MSET and their per-shard parts: the keys of one
    /// command missed the cache one after another (HashTable.find was 22% of
    /// a 2-shard MGET of 4 keys, perf/results/flamegraph-hops-before-mget4-p16-s2).
    /// Touch all their slots, then the entries they point to.
    func prefetchCommandKeys(_ a: ArgVector, db: Int, step: Int) {
        let table = store.dbs[db].table
        let slots = table.slots
        let mask = table.mask
        var i = 1
        var k = 0
        while i < a.count && k < prefetchHashes.count {
            let h = hashBytes(a[i].ptr, a[i].count)
            prefetchHashes[k] = h
            k += 1
            rk_prefetch(slots + (Int(truncatingIfNeeded: h) & mask))
            i += step
        }
        for j in 0..<k {
            let h = prefetchHashes[j]
            let s = slots[Int(truncatingIfNeeded: h) & mask]
            if s > 1 && s & ~HashTable.ptrMask == h & ~HashTable.ptrMask {
                rk_prefetch(UnsafeRawPointer(bitPattern: UInt(s & HashTable.ptrMask)))
            }
        }
    }

    /// Stops reading `c` for flow control; what is left of its input waits
    /// in `inbuf` for resumeReading, also past an EOF.
    @inline(__always) func holdInput(_ c: Client) {
        c.recvPaused = true
        c.inputHeld = true
        backend.pauseRecv(c)
    }

    /// Where the next reply of `c` goes: straight to its output when nothing
    /// is outstanding, else into a local ticket that waits its turn.
    func replyBuffer(_ c: Client) -> ByteBuf {
        if c.replyMode == .off || c.replyMode == .skipThis {
            discard.clear()
            return discard
        }
        if !c.hasPendingTickets {
            markDirty(c)
            return c.out
        }
        if let s = c.lastTicket, s.kind == .local { return s.buf }
        let s = newTicket(.local)
        s.ready = true
        c.tickets.append(s)
        return s.buf
    }

    func execute(_ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        totalCommands &+= 1
        if c.replyMode == .skipNext { c.replyMode = .skipThis }
        defer { if c.replyMode == .skipThis { c.replyMode = .on } }
        let i = table.index(of: args[0])
        if i < 0 {
            let r = Reply(replyBuffer(c), proto: c.proto)
            r.error(bytes: unknownCommandError(args))
            countError("ERR")
            c.multi?.aborted = true
            return
        }
        // The spec is lent for the call, not retained (CommandTable.withSpec).
        table.withSpec(at: i) { dispatch($0, c, raw: raw, rawCount: rawCount) }
    }

    /// `execute` for a known command: the checks, then its route.
    func dispatch(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        c.lastCommandID = spec.id
        if let t = c.tracking { trackingBeforeCommand(c, t) }
        if !spec.arityOK(args.count) {
            c.multi?.aborted = true
            cmdRejected[spec.id] += 1
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error(string: wrongArityError(spec.name))
            return
        }
        if !c.authenticated && !spec.flags.contains(.noAuth) {
            cmdRejected[spec.id] += 1
            countError("NOAUTH")
            Reply(replyBuffer(c), proto: c.proto).error(Err.noAuth)
            return
        }
        if c.proto == 2, let s = c.subs, s.total > 0, !allowedWhileSubscribed(spec) {
            cmdRejected[spec.id] += 1
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error(bytes: subscribedModeError(spec))
            return
        }
        // A script on some worker is past busy-reply-threshold (one load when none is).
        if state.busyScripts.value != 0 && c.fd >= 0 && refuseWhileBusy(spec, c) { return }
        // Redis evicts nothing while a script is busy.
        if memLimit.max != 0 && lentDepth == 0 && c.fd >= 0 && !busy.serving && state.busyScripts.value == 0
            && !admitUnderMaxmemory(spec, c) { return }
        if state.bgsave.denyWrites.value != 0 && lentDepth == 0 && c.fd >= 0 && deniedByDiskError(spec, c) { return }
        if state.pauseEnd.value != 0 && pauseHolds(spec, c) { return holdForPause(c) }
        if c.multi != nil && queueInMulti(spec, c, raw: raw, rawCount: rawCount) { return }
        // MONITOR: one load while nobody watches. The line is made before the
        // command runs (EXEC and scripts reuse `args`) and shown after it, so
        // the commands an EXEC runs come first, as in Redis.
        var monitorLine: ByteBuf? = nil
        var monitorBlock: MultiState? = nil
        if state.monitors.value != 0 && (lentDepth == 0 || c === scriptClient) {
            if case .server(.exec) = spec.route { monitorBlock = c.multi }
            if monitorShows(spec, args) {
                monitorLine = self.monitorLine(c)
            } else if spec.flags.contains(.skipMonitor) && !spec.flags.contains(.admin) {
                // EVAL and FCALL show themselves before their script's commands.
                feedMonitors(c, self.monitorLine(c))
            }
        }
        defer {
            if let l = monitorLine, !c.stalled {
                if let ms = monitorBlock { feedQueuedCommands(c, ms) }
                feedMonitors(c, l)
            }
        }
        switch spec.route {
        case .key:
            let k = args[spec.routeKey]
            runOn(shardOf(k.ptr, k.count, shards: shardCount), spec, c, raw: raw, rawCount: rawCount)
        case .local:
            runLocal(spec, c)
        case .keys(let merge):
            routeMultiKey(spec, merge, c, raw: raw, rawCount: rawCount)
        case .keyPair:
            routePair(spec, c, raw: raw, rawCount: rawCount)
        case .colocated:
            routeColocated(spec, c, raw: raw, rawCount: rawCount)
        case .blocking:
            routeBlocking(spec, c, raw: raw, rawCount: rawCount)
        case .allShards(let merge):
            fanoutAll(spec, c, merge: merge)
        case .scan:
            routeScan(spec, c, raw: raw, rawCount: rawCount)
        case .server(let op):
            // Served under a busy script (KILL, SHUTDOWN NOSAVE): the replies it waits for come after it.
            if txNeeded && !busy.serving {
                switch op {
                // Server state these change (CONFIG SET proto-max-bulk-len,
                // DEBUG, loaded scripts) binds commands that run on other
                // shards: one sent earlier on this connection and still in
                // flight must run under the old state, as it would in Redis.
                case .dbsize, .flushdb, .flushall, .swapdb, .config, .debug, .script, .function, .shutdown:
                    if mustWaitForEarlier(c) { return }
                default: break
                }
            }
            runServerCommand(op, spec, c, raw: raw, rawCount: rawCount)
        }
    }


    /// Runs a data command on this worker's own shard.
    @inline(__always)
    func runLocal(_ spec: CommandSpec, _ c: Client) {
        if locks.holds != 0 && lentDepth == 0 {
            if let item = c.parkItem {
                // Its turn came: it runs past the locks, then gives up its place.
                c.parkItem = nil
                runHandler(spec, args, out: replyBuffer(c), proto: c.proto, db: c.db, client: c)
                finish(item)
                return
            }
            if conflicts(spec, args, db: c.db) {
                parkClient(c, commandLocks(spec, args, db: c.db))
                return
            }
        }
        let out = replyBuffer(c)
        runHandler(spec, args, out: out, proto: c.proto, db: c.db, client: c)
    }

    /// Runs a command on the shard that owns its keys: here, on a shard an
    /// EXEC holds, or by forwarding it.
    @inline(__always)
    func runOn(_ shard: Int, _ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        if shard == id && lentDepth == 0 {
            runLocal(spec, c)
        } else if lentDepth > 0 && shard == execShard {
            // Inside EXEC or a script, on the shard already in hand: no
            // closure context (its captures cost a retain each).
            runLocal(spec, c)
        } else if lentDepth > 0 {
            withLentShard(shard) { runLocal(spec, c) }
        } else {
            forward(c, to: shard, raw: raw, rawCount: rawCount)
        }
    }

    /// The one place handlers run, locally or for a forwarded message.
    /// The issuing client, or the message that carries its address and name,
    /// is passed only for SLOWLOG: objects, so the hot path copies no string.
    /// Returns true when a blocking command found nothing and wrote nothing.
    @inline(__always) @discardableResult
    func runHandler(_ spec: CommandSpec, _ a: ArgVector, out: ByteBuf, proto: Int, db: Int, client: Client? = nil,
                    message: ShardMessage? = nil, imported: Entry? = nil, importMode: Bool = false,
                    countStats: Bool = true) -> Bool {
        guard let h = spec.handler else { return false }
        if memLimit.max != 0 && spec.flags.contains(.denyoom)
            && !admitDenyOOM(spec, out: out, proto: proto, client: client) { return false }
        let t0 = clock.now()
        // The worker's one context, refilled (Exec.reuse): no handler runs
        // inside another's call, and what follows reads it only up to serveReady.
        handlerContext.reuse(args: a, out: out, proto: proto, store: store, stats: stats, db: db, now: now,
                             shard: execShard, shardCount: shardCount)
        handlerContext.importMode = importMode
        handlerContext.imported = imported
        handlerContext.fromScript = client != nil && client === scriptClient
        if let m = message, m.quietMiss { handlerContext.quietMiss = true }
        let before = out.count
        let watched = !watches.isEmpty
        let mutations = watched ? store.dbs[db].mutations : 0
        let absent = watched && spec.flags.contains(.write) ? absentRemoveOnlyKeys(spec, a, db: db) : []
        // MOVE and COPY ... DB write a key in another database.
        let other = (watched || !blocked.isEmpty) && spec.flags.contains(.write)
            ? KeyCommands.otherDatabaseWrite(spec, a, databases: store.dbs.count) : nil
        let otherMutations = other.map { store.dbs[$0.db].mutations } ?? 0
        if a.count > 2, case .keys = spec.route { prefetchCommandKeys(a, db: db, step: max(spec.keyStep, 1)) }
        let aofDirty = aofCapturing ? aofChanges(store) : nil
        h(&handlerContext)
        let failed = handlerContext.failed, wouldBlock = handlerContext.wouldBlock
        if let d = aofDirty { aofAfterHandler(spec, a, out: out, at: before, db: db, before: d) }
        if store.events.used != 0 { publishKeyEvents(store, writer: client?.id ?? message?.writer ?? 0, message: message) }
        // A change (or a lazy expiry) signals the keys to WATCHers, as Redis's signalModifiedKey.
        if watched && store.dbs[db].mutations != mutations { touchWatched(spec, a, db: db, absent: absent) }
        if state.trackingClients.value > 0 && spec.flags.contains(.readonly) {
            let t = client.map { readTracker($0) } ?? message?.tracker ?? 0
            if t != 0 { trackRead(spec, a, token: t) }
        }
        if watched, let o = other, store.dbs[o.db].mutations != otherMutations {
            watches.touch(DBKey(db: o.db, a[o.arg]))
        }
        // The parts of a split command are one call, counted by its coordinator.
        if countStats {
            recordCall(spec, micros: clock.nanos(clock.now() - t0) / 1000, failed: failed, out: out, at: before, a,
                       client: client, message: message)
        }
        if !blocked.isEmpty && spec.mayWrite {
            noteBlockedWrites(spec, a, db: db)
            if let o = other { blocked.noteWrite(DBKey(db: o.db, a[o.arg])) }
            if lentDepth == 0 && !blocked.ready.isEmpty { serveReady() }
        }
        return wouldBlock
    }

    /// INFO commandstats and errorstats, and SLOWLOG, for one finished call:
    /// the one place handler commands and server commands are counted.
    /// `t0` is a `clock` reading.
    func recordCall(_ spec: CommandSpec, since t0: Int, failed: Bool, out: ByteBuf, at before: Int, _ a: ArgVector,
                    client: Client?, message: ShardMessage?, slowlogged: Bool = true) {
        recordCall(spec, micros: clock.nanos(clock.now() - t0) / 1000, failed: failed, out: out, at: before, a,
                   client: client, message: message, slowlogged: slowlogged)
    }

    /// The same, for a call timed with `clock` (handlers: the hot path).
    @inline(__always)
    func recordCall(_ spec: CommandSpec, micros us: Int, failed: Bool, out: ByteBuf, at before: Int, _ a: ArgVector,
                    client: Client?, message: ShardMessage?, slowlogged: Bool = true) {
        cmdCalls[spec.id] += 1
        cmdMicros[spec.id] += us
        if failed {
            cmdFailed[spec.id] += 1
            countError(in: out, at: before)
        }
        if slowlogged && us >= slowlog.threshold && slowlog.threshold >= 0 {
            let addr = client?.addr ?? message?.originAddr ?? ""
            let name = client != nil ? client?.name : message?.originName
            slowlog.add(a, micros: us, now: now, id: state.slowlogIDs.add(1) - 1, addr: addr, name: name)
        }
    }

    func countError(_ prefix: String) {
        errorCounts[prefix, default: 0] += 1
    }

    /// errorstats counts the first word of an error reply that starts at
    /// `start` in `out` (the reply a command just wrote). Returns whether the
    /// reply was an error.
    @discardableResult
    func countError(in out: ByteBuf, at start: Int) -> Bool {
        guard start < out.count, out.base[start] == 45 /* - */ else { return false }
        var j = start + 1
        while j < out.count && out.base[j] != 32 && out.base[j] != 13 { j += 1 }
        countError(String(decoding: UnsafeBufferPointer(start: out.base + start + 1, count: j - start - 1), as: UTF8.self))
        return true
    }

    // MARK: forwarding

    func newTicket(_ kind: ReplyTicket.Kind) -> ReplyTicket {
        let s = ticketPool.popLast() ?? ReplyTicket()
        s.kind = kind
        return s
    }

    func newMessage(for c: Client?, target: Int) -> ShardMessage {
        let m = messagePool.popLast() ?? ShardMessage()
        m.source = id
        m.target = target
        m.client = c
        if let c = c {
            m.db = c.db
            m.proto = c.proto
            m.originAddr = c.addr
            m.originName = c.name
            m.writer = c.id
            if c.tracking != nil { m.tracker = readTracker(c) }
        }
        return m
    }

    func recycle(_ m: ShardMessage) {
        m.reset()
        if messagePool.count < 1024 { messagePool.append(m) }
    }

    func recycle(_ s: ReplyTicket) {
        s.reset()
        if ticketPool.count < 1024 { ticketPool.append(s) }
    }

    /// Sends a command to its owner shard, riding along with the previous
    /// command when that went to the same shard from the same connection.
    func forward(_ c: Client, to shard: Int, raw: UnsafePointer<UInt8>, rawCount: Int) {
        var m: ShardMessage
        if let last = outgoing[shard].last, last.client === c, last.ticket == nil, last.db == c.db, last.proto == c.proto,
           last.kind == .request, last.carriesCommands {
            m = last
        } else {
            m = newMessage(for: c, target: shard)
            enqueue(m, to: shard)
        }
        appendCommand(m, raw: raw, rawCount: rawCount)
        takeRemoteTicket(c, m)
    }

    /// A typed step for one key's shard whose reply takes its place in the
    /// connection's reply order like a forwarded command's (DEBUG OBJECT).
    func forwardStep(_ c: Client, to shard: Int, _ op: ShardOp, key: Arg) {
        let m = newMessage(for: c, target: shard)
        m.op = op
        arrayHeader(m.requests, 1)
        appendBulkArg(m.requests, key.ptr, key.count)
        m.commandCount = 1
        enqueue(m, to: shard)
        takeRemoteTicket(c, m)
    }

    /// The reply ticket of the message's last command, merged into the
    /// previous ticket when that reads the same message.
    func takeRemoteTicket(_ c: Client, _ m: ShardMessage) {
        c.remoteOutstanding += 1
        c.plainInFlight += 1
        let idx = m.commandCount - 1
        if c.replyMode == .on, let s = c.lastTicket, s.kind == .remote, s.msg === m, s.last == idx - 1, !s.discard {
            s.last = idx
        } else {
            let s = newTicket(.remote)
            s.msg = m
            s.first = idx
            s.last = idx
            s.discard = c.replyMode != .on
            m.refs += 1
            c.tickets.append(s)
        }
    }

    /// Copies the command into the message: multibulk bytes as they came,
    /// inline commands re-encoded as multibulk.
    func appendCommand(_ m: ShardMessage, raw: UnsafePointer<UInt8>, rawCount: Int) {
        if raw[0] == 42 {
            m.requests.append(raw, rawCount)
        } else {
            encodeCommand(m.requests, args, from: 0)
        }
        m.commandCount += 1
    }

    /// Every message to another worker (or to this one, for the flush to
    /// take in turn) goes through here. Messages reach `deliver` in this
    /// order across iterations, and within one that made a publish hop
    /// (`flushInSendOrder`), so overflow lists are ordered by it too.
    @inline(__always) func enqueue(_ m: ShardMessage, to t: Int) {
        sendSeqNext &+= 1
        m.sendSeq = sendSeqNext
        outgoing[t].append(m)
    }

    /// Pushes this iteration's messages to their workers and wakes the sleepers.
    func flushOutgoing() {
        if overflowCount > 0 { retryOverflow() }
        if publishQueued { return flushInSendOrder() }
        for t in 0..<outgoing.count where !outgoing[t].isEmpty {
            // By index, not over a copy: a copy shares the storage, and
            // emptying the list then reallocated it every iteration. A message
            // appended meanwhile (a part for this shard answered at once) goes
            // out in this pass, after the earlier ones.
            var pushed = false
            var i = 0
            while i < outgoing[t].count {
                if deliver(outgoing[t][i]) { pushed = true }
                i += 1
            }
            outgoing[t].removeAll(keepingCapacity: true)
            if pushed { wakeIfSleeping(state.handles[t]) }
        }
    }

    /// With a publish hop among them the lists go out merged in the order
    /// their messages were made, not target by target: a hop that finds its
    /// inbox full must hold back everything made after it (`deliver`), and
    /// the release of a lent shard made after it sits in another list.
    func flushInSendOrder() {
        publishQueued = false
        let n = outgoing.count
        while true {
            var best = -1
            var bestSeq = Int.max
            for t in 0..<n where flushHeads[t] < outgoing[t].count {
                let s = outgoing[t][flushHeads[t]].sendSeq
                if s < bestSeq {
                    bestSeq = s
                    best = t
                }
            }
            if best < 0 { break }
            let m = outgoing[best][flushHeads[best]]
            flushHeads[best] += 1
            if deliver(m) { flushPushed[best] = true }
        }
        for t in 0..<n where !outgoing[t].isEmpty {
            outgoing[t].removeAll(keepingCapacity: true)
            flushHeads[t] = 0
            if flushPushed[t] {
                flushPushed[t] = false
                wakeIfSleeping(state.handles[t])
            }
        }
    }

    /// One check per target and iteration, not an exchange per message.
    @inline(__always) func wakeIfSleeping(_ h: WorkerHandle) {
        if h.claimWake() { backend.wake(h.wakeFD) }
    }

    /// Oldest first per target, stopping at the first that still does not
    /// fit or that was queued after a waiting publish hop.
    func retryOverflow() {
        var progress = true
        while progress {
            progress = false
            let barrier = publishBarriers.first ?? .max
            for t in 0..<overflow.count where !overflow[t].isEmpty {
                let h = state.handles[t]
                var k = 0
                while k < overflow[t].count {
                    // Read before the push: from then on the message is the
                    // target's, which may send it back as a response at once
                    // (race found by ThreadSanitizer).
                    let seq = overflow[t][k].sendSeq
                    if seq > barrier || !h.inbox.push(overflow[t][k]) { break }
                    if seq == barrier { publishBarriers.removeFirst() }
                    k += 1
                }
                if k == 0 { continue }
                overflow[t].removeFirst(k)
                overflowCount -= k
                wakeIfSleeping(h)
                // What the barrier held may go now.
                if (publishBarriers.first ?? .max) != barrier { progress = true }
            }
        }
        if overflowCount < maxOverflow / 2 && !overflowPaused.isEmpty {
            let paused = overflowPaused
            overflowPaused.removeAll(keepingCapacity: true)
            for c in paused where !c.closed { maybeResume(c) }
        }
    }

    /// Returns whether `m` went into another worker's inbox (a wake-up may be owed).
    func deliver(_ m: ShardMessage) -> Bool {
        let t = m.kind == .request ? m.target : m.source
        if t == id {
            if m.kind == .request { receive(m) } else { handleResponse(m) }
            return false
        }
        if !overflow[t].isEmpty || !publishBarriers.isEmpty || !state.handles[t].inbox.push(m) {
            // Keyspace events of a key come from its owner, or from the
            // coordinator it is lent to; the shard goes back by message. A
            // publish hop left waiting for a full inbox must reach its
            // subscriber's worker before anything sent after it, the
            // release of a lent shard above all: the owner's next event for
            // that key would otherwise get there first (issue 13, shrunk run).
            if m.kind == .request, case .publish = m.op { publishBarriers.append(m.sendSeq) }
            overflow[t].append(m)
            overflowCount += 1
            return false
        }
        return true
    }

    func drainInbox() {
        drainLaneIfNeeded()
        var n = 0
        while let m = handle.inbox.pop() {
            // Pushed after a CONFIG SET that came while an earlier message
            // ran (a script forwarded behind a long one): it runs under it.
            if m.kind == .request { refreshConfigIfChanged(); receive(m) } else { handleResponse(m) }
            n += 1
            if n >= 4096 { break }
        }
        if n > 0 { wakeRoomWaiters() }
    }

    /// A request from the inbox: a transaction's later stage, or a batch.
    @inline(__always) func receive(_ m: ShardMessage) {
        if m.txid != 0 { txStage(m) } else { runRequests(m) }
    }

    /// Target side: run a batch against this shard and send the replies back.
    func runRequests(_ m: ShardMessage) {
        // Subscribers are worker state, not shard data: no lock applies.
        if case .publish = m.op { return runPublishBatch(m) }
        if case .invalidate = m.op { return runInvalidations(m) }
        if m.txid == 0 && m.parkItem == nil {
            // A transaction part pushed before this batch was sent comes first.
            drainLaneIfNeeded()
            // A batch never overtakes an earlier one of its connection that waits here.
            if locks.holds != 0 && lentDepth == 0 && parkedBatchAhead(m) {
                parkBatch(m, at: m.resumeAt, LockSet())
                return
            }
        }
        if case .commands = m.op {
            let p = UnsafePointer(m.requests.base)
            let n = m.requests.count
            var off = m.resumeAt
            if m.commandCount > 1 && m.txid == 0 && locks.wholeExclusive == 0 {
                prefetchKeys(db: m.db, p + off, n - off, limits: trustedLimits, forwarded: true)
            }
            while off < n {
                guard case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) else { break }
                if let spec = table.lookup(batchArgs[0]) {
                    if m.txid == 0 && locks.holds != 0 && lentDepth == 0 && m.parkItem == nil
                        && conflicts(spec, batchArgs, db: m.db) {
                        parkBatch(m, at: off, commandLocks(spec, batchArgs, db: m.db))
                        return
                    }
                    off += used
                    // The parts of a split command are one call, counted by its coordinator.
                    runHandler(spec, batchArgs, out: m.replies, proto: m.proto, db: m.db, message: m,
                               countStats: m.ticket == nil)
                    m.replyEnds.append(m.replies.count)
                    if let item = m.parkItem {
                        m.parkItem = nil
                        finish(item)
                    }
                } else {
                    off += used
                    Reply(m.replies, proto: m.proto).error(bytes: unknownCommandError(batchArgs))
                    m.replyEnds.append(m.replies.count)
                }
            }
        } else {
            if m.txid == 0 && m.parkItem == nil && locks.holds != 0 && lentDepth == 0, let set = stepLocks(m),
               locks.conflicts(set) {
                parkBatch(m, at: 0, set)
                return
            }
            runInternal(m)
            m.replyEnds.append(m.replies.count)
            if let item = m.parkItem {
                m.parkItem = nil
                finish(item)
            }
        }
        m.kind = .response
        if m.source == id {
            handleResponse(m)
        } else {
            enqueue(m, to: m.source)
        }
    }

    /// Source side: a batch came back; release replies that are now in order.
    func handleResponse(_ m: ShardMessage) {
        if case .publish = m.op { return publishAnswered(m) }
        if case .invalidate = m.op { return recycle(m) }
        m.done = true
        if !m.bcast.isEmpty || m.ticket?.bcast.isEmpty == false { takeBroadcasts(m) }
        if let s = m.ticket {
            s.pending -= 1
            if s.pending == 0 { completeFanout(s, m.client) }
        }
        guard let c = m.client else { return }
        if c.closed {
            return
        }
        var resume = false
        if let b = c.barrier, b.ready {
            c.barrier = nil
            resume = true
        }
        flushTickets(c)
        if c.stallForDrain && c.plainInFlight == 0 {
            c.stallForDrain = false
            c.stalled = false
            resume = true
        }
        maybeResume(c)
        // From the loop: this can run inside a shard's transaction machinery.
        if resume { resumeLater(c) }
    }

    /// A paused client reads again once its replies have mostly drained
    /// (at most half the pause threshold: with client-output-pause-bytes 1
    /// that is all of them; `<` there would never let it read again).
    func maybeResume(_ c: Client) {
        if c.recvPaused && !c.closing && c.remoteOutstanding <= maxRemoteOutstanding / 2
            && c.outputBytes <= outputPauseBytes / 2 {
            if overflowCount < maxOverflow / 2 {
                resumeReading(c)
            } else if !overflowPaused.contains(where: { $0 === c }) {
                // Paused for its replies, it is now held only by other
                // clients' overflow: nothing of its own will call again, so
                // it waits with them and resumes when the overflow drains
                // (without this it stalled for good under a 2-entry inbox).
                overflowPaused.append(c)
            }
        }
    }

    /// Runs once per returning batch and walks one ticket per run of local
    /// or remote commands (about half a 16-command pipeline with 2 shards):
    /// the output buffer and the head index are held in locals, not reloaded
    /// (and retained) from the client per ticket.
    func flushTickets(_ c: Client) {
        let out = c.out
        let end = c.tickets.count
        var head = c.ticketHead
        loop: while head < end {
            let s = c.tickets[head]
            switch s.kind {
            case .local:
                out.append(s.buf)
            case .remote:
                guard let m = s.msg, m.done else { break loop }
                let n = s.last - s.first + 1
                if !s.discard {
                    let (a, b) = m.replyRange(s.first, s.last)
                    out.append(m.replies.base + a, b - a)
                }
                m.refs -= 1
                c.remoteOutstanding -= n
                c.plainInFlight -= n
                if m.refs == 0 { recycle(m) }
            case .fanout:
                if !s.ready { break loop }
                if !s.discard { out.append(s.buf) }
                for part in s.parts { recycle(part) }
                c.remoteOutstanding -= 1
                if s.plain { c.plainInFlight -= 1 }
            }
            head += 1
            recycle(s)
        }
        let moved = head != c.ticketHead
        if head == end {
            c.tickets.removeAll(keepingCapacity: true)
            c.ticketHead = 0
        } else {
            c.ticketHead = head
        }
        if moved { markDirty(c) }
    }
}

func arrayHeader(_ b: ByteBuf, _ count: Int) {
    b.append(42)
    b.appendDecimal(count)
    b.append("\r\n")
}

/// Encodes args[from...] as a RESP multibulk command.
func encodeCommand(_ b: ByteBuf, _ a: ArgVector, from: Int) {
    arrayHeader(b, a.count - from)
    for i in from..<a.count { appendBulkArg(b, a[i].ptr, a[i].count) }
}

@inline(__always) func appendBulkArg(_ b: ByteBuf, _ p: UnsafePointer<UInt8>, _ n: Int) {
    b.append(36)
    b.appendDecimal(n)
    b.append("\r\n")
    b.append(p, n)
    b.append("\r\n")
}

func appendBulkArg(_ b: ByteBuf, _ s: StaticString) {
    appendBulkArg(b, s.utf8Start, s.utf8CodeUnitCount)
}

func appendBulkArg(_ b: ByteBuf, _ s: String) {
    var s = s
    s.withUTF8 { appendBulkArg(b, $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
}
