import Config
import RESP
import Storage
import Synchronization

/// KEYS, SCAN and RANDOMKEY: each runs on one shard and covers that shard's
/// part of the keyspace; the server fans out or routes by cursor.
extension KeyCommands {
    static let scanSpecs: [CommandSpec] = [
        CommandSpec("keys", arity: 2, flags: [.readonly], route: .allShards(.concatArrays), group: "generic",
                    summary: "Find all keys matching the given pattern", acl: ["@keyspace", "@dangerous"], handler: keys),
        CommandSpec("scan", arity: -2, flags: [.readonly], route: .scan, group: "generic",
                    summary: "Incrementally iterate the keys space", since: "2.8.0", handler: scan),
        CommandSpec("randomkey", arity: 1, flags: [.readonly], route: .allShards(.randomKey), group: "generic",
                    summary: "Return a random key from the keyspace", handler: randomkey),
    ]

    // MARK: SCAN cursor layout, shared with the server's router

    /// Low cursor bits that name the shard: enough for `shardCount - 1`.
    public static func scanShardBits(_ shardCount: Int) -> Int {
        shardCount <= 1 ? 0 : Int.bitWidth - (shardCount - 1).leadingZeroBitCount
    }

    /// The shard a SCAN cursor belongs to. Low bits past the last shard (a
    /// made-up cursor) go to the last shard, which treats the rest as a position.
    public static func scanShard(_ cursor: UInt64, shardCount: Int) -> Int {
        let bits = scanShardBits(shardCount)
        if bits == 0 { return 0 }
        return min(Int(cursor & ((1 << UInt64(bits)) - 1)), shardCount - 1)
    }

    /// A cursor parsed as Redis parses it with strtoul: no leading space, an
    /// optional sign ("-1" wraps to 2^64-1), digits up to the first NUL, and
    /// the empty string is 0. nil means "ERR invalid cursor".
    public static func parseScanCursor(_ a: Arg) -> UInt64? {
        var n = 0
        while n < a.count && a[n] != 0 { n += 1 }
        if n == 0 { return 0 }
        let c0 = a[0]
        if c0 == 32 || (c0 >= 9 && c0 <= 13) { return nil }
        var i = 0
        var neg = false
        if c0 == 43 || c0 == 45 { neg = c0 == 45; i = 1 }
        if i == n { return nil }   // a bare sign converts nothing
        var v: UInt64 = 0
        while i < n {
            let d = a[i] &- 48
            if d > 9 { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            v = s
            i += 1
        }
        return neg ? 0 &- v : v
    }

    static func isExpired(_ e: Entry, _ now: Int64) -> Bool { e.hasExpire && e.expireAt <= now }

    static func matches(_ pattern: Arg?, _ e: Entry) -> Bool {
        guard let p = pattern else { return true }
        return globMatch(p.buffer, e.key)
    }

    // MARK: KEYS

    /// Expired keys are skipped but not deleted, as Redis's KEYS does
    /// (deleting would reshape the table under the walk).
    static func keys(_ x: inout Exec) {
        let p = x[1]
        let pattern: Arg? = (p.count == 1 && p[0] == 42) ? nil : p
        let t = x.keyspace.table
        var out: [Entry] = []
        for i in 0..<t.capacity where t.isLive(i) {
            let e = t.entry(at: i)
            if matches(pattern, e) && !isExpired(e, x.now) { out.append(e) }
        }
        x.reply.array(out.count)
        for e in out { x.reply.bulk(e.key) }
    }

    // MARK: SCAN

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] on the shard the
    /// cursor names. Cursor = (table position << shardBits) | shard; when this
    /// shard's table walk wraps, the reply hands over to the next shard's
    /// position 0, and to cursor 0 after the last shard.
    /// SCAN's, HSCAN's, SSCAN's and ZSCAN's `[MATCH pattern] [COUNT count]`
    /// (and SCAN's `[TYPE type]`) from argument `from`, with Redis's errors;
    /// nil after replying one. A MATCH of `*` is no pattern at all.
    public static func scanOptions(_ x: inout Exec, from: Int, allowType: Bool = false)
        -> (count: Int, pattern: Arg?, type: Arg?)? {
        var count = 10
        var pattern: Arg? = nil
        var typeName: Arg? = nil
        var i = from
        while i < x.argc {
            let a = x[i]
            let hasValue = x.argc - i >= 2
            if a.equalsLower("count") && hasValue {
                let v = x[i + 1]
                guard let c = parseStrictInt(v.ptr, v.count) else {
                    x.error(Err.notInteger)
                    return nil
                }
                if c < 1 {
                    x.error(Err.syntax)
                    return nil
                }
                count = c
            } else if a.equalsLower("match") && hasValue {
                let v = x[i + 1]
                pattern = (v.count == 1 && v[0] == 42) ? nil : v
            } else if allowType && a.equalsLower("type") && hasValue {
                typeName = x[i + 1]
            } else {
                x.error(Err.syntax)
                return nil
            }
            i += 2
        }
        return (count, pattern, typeName)
    }

