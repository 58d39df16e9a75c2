import Commands
import RESP
import Storage

/// MULTI's queue: the commands as RESP, run by EXEC.
final class MultiState {
    let queue = ByteBuf(capacity: 256)
    var count = 0
    /// Where each queued command and its arguments lie in `queue`, as
    /// offsets (the buffer may move as it grows): start, length, argc, then
    /// offset and length per argument. EXEC fills its argument vector from
    /// these instead of parsing the block a second time.
    var spans: [Int] = []
    /// A command was refused while queueing: EXEC answers EXECABORT.
    var aborted = false
    /// A queued command is denyoom: EXEC is refused when memory is over maxmemory.
    var denyoom = false
}

/// A connection's WATCHed keys and the token their shards mark.
final class ClientWatch {
    let token = WatchToken()
    var keys: [(key: DBKey, shard: Int)] = []
}

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH. EXEC runs its block in one step:
/// on this shard at once when every key it names (and every watched key)
/// lives here and nothing here is locked; otherwise as a transaction that
/// locks each shard it needs whole, runs the block here against those
/// shards' stores while their owners wait, and releases them.
extension Worker {
    /// Between MULTI and EXEC commands are queued, not run; returns whether it was.
    func queueInMulti(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) -> Bool {
        if case .server(let op) = spec.route {
            switch op {
            case .exec, .discard, .multi, .watch, .quit, .reset: return false
            default: break
            }
        }
        guard let ms = c.multi else { return false }
        let out = replyBuffer(c)
        if spec.flags.contains(.noMulti) {
            ms.aborted = true
            cmdRejected[spec.id] += 1
            countError("ERR")
            Reply(out, proto: c.proto).error("ERR Command not allowed inside a transaction")
            return true
        }
        if !spec.subcommands.isEmpty && args.count >= 2, let err = subcommandRefusal(spec) {
            // Redis looks a container's subcommand up and checks its arity
            // before queueing, so a bad one is refused here and aborts EXEC.
            ms.aborted = true
            countError("ERR")
            Reply(out, proto: c.proto).error(bytes: err)
            return true
        }
        let start = ms.queue.count
        if raw[0] == 42 {
            ms.queue.append(raw, rawCount)
            ms.spans.append(start)
            ms.spans.append(rawCount)
            ms.spans.append(args.count)
            for i in 0..<args.count {
                ms.spans.append(start + (args[i].ptr - raw))
                ms.spans.append(args[i].count)
            }
        } else {
            // An inline command is queued as RESP; its arguments are found
            // by parsing what was written (a rare path).
            encodeCommand(ms.queue, args, from: 0)
            let a = prefetchArgs
            let base = UnsafePointer(ms.queue.base)
            guard case .command(let used) = parseCommand(base + start, ms.queue.count - start, into: a,
                                                         limits: trustedLimits) else { return true }
            ms.spans.append(start)
            ms.spans.append(used)
            ms.spans.append(a.count)
            for i in 0..<a.count {
                ms.spans.append(a[i].ptr - base)
                ms.spans.append(a[i].count)
            }
        }
        ms.count += 1
        if spec.flags.contains(.denyoom) { ms.denyoom = true }
        Reply(out, proto: c.proto).simple("QUEUED")
        return true
    }

    func multi(_ c: Client, _ r: Reply) {
        if c.multi != nil { return r.error("ERR MULTI calls can not be nested") }
        // The connection's last queue is reused: a MULTI costs no allocation.
        let ms = c.spareMulti ?? MultiState()
        c.spareMulti = nil
        ms.queue.clear()
        ms.spans.removeAll(keepingCapacity: true)
        ms.count = 0
        ms.aborted = false
        ms.denyoom = false
        c.multi = ms
        r.ok()
    }

    func discard(_ c: Client, _ r: Reply) {
        if c.multi == nil { return r.error("ERR DISCARD without MULTI") }
        endTransactionState(c)
        r.ok()
    }

    func endWatch(_ c: Client) {
        c.watch?.token.cancelled.store(1)
        c.watch = nil
    }

    func endTransactionState(_ c: Client) {
        c.multi = nil
        endWatch(c)
    }

