import RESP
import Storage
import Synchronization

/// Strings family (Redis 7.0's t_string.c): GET, SET and friends.
///
/// Split across files: this one has the table, lookups and the GET/SET
/// family; `+Counters` INCR and friends; `+Ranges` APPEND, STRLEN,
/// GETRANGE, SETRANGE; `+LCS` LCS; `+Float` the long-double parse/format.
public enum StringCommands {
    /// proto-max-bulk-len as APPEND and SETRANGE check it. The server keeps it
    /// in step with CONFIG SET; relaxed loads are enough.
    public static let protoMaxBulkLen = Atomic<Int>(512 * 1024 * 1024)

    public static let specs: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get the value of a key", handler: get),
        CommandSpec("set", arity: -3, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the string value of a key", handler: set),
        CommandSpec("setnx", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the value of a key, only if the key does not exist",
                    handler: setnx),
        CommandSpec("setex", arity: 4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the value and expiration of a key", since: "2.0.0",
                    handler: setex),
        CommandSpec("psetex", arity: 4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the value and expiration in milliseconds of a key",
                    since: "2.6.0", handler: psetex),
        CommandSpec("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), route: .keys(.perKey),
                    group: "string", summary: "Get the values of all the given keys", handler: mget),
        CommandSpec("mset", arity: -3, flags: [.write, .denyoom], keys: (1, -1, 2), route: .keys(.ok),
                    group: "string", summary: "Set multiple keys to multiple values", since: "1.0.1",
                    handler: mset),
        CommandSpec("msetnx", arity: -3, flags: [.write, .denyoom], keys: (1, -1, 2),
                    route: .keys(.setIfNoneExist), group: "string",
                    summary: "Set multiple keys to multiple values, only if none of the keys exist",
                    since: "1.0.1", handler: msetnx),
        CommandSpec("getset", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the string value of a key and return its old value",
                    handler: getset),
        CommandSpec("getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get the value of a key and delete the key", since: "6.2.0",
                    handler: getdel),
        CommandSpec("getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get the value of a key and optionally set its expiration",
                    since: "6.2.0", handler: getex),
        CommandSpec("append", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Append a value to a key", since: "2.0.0", handler: append),
        CommandSpec("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get the length of the value stored in a key", since: "2.2.0",
                    handler: strlen),
        CommandSpec("incr", arity: 2, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Increment the integer value of a key by one", handler: incr),
        CommandSpec("decr", arity: 2, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Decrement the integer value of a key by one", handler: decr),
        CommandSpec("incrby", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Increment the integer value of a key by the given amount",
                    handler: incrby),
        CommandSpec("decrby", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Decrement the integer value of a key by the given number",
                    handler: decrby),
        CommandSpec("incrbyfloat", arity: 3, flags: [.write, .denyoom, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Increment the float value of a key by the given amount",
                    since: "2.6.0", handler: incrbyfloat),
        CommandSpec("getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get a substring of the string stored at a key", since: "2.4.0",
                    handler: getrange),
        CommandSpec("setrange", arity: 4, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Overwrite part of a string at key starting at the specified offset",
                    since: "2.2.0", handler: setrange),
        CommandSpec("substr", arity: 4, flags: [.readonly], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get a substring of the string stored at a key", handler: getrange),
        CommandSpec("lcs", arity: -3, flags: [.readonly], keys: (1, 2, 1), route: .keyPair(.kept),
                    group: "string", summary: "Find longest common substring", since: "7.0.0", handler: lcs),
    ]

    // MARK: lookups

    /// Stores argument `v` as the string value of key argument `k` in `slot`
    /// (-1 inserts), int-encoding it when it is a canonical integer.
    @inline(__always)
    static func store(_ x: inout Exec, key k: Int, value v: Int, slot: Int, hash h: UInt64, expireAt: Int64) {
        let key = x[k], val = x[v]
        if slot >= 0 && expireAt < 0 && x.keyspace.entry(at: slot).overwriteString(val.ptr, val.count, lru: x.lru) {
            x.keyspace.mutations &+= 1
            return
        }
        let e = Entry.makeString(key: key.ptr, keyLen: key.count, value: val.ptr, valueLen: val.count,
                                 expireAt: expireAt, lru: x.lru)
        x.keyspace.put(e, at: slot, hash: h)
    }

    // MARK: GET / SET family

    static func get(_ x: inout Exec) {
        let s = x.readSlot(1, hash: x.hash(1))
        if s < 0 { return x.reply.null() }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        replyString(x.reply, e)
    }

    /// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL]
    static func set(_ x: inout Exec) {
        guard let o = parseExtendedOptions(&x, from: 3, forSet: true) else { return }
        var expireAt: Int64 = -1
        if o.expireArg > 0 {
            switch parseExpire(x[o.expireArg], unit: o.unit, now: x.now, command: "set") {
            case .ok(let at): expireAt = at
            case .error(let m): return x.error(string: m)
            }
        }
        let h = x.hash(1)
        let slot: Int
        if o.has(.get) {
            slot = x.readSlot(1, hash: h)
            if slot >= 0 {
                let old = x.keyspace.entry(at: slot)
                guard old.type == .string else { return x.error(Err.wrongType) }
                replyString(x.reply, old)
            } else {
                x.reply.null()
            }
        } else {
            slot = x.writeSlot(1, hash: h)
        }
        if (o.has(.nx) && slot >= 0) || (o.has(.xx) && slot < 0) {
            if !o.has(.get) { x.reply.null() }
            return
        }
        if o.has(.keepTTL) && slot >= 0 { expireAt = x.keyspace.entry(at: slot).expireAt }
        store(&x, key: 1, value: 2, slot: slot, hash: h, expireAt: expireAt)
        x.notify(.string, "set", 1)
        if o.expireArg > 0 { x.notify(.generic, "expire", 1) }
        if !o.has(.get) { x.reply.ok() }
    }

    static func setnx(_ x: inout Exec) {
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        if slot >= 0 { return x.reply.int(0) }
        store(&x, key: 1, value: 2, slot: -1, hash: h, expireAt: -1)
        x.notify(.string, "set", 1)
        x.reply.int(1)
    }

    static func setex(_ x: inout Exec) { setexGeneric(&x, .seconds, "setex") }
    static func psetex(_ x: inout Exec) { setexGeneric(&x, .milliseconds, "psetex") }

    static func setexGeneric(_ x: inout Exec, _ unit: ExpireUnit, _ name: String) {
        let at: Int64
        switch parseExpire(x[2], unit: unit, now: x.now, command: name) {
        case .ok(let v): at = v
        case .error(let m): return x.error(string: m)
        }
        let h = x.hash(1)
        let slot = x.writeSlot(1, hash: h)
        store(&x, key: 1, value: 3, slot: slot, hash: h, expireAt: at)
        x.notify(.string, "set", 1)
        x.notify(.generic, "expire", 1)
        x.reply.ok()
    }

    static func getset(_ x: inout Exec) {
        let h = x.hash(1)
        let slot = x.readSlot(1, hash: h)
        if slot >= 0 {
            let old = x.keyspace.entry(at: slot)
            guard old.type == .string else { return x.error(Err.wrongType) }
            replyString(x.reply, old)
        } else {
            x.reply.null()
        }
        // GETSET drops any TTL, as SET without KEEPTTL does.
        store(&x, key: 1, value: 2, slot: slot, hash: h, expireAt: -1)
        x.notify(.string, "set", 1)
    }

    static func getdel(_ x: inout Exec) {
        let slot = x.readSlot(1, hash: x.hash(1))
        if slot < 0 { return x.reply.null() }
        let e = x.keyspace.entry(at: slot)
        guard e.type == .string else { return x.error(Err.wrongType) }
        replyString(x.reply, e)
        x.keyspace.remove(at: slot)
        x.notify(.generic, "del", 1)
    }

    /// GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST]
    static func getex(_ x: inout Exec) {
        guard let o = parseExtendedOptions(&x, from: 2, forSet: false) else { return }
        let slot = x.readSlot(1, hash: x.hash(1))
        if slot < 0 { return x.reply.null() }
        let e = x.keyspace.entry(at: slot)
        guard e.type == .string else { return x.error(Err.wrongType) }
        // As in Redis, the expire argument is only checked once the key is found.
        var at: Int64 = -1
        if o.expireArg > 0 {
            switch parseExpire(x[o.expireArg], unit: o.unit, now: x.now, command: "getex") {
            case .ok(let v): at = v
            case .error(let m): return x.error(string: m)
            }
        }
        replyString(x.reply, e)
        if (o.has(.exat) || o.has(.pxat)) && at <= x.now {
            x.keyspace.remove(at: slot)
            x.notify(.generic, "del", 1)
        } else if o.expireArg > 0 {
            x.keyspace.setExpire(at: slot, at)
            x.notify(.generic, "expire", 1)
        } else if o.has(.persist) && e.hasExpire {
            // Without a TTL there is nothing to remove and nothing for WATCH to see.
            x.keyspace.setExpire(at: slot, -1)
            x.notify(.generic, "persist", 1)
        }
    }

    // MARK: multi-key

    /// MGET: per shard the server passes only this shard's keys; a missing
    /// key or one of another type is a null.
    static func mget(_ x: inout Exec) {
        x.reply.array(x.argc - 1)
        var i = 1
        while i < x.argc {
            let s = x.readSlot(i, hash: x.hash(i))
            if s < 0 {
                x.reply.null()
            } else {
                let e = x.keyspace.entry(at: s)
                if e.type == .string { replyString(x.reply, e) } else { x.reply.null() }
            }
            i += 1
        }
    }

    static func mset(_ x: inout Exec) {
        if x.argc % 2 == 0 { return x.error(string: wrongArityError("mset")) }
        msetAll(&x)
        x.reply.ok()
    }

    /// MSETNX on this shard's pairs: sets nothing when any key exists.
    static func msetnx(_ x: inout Exec) {
        if x.argc % 2 == 0 { return x.error(string: wrongArityError("msetnx")) }
        var i = 1
        while i < x.argc {
            if x.writeSlot(i, hash: x.hash(i)) >= 0 { return x.reply.int(0) }
            i += 2
        }
        msetAll(&x)
        x.reply.int(1)
    }

    static func msetAll(_ x: inout Exec) {
        var i = 1
        while i < x.argc {
            let h = x.hash(i)
            let slot = x.writeSlot(i, hash: h)
            store(&x, key: i, value: i + 1, slot: slot, hash: h, expireAt: -1)
            x.notify(.string, "set", i)
            i += 2
        }
    }
}

// MARK: SET/GETEX options

/// Options of SET and GETEX, parsed with Redis's rules: which flags may
/// combine, and that a repeated unit (EX 1 EX 2) is allowed, the last winning.
struct StringOptions {
    struct Flags: OptionSet {
        let rawValue: UInt16
        static let nx = Flags(rawValue: 1 << 0)
        static let xx = Flags(rawValue: 1 << 1)
        static let get = Flags(rawValue: 1 << 2)
        static let keepTTL = Flags(rawValue: 1 << 3)
        static let persist = Flags(rawValue: 1 << 4)
        static let ex = Flags(rawValue: 1 << 5)
        static let px = Flags(rawValue: 1 << 6)
        static let exat = Flags(rawValue: 1 << 7)
        static let pxat = Flags(rawValue: 1 << 8)
        static let anyExpire: Flags = [.ex, .px, .exat, .pxat]
    }

    var flags: Flags = []
    /// Index of the EX/PX/EXAT/PXAT argument's value, or 0.
    var expireArg = 0
    var unit = ExpireUnit.seconds

    @inline(__always) func has(_ f: Flags) -> Bool { flags.contains(f) }
}

extension StringCommands {
    /// Parses SET's options from argument 3 or GETEX's from 2. On a syntax
    /// error it replies and returns nil. Expire values are checked later.
    @inline(__always)
    static func parseExtendedOptions(_ x: inout Exec, from start: Int, forSet: Bool) -> StringOptions? {
        var o = StringOptions()
        var j = start
        while j < x.argc {
            let a = x[j]
            let hasNext = j + 1 < x.argc
            let f = o.flags
            func expireOK(_ own: StringOptions.Flags) -> Bool {
                hasNext && !f.contains(.keepTTL) && !f.contains(.persist)
                    && f.intersection(StringOptions.Flags.anyExpire.subtracting(own)).isEmpty
            }
            if forSet && a.equalsLower("nx") && !f.contains(.xx) {
                o.flags.insert(.nx)
            } else if forSet && a.equalsLower("xx") && !f.contains(.nx) {
                o.flags.insert(.xx)
            } else if forSet && a.equalsLower("get") {
                o.flags.insert(.get)
            } else if forSet && a.equalsLower("keepttl") && !f.contains(.persist)
                        && f.intersection(.anyExpire).isEmpty {
                o.flags.insert(.keepTTL)
            } else if !forSet && a.equalsLower("persist") && !f.contains(.keepTTL)
                        && f.intersection(.anyExpire).isEmpty {
                o.flags.insert(.persist)
            } else if a.equalsLower("ex") && expireOK(.ex) {
                o.flags.insert(.ex); o.unit = .seconds; j += 1; o.expireArg = j
            } else if a.equalsLower("px") && expireOK(.px) {
                o.flags.insert(.px); o.unit = .milliseconds; j += 1; o.expireArg = j
            } else if a.equalsLower("exat") && expireOK(.exat) {
                o.flags.insert(.exat); o.unit = .unixSeconds; j += 1; o.expireArg = j
            } else if a.equalsLower("pxat") && expireOK(.pxat) {
                o.flags.insert(.pxat); o.unit = .unixMilliseconds; j += 1; o.expireArg = j
            } else {
                x.error(Err.syntax)
                return nil
            }
            j += 1
        }
        return o
    }
}

/// Writes a string entry's value as a bulk reply.
@inlinable public func replyString(_ r: Reply, _ e: Entry) {
    if e.payload == .int { r.bulkDecimal(e.intValue) } else { r.bulk(e.bytes) }
}

public enum ExpireUnit: Sendable {
    case seconds, milliseconds, unixSeconds, unixMilliseconds

    public init?(_ a: Arg) {
        if a.equalsLower("ex") { self = .seconds }
        else if a.equalsLower("px") { self = .milliseconds }
        else if a.equalsLower("exat") { self = .unixSeconds }
        else if a.equalsLower("pxat") { self = .unixMilliseconds }
        else { return nil }
    }
}

public enum ExpireParse {
    case ok(Int64)
    case error(String)
}

/// Turns an EX/PX/EXAT/PXAT argument into an absolute time in ms, with
/// Redis's checks: an integer, positive, and no overflow once scaled.
public func parseExpire(_ a: Arg, unit: ExpireUnit, now: Int64, command: String) -> ExpireParse {
    guard let v = parseStrictInt(a.ptr, a.count) else {
        return .error("ERR value is not an integer or out of range")
    }
    // Built only on failure: the success path must not allocate.
    func invalid() -> ExpireParse { .error("ERR invalid expire time in '\(command)' command") }
    if v <= 0 { return invalid() }
    var ms = Int64(v)
    if unit == .seconds || unit == .unixSeconds {
        let (m, o) = ms.multipliedReportingOverflow(by: 1000)
        if o { return invalid() }
        ms = m
    }
    if unit == .seconds || unit == .milliseconds {
        let (s, o) = ms.addingReportingOverflow(now)
        if o || s <= 0 { return invalid() }
        ms = s
    }
    return .ok(ms)
}
