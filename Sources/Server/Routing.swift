import Commands
import RESP
import Storage

/// Commands whose keys span shards: split, send, and merge back in order.
extension Worker {
    func beginFanout(_ c: Client, _ kind: FanoutKind) -> ReplyTicket {
        let s = newTicket(.fanout)
        s.merge = kind
        s.discard = c.replyMode != .on
        c.tickets.append(s)
        // A fan-out holds messages and merge state like a forwarded command:
        // it counts toward the cap that pauses a pipelining client.
        c.remoteOutstanding += 1
        return s
    }

    func addPart(_ s: ReplyTicket, _ c: Client?, shard: Int) -> ShardMessage {
        let m = newMessage(for: c, target: shard)
        m.ticket = s
        s.parts.append(m)
        return m
    }

    /// Sends the ticket's parts. The part for this shard runs at once, so it
    /// sees exactly the commands that came before it on this connection.
    /// Inside an EXEC that holds the shards, parts that read or write a
    /// shard's data run here, on that shard's store, before this returns.
    func launch(_ s: ReplyTicket, _ parts: [ShardMessage]) {
        s.pending = parts.count
        for m in parts {
            m.txid = s.txid
            if lentDepth > 0 && m.op.touchesStore {
                withLentShard(m.target) { runRequests(m) }
            } else if m.target == id {
                receive(m)
            } else {
                if s.txid == 0 && !s.plain, let c = m.client {
                    s.plain = true
                    c.plainInFlight += 1
                }
                enqueue(m, to: m.target)
            }
        }
    }

    /// The first parts of a multi-shard command: a transaction, or inside an
    /// EXEC (or with one shard) plain parts.
    func start(_ s: ReplyTicket, _ parts: [ShardMessage]) {
        if txNeeded { scheduleTx(s, parts) } else { launch(s, parts) }
    }

