import RESP
import Storage

/// EXPIRE and friends, TTL and friends, PERSIST (Redis's expire.c).
extension KeyCommands {
    static let expireSpecs: [CommandSpec] = [
        CommandSpec("expire", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Set a key's time to live in seconds", handler: expire),
        CommandSpec("pexpire", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Set a key's time to live in milliseconds", since: "2.6.0", handler: pexpire),
        CommandSpec("expireat", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Set the expiration for a key as a UNIX timestamp", since: "1.2.0", handler: expireat),
        CommandSpec("pexpireat", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
                    since: "2.6.0", handler: pexpireat),
        CommandSpec("expiretime", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Get the expiration Unix timestamp for a key", since: "7.0.0", handler: expiretime),
        CommandSpec("pexpiretime", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Get the expiration Unix timestamp for a key in milliseconds", since: "7.0.0",
                    handler: pexpiretime),
        CommandSpec("ttl", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Get the time to live for a key in seconds", handler: ttl),
        CommandSpec("pttl", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Get the time to live for a key in milliseconds", since: "2.6.0", handler: pttl),
        CommandSpec("persist", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "generic",
                    summary: "Remove the expiration from a key", since: "2.2.0", handler: persist),
    ]

    static func expire(_ x: inout Exec) { expireGeneric(&x, seconds: true, relative: true, "expire") }
    static func pexpire(_ x: inout Exec) { expireGeneric(&x, seconds: false, relative: true, "pexpire") }
    static func expireat(_ x: inout Exec) { expireGeneric(&x, seconds: true, relative: false, "expireat") }
    static func pexpireat(_ x: inout Exec) { expireGeneric(&x, seconds: false, relative: false, "pexpireat") }

    /// EXPIRE key time [NX|XX|GT|LT], in Redis's order: options first, then
    /// the number, then the key. Negative times are allowed; a time already
    /// past deletes the key and still replies 1.
    static func expireGeneric(_ x: inout Exec, seconds: Bool, relative: Bool, _ name: String) {
        var nx = false, xx = false, gt = false, lt = false
        for i in 3..<max(3, x.argc) {
            let o = x[i]
            if o.equalsLower("nx") { nx = true }
            else if o.equalsLower("xx") { xx = true }
            else if o.equalsLower("gt") { gt = true }
            else if o.equalsLower("lt") { lt = true }
            else { return errorBytes(&x, Array("ERR Unsupported option ".utf8), Array(cString(o))) }
        }
        if nx && (xx || gt || lt) {
            return x.error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if gt && lt { return x.error("ERR GT and LT options at the same time are not compatible") }

        let a = x[2]
        guard var when = parseStrictInt(a.ptr, a.count) else { return x.error(Err.notInteger) }
        let invalid = "ERR invalid expire time in '\(name)' command"
        if seconds {
            let (m, o) = when.multipliedReportingOverflow(by: 1000)
            if o { return x.error(string: invalid) }
            when = m
        }
        if relative {
            let (s, o) = when.addingReportingOverflow(Int(x.now))
            if o { return x.error(string: invalid) }
            when = s
        }

        let s = x.writeSlot(1)
        if s < 0 { return x.reply.int(0) }
        let ks = x.keyspace
        let current = ks.entry(at: s).expireAt   // -1 = none, i.e. infinite
        if nx && current != -1 { return x.reply.int(0) }
        if xx && current == -1 { return x.reply.int(0) }
        if gt && (current == -1 || when <= current) { return x.reply.int(0) }
        if lt && current != -1 && when >= current { return x.reply.int(0) }

        if when <= x.now {
            ks.remove(at: s)
            x.notify(.generic, "del", 1)
        } else {
            ks.setExpire(at: s, Int64(when))
            x.notify(.generic, "expire", 1)
        }
        x.reply.int(1)
    }

    static func ttl(_ x: inout Exec) { ttlGeneric(&x, ms: false, absolute: false) }
    static func pttl(_ x: inout Exec) { ttlGeneric(&x, ms: true, absolute: false) }
    static func expiretime(_ x: inout Exec) { ttlGeneric(&x, ms: false, absolute: true) }
    static func pexpiretime(_ x: inout Exec) { ttlGeneric(&x, ms: true, absolute: true) }

    /// -2 when missing, -1 without expiry; seconds are rounded to nearest as
    /// Redis does ((ms + 500) / 1000).
    static func ttlGeneric(_ x: inout Exec, ms: Bool, absolute: Bool) {
        let s = x.readSlot(1, touch: false)
        if s < 0 { return x.reply.int(-2) }
        let at = x.keyspace.entry(at: s).expireAt
        if at < 0 { return x.reply.int(-1) }
        let v = max(0, absolute ? at : at - x.now)
        // Unsigned, so expiry times near the Int64 limit round as Redis's do.
        x.reply.int(ms ? Int(v) : Int((UInt64(v) + 500) / 1000))
    }

    static func persist(_ x: inout Exec) {
        let s = x.writeSlot(1)
        if s < 0 || !x.keyspace.entry(at: s).hasExpire { return x.reply.int(0) }
        x.keyspace.setExpire(at: s, -1)
        x.notify(.generic, "persist", 1)
        x.reply.int(1)
    }

    /// An argument as C's %s would print it: up to its first NUL byte.
    static func cString(_ a: Arg) -> UnsafeBufferPointer<UInt8> {
        var n = 0
        while n < a.count && a[n] != 0 { n += 1 }
        return UnsafeBufferPointer(start: a.ptr, count: n)
    }
}