    func watch(_ c: Client, _ r: Reply) {
        if c.multi != nil { return r.error("ERR WATCH inside MULTI is not allowed") }
        let w = c.watch ?? ClientWatch()
        c.watch = w
        var perShard = [[Int]](repeating: [], count: shardCount)
        for i in 1..<args.count {
            let k = DBKey(db: c.db, args[i])
            if w.keys.contains(where: { $0.key == k }) { continue }
            let sh = shardOfArg(i)
            w.keys.append((k, sh))
            perShard[sh].append(i)
        }
        for i in perShard[id] { watchKey(DBKey(db: c.db, args[i]), w.token) }
        let remote = (0..<shardCount).filter { $0 != id && !perShard[$0].isEmpty }
        if remote.isEmpty { return r.ok() }
        // The reply waits until every shard has the keys: a change after +OK is seen.
        let s = beginFanout(c, .ok)
        var parts: [ShardMessage] = []
        for sh in remote {
            let m = addPart(s, c, shard: sh)
            m.op = .watch
            m.token = w.token
            arrayHeader(m.requests, perShard[sh].count)
            for i in perShard[sh] { appendBulkArg(m.requests, args[i].ptr, args[i].count) }
            m.commandCount = 1
            parts.append(m)
        }
        launch(s, parts)
    }

    /// Shard side of WATCH.
    func watchHere(_ a: ArgVector, _ m: ShardMessage) {
        guard let t = m.token else { return }
        for i in 0..<a.count { watchKey(DBKey(db: m.db, a[i]), t) }
        Reply(m.replies, proto: m.proto).ok()
    }

    func watchKey(_ k: DBKey, _ t: WatchToken) {
        let (present, expired) = keyState(k)
        watches.add(k, t, expired: expired, live: present && !expired)
    }

    /// Whether `k` is in the table, and whether it is there but past its expiry.
    func keyState(_ k: DBKey) -> (present: Bool, expired: Bool) {
        let ks = store.dbs[k.db]
        return k.bytes.withUnsafeBufferPointer { b -> (Bool, Bool) in
            let p = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
            let i = ks.table.find(p, b.count, hash: hashBytes(p, b.count))
            if i < 0 { return (false, false) }
            let e = ks.entry(at: i)
            return (true, e.hasExpire && e.expireAt <= now)
        }
    }

    func isLive(_ k: DBKey) -> Bool {
        let (p, e) = keyState(k)
        return p && !e
    }

    /// A write (or lazy expiry) changed `db`: its keys' watchers are dirty.
    /// A write command touches the keys its key specs may write (not its
    /// read-only sources, as Redis signals only the keys it writes); a read
    /// command changes data only by lazy expiry, of the keys it names.
    /// `absent`: positions from `absentRemoveOnlyKeys`, read before the command ran.
    func touchWatched(_ spec: CommandSpec, _ a: ArgVector, db: Int, absent: [Int] = []) {
        if spec.flags.contains(.write) {
            spec.forEachWrittenKey(a) { i in
                if !absent.contains(i) { watches.touch(DBKey(db: db, a[i])) }
            }
        } else {
            _ = spec.forEachKey(a) { i in watches.touch(DBKey(db: db, a[i])) }
        }
    }

    /// Watched keys that a write names but cannot create and that are absent
    /// before it runs. Redis signals only the keys a command changed, and
    /// such a key stays absent, so the write to another key of the command
    /// leaves its watchers alone (DEL a b, b missing; LMPOP that pops a).
    func absentRemoveOnlyKeys(_ spec: CommandSpec, _ a: ArgVector, db: Int) -> [Int] {
        var out: [Int] = []
        spec.forEachRemoveOnlyKey(a) { i in
            let k = DBKey(db: db, a[i])
            if watches.isWatched(k) && !keyState(k).present { out.append(i) }
        }
        return out
    }

    /// After active expiry: watched keys that were live and are gone.
    func touchMissingWatched(db: Int) {
        watches.touchAll { k, list in
            k.db == db && list.contains { $0.liveAtWatch } && !keyState(k).present
        }
    }

    /// FLUSHDB/FLUSHALL: watched keys that exist (not stale ones) are changed.
    func touchWatchedExisting(dbs: [Int]?) {
        if watches.isEmpty { return }
        watches.touchAll { k, _ in (dbs == nil || dbs!.contains(k.db)) && isLive(k) }
    }

    /// SWAPDB: a watched key of either database that exists in either.
    func touchWatchedSwap(_ x: Int, _ y: Int) {
        if watches.isEmpty { return }
        watches.touchAll { k, _ in
            guard k.db == x || k.db == y else { return false }
            return isLive(DBKey(db: x, bytes: k.bytes)) || isLive(DBKey(db: y, bytes: k.bytes))
        }
    }

    // MARK: EXEC

