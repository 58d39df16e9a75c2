import RESP
import Storage

/// Strings family: GET, SET and friends (Redis's t_string.c).
public enum StringCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Get the value of a key", handler: get),
        CommandSpec("set", arity: -3, flags: [.write, .denyoom], keys: (1, 1, 1), route: .key,
                    group: "string", summary: "Set the string value of a key", handler: set),
    ]

    static func get(_ x: inout Exec) {
        let s = x.lookup(1)
        if s < 0 {
            x.stats.keyspaceMisses += 1
            x.reply.null()
            return
        }
        let e = x.keyspace.entry(at: s)
        guard e.type == .string else { return x.error(Err.wrongType) }
        x.stats.keyspaceHits += 1
        e.lru = x.lru
        replyString(x.reply, e)
    }

    /// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL]
    static func set(_ x: inout Exec) {
        var nx = false, xx = false, get = false, keepTTL = false
        var expireAt: Int64 = -1
        var unitSeen = false
        var i = 3
        while i < x.argc {
            let a = x[i]
            let hasNext = i + 1 < x.argc
            if a.equalsLower("nx") && !xx { nx = true }
            else if a.equalsLower("xx") && !nx { xx = true }
            else if a.equalsLower("get") { get = true }
            else if a.equalsLower("keepttl") && !unitSeen { keepTTL = true; unitSeen = true }
            else if !unitSeen && !keepTTL && hasNext,
                    let unit = ExpireUnit(a) {
                switch parseExpire(x[i + 1], unit: unit, now: x.now, command: "set") {
                case .ok(let at): expireAt = at
                case .error(let m): return x.error(string: m)
                }
                unitSeen = true
                i += 1
            } else {
                return x.error(Err.syntax)
            }
            i += 1
        }
        let key = x[1]
        let h = x.hash(1)
        let ks = x.keyspace
        let slot = ks.find(key.ptr, key.count, hash: h, now: x.now)
        if get {
            if slot >= 0 {
                let old = ks.entry(at: slot)
                guard old.type == .string else { return x.error(Err.wrongType) }
                replyString(x.reply, old)
            } else {
                x.reply.null()
            }
        }
        if (nx && slot >= 0) || (xx && slot < 0) {
            if !get { x.reply.null() }
            return
        }
        if keepTTL && slot >= 0 { expireAt = ks.entry(at: slot).expireAt }
        let v = x[2]
        let e = Entry.makeString(key: key.ptr, keyLen: key.count, value: v.ptr, valueLen: v.count,
                                 expireAt: expireAt, lru: x.lru)
        ks.put(e, at: slot, hash: h)
        if !get { x.reply.ok() }
    }
}

/// Writes a string entry's value as a bulk reply.
@inlinable public func replyString(_ r: Reply, _ e: Entry) {
    if e.payload == .int { r.bulkDecimal(e.intValue) } else { r.bulk(e.bytes) }
}

public enum ExpireUnit {
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
    let invalid = ExpireParse.error("ERR invalid expire time in '\(command)' command")
    if v <= 0 { return invalid }
    var ms = Int64(v)
    if unit == .seconds || unit == .unixSeconds {
        let (m, o) = ms.multipliedReportingOverflow(by: 1000)
        if o { return invalid }
        ms = m
    }
    if unit == .seconds || unit == .milliseconds {
        let (s, o) = ms.addingReportingOverflow(now)
        if o { return invalid }
        ms = s
    }
    return .ok(ms)
}
