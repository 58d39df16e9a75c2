import Commands
import RESP
import Storage

/// Target side of typed internal hops: the shard-side halves of server
/// commands and the stages of cross-shard pair commands.
extension Worker {
    func runInternal(_ m: ShardMessage) {
        let a = batchArgs
        a.reset()
        if m.requests.count > 0 {
            _ = parseCommand(UnsafePointer(m.requests.base), m.requests.count, into: a, limits: trustedLimits)
        }
        let r = Reply(m.replies, proto: m.proto)
        switch m.op {
        case .commands, .publish, .invalidate:
            preconditionFailure("client commands and messages run through runRequests")
        case .dbsize:
            r.int(store.dbs[m.db].count)
        case .flushdb:
            touchWatchedExisting(dbs: [m.db])
            // Redis's dirty counts the keys flushed; the flush itself is one write.
            store.dirtyExtra += store.dbs[m.db].count - 1
            store.dbs[m.db].removeAll()
            if state.trackingClients.value > 0 { invalidateFlush(store, shard: execShard) }
            aofGlobal(db: m.db) { appendCommandWords($0, ["FLUSHDB"]) }
            r.ok()
        case .flushall:
            touchWatchedExisting(dbs: nil)
            for ks in store.dbs {
                store.dirtyExtra += ks.count - 1
                ks.removeAll()
            }
            if state.trackingClients.value > 0 {
                invalidateFlush(store, shard: execShard)
            } else {
                // As Redis's FLUSHALL: the tracking table is reclaimed even
                // when nobody tracks now (keys left by clients that closed).
                store.tracking.removeAll()
            }
            aofGlobal(db: -1) { appendCommandWords($0, ["FLUSHALL"]) }
            r.ok()
        case .swapdb(let x, let y):
            touchWatchedSwap(x, y)
            store.swap(x, y)
            aofGlobal(db: -1) { b in
                arrayHeader(b, 3)
                appendBulkArg(b, "SWAPDB")
                appendBulkArg(b, String(x))
                appendBulkArg(b, String(y))
            }
            // Clients blocked in either database may now find their keys (Redis's scanDatabaseForReadyKeys).
            if !blocked.isEmpty {
                for k in blocked.byKey.keys where k.db == x || k.db == y { blocked.noteWrite(k) }
                if lentDepth == 0 && !blocked.ready.isEmpty { serveReady() }
            }
            r.ok()
        case .stats: r.bulk(string: shardStatsText())
        case .resetStats:
            resetStats()
            r.ok()
        case .clientList: r.bulk(string: clientListText(a))
        case .clientKill(let caller): r.int(clientKill(a, caller: caller))
        case .clientKillAddr: r.int(clientKillAddr(a[0]))
        case .slowlogGet(let n): slowlogShard(count: n, r)
        case .slowlogLen: r.int(slowlog.items.count)
        case .slowlogReset:
            slowlog.items.removeAll()
            r.ok()
        case .debugObject: runKeyStep(ServerCommandSpecs.debugObject, a, m)
        case .debugDigest: r.bulk(shardDigest())
        case .debugDigestValue: r.bulk(shardDigestValues(a, db: m.db))
        case .memoryUsage(let samples):
            var x = Exec(args: a, reply: r, store: store, stats: stats, db: m.db, now: now, shard: id,
                         shardCount: shardCount)
            ServerCommandSpecs.memoryUsage(&x, key: 0, samples: samples)
            flushKeyEvents(store)
        case .memoryStats: memoryStatsPart(r)
        case .export: runKeyStep(KeyCommands.exportKey, a, m)
        case .deleteExported:
            // The source a cross-shard RENAME consumed is gone: its WATCHers see it.
            let before = store.dbs[m.db].mutations
            runKeyStep(KeyCommands.deleteExported, a, m)
            if store.dbs[m.db].mutations != before && !watches.isEmpty { watches.touch(DBKey(db: m.db, a[0])) }
        case .withImport(let exists): runWithImport(a, m, exists: exists)
        case .txHold, .txRelease: break
        case .watch: watchHere(a, m)
        case .execBlock: runExecBlock(m)
        case .scriptCall(let ro, let numkeys): runForwardedScript(m, readOnly: ro, numkeys: numkeys)
        case .blockAttempt: blockAttempt(a, m)
        case .blockServed:
            if let b = m.blocked { finishBlocked(b, UnsafePointer(m.requests.base), m.requests.count) }
        case .blockRetry:
            if let b = m.blocked { retryBlocked(b) }
        case .clientUnblock(let cid, let error): r.int(unblockClient(id: cid, error: error))
        }
    }

    /// A shard step written as a command handler, with its key at argument 0.
    func runKeyStep(_ h: Handler, _ a: ArgVector, _ m: ShardMessage) {
        var x = Exec(args: a, reply: Reply(m.replies, proto: m.proto), store: store, stats: stats, db: m.db, now: now,
                     shard: id, shardCount: shardCount)
        h(&x)
        flushKeyEvents(store, writer: m.writer)
    }

    /// The destination's stage of a pair command whose source key lives on
    /// another shard: the exported entry rides along as argument 0.
    func runWithImport(_ a: ArgVector, _ m: ShardMessage, exists: Bool) {
        innerArgs.reset()
        for i in 1..<a.count { innerArgs.push(a[i]) }
        guard let spec = table.lookup(innerArgs[0]) else {
            Reply(m.replies, proto: m.proto).error("ERR unknown command")
            return
        }
        var imported: Entry? = nil
        if exists {
            let key = innerArgs[1]
            imported = importEntry(a[0].buffer, key: key.ptr, keyLen: key.count)
        }
        // The coordinator counts the call (routePair).
        runHandler(spec, innerArgs, out: m.replies, proto: m.proto, db: m.db, message: m,
                   imported: imported, importMode: true, countStats: false)
        imported?.free()
    }

    func resetStats() {
        for i in cmdCalls.indices {
            cmdCalls[i] = 0
            cmdMicros[i] = 0
            cmdFailed[i] = 0
            cmdRejected[i] = 0
        }
        errorCounts.removeAll()
        totalCommands = 0
        netInputBytes = 0
        netOutputBytes = 0
        stats.keyspaceHits = 0
        stats.keyspaceMisses = 0
        // `dirty` subtracts expiries and evictions: keep it where it was.
        for ks in store.dbs {
            store.dirtyExtra -= ks.expiredKeys + ks.evictedKeys
            ks.expiredKeys = 0
            ks.evictedKeys = 0
        }
    }
}
