import RESP
import Storage

/// Where a command runs. Routing, COMMAND INFO and COMMAND GETKEYS all read
/// this one table, as Redis's command JSON files drive its dispatcher.
public enum Route: Sendable {
    /// One key (at `firstKey`): runs on the key's owner shard.
    case key
    /// Several keys: split by shard, run per shard, merged in key order.
    case keys(FanoutKind)
    /// Two keys that may live on different shards (RENAME, COPY, ...).
    case keyPair(PairSource)
    /// Every shard's part of the keyspace, merged.
    case allShards(FanoutKind)
    /// Keys that must be read and written together from one place (SMOVE,
    /// SINTERSTORE, ZUNIONSTORE, LMOVE, SORT ... STORE): on their owner when
    /// they share one shard, else with every shard involved held for the
    /// command and lent to it (`Exec.lent`). `CommandSpec.keysOf` finds them.
    case colocated
    /// BLPOP and friends: served now, or the client blocks on its keys'
    /// owners (Server/Blocking).
    case blocking
    /// SCAN: the cursor names the shard.
    case scan
    /// No keys and no server state: runs where the connection lives.
    case local
    /// Connection or server state: handled by the Server module.
    case server(ServerOp)
}

/// What a pair command does to its source key, which decides whether a
/// cross-shard run needs a last stage that deletes it.
public enum PairSource: Sendable {
    /// COPY, LCS: read only.
    case kept
    /// RENAME: moved when the reply is +OK.
    case movedOnOK
    /// RENAMENX: moved when the reply is :1.
    case movedOnOne
}

/// How the parts of a split or fanned-out command become one reply: the
/// one list for the command table and for the Server's internal fan-outs.
public enum FanoutKind: Sendable {
    /// DEL, EXISTS, TOUCH, UNLINK, DBSIZE: sum of integers.
    case sum
    /// MSET, FLUSHALL: +OK once every shard is done.
    case ok
    /// MGET: one reply per key, in key order.
    case perKey
    /// KEYS: the shards' arrays joined.
    case concatArrays
    case randomKey
    /// MSETNX: sets nothing unless no key exists anywhere.
    case setIfNoneExist
    /// Internal to the Server: pair commands across shards, INFO, CLIENT LIST.
    case pair, info, clientList, firstReply, slowlog
    /// MEMORY STATS and DOCTOR: every shard's figures, summed.
    case memoryStats
    /// EXEC across shards: hold them, run the block, release them.
    case exec
    /// EVAL on shards it locked.
    case script
    /// A `.colocated` command on shards it holds.
    case colocated
    /// A blocking command trying over shards it holds.
    case blocked
    /// DEBUG DIGEST and DIGEST-VALUE: the shards' digests xored.
    case digest
    /// SAVE across shards: hold them all, write the file, release them.
    case save
}

/// Commands that need connection or server state rather than shard data.
public enum ServerOp: Sendable {
    case ping, echo, quit, select, hello, auth, client, reset, info, config, command, time, shutdown,
         debug, slowlog, latency, memory, swapdb, flushall, flushdb, dbsize, lastsave,
         multi, exec, discard, watch, unwatch, eval, evalsha, evalRO, evalshaRO, script, function, fcall, fcallRO,
         subscribe, unsubscribe, psubscribe, punsubscribe, ssubscribe, sunsubscribe, publish, spublish, pubsub,
         monitor
}

