import RESP
import Storage

/// Keys family: DEL, EXISTS, EXPIRE, TTL, RENAME, SCAN, OBJECT, ... (Redis's
/// db.c, expire.c and object.c). Split over KeyCommands*.swift by topic.
///
/// Cross-shard pair commands (RENAME, RENAMENX, COPY; route `.keyPair`).
/// When both keys live on one shard the handler runs normally. Otherwise the
/// server runs, in order:
///
///  1. `__export <key1> <db>` on key1's shard. It lazily expires key1 and
///     replies a bulk blob (`exportEntry`, Storage/EntryTransfer.swift:
///     type, payload kind, expire-at, LRU, value; an object value is a
///     private deep copy whose retained pointer bits travel in the blob) or
///     a null when key1 is missing. Exporting never modifies key1.
///  2. The original command on key2's shard with `x.importMode = true` and
///     `x.imported = importEntry(blob, ...)` (nil for a null reply). Handlers
///     read key1 only through `sourceEntry`, which honours import mode, and
///     always copy it under key2; they never free or keep `x.imported`: the
///     server frees it after the handler returns.
///  3. When the command consumed the source (RENAME replied +OK, RENAMENX
///     replied :1) `__delexported <key1> <db>` on key1's shard deletes it.
///
/// The three steps are not atomic: another client may change key1 between
/// them (the VLL intent locks of a later issue will close that window).
public enum KeyCommands {
    public static let specs: [CommandSpec] = basicSpecs + expireSpecs + pairSpecs + scanSpecs + [objectSpec]

    static let basicSpecs: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: [.write], keys: (1, -1, 1), route: .keys(.sum),
                    group: "generic", summary: "Delete a key", handler: del),
        CommandSpec("unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1), route: .keys(.sum),
                    group: "generic",
                    summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
                    since: "4.0.0", handler: del),
        CommandSpec("exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), route: .keys(.sum),
                    group: "generic", summary: "Determine if a key exists", handler: exists),
        CommandSpec("touch", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), route: .keys(.sum),
                    group: "generic",
                    summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
                    since: "3.2.1", handler: touch),
        CommandSpec("type", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "generic", summary: "Determine the type stored at key", handler: type),
    ]

    // MARK: lookups with Redis's side effects

    /// Error whose text includes client bytes (an option name, a subcommand).
    static func errorBytes(_ x: inout Exec, _ parts: [UInt8]...) {
        x.failed = true
        var m: [UInt8] = []
        for p in parts { m.append(contentsOf: p) }
        x.reply.error(bytes: m)
    }

    /// A db index argument as Redis's getIntFromObjectOrReply plus selectDb
    /// check it: nil after replying the error.
    static func parseDB(_ x: inout Exec, _ i: Int) -> Int? {
        let a = x[i]
        guard let v = parseStrictInt(a.ptr, a.count) else {
            x.error(Err.notInteger)
            return nil
        }
        if v < Int(Int32.min) || v > Int(Int32.max) {
            x.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        if v < 0 || v >= x.store.dbs.count {
            x.error(Err.dbIndex)
            return nil
        }
        return v
    }

    // MARK: DEL, UNLINK, EXISTS, TOUCH, TYPE

    /// DEL and UNLINK: freeing is synchronous either way; entries are single
    /// blocks, and large objects can get a lazy-free path when they exist.
    static func del(_ x: inout Exec) {
        let ks = x.keyspace
        var n = 0
        for i in 1..<x.argc {
            let s = x.lookup(i)
            if s >= 0 {
                ks.remove(at: s)
                x.notify(.generic, "del", i)
                n += 1
            }
        }
        x.reply.int(n)
    }

    /// Counts every argument, so a repeated key counts twice, as in Redis.
    static func exists(_ x: inout Exec) {
        var n = 0
        for i in 1..<x.argc where x.readSlot(i, touch: false) >= 0 { n += 1 }
        x.reply.int(n)
    }

    static func touch(_ x: inout Exec) {
        var n = 0
        for i in 1..<x.argc where x.readSlot(i) >= 0 { n += 1 }
        x.reply.int(n)
    }

    static func type(_ x: inout Exec) {
        let s = x.readSlot(1, touch: false)
        if s < 0 { return x.reply.simple("none") }
        x.reply.simple(x.keyspace.entry(at: s).type.name)
    }
}
