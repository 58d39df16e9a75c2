import Commands
import RESP
import Storage

/// Target side of forwarded work: data commands run through the handler
/// table; `__name` commands are the per-shard halves of server commands.
extension Worker {
    func runForwarded(_ a: ArgVector, _ m: ShardMessage) {
        let r = Reply(m.replies, proto: m.proto)
        let name = a[0]
        if let spec = table.lookup(name) {
            runHandler(spec, a, out: m.replies, proto: m.proto, db: m.db, countStats: m.slot == nil || spec.name.hasPrefix("__"))
            return
        }
        switch name.lossyString {
        case "__withimport": runWithImport(a, m)
        case "__dbsize": r.int(store.dbs[intArg(a, 1)].count)
        case "__flushdb":
            store.dbs[intArg(a, 1)].removeAll()
            r.ok()
        case "__flushall":
            for ks in store.dbs { ks.removeAll() }
            r.ok()
        case "__swapdb":
            store.swap(intArg(a, 1), intArg(a, 2))
            r.ok()
        case "__stats": r.bulk(string: shardStatsText())
        case "__clientlist": r.bulk(string: clientListText(a))
        case "__clientkill": r.int(clientKill(a))
        case "__resetstat":
            resetStats()
            r.ok()
        case "__slowlog": slowlogShard(a, r)
        default:
            r.error(string: "ERR unknown internal command '\(name.lossyString)'")
        }
    }

    func intArg(_ a: ArgVector, _ i: Int) -> Int {
        parseStrictInt(a[i].ptr, a[i].count) ?? 0
    }

    /// `__withimport <blob> <0|1> <command...>`: the source key of a pair
    /// command lives on another shard; its exported entry rides along.
    func runWithImport(_ a: ArgVector, _ m: ShardMessage) {
        innerArgs.reset()
        for i in 3..<a.count { innerArgs.push(a[i]) }
        guard let spec = table.lookup(innerArgs[0]) else {
            Reply(m.replies, proto: m.proto).error("ERR unknown command")
            return
        }
        var imported: Entry? = nil
        if a[2].count == 1 && a[2][0] == 49 {
            let key = innerArgs[1]
            imported = importEntry(a[1].buffer, key: key.ptr, keyLen: key.count)
        }
        runHandler(spec, innerArgs, out: m.replies, proto: m.proto, db: m.db, imported: imported, importMode: true)
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
        for ks in store.dbs { ks.expiredKeys = 0 }
    }
}