    func exec(_ c: Client, _ r: Reply) {
        guard let ms = c.multi else { return r.error("ERR EXEC without MULTI") }
        if ms.aborted {
            endTransactionState(c)
            return r.error("EXECABORT Transaction discarded because of previous errors.")
        }
        // One shard: no planning pass over the block (and no array for it).
        if shardCount == 1 {
            c.multi = nil
            runBlock(c, ms, head: r.buf)
            return
        }
        let (needed, onlyData) = shardsNeeded(c, ms)
        // A block that touches no shard's data (MULTI PING EXEC) needs no locks either.
        if needed.isEmpty || (locks.holds == 0 && needed.count == 1 && needed[0] == id) {
            c.multi = nil
            runBlock(c, ms, head: r.buf)
            return
        }
        if needed.count == 1 && needed[0] != id && onlyData {
            // One other shard: the block travels like a command and runs there in one step.
            c.multi = nil
            let m = newMessage(for: c, target: needed[0])
            m.op = .execBlock
            m.requests.append(ms.queue)
            m.commandCount = 1
            m.token = c.watch?.token
            // The shard reads the token, then ends the WATCH.
            c.watch = nil
            enqueue(m, to: needed[0])
            takeRemoteTicket(c, m)
            return
        }
        if mustWaitForEarlier(c) { return }
        c.multi = nil
        let s = beginFanout(c, .exec)
        s.block = ms
        c.barrier = s
        holdShards(s, c, needed)
    }

    /// Every shard the block's commands and the watched keys live on, and
    /// whether every command is a data command a shard can run by itself.
    func shardsNeeded(_ c: Client, _ ms: MultiState) -> ([Int], Bool) {
        var onlyData = true
        var need = [Bool](repeating: false, count: shardCount)
        for w in c.watch?.keys ?? [] { need[w.shard] = true }
        forEachCommand(ms.queue) { spec, a in
            if spec.handler == nil { onlyData = false }
            if case .allShards = spec.route { onlyData = false }
            commandShards(spec, a, into: &need)
        }
        return ((0..<shardCount).filter { need[$0] }, onlyData)
    }

    /// Each known command of a queued block, parsed into a scratch vector.
    func forEachCommand(_ buf: ByteBuf, _ body: (CommandSpec, ArgVector) -> Void) {
        let p = UnsafePointer(buf.base)
        let n = buf.count
        var off = 0
        let a = prefetchArgs
        while off < n {
            guard case .command(let used) = parseCommand(p + off, n - off, into: a, limits: trustedLimits) else { break }
            off += used
            if let spec = table.lookup(a[0]) { body(spec, a) }
        }
    }

    /// Marks the shards whose data `spec` with arguments `a` reads or writes.
    func commandShards(_ spec: CommandSpec, _ a: ArgVector, into need: inout [Bool]) {
        func key(_ i: Int) { if i < a.count { need[shardOf(a[i].ptr, a[i].count, shards: shardCount)] = true } }
        switch spec.route {
        case .key: key(spec.routeKey)
        case .keys:
            var i = 1
            while i < a.count { key(i); i += max(spec.keyStep, 1) }
        case .keyPair:
            key(1)
            key(2)
        case .colocated, .blocking:
            if let n = colocatedShards(spec, a) { for sh in 0..<shardCount where n[sh] { need[sh] = true } }
        case .scan:
            if a.count > 1, let cur = KeyCommands.parseScanCursor(a[1]) {
                need[KeyCommands.scanShard(cur, shardCount: shardCount)] = true
            }
        case .allShards: need = need.map { _ in true }
        case .server(let op):
            switch op {
            // Scripts may touch any key: an EXEC that runs one holds every shard.
            case .dbsize, .flushdb, .flushall, .swapdb, .debug, .eval, .evalsha, .evalRO, .evalshaRO, .fcall, .fcallRO:
                need = need.map { _ in true }
            // MEMORY USAGE reads its key's shard (MemoryCommand.swift).
            case .memory where a.count > 2 && a[1].equalsLower("usage"): key(2)
            default: break
            }
        case .local: break
        }
    }

