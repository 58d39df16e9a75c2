import Commands
import RESP
import Storage

/// Commands whose keys must meet in one place (route `.colocated`: SMOVE,
/// SINTERSTORE, ZUNIONSTORE, LMOVE, SORT ... STORE, ...). On one shard they
/// run like any keyed command. Across shards they become a transaction that
/// holds each involved shard whole, and the handler runs on the
/// coordinator's thread with those shards' stores lent to it (`Exec.lent`),
/// as an EXEC block runs: no one sees a half-done SMOVE.
extension Worker {
    /// The shards the command's keys live on (all of them for `.everywhere`),
    /// or nil when the arguments are malformed.
    func colocatedShards(_ spec: CommandSpec, _ a: ArgVector) -> [Bool]? {
        guard let span = spec.keySpan(a) else { return nil }
        var need = [Bool](repeating: false, count: shardCount)
        switch span {
        case .everywhere:
            need = [Bool](repeating: true, count: shardCount)
        case .positions(let ps):
            for i in ps where i < a.count { need[shardOf(a[i].ptr, a[i].count, shards: shardCount)] = true }
        }
        return need
    }

    /// The one shard every key of a first/last/step command lives on (this
    /// worker's when it names none), or nil when they span shards. No
    /// allocation: the common single-key PFCOUNT or one-shard SINTER pays
    /// nothing for being routable across shards.
    @inline(__always)
    func singleShard(_ spec: CommandSpec, _ a: ArgVector) -> Int? {
        var shard = -1
        var same = true
        _ = spec.forEachKey(a) { i in
            let s = shardOf(a[i].ptr, a[i].count, shards: shardCount)
            if shard < 0 { shard = s } else if s != shard { same = false }
        }
        return same ? (shard < 0 ? id : shard) : nil
    }

    func routeColocated(_ spec: CommandSpec, _ c: Client, raw: UnsafePointer<UInt8>, rawCount: Int) {
        if spec.keysOf == nil, let sh = singleShard(spec, args) {
            runOn(sh, spec, c, raw: raw, rawCount: rawCount)
            return
        }
        guard let need = colocatedShards(spec, args) else {
            // Malformed (bad numkeys, ...): the handler replies the error without touching keys.
            runLocal(spec, c)
            return
        }
        let shards = (0..<shardCount).filter { need[$0] }
        if shards.count <= 1 {
            runOn(shards.first ?? id, spec, c, raw: raw, rawCount: rawCount)
            return
        }
        if lentDepth > 0 {
            // Inside EXEC or a script: the shards are held already.
            runLent(spec, args, out: replyBuffer(c), proto: c.proto, db: c.db, client: c)
            return
        }
        if mustWaitForEarlier(c) { return }
        let s = beginFanout(c, .colocated)
        c.barrier = s
        encodeCommand(s.saved, args, from: 0)
        holdShards(s, c, shards)
    }

    /// Every shard the command needs is held: run it here, then release them.
    func completeColocated(_ s: ReplyTicket, _ c: Client?) -> Bool {
        guard s.stage == 0 else { return false }
        let held = s.parts.map { $0.target }
        if let c = c, !c.closed, !c.closing {
            let a = innerArgs
            let p = UnsafePointer(s.saved.base)
            if case .command = parseCommand(p, s.saved.count, into: a, limits: trustedLimits),
               let spec = table.lookup(a[0]) {
                lentDepth += 1
                runLent(spec, a, out: s.buf, proto: c.proto, db: c.db, client: c)
                lentDepth -= 1
            }
        }
        s.stage = 1
        releaseShards(s, c, held)
        return true
    }

    /// Runs the handler with every shard's store lent to it. The shards it
    /// touches are held for it; WATCHers of any of them see its changes.
    /// Returns true when a blocking command found nothing and wrote nothing.
    @discardableResult
    func runLent(_ spec: CommandSpec, _ a: ArgVector, out: ByteBuf, proto: Int, db: Int, client: Client?) -> Bool {
        guard let h = spec.handler else { return false }
        let t0 = clock.now()
        if lentStores.isEmpty { lentStores = state.handles.map { $0.store! } }
        var x = Exec(args: a, reply: Reply(out, proto: proto), store: store, stats: stats, db: db, now: now,
                     shard: execShard, shardCount: shardCount)
        x.lent = lentStores
        x.fromScript = client != nil && client === scriptClient
        let before = out.count
        // Only the shards of the command's keys are held for it (and this
        // worker's own is its own): any other owner is running its commands
        // and its expiry meanwhile, so its counters, deletions, events and
        // watches are not read here (ThreadSanitizer: the AOF's dirty
        // snapshot read an unheld shard's counters while its cron expired).
        var held = colocatedShards(spec, a) ?? [Bool](repeating: false, count: shardCount)
        held[id] = true
        held[execShard] = true
        let mutations = lentStores.indices.map { held[$0] ? lentStores[$0].dbs[db].mutations : 0 }
        let aofDirty = aofCapturing
            ? lentStores.indices.map { held[$0] ? aofChanges(lentStores[$0]) : Changes(dirty: 0, extra: 0) } : nil
        h(&x)
        if let d = aofDirty { aofAfterLent(spec, a, out: out, at: before, db: db, before: d, held: held) }
        for (sh, s) in lentStores.enumerated() where held[sh] { flushKeyEvents(s, writer: client?.id ?? 0) }
        for sh in 0..<shardCount where held[sh] && lentStores[sh].dbs[db].mutations != mutations[sh] {
            withLentShard(sh) {
                if !watches.isEmpty { touchWatched(spec, a, db: db) }
                // The owner serves its waiters once the shard is released.
                if !blocked.isEmpty { noteBlockedWrites(spec, a, db: db) }
            }
        }
        recordCall(spec, since: t0, failed: x.failed, out: out, at: before, a, client: client, message: nil)
        return x.wouldBlock
    }
}