    static func scan(_ x: inout Exec) {
        guard let cursor = parseScanCursor(x[1]) else { return x.error("ERR invalid cursor") }
        guard let (count, pattern, typeName) = scanOptions(&x, from: 2, allowType: true) else { return }

        let bits = scanShardBits(x.shardCount)
        let ks = x.keyspace
        var pos = cursor >> UInt64(bits)
        var found: [Entry] = []
        // As Redis: stop at COUNT keys or after 10*COUNT buckets, so a sparse
        // table cannot stall the shard.
        var budget = count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10
        repeat {
            pos = ks.table.scan(pos) { found.append($0) }
            if pos == 0 || budget == 0 { break }
            budget -= 1
        } while found.count < count

        // Filter after the walk: lazy expiry deletes, which must not happen
        // while the table is being walked.
        var keep: [Entry] = []
        keep.reserveCapacity(found.count)
        for e in found {
            if !matches(pattern, e) { continue }
            if isExpired(e, x.now) {
                let k = e.key
                _ = ks.find(k.baseAddress!, k.count, hash: hashBytes(k.baseAddress!, k.count), now: x.now)
                continue
            }
            if let t = typeName, !typeIs(e.type, t) { continue }
            keep.append(e)
        }

        let next: UInt64
        if pos != 0 {
            next = pos << UInt64(bits) | UInt64(x.shard)
        } else {
            next = x.shard + 1 < x.shardCount ? UInt64(x.shard + 1) : 0
        }
        x.reply.array(2)
        replyUnsigned(x.reply, next)
        x.reply.array(keep.count)
        for e in keep { x.reply.bulk(e.key) }
    }

    /// Redis compares the TYPE filter with strcasecmp against the type name.
    static func typeIs(_ t: ValueType, _ name: Arg) -> Bool {
        let n = t.name
        if n.utf8CodeUnitCount != name.count { return false }
        let p = n.utf8Start
        for i in 0..<name.count {
            let c = name[i]
            if (c >= 65 && c <= 90 ? c | 0x20 : c) != p[i] { return false }
        }
        return true
    }

    /// A cursor can exceed Int.max, so it is formatted unsigned.
    static func replyUnsigned(_ r: Reply, _ v: UInt64) {
        var digits: [UInt8] = []
        var n = v
        repeat {
            digits.append(UInt8(truncatingIfNeeded: n % 10) + 48)
            n /= 10
        } while n != 0
        digits.reverse()
        r.bulk(digits)
    }

    // MARK: RANDOMKEY

    /// One random live key of this shard, or null; expired picks are deleted
    /// and the draw repeats, as Redis's dbRandomKey does. Under CLIENT PAUSE
    /// they are kept and skipped; after 100 expired picks it answers null
    /// (Redis 7.0 would loop forever on a table of expired keys).
    static func randomkey(_ x: inout Exec) {
        let ks = x.keyspace
        let paused = x.now < Keyspace.expiryPausedUntil.load(ordering: .relaxed)
        var tries = 0
        while true {
            let s = ks.table.randomSlot(using: &x.stats.random)
            if s < 0 { return x.reply.null() }
            let e = ks.entry(at: s)
            if paused && isExpired(e, x.now) {
                tries += 1
                if tries == 100 { return x.reply.null() }
                continue
            }
            if isExpired(e, x.now) {
                ks.noteExpired(e)
                ks.remove(at: s)
                ks.expiredKeys += 1
                continue
            }
            return x.reply.bulk(e.key)
        }
    }
}