    func routeMultiKey(_ spec: CommandSpec, _ merge: FanoutKind, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let step = max(spec.keyStep, 1)
        if step == 2 && (args.count - 1) % 2 != 0 {
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error(string: wrongArityError(spec.name))
            return
        }
        // One shard: every key is here, nothing to hash or split.
        if shardCount == 1 {
            runOn(0, spec, c, raw: raw, rawCount: rawCount)
            return
        }
        // Each key's shard, hashed once: the single-shard test and the
        // split both read it (they hashed each key twice). Worker scratch,
        // read before start() can route again.
        let a = args
        var shards = fanoutKeyShards
        fanoutKeyShards = []
        shards.removeAll(keepingCapacity: true)
        let first = shardOf(a[1].ptr, a[1].count, shards: shardCount)
        var same = true
        var i = 1
        while i < a.count {
            let sh = shardOf(a[i].ptr, a[i].count, shards: shardCount)
            if sh != first { same = false }
            shards.append(sh)
            i += step
        }
        fanoutKeyShards = shards
        if same {
            runOn(first, spec, c, raw: raw, rawCount: rawCount)
            return
        }
        if txNeeded && mustWaitForEarlier(c) { return }
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, merge)
        // Per-shard scratch, taken from the worker and given back zeroed: a
        // fresh array each was 3-4 allocations per command. Taken, not used in
        // place, because start() can run an EXEC block that routes again.
        var counts = fanoutCounts
        var parts = fanoutParts
        var second = fanoutSecond
        fanoutCounts = []
        fanoutParts = []
        fanoutSecond = []
        if counts.count != shardCount {
            counts = [Int](repeating: 0, count: shardCount)
            parts = [ShardMessage?](repeating: nil, count: shardCount)
            second = [ShardMessage?](repeating: nil, count: shardCount)
        }
        for sh in fanoutKeyShards {
            counts[sh] += 1
            s.keyShards.append(sh)
        }
        for sh in 0..<shardCount where counts[sh] > 0 {
            let m = addPart(s, c, shard: sh)
            if merge == .setIfNoneExist {
                header(m.requests, counts[sh] + 1, "exists")
                m.quietMiss = true
                let m2 = newMessage(for: c, target: sh)
                m2.ticket = s
                header(m2.requests, counts[sh] * 2 + 1, "mset")
                m2.commandCount = 1
                second[sh] = m2
            } else {
                header(m.requests, counts[sh] * step + 1, spec.name)
            }
            m.commandCount = 1
            parts[sh] = m
        }
        i = 1
        var k = 0
        while i < args.count {
            let sh = s.keyShards[k]
            let m = parts[sh]!
            appendBulkArg(m.requests, args[i].ptr, args[i].count)
            if merge == .setIfNoneExist {
                appendBulkArg(second[sh]!.requests, args[i].ptr, args[i].count)
                appendBulkArg(second[sh]!.requests, args[i + 1].ptr, args[i + 1].count)
            } else if step == 2 {
                appendBulkArg(m.requests, args[i + 1].ptr, args[i + 1].count)
            }
            i += step
            k += 1
        }
        for m in second { if let m = m { s.nextParts.append(m) } }
        if merge == .setIfNoneExist && lentDepth == 0 { c.barrier = s }
        if txNeeded {
            // Each part locks its shard's keys; MSETNX keeps them from its
            // check to its write, the others release them when they are done.
            let x = spec.flags.contains(.write)
            i = 1
            k = 0
            while i < args.count {
                parts[s.keyShards[k]]!.locks.add(LockKey(db: c.db, args[i]), exclusive: x)
                i += step
                k += 1
            }
            for m in s.parts { m.txFinal = merge != .setIfNoneExist }
            for m in s.nextParts { m.txFinal = true }
        }
        for sh in 0..<shardCount {
            counts[sh] = 0
            parts[sh] = nil
            second[sh] = nil
        }
        fanoutCounts = counts
        fanoutParts = parts
        fanoutSecond = second
        // The parts, one per shard in shard order, as addPart listed them.
        start(s, s.parts)
    }

    @inline(__always) func shardOfArg(_ i: Int) -> Int {
        shardOf(args[i].ptr, args[i].count, shards: shardCount)
    }

    func header(_ b: ByteBuf, _ argc: Int, _ name: String) {
        arrayHeader(b, argc)
        appendBulkArg(b, name)
    }

    /// The same command to every shard (KEYS, RANDOMKEY, ...).
    func fanoutAll(_ spec: CommandSpec, _ c: Client, merge: FanoutKind) {
        if txNeeded && mustWaitForEarlier(c) { return }
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, merge)
        var parts: [ShardMessage] = []
        for sh in 0..<shardCount {
            let m = addPart(s, c, shard: sh)
            encodeCommand(m.requests, args, from: 0)
            m.commandCount = 1
            m.locks.whole = spec.flags.contains(.write) ? .exclusive : .shared
            m.txFinal = true
            parts.append(m)
        }
        start(s, parts)
    }

    /// A typed step on every shard, merged by `kind`. `args` writes the
    /// step's arguments, when it has any, after an array header for `argc`.
    /// With a `lock`, the step is a transaction over every shard, ordered
    /// against the others (DBSIZE, FLUSHALL, SWAPDB); the caller has made
    /// sure the connection has nothing in flight (`mustWaitForEarlier`).
    func fanoutInternal(_ c: Client, _ kind: FanoutKind, _ op: ShardOp, saved: [UInt8] = [], stage: Int = 0,
                        lock: WholeLock = .none,
                        argc: Int = 0, args build: (ByteBuf) -> Void = { _ in }) -> ReplyTicket {
        let s = beginFanout(c, kind)
        // Set before launch: with one shard the merge runs before this returns.
        s.saved.append(saved)
        s.stage = stage
        var parts: [ShardMessage] = []
        for sh in 0..<shardCount {
            let m = addPart(s, c, shard: sh)
            m.op = op
            if argc > 0 {
                arrayHeader(m.requests, argc)
                build(m.requests)
            }
            m.commandCount = 1
            m.locks.whole = lock
            m.txFinal = true
            parts.append(m)
        }
        if lock != .none { start(s, parts) } else { launch(s, parts) }
        return s
    }

    /// SCAN: the low bits of the cursor name the shard that continues it.
    func routeScan(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        guard let cur = KeyCommands.parseScanCursor(args[1]) else {
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error("ERR invalid cursor")
            return
        }
        runOn(KeyCommands.scanShard(cur, shardCount: shardCount), spec, c, raw: raw, rawCount: rawCount)
    }

    /// RENAME, COPY, LCS, ...: when the two keys live on different shards the
    /// source entry is exported from its shard, the command runs on the
    /// destination's shard with the entry handed in, and a consumed source is
    /// deleted afterwards. As a transaction both keys stay locked from the
    /// export to the last stage, so no one sees the key in both places or in none.
    func routePair(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let src = shardOfArg(1)
        let dst = shardOfArg(2)
        if src == dst {
            runOn(src, spec, c, raw: raw, rawCount: rawCount)
            return
        }
        if txNeeded && mustWaitForEarlier(c) { return }
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, .pair)
        s.pairSpec = spec
        s.pairSource = src
        s.pairTarget = dst
        if lentDepth == 0 { c.barrier = s }
        encodeCommand(s.saved, args, from: 0)
        let m = addPart(s, c, shard: src)
        m.op = .export
        arrayHeader(m.requests, 1)
        appendBulkArg(m.requests, args[1].ptr, args[1].count)
        m.commandCount = 1
        guard txNeeded else {
            launch(s, [m])
            return
        }
        // The source is written when the command moves it, read otherwise.
        let moves: Bool
        if case .keyPair(.kept) = spec.route { moves = false } else { moves = true }
        m.locks.add(LockKey(db: c.db, args[1]), exclusive: moves)
        let hold = addPart(s, c, shard: dst)
        hold.op = .txHold
        hold.commandCount = 1
        hold.locks.add(LockKey(db: c.db, args[2]), exclusive: spec.flags.contains(.write))
        // COPY ... DB n writes the key in another database.
        if spec.flags.contains(.write) {
            var i = 3
            while i + 1 < args.count {
                if args[i].equalsLower("db"), let n = parseStrictInt(args[i + 1].ptr, args[i + 1].count),
                   n >= 0, n < store.dbs.count {
                    hold.locks.add(LockKey(db: n, args[2]), exclusive: true)
                }
                i += 1
            }
        }
        start(s, [m, hold])
    }
}

