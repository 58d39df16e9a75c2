import RESP
import Storage

/// MIGRATE: DUMP each key, RESTORE it on another server (RingKV or Redis)
/// over a cached link, and delete it here once the target has acknowledged
/// it (unless COPY), as Redis 7.0's migrateCommand does. The call blocks the
/// worker that runs it, as Redis blocks its main thread. With KEYS spread
/// over shards it is `.colocated`: every involved shard is held for it, so
/// no one sees a key both here and there being deleted half-way.
public enum MigrateCommand {
    public static let specs: [CommandSpec] = [
        CommandSpec("migrate", arity: -6, flags: [.write, .movableKeys], keys: (3, 3, 1), route: .colocated,
                    group: "generic", summary: "Atomically transfer a key from a Redis instance to another one.",
                    since: "2.6.0", acl: ["@keyspace", "@dangerous"], keysOf: keys, handler: migrate),
    ]

    /// migrateGetKeys: the key at 3, or every argument after KEYS when the
    /// key argument is empty. KEYS with a non-empty key argument is
    /// malformed (nil: the handler replies the error); a KEYS with nothing
    /// after it names the key argument, as Redis's key specs do.
    @Sendable static func keys(_ a: ArgVector) -> KeySpan? {
        var i = 6
        while i < a.count {
            if a[i].equalsLower("keys") {
                if a[3].count > 0 { return nil }
                return .positions(i + 1 < a.count ? Array(i + 1..<a.count) : [3])
            }
            if a[i].equalsLower("auth") { i += 1 } else if a[i].equalsLower("auth2") { i += 2 }
            i += 1
        }
        return .positions([3])
    }

    /// The AUTH/AUTH2 arguments MONITOR and SLOWLOG show as "(redacted)":
    /// those migrateCommand's option parsing reaches, as Redis redacts them
    /// while it parses.
    public static func secretArguments(_ a: ArgVector) -> [Int] {
        var out: [Int] = []
        var j = 6
        while j < a.count {
            let more = a.count - 1 - j
            if a[j].equalsLower("copy") || a[j].equalsLower("replace") {
                j += 1
            } else if a[j].equalsLower("auth") && more >= 1 {
                out.append(j + 1)
                j += 2
            } else if a[j].equalsLower("auth2") && more >= 2 {
                out += [j + 1, j + 2]
                j += 3
            } else {
                break
            }
        }
        return out
    }

    /// Closes the calling worker's links idle for over 10 s (Redis's cron).
    public static func closeIdleLinks(now: Int64) { MigrateLinks.closeIdle(now: now) }

