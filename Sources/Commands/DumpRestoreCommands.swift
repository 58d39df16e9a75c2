import RESP
import Storage

/// DUMP and RESTORE: a key's value in Redis 7.0's RDB serialisation
/// (Storage/RDB), so payloads move between RingKV and redis-server.
public enum DumpRestoreCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("dump", arity: 2, flags: [.readonly], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Return a serialized version of the value stored at the specified key.", since: "2.6.0",
                    handler: dump),
        CommandSpec("restore", arity: -4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
                    since: "2.6.0", acl: ["@keyspace", "@dangerous"], handler: restore),
    ]

    static func dump(_ x: inout Exec) {
        guard let (e, _) = x.findAny(1, read: true) else { return x.reply.null() }
        guard let payload = dumpPayload(e) else {
            return x.error("ERR DUMP of this type of value is not supported yet")
        }
        x.reply.bulk(payload)
    }

    /// restoreCommand in Redis's cluster.c: options, then BUSYKEY, then the
    /// TTL, then the payload's footer, then its value, in that order.
    static func restore(_ x: inout Exec) {
        var replace = false, absttl = false
        var freq = -1, idle = -1
        var j = 4
        while j < x.argc {
            let a = x[j]
            let more = x.argc - j - 1
            if a.equalsLower("replace") {
                replace = true
            } else if a.equalsLower("absttl") {
                absttl = true
            } else if a.equalsLower("idletime") && more >= 1 && freq == -1 {
                guard let v = parseStrictInt(x[j + 1].ptr, x[j + 1].count) else { return x.error(Err.notInteger) }
                if v < 0 { return x.error("ERR Invalid IDLETIME value, must be >= 0") }
                idle = v
                j += 1
            } else if a.equalsLower("freq") && more >= 1 && idle == -1 {
                guard let v = parseStrictInt(x[j + 1].ptr, x[j + 1].count) else { return x.error(Err.notInteger) }
                if v < 0 || v > 255 { return x.error("ERR Invalid FREQ value, must be >= 0 and <= 255") }
                // Kept by Redis only under an LFU policy, which RingKV refuses.
                freq = v
                j += 1
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        let existing = x.findAny(1, read: false)
        if !replace && existing != nil { return x.error("BUSYKEY Target key name already exists.") }
        guard let ttl = parseStrictInt(x[2].ptr, x[2].count) else { return x.error(Err.notInteger) }
        if ttl < 0 { return x.error("ERR Invalid TTL value, must be >= 0") }
        let payload = x[3].buffer
        guard verifyDumpPayload(payload) else { return x.error("ERR DUMP payload version or checksum are wrong") }
        guard let value = loadDumpPayload(payload) else { return x.error("ERR Bad data format") }

        let ks = x.keyspace(of: 1)
        var at = Int64(ttl)
        if ttl != 0 && !absttl { at = at &+ x.now }
        if ttl != 0 && at <= x.now {
            // Already expired: the key is only deleted (REPLACE), as Redis does.
            if let (_, slot) = existing {
                ks.remove(at: slot)
                x.notify(.generic, "del", 1)
            }
            return x.reply.ok()
        }
        var lru = x.lru
        if idle >= 0 {
            // objectSetLRUOrLFU: the access time `idle` seconds ago on the
            // 24-bit clock, or half the clock ahead if that underflows.
            let clock = Int(lru)
            let maxClock = (1 << 24) - 1
            var abs = clock - (idle &* 1000) / 1000
            if abs < 0 { abs = (clock + maxClock / 2) % maxClock }
            lru = UInt32(truncatingIfNeeded: abs)
        }
        let k = x[1]
        let e = value.makeEntry(key: k.ptr, keyLen: k.count, expireAt: ttl != 0 ? at : -1, lru: lru)
        ks.put(e, at: existing?.slot ?? -1, hash: hashBytes(k.ptr, k.count))
        if existing != nil { x.notify(.new, "new", 1) }
        x.notify(.generic, "restore", 1)
        x.reply.ok()
    }
}