    /// The locks a shard step would need, when it must wait for them: an
    /// EXEC block's keys; for other steps only a borrowed shard (whole
    /// exclusive) is in the way, so they ask for the shard shared.
    func stepLocks(_ m: ShardMessage) -> LockSet? {
        if case .scriptCall = m.op {
            // A script may touch any key of this shard: it runs with nothing locked here.
            var set = LockSet()
            set.whole = .exclusive
            return set
        }
        guard case .execBlock = m.op else {
            if locks.wholeExclusive == 0 { return nil }
            var set = LockSet()
            set.whole = .shared
            return set
        }
        var set = LockSet()
        forEachCommand(m.requests) { spec, a in
            let cl = commandLocks(spec, a, db: m.db)
            for (i, k) in cl.keys.enumerated() { set.add(k, exclusive: cl.exclusive[i]) }
            if cl.whole != .none && set.whole == .none { set.whole = cl.whole }
        }
        return set
    }

    /// The shard side of a one-shard EXEC: check the WATCH, run the block.
    func runExecBlock(_ m: ShardMessage) {
        let r = Reply(m.replies, proto: m.proto)
        if let t = m.token {
            t.cancelled.store(1)
            var failed = t.dirty.value != 0
            if !failed {
                for (k, list) in watches.byKey where list.contains(where: { $0.token === t && !$0.expiredAtWatch }) {
                    if keyState(k).expired { failed = true; break }
                }
            }
            if failed { return r.nullArray() }
        }
        let p = UnsafePointer(m.requests.base)
        let n = m.requests.count
        var count = 0
        var off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) {
            off += used
            count += 1
        }
        r.array(count)
        off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: batchArgs, limits: trustedLimits) {
            off += used
            guard let spec = table.lookup(batchArgs[0]) else { continue }
            if runHandler(spec, batchArgs, out: m.replies, proto: m.proto, db: m.db, message: m) {
                // A blocking command that found nothing wrote nothing; inside
                // EXEC it answers as if it had timed out.
                replyUnblocked(batchArgs, Reply(m.replies, proto: m.proto), db: m.db)
            }
        }
    }

    /// All the shards EXEC asked for are held: run the block, then release them.
    func completeExec(_ s: ReplyTicket, _ c: Client?) -> Bool {
        if s.stage == 0 {
            let held = s.parts.map { $0.target }
            if let c = c, !c.closed, !c.closing, let ms = s.block {
                lentDepth += 1
                runBlock(c, ms, head: s.buf)
                lentDepth -= 1
            }
            s.block = nil
            s.stage = 1
            releaseShards(s, c, held)
            return true
        }
        return false
    }

    /// The block, in order, with its array header in `head`; or a null
    /// array when a watched key changed.
    func runBlock(_ c: Client, _ ms: MultiState, head: ByteBuf) {
        let r = Reply(head, proto: c.proto)
        if watchFailed(c) {
            endWatch(c)
            r.nullArray()
            return
        }
        endWatch(c)
        r.array(ms.count)
        defer { if ms.queue.capacity <= 1 << 16 { c.spareMulti = ms } }
        lentDepth += 1
        let outer = beginHeldPushes(c, writer: c.id)
        let p = UnsafePointer(ms.queue.base)
        var i = 0
        while i < ms.spans.count {
            let start = ms.spans[i], length = ms.spans[i + 1], argc = ms.spans[i + 2]
            i += 3
            args.reset()
            for _ in 0..<argc {
                args.push(Arg(p + ms.spans[i], ms.spans[i + 1]))
                i += 2
            }
            execute(c, raw: p + start, rawCount: length)
        }
        endHeldPushes(outer)
        lentDepth -= 1
    }

    /// A watched key was changed, or has expired since WATCH.
    func watchFailed(_ c: Client) -> Bool {
        guard let w = c.watch else { return false }
        if w.token.dirty.value != 0 { return true }
        var failed = false
        for (k, sh) in w.keys where !failed {
            withLentShard(sh) {
                if let rec = watches.record(k, w.token), !rec.expiredAtWatch, keyState(k).expired { failed = true }
            }
        }
        return failed
    }
}

extension Worker {
    /// processCommand's container checks: an unknown subcommand (named as
    /// `%.128s` prints it, newlines made spaces) or a subcommand's arity.
    func subcommandRefusal(_ spec: CommandSpec) -> [UInt8]? {
        if let sub = spec.subcommand(args[1]) {
            return sub.arityOK(args.count) ? nil : Array(wrongArityError(sub.fullName).utf8)
        }
        var m = Array("ERR unknown subcommand '".utf8)
        for b in args[1].buffer.prefix(while: { $0 != 0 }).prefix(128) { m.append(b == 13 || b == 10 ? 32 : b) }
        m += Array("'. Try \(spec.name.uppercased()) HELP.".utf8)
        return m
    }
}
