import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
///
/// The handler is the non-blocking attempt: it serves the first key (in
/// argument order) that has data, or writes nothing and sets `wouldBlock`.
/// Blocking itself, waking and timeouts are the server's (Server/Blocking/):
/// it registers the client on each key's owner shard, and when a key gets
/// data the owner runs `serve` for that one key on behalf of the client.
public enum BlockingCommands {
    public static let specs: [CommandSpec] = [
        CommandSpec("blpop", arity: -3, flags: [.write, .noscript, .blocking], keys: (1, -2, 1), route: .blocking,
                    group: "list",
                    summary: "Remove and get the first element in a list, or block until one is available",
                    since: "2.0.0", acl: ["@list"], handler: attempt),
        CommandSpec("brpop", arity: -3, flags: [.write, .noscript, .blocking], keys: (1, -2, 1), route: .blocking,
                    group: "list",
                    summary: "Remove and get the last element in a list, or block until one is available",
                    since: "2.0.0", acl: ["@list"], handler: attempt),
        CommandSpec("brpoplpush", arity: 4, flags: [.write, .denyoom, .noscript, .blocking], keys: (1, 2, 1),
                    route: .blocking, group: "list",
                    summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
                    since: "2.2.0", acl: ["@list"], handler: attempt),
        CommandSpec("blmove", arity: 6, flags: [.write, .denyoom, .noscript, .blocking], keys: (1, 2, 1),
                    route: .blocking, group: "list",
                    summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
                    since: "6.2.0", acl: ["@list"], handler: attempt),
        CommandSpec("blmpop", arity: -5, flags: [.write, .blocking, .movableKeys], keys: (0, 0, 0), route: .blocking,
                    group: "list",
                    summary: "Pop elements from a list, or block until one is available",
                    since: "7.0.0", acl: ["@list"], keysOf: { numkeysSpan($0, at: 2) }, handler: attempt),
        CommandSpec("bzpopmin", arity: -3, flags: [.write, .noscript, .blocking, .fast], keys: (1, -2, 1),
                    route: .blocking, group: "sorted-set",
                    summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
                    since: "5.0.0", acl: ["@sortedset"], handler: attempt),
        CommandSpec("bzpopmax", arity: -3, flags: [.write, .noscript, .blocking, .fast], keys: (1, -2, 1),
                    route: .blocking, group: "sorted-set",
                    summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
                    since: "5.0.0", acl: ["@sortedset"], handler: attempt),
        CommandSpec("bzmpop", arity: -5, flags: [.write, .blocking, .movableKeys], keys: (0, 0, 0), route: .blocking,
                    group: "sorted-set",
                    summary: "Remove and return members with scores in a sorted set or block until one is available",
                    since: "7.0.0", acl: ["@sortedset"], keysOf: { numkeysSpan($0, at: 2) }, handler: attempt),
    ]

    /// Keys of a `<numkeys> key...` command whose numkeys is argument `at`;
    /// nil when numkeys is malformed (the handler replies the error).
    public static func numkeysSpan(_ a: ArgVector, at: Int) -> KeySpan? {
        // n < count - at, not at + n < count: that sum traps for a numkeys near Int.max.
        guard at < a.count, let n = parseStrictInt(a[at].ptr, a[at].count), n > 0, n < a.count - at else { return nil }
        return .positions(Array((at + 1)...(at + n)))
    }

    /// What a blocked client waits for.
    public enum Kind: Sendable {
        case pop(left: Bool)
        case move(fromLeft: Bool, toLeft: Bool)
        case mpop(left: Bool, count: Int?)
        case zpop(max: Bool)
        case zmpop(max: Bool, count: Int?)
        /// XREAD / XREADGROUP BLOCK: entries past an ID on each key
        /// (`StreamCommands+Read`). Unlike a pop, each waiter has its own
        /// start, so one that cannot be served does not stop the next.
        case xread(count: Int, group: Bool)

        /// The type of the keys it waits on.
        public var valueType: ValueType {
            switch self {
            case .pop, .move, .mpop: return .list
            case .zpop, .zmpop: return .zset
            case .xread: return .stream
            }
        }
    }

    /// A parsed blocking command: what it does, its keys (argument indexes,
    /// in order), and its timeout in ms (0: forever).
    public struct Plan: Sendable {
        public var kind: Kind
        public var keys: [Int]
        public var timeoutMs: Int64
        /// BLMOVE, BRPOPLPUSH: the destination argument.
        public var dst: Int?
    }

    /// Parses the command, or replies Redis's error and returns nil.
    public static func plan(_ x: inout Exec) -> Plan? {
        let name = x[0]
        if name[0] | 0x20 == 120 { return StreamCommands.blockPlan(&x) }  // xread / xreadgroup
        func timeout(_ i: Int) -> Int64? { parseTimeout(&x, i) }
        func side(_ i: Int) -> Bool? {
            if x[i].equalsLower("left") { return true }
            if x[i].equalsLower("right") { return false }
            x.error(Err.syntax)
            return nil
        }
        let last = x.argc - 1
        switch (name.count, name[1] | 0x20, name[name.count - 1] | 0x20) {
        case (5, 108, _), (5, 114, _):          // blpop / brpop
            guard let t = timeout(last) else { return nil }
            return Plan(kind: .pop(left: name[1] | 0x20 == 108), keys: Array(1..<last), timeoutMs: t, dst: nil)
        case (10, 114, _):                      // brpoplpush
            guard let t = timeout(3) else { return nil }
            return Plan(kind: .move(fromLeft: false, toLeft: true), keys: [1], timeoutMs: t, dst: 2)
        case (6, 108, 101):                     // blmove
            guard let t = timeout(5), let from = side(3), let to = side(4) else { return nil }
            return Plan(kind: .move(fromLeft: from, toLeft: to), keys: [1], timeoutMs: t, dst: 2)
        case (6, 108, 112), (6, 122, 112):      // blmpop / bzmpop
            guard let t = timeout(1) else { return nil }
            let z = name[1] | 0x20 == 122
            guard let (keys, first, count) = mpopArgs(&x, z) else { return nil }
            return Plan(kind: z ? .zmpop(max: !first, count: count) : .mpop(left: first, count: count),
                        keys: keys, timeoutMs: t, dst: nil)
        default:                                // bzpopmin / bzpopmax
            guard let t = timeout(last) else { return nil }
            return Plan(kind: .zpop(max: name[name.count - 1] | 0x20 == 120), keys: Array(1..<last), timeoutMs: t,
                        dst: nil)
        }
    }