    static func migrate(_ x: inout Exec) {
        var copy = false, replace = false
        var user: Arg? = nil, password: Arg? = nil
        var firstKey = 3, numKeys = 1
        var j = 6
        while j < x.argc {
            let a = x[j], more = x.argc - 1 - j
            if a.equalsLower("copy") {
                copy = true
            } else if a.equalsLower("replace") {
                replace = true
            } else if a.equalsLower("auth") {
                if more < 1 { return x.error(Err.syntax) }
                j += 1
                password = x[j]
            } else if a.equalsLower("auth2") {
                if more < 2 { return x.error(Err.syntax) }
                user = x[j + 1]
                password = x[j + 2]
                j += 2
            } else if a.equalsLower("keys") {
                if x[3].count != 0 {
                    return x.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                }
                firstKey = j + 1
                numKeys = x.argc - j - 1
                break
            } else {
                return x.error(Err.syntax)
            }
            j += 1
        }
        guard var timeout = parseStrictInt(x[5].ptr, x[5].count),
              let dbid = parseStrictInt(x[4].ptr, x[4].count) else { return x.error(Err.notInteger) }
        if timeout <= 0 { timeout = 1000 }

        // The keys that exist now, each with its RESTORE already encoded:
        // nothing here can change them while this worker is busy.
        var moving: [Int] = []
        var restores: [UInt8] = []
        for k in firstKey..<(firstKey + numKeys) {
            guard let (e, _) = x.findAny(k, read: true) else { continue }
            guard let payload = dumpPayload(e) else {
                return x.error("ERR DUMP of this type of value is not supported yet")
            }
            // The TTL left, at least 1 ms (a key found is not yet expired).
            let ttl = e.hasExpire ? max(1, Int(e.expireAt &- x.now)) : 0
            appendHeader(&restores, 42, replace ? 5 : 4)
            appendBulk(&restores, "RESTORE")
            appendBulk(&restores, x[k].buffer)
            appendBulkDecimal(&restores, ttl)
            payload.withUnsafeBufferPointer { appendBulk(&restores, $0) }
            if replace { appendBulk(&restores, "REPLACE") }
            moving.append(k)
        }
        if moving.isEmpty { return x.reply.simple("NOKEY") }

        var name = x[1].bytes
        name.append(58)
        name.append(contentsOf: x[2].buffer)
        let port = atoi(x[2])
        let links = MigrateLinks.current
        var mayRetry = true
        while true {
            guard let link = links.link(name, host: x[1].buffer, port: port, timeout: timeout, now: x.now) else {
                return x.error("IOERR error or timeout connecting to the client")
            }
            var cmd: [UInt8] = []
            if let password {
                appendHeader(&cmd, 42, user == nil ? 2 : 3)
                appendBulk(&cmd, "AUTH")
                if let user { appendBulk(&cmd, user.buffer) }
                appendBulk(&cmd, password.buffer)
            }
            let select = link.lastDb != dbid
            if select {
                appendHeader(&cmd, 42, 2)
                appendBulk(&cmd, "SELECT")
                appendBulkDecimal(&cmd, dbid)
            }
            cmd.append(contentsOf: restores)

            var writing = false
            var authLine: [UInt8]? = nil, selectLine: [UInt8]? = nil
            socketError: do {
                if !link.write(cmd, timeout: timeout) {
                    writing = true
                    break socketError
                }
                if password != nil {
                    authLine = link.readLine(timeout: timeout)
                    if authLine == nil { break socketError }
                }
                if select {
                    selectLine = link.readLine(timeout: timeout)
                    if selectLine == nil { break socketError }
                }
                var targetError: [UInt8]? = nil
                var acked = 0
                var lost = false
                for k in moving {
                    guard let line = link.readLine(timeout: timeout) else {
                        lost = true
                        break
                    }
                    acked += 1
                    let failed = [authLine, selectLine, line].first { $0?.first == 45 } ?? nil
                    if let failed {
                        if targetError == nil {
                            link.lastDb = -1
                            targetError = Array(failed.dropFirst())
                        }
                    } else if !copy {
                        deleteMoved(&x, k)
                    }
                }
                // Nothing was acknowledged on a link that may have gone
                // stale: reconnect once (not after a timeout).
                if targetError == nil && lost && acked == 0 && mayRetry && !link.timedOut { break socketError }
                if lost { links.drop(name) }
                if let targetError {
                    x.failed = true
                    x.reply.error(bytes: Array("ERR Target instance replied with error: ".utf8) + targetError)
                    return
                }
                if lost {
                    mayRetry = false
                    break socketError
                }
                link.lastDb = dbid
                return x.reply.ok()
            }
            links.drop(name)
            if !link.timedOut && mayRetry {
                mayRetry = false
                continue
            }
            return x.error(writing ? "IOERR error or timeout writing to target instance"
                                   : "IOERR error or timeout reading to target instance")
        }
    }

    /// The target has the key: remove it here as DEL would.
    private static func deleteMoved(_ x: inout Exec, _ k: Int) {
        let ks = x.keyspace(of: k)
        let a = x[k]
        let slot = ks.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count), now: x.now)
        guard slot >= 0 else { return }
        ks.remove(at: slot)
        x.notify(.generic, "del", k)
    }

    /// C's atoi, as Redis reads MIGRATE's port: leading blanks, a sign,
    /// digits up to the first other byte; anything else is 0.
    private static func atoi(_ a: Arg) -> Int32 {
        var i = 0
        while i < a.count && (a[i] == 32 || (a[i] >= 9 && a[i] <= 13)) { i += 1 }
        var neg = false
        if i < a.count && (a[i] == 43 || a[i] == 45) {
            neg = a[i] == 45
            i += 1
        }
        var v: Int64 = 0
        while i < a.count && a[i] >= 48 && a[i] <= 57 && v < Int64(Int32.max) + 1 {
            v = v * 10 + Int64(a[i] - 48)
            i += 1
        }
        return Int32(truncatingIfNeeded: neg ? -v : v)
    }

    private static func appendHeader(_ out: inout [UInt8], _ kind: UInt8, _ n: Int) {
        out.append(kind)
        appendDecimal(&out, n)
        out.append(13)
        out.append(10)
    }

    private static func appendDecimal(_ out: inout [UInt8], _ v: Int) {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            out.append(contentsOf: UnsafeBufferPointer(start: p, count: formatDecimal(v, into: p)))
        }
    }

    private static func appendBulk(_ out: inout [UInt8], _ b: UnsafeBufferPointer<UInt8>) {
        appendHeader(&out, 36, b.count)
        out.append(contentsOf: b)
        out.append(13)
        out.append(10)
    }

    private static func appendBulk(_ out: inout [UInt8], _ s: StaticString) {
        appendBulk(&out, UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private static func appendBulkDecimal(_ out: inout [UInt8], _ v: Int) {
        var d: [UInt8] = []
        appendDecimal(&d, v)
        d.withUnsafeBufferPointer { appendBulk(&out, $0) }
    }
}
