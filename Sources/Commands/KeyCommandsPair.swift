import RESP
import Storage

/// RENAME, RENAMENX, COPY, MOVE and the two internal commands that carry a
/// source entry between shards (see the flow at the top of KeyCommands.swift).
extension KeyCommands {
    static let pairSpecs: [CommandSpec] = [
        CommandSpec("rename", arity: 3, flags: [.write], keys: (1, 2, 1), route: .keyPair(.movedOnOK), group: "generic",
                    summary: "Rename a key", handler: rename),
        CommandSpec("renamenx", arity: 3, flags: [.write, .fast], keys: (1, 2, 1), route: .keyPair(.movedOnOne), group: "generic",
                    summary: "Rename a key, only if the new key does not exist", handler: renamenx),
        CommandSpec("copy", arity: -3, flags: [.write, .denyoom], keys: (1, 2, 1), route: .keyPair(.kept), group: "generic",
                    summary: "Copy a key", since: "6.2.0", handler: copy),
        CommandSpec("move", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Move a key to another database", handler: move),
    ]

    static let sameObject: StaticString = "ERR source and destination objects are the same"

    /// A new entry for key argument `k` holding `src`'s value and expiry.
    /// `dup` deep-copies an object value (COPY); otherwise it is shared, which
    /// is right for RENAME (the source goes away) and for imported objects
    /// (already a private copy, and the server frees the imported entry).
    static func entryFor(_ x: inout Exec, _ src: Entry, key k: Int, dup: Bool) -> Entry {
        let a = x[k]
        return src.copy(newKey: a.ptr, a.count, expireAt: src.expireAt, shareObject: !dup || x.importMode)
    }

    static func rename(_ x: inout Exec) { renameGeneric(&x, nx: false) }
    static func renamenx(_ x: inout Exec) { renameGeneric(&x, nx: true) }

    static func renameGeneric(_ x: inout Exec, nx: Bool) {
        let same = !x.importMode && x[1].equals(x[2])
        guard let src = x.pairEntry(1, read: false) else { return x.error(Err.noSuchKey) }
        if same { return nx ? x.reply.int(0) : x.reply.ok() }
        let ks = x.keyspace
        let dst = x[2]
        let h2 = x.hash(2)
        // Lazily expiring the destination may resize the table: slots found
        // before are stale from here on, so everything below re-finds.
        let dstExisted = ks.find(dst.ptr, dst.count, hash: h2, now: x.now) >= 0
        if dstExisted && nx { return x.reply.int(0) }
        let n = entryFor(&x, src, key: 2, dup: false)
        if !x.importMode {
            let k = x[1]
            ks.remove(at: ks.table.find(k.ptr, k.count, hash: x.hash(1)))
        }
        ks.put(n, at: ks.table.find(dst.ptr, dst.count, hash: h2), hash: h2)
        // Redis deletes the destination and adds it again: `new` either way.
        if dstExisted { x.notify(.new, "new", 2) }
        // Across shards the source's owner says rename_from (deleteExported).
        if !x.importMode { x.notify(.generic, "rename_from", 1) }
        x.notify(.generic, "rename_to", 2)
        // Removing the source and writing the destination are one change to Redis's dirty.
        x.store.dirtyExtra &-= 1
        nx ? x.reply.int(1) : x.reply.ok()
    }

    /// COPY source destination [DB n] [REPLACE]
    static func copy(_ x: inout Exec) {
        var replace = false
        var dstDB = x.db
        var j = 3
        while j < x.argc {
            let a = x[j]
            if a.equalsLower("replace") {
                replace = true
            } else if a.equalsLower("db") && j + 1 < x.argc {
                guard let d = parseDB(&x, j + 1) else { return }
                dstDB = d
                j += 1
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        if dstDB == x.db && !x.importMode && x[1].equals(x[2]) { return x.error(sameObject) }
        guard let src = x.pairEntry(1, read: true) else { return x.reply.int(0) }
        let dks = x.store.dbs[dstDB]
        let dst = x[2]
        let h2 = x.hash(2)
        // The destination is another key (or another db), so this lookup
        // cannot free `src`.
        let d = dks.find(dst.ptr, dst.count, hash: h2, now: x.now)
        if d >= 0 && !replace { return x.reply.int(0) }
        let n = entryFor(&x, src, key: 2, dup: true)
        n.lru = x.lru   // a copy is a new object in Redis, with a fresh LRU clock
        if n.payload == .int { n.isUnsharedInt = true }   // and never a shared integer
        dks.put(n, at: d, hash: h2)
        if d >= 0 { x.notify(.new, "new", 2, db: dstDB) }
        x.notify(.generic, "copy_to", 2, db: dstDB)
        x.reply.int(1)
    }

    /// MOVE key db: both dbs live in this shard's store, so the entry just
    /// changes tables.
    static func move(_ x: inout Exec) {
        guard let dstDB = parseDB(&x, 2) else { return }
        if dstDB == x.db { return x.error(sameObject) }
        let s = x.writeSlot(1)
        if s < 0 { return x.reply.int(0) }
        let dks = x.store.dbs[dstDB]
        let k = x[1]
        let h = x.hash(1)
        if dks.find(k.ptr, k.count, hash: h, now: x.now) >= 0 { return x.reply.int(0) }
        let e = x.keyspace.detach(at: s)
        dks.put(e, at: -1, hash: h)
        x.notify(.generic, "move_from", 1)
        x.notify(.generic, "move_to", 1, db: dstDB)
        // Two databases written, one change to Redis's dirty.
        x.store.dirtyExtra &-= 1
        x.reply.int(1)
    }

    /// The key MOVE or COPY ... DB n writes in another database, as (key
    /// argument, database), for the server's WATCH and blocked-client
    /// bookkeeping, which otherwise follows the client's database.
    public static func otherDatabaseWrite(_ spec: CommandSpec, _ a: ArgVector, databases: Int) -> (arg: Int, db: Int)? {
        var key = 0, dbArg = 0
        if spec.name == "move" {
            guard a.count == 3 else { return nil }
            key = 1
            dbArg = 2
        } else if spec.name == "copy" {
            key = 2
            var j = 3
            while j + 1 < a.count {
                if a[j].equalsLower("db") {
                    dbArg = j + 1
                    j += 1
                }
                j += 1
            }
        }
        guard dbArg > 0, let n = parseStrictInt(a[dbArg].ptr, a[dbArg].count), n >= 0, n < databases else { return nil }
        return (key, n)
    }

    /// Pair stage 0 (a typed shard step, key at argument 0): the key's
    /// entry as an `exportEntry` blob, or null.
    public static func exportKey(_ x: inout Exec) {
        let ks = x.keyspace
        let k = x[0]
        let s = ks.find(k.ptr, k.count, hash: x.hash(0), now: x.now)
        if s < 0 { return x.reply.null() }
        let e = ks.entry(at: s)
        e.touch(x.now, &x.stats.random)   // the pair command's write lookup of its source
        x.reply.bulk(exportEntry(e))
    }

    /// Pair stage 2 (key at argument 0): deletes the source a cross-shard
    /// RENAME consumed; replies the number deleted.
    public static func deleteExported(_ x: inout Exec) {
        let ks = x.keyspace
        let k = x[0]
        let s = ks.find(k.ptr, k.count, hash: x.hash(0), now: x.now)
        if s >= 0 {
            ks.remove(at: s)
            x.notify(.generic, "rename_from", 0)
        }
        x.reply.int(s >= 0 ? 1 : 0)
    }
}