    /// `numkeys key... LEFT|RIGHT|MIN|MAX [COUNT n]` from argument 2, with
    /// Redis 7.0's checks and errors in its order. `first` is LEFT or MIN.
    static func mpopArgs(_ x: inout Exec, _ zset: Bool) -> ([Int], first: Bool, count: Int?)? {
        guard let n = parseStrictInt(x[2].ptr, x[2].count), n > 0 else {
            x.error("ERR numkeys should be greater than 0")
            return nil
        }
        // n < argc first: `2 + n + 1` traps for a numkeys near Int.max
        // (BZMPOP 0 9223372036854775807 k MIN stopped the server).
        guard n < x.argc, 2 + n + 1 < x.argc else {
            x.error(Err.syntax)
            return nil
        }
        let whereIdx = 2 + n + 1
        let w = x[whereIdx]
        let first: Bool
        if w.equalsLower(zset ? "min" : "left") {
            first = true
        } else if w.equalsLower(zset ? "max" : "right") {
            first = false
        } else {
            x.error(Err.syntax)
            return nil
        }
        var count: Int? = nil
        var j = whereIdx + 1
        while j < x.argc {
            if x[j].equalsLower("count") && j + 1 < x.argc && count == nil {
                guard let c = parseStrictInt(x[j + 1].ptr, x[j + 1].count), c > 0 else {
                    x.error("ERR count should be greater than 0")
                    return nil
                }
                count = c
                j += 2
            } else {
                x.error(Err.syntax)
                return nil
            }
        }
        return (Array(3..<(3 + n)), first, count ?? 1)
    }

    /// Redis's getTimeoutFromObjectOrReply in seconds: a long double, ms
    /// rounded up; 0 is forever. The deadline is the server's to add.
    /// `unitMs` (XREAD's BLOCK): an integer number of milliseconds.
    static func parseTimeout(_ x: inout Exec, _ i: Int, unitMs: Bool = false) -> Int64? {
        let a = x[i]
        if unitMs {
            guard let t = parseStrictInt(a.ptr, a.count) else {
                x.error("ERR timeout is not an integer or out of range")
                return nil
            }
            if t < 0 {
                x.error("ERR timeout is negative")
                return nil
            }
            if t > 0 && Int64(t) > Int64.max - x.now {
                x.error("ERR timeout is out of range")
                return nil
            }
            return Int64(t)
        }
        guard let v = parseRedisLongDouble(a.ptr, a.count), !v.isNaN else {
            x.error("ERR timeout is not a float or out of range")
            return nil
        }
        let ms = ceill(v * 1000)
        // C's cast of a value past LLONG_MAX gives LLONG_MIN on x86: Redis 7.0 then says negative.
        let t = ms >= 9.223372036854775807e18 || ms < -9.223372036854775807e18 ? Int64.min : Int64(ms)
        if t < 0 {
            x.error("ERR timeout is negative")
            return nil
        }
        if t > 0 && t > Int64.max - x.now {
            x.error("ERR timeout is out of range")
            return nil
        }
        return t
    }

    /// The non-blocking attempt (see the type's comment).
    static func attempt(_ x: inout Exec) {
        guard let p = plan(&x) else { return }
        for k in p.keys where serve(&x, p.kind, key: k, dst: p.dst) { return }
        x.wouldBlock = true
    }

    /// Serves key argument `k` if it has data: pops (or moves), writes the
    /// reply and returns true; a WRONGTYPE error also counts as served.
    /// Nothing to serve: writes nothing, returns false.
    /// `after`: for XREAD, the start ID resolved when the client blocked.
    public static func serve(_ x: inout Exec, _ kind: Kind, key k: Int, dst: Int?, after: StreamID = .zero) -> Bool {
        switch kind {
        case .xread(let count, _):
            return StreamCommands.serveBlocked(&x, key: k, after: after, count: count, dryRun: false)
        case .pop(let left):
            return ListCommands.popReply(&x, key: k, left: left, count: nil, withKey: true)
        case .move(let from, let to):
            return ListCommands.moveReply(&x, src: k, dst: dst!, fromLeft: from, toLeft: to)
        case .mpop(let left, let count):
            return ListCommands.popReply(&x, key: k, left: left, count: count, withKey: true)
        case .zpop(let max):
            return SortedSetCommands.popReply(&x, key: k, max: max, count: nil, shape: .bzpop)
        case .zmpop(let max, let count):
            return SortedSetCommands.popReply(&x, key: k, max: max, count: count, shape: .zmpop)
        }
    }

    /// The reply of a timeout: a null array whatever the command, as
    /// Redis's replyToBlockedClientTimedOut. Inside MULTI or a script a
    /// blocking command does not block and answers as its non-blocking form
    /// would (`inTransaction`): BLMOVE's LMOVE gives a null bulk.
    public static func timeoutReply(_ kind: Kind, _ r: Reply, inTransaction: Bool = false) {
        if case .move = kind, inTransaction { return r.null() }
        r.nullArray()
    }
}
