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
    func launch(_ s: ReplyTicket, _ parts: [ShardMessage]) {
        s.pending = parts.count
        for m in parts {
            if m.target == id { runRequests(m) } else { outgoing[m.target].append(m) }
        }
    }

    func routeMultiKey(_ spec: CommandSpec, _ merge: FanoutKind, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let step = max(spec.keyStep, 1)
        if step == 2 && (args.count - 1) % 2 != 0 {
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error(string: wrongArityError(spec.name))
            return
        }
        let first = shardOfArg(1)
        var same = true
        var i = 1 + step
        while i < args.count {
            if shardOfArg(i) != first { same = false; break }
            i += step
        }
        if same {
            if first == id { runLocal(spec, c) } else { forward(c, to: first, raw: raw, rawCount: rawCount) }
            return
        }
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, merge)
        var counts = [Int](repeating: 0, count: shardCount)
        i = 1
        while i < args.count {
            let sh = shardOfArg(i)
            counts[sh] += 1
            s.keyShards.append(sh)
            i += step
        }
        var parts = [ShardMessage?](repeating: nil, count: shardCount)
        var second = [ShardMessage?](repeating: nil, count: shardCount)
        for sh in 0..<shardCount where counts[sh] > 0 {
            let m = addPart(s, c, shard: sh)
            if merge == .setIfNoneExist {
                header(m.requests, counts[sh] + 1, "exists")
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
        if merge == .setIfNoneExist { c.barrier = s }
        launch(s, parts.compactMap { $0 })
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
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, merge)
        var parts: [ShardMessage] = []
        for sh in 0..<shardCount {
            let m = addPart(s, c, shard: sh)
            encodeCommand(m.requests, args, from: 0)
            m.commandCount = 1
            parts.append(m)
        }
        launch(s, parts)
    }

    /// A typed step on every shard, merged by `kind`. `args` writes the
    /// step's arguments, when it has any, after an array header for `argc`.
    func fanoutInternal(_ c: Client, _ kind: FanoutKind, _ op: ShardOp, saved: [UInt8] = [], stage: Int = 0,
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
            parts.append(m)
        }
        launch(s, parts)
        return s
    }

    /// SCAN: the low bits of the cursor name the shard that continues it.
    func routeScan(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        guard let cur = KeyCommands.parseScanCursor(args[1]) else {
            countError("ERR")
            Reply(replyBuffer(c), proto: c.proto).error("ERR invalid cursor")
            return
        }
        let shard = KeyCommands.scanShard(cur, shardCount: shardCount)
        if shard == id { runLocal(spec, c) } else { forward(c, to: shard, raw: raw, rawCount: rawCount) }
    }

    /// RENAME, COPY, LCS, ...: when the two keys live on different shards the
    /// source entry is exported from its shard, the command runs on the
    /// destination's shard with the entry handed in, and a consumed source is
    /// deleted afterwards. Not atomic across shards; VLL transactions will be.
    func routePair(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        let src = shardOfArg(1)
        let dst = shardOfArg(2)
        if src == dst {
            if src == id { runLocal(spec, c) } else { forward(c, to: src, raw: raw, rawCount: rawCount) }
            return
        }
        cmdCalls[spec.id] += 1
        let s = beginFanout(c, .pair)
        s.pairSpec = spec
        s.pairSource = src
        s.pairTarget = dst
        c.barrier = s
        encodeCommand(s.saved, args, from: 0)
        let m = addPart(s, c, shard: src)
        m.op = .export
        arrayHeader(m.requests, 1)
        appendBulkArg(m.requests, args[1].ptr, args[1].count)
        m.commandCount = 1
        launch(s, [m])
    }
}