public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyoom = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noscript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 10)
    public static let fast = CommandFlags(rawValue: 1 << 11)
    public static let noAuth = CommandFlags(rawValue: 1 << 12)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 13)
    public static let noMulti = CommandFlags(rawValue: 1 << 14)
    public static let allowBusy = CommandFlags(rawValue: 1 << 15)
    public static let asking = CommandFlags(rawValue: 1 << 16)
    public static let sentinel = CommandFlags(rawValue: 1 << 17)
    public static let onlySentinel = CommandFlags(rawValue: 1 << 18)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 19)
    public static let protected = CommandFlags(rawValue: 1 << 20)
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 21)
    public static let movableKeys = CommandFlags(rawValue: 1 << 22)

    /// The names COMMAND INFO prints, in Redis's order.
    public var names: [String] {
        var out: [String] = []
        let all: [(CommandFlags, String)] = [
            (.write, "write"), (.readonly, "readonly"), (.denyoom, "denyoom"), (.admin, "admin"),
            (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
            (.stale, "stale"), (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"),
            (.asking, "asking"), (.fast, "fast"), (.noAuth, "no_auth"),
            // may_replicate, sentinel, only_sentinel and protected: Redis
            // keeps them but does not print them.
            (.noMandatoryKeys, "no_mandatory_keys"), (.noAsyncLoading, "no_async_loading"),
            (.noMulti, "no_multi"), (.movableKeys, "movablekeys"), (.allowBusy, "allow_busy"),
        ]
        for (f, n) in all where contains(f) { out.append(n) }
        return out
    }
}

/// ACL categories in the order Redis prints them.
public let aclCategoryOrder = [
    "@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string", "@bitmap",
    "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous",
    "@connection", "@transaction", "@scripting",
]

/// Redis's implicit categories (from flags) added to the explicit ones, in
/// Redis's order.
func aclCategories(explicit: [String], flags: CommandFlags) -> [String] {
    var set = Set(explicit)
    if flags.contains(.write) { set.insert("@write") }
    if flags.contains(.readonly) && !set.contains("@scripting") { set.insert("@read") }
    if flags.contains(.admin) { set.insert("@admin"); set.insert("@dangerous") }
    if flags.contains(.pubsub) { set.insert("@pubsub") }
    if flags.contains(.fast) { set.insert("@fast") }
    if flags.contains(.blocking) { set.insert("@blocking") }
    if !set.contains("@fast") { set.insert("@slow") }
    return aclCategoryOrder.filter { set.contains($0) }
}

/// Where a command's keys are when first/last/step cannot say: a numkeys
/// argument (ZUNIONSTORE, LMPOP), or patterns that name keys only the data
/// knows (SORT BY/GET: `.everywhere`).
public enum KeySpan {
    case positions([Int])
    /// May read any key; the positions are the keys it names (SORT's STORE
    /// destination and source), for locks and WATCH.
    case everywhere([Int])
}

/// The shard-side work of a command.
public typealias Handler = @Sendable (inout Exec) -> Void

/// A class, not a struct: the router looks one up per command, and copying a
/// struct of strings and arrays costs a retain/release per field.
public final class CommandSpec: @unchecked Sendable {
    public let name: String           // lowercase
    public let arity: Int             // Redis: n exact, -n at least n
    public let flags: CommandFlags
    public let firstKey: Int          // as COMMAND INFO prints them
    public let lastKey: Int           // -1 = last argument
    public let keyStep: Int
    /// The argument the router hashes for `.key` routes: `firstKey`, except
    /// for containers like OBJECT whose key sits after the subcommand.
    public let routeKey: Int
    /// ACL categories (`@read`, `@string`, `@fast`, ...), in Redis's order.
    public let acl: [String]
    public let route: Route
    public let group: String          // COMMAND DOCS group: string, generic, connection, server
    public let summary: String
    public let since: String
    public let handler: Handler?
    /// Subcommands (CLIENT LIST, CONFIG GET, ...) for COMMAND INFO/DOCS.
    public let subcommands: [CommandSpec]
    /// The key positions of a movable-keys command (nil: first/last/step).
    /// It returns nil when the arguments are malformed: the command then runs
    /// where it is and its handler replies the error.
    public let keysOf: (@Sendable (ArgVector) -> KeySpan?)?
    /// The command or one of its subcommands writes (XGROUP's container
    /// has no flags, as in Redis, yet DESTROY must wake blocked readers).
    public let mayWrite: Bool
    /// Index in the table: per-command stats live in arrays indexed by it.
    public internal(set) var id: Int = 0
    /// `name`, or `container|name` for a subcommand.
    public internal(set) var fullName: String

    /// `acl` gives the explicit ACL categories; left out, they follow the
    /// group (string: @string, generic: @keyspace, connection: @connection),
    /// none for containers. Categories implied by flags are always added.
    public init(_ name: String, arity: Int, flags: CommandFlags, keys: (Int, Int, Int) = (0, 0, 0),
                routeKey: Int? = nil, route: Route, group: String, summary: String, since: String = "1.0.0",
                acl: [String]? = nil, subcommands: [CommandSpec] = [],
                keysOf: (@Sendable (ArgVector) -> KeySpan?)? = nil, handler: Handler? = nil) {
        self.name = name
        self.fullName = name
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.routeKey = routeKey ?? keys.0
        self.route = route
        self.group = group
        self.summary = summary
        self.since = since
        var explicit: [String] = []
        if let acl { explicit = acl } else if subcommands.isEmpty {
            switch group {
            case "string": explicit = ["@string"]
            case "generic": explicit = ["@keyspace"]
            case "connection": explicit = ["@connection"]
            default: break
            }
        }
        self.acl = aclCategories(explicit: explicit, flags: flags)
        for sub in subcommands { sub.fullName = "\(name)|\(sub.name)" }
        self.subcommands = subcommands
        self.mayWrite = flags.contains(.write) || subcommands.contains { $0.flags.contains(.write) }
        self.handler = handler
        self.keysOf = keysOf
    }

    /// Docs, tips and key specs (CommandDocsData.swift).
    public var meta: CommandMeta { CommandDocs.meta(fullName) }

    /// The subcommand named by `a`, for containers.
    public func subcommand(_ a: Arg) -> CommandSpec? {
        let n = a.lossyString.lowercased()
        return subcommands.first { $0.name == n }
    }

    @inlinable public func arityOK(_ argc: Int) -> Bool {
        arity >= 0 ? argc == arity : argc >= -arity
    }

    /// The key positions for these arguments: `keysOf` when the command has
    /// one, else first/last/step.
    public func keySpan(_ a: ArgVector) -> KeySpan? {
        if let f = keysOf { return f(a) }
        return .positions(keyPositions(argc: a.count))
    }

    /// Calls `body` with each key argument's position; returns true when
    /// the command may also read keys no argument names (SORT BY/GET).
    /// Without `keysOf` this allocates nothing.
    @inline(__always)
    public func forEachKey(_ a: ArgVector, _ body: (Int) -> Void) -> Bool {
        if let f = keysOf {
            switch f(a) {
            case .positions(let ps)?:
                for i in ps where i < a.count { body(i) }
                return false
            case .everywhere(let ps)?:
                for i in ps where i < a.count { body(i) }
                return true
            case nil:
                return false
            }
        }
        guard firstKey > 0 else { return false }
        let last = lastKey < 0 ? a.count + lastKey : lastKey
        let step = max(keyStep, 1)
        var i = firstKey
        while i <= last && i < a.count {
            body(i)
            i += step
        }
        return false
    }

    /// Positions of key arguments for `argc` arguments (COMMAND GETKEYS, routing).
    public func keyPositions(argc: Int) -> [Int] {
        guard firstKey > 0 else { return [] }
        let last = lastKey < 0 ? argc + lastKey : lastKey
        var out: [Int] = []
        var i = firstKey
        while i <= last && i < argc {
            out.append(i)
            i += max(keyStep, 1)
        }
        return out
    }
}

extension CommandSpec {
    /// Calls `body` with the position of each key argument the command may
    /// write, by its key specs: a key whose spec is read-only (`RO`) is left
    /// out, so WATCH on SINTERSTORE's, SORT's or COPY's source is not
    /// touched by the write to the destination. Without key specs, every key.
    public func forEachWrittenKey(_ a: ArgVector, _ body: (Int) -> Void) {
        let specs = meta.keySpecs
        if specs.isEmpty {
            _ = forEachKey(a, body)
            return
        }
        // Keys found by a spec's own search; nil where the spec says
        // "unknown" (SORT's STORE): then the command's keys not claimed by
        // a read-only spec stand in.
        var readOnly: [Int] = []
        var written: [Int] = []
        var unknownWrite = false
        for k in specs {
            guard let ps = positions(of: k, a) else {
                if !k.flags.contains("RO") { unknownWrite = true }
                continue
            }
            if k.flags.contains("RO") { readOnly += ps } else { written += ps }
        }
        if unknownWrite {
            _ = forEachKey(a) { i in if !readOnly.contains(i) && !written.contains(i) { written.append(i) } }
        }
        for i in written { body(i) }
    }

    /// Calls `body` with the position of each key argument whose key spec
    /// can only take data away (`RM`, or `delete` without `insert`, `update`
    /// or `OW`): the command leaves such a key absent if it was absent.
    public func forEachRemoveOnlyKey(_ a: ArgVector, _ body: (Int) -> Void) {
        for k in meta.keySpecs {
            let f = k.flags
            if f.contains("variable_flags") { continue }
            let removeOnly = f.contains("RM")
                || (f.contains("delete") && !f.contains("insert") && !f.contains("update") && !f.contains("OW"))
            guard removeOnly, let ps = positions(of: k, a) else { continue }
            for i in ps { body(i) }
        }
    }

    /// The argument positions a key spec names (Redis's key-spec search),
    /// or nil when the spec's search is "unknown".
    func positions(of k: KeySpec, _ a: ArgVector) -> [Int]? {
        var start: Int
        switch k.begin {
        case .index(let i): start = i
        case .keyword(let word, let from):
            // Redis searches from `from` (negative: from the end, backwards).
            let w = Array(word.lowercased().utf8)
            func hit(_ i: Int) -> Bool { Array(a[i].lossyString.lowercased().utf8) == w }
            var found = -1
            if from >= 0 {
                var i = from
                while i < a.count { if hit(i) { found = i; break }; i += 1 }
            } else {
                var i = a.count + from
                while i > 0 { if hit(i) { found = i; break }; i -= 1 }
            }
            if found < 0 { return [] }
            start = found + 1
        case .unknown:
            return nil
        }
        var out: [Int] = []
        switch k.find {
        case .range(let last, let step, let limit):
            let end: Int
            if last >= 0 {
                end = start + last
            } else if limit != 0 {
                end = start + (a.count - start) / limit + last
            } else {
                end = a.count + last
            }
            var i = start
            while i <= end && i < a.count {
                out.append(i)
                i += max(step, 1)
            }
        case .keynum(let idx, let first, let step):
            let ni = start + idx
            guard ni < a.count, let n = parseStrictInt(a[ni].ptr, a[ni].count), n > 0 else { return [] }
            var i = start + first
            var c = 0
            while c < n && i < a.count {
                out.append(i)
                i += max(step, 1)
                c += 1
            }
        case .unknown:
            return nil
        }
        return out
    }
}
