import RESP
import Storage
import Synchronization

/// Connection and server commands. Their work needs connection or server
/// state, so the Server module runs them; this table gives them arity, flags
/// and docs like every other command.
public enum ServerCommandSpecs {
    public static let specs: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: [.fast], route: .server(.ping), group: "connection",
                    summary: "Ping the server"),
        CommandSpec("echo", arity: 2, flags: [.loading, .stale, .fast], route: .server(.echo), group: "connection",
                    summary: "Echo the given string"),
        CommandSpec("quit", arity: -1, flags: [.allowBusy, .noAuth, .fast, .stale, .noscript, .loading], route: .server(.quit),
                    group: "connection", summary: "Close the connection"),
        CommandSpec("select", arity: 2, flags: [.loading, .stale, .fast], route: .server(.select), group: "connection",
                    summary: "Change the selected database for the current connection"),
        CommandSpec("hello", arity: -1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    route: .server(.hello), group: "connection", summary: "Handshake with Redis", since: "6.0.0"),
        CommandSpec("auth", arity: -2, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    route: .server(.auth), group: "connection", summary: "Authenticate to the server"),
        CommandSpec("client", arity: -2, flags: [], route: .server(.client), group: "connection",
                    summary: "A container for client connection commands", since: "2.4.0",
                    subcommands: clientSubcommands),
        CommandSpec("reset", arity: 1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    route: .server(.reset), group: "connection", summary: "Reset the connection", since: "6.2.0"),
        CommandSpec("info", arity: -1, flags: [.loading, .stale], route: .server(.info), group: "server",
                    summary: "Get information and statistics about the server", acl: ["@dangerous"]),
        CommandSpec("config", arity: -2, flags: [], route: .server(.config), group: "server",
                    summary: "A container for server configuration commands", since: "2.0.0",
                    subcommands: configSubcommands),
        CommandSpec("command", arity: -1, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Get array of Redis command details", since: "2.8.13", acl: ["@connection"],
                    subcommands: commandSubcommands),
        CommandSpec("time", arity: 1, flags: [.loading, .stale, .fast], route: .server(.time), group: "server",
                    summary: "Return the current server time", since: "2.6.0"),
        CommandSpec("shutdown", arity: -1, flags: [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy],
                    route: .server(.shutdown), group: "server", summary: "Synchronously save the dataset to disk and then shut down the server"),
        CommandSpec("debug", arity: -2, flags: [.admin, .noscript, .loading, .stale], route: .server(.debug),
                    group: "server", summary: "A container for debugging commands"),
        CommandSpec("slowlog", arity: -2, flags: [], route: .server(.slowlog), group: "server",
                    summary: "A container for slow log commands", since: "2.2.12",
                    subcommands: slowlogSubcommands),
        CommandSpec("latency", arity: -2, flags: [], route: .server(.latency), group: "server",
                    summary: "A container for latency diagnostics commands", since: "2.8.13",
                    subcommands: latencySubcommands),
        memorySpec,
        CommandSpec("swapdb", arity: 3, flags: [.write, .fast], route: .server(.swapdb), group: "server",
                    summary: "Swaps two Redis databases", since: "4.0.0", acl: ["@keyspace", "@dangerous"]),
        CommandSpec("flushall", arity: -1, flags: [.write], route: .server(.flushall), group: "server",
                    summary: "Remove all keys from all databases", acl: ["@keyspace", "@dangerous"]),
        CommandSpec("flushdb", arity: -1, flags: [.write], route: .server(.flushdb), group: "server",
                    summary: "Remove all keys from the current database", acl: ["@keyspace", "@dangerous"]),
        CommandSpec("dbsize", arity: 1, flags: [.readonly, .fast], route: .server(.dbsize), group: "server",
                    summary: "Return the number of keys in the selected database", acl: ["@keyspace"]),
        CommandSpec("multi", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy], route: .server(.multi),
                    group: "transactions", summary: "Mark the start of a transaction block", since: "1.2.0",
                    acl: ["@transaction"]),
        CommandSpec("exec", arity: 1, flags: [.noscript, .loading, .stale, .skipSlowlog], route: .server(.exec),
                    group: "transactions", summary: "Execute all commands issued after MULTI", since: "1.2.0",
                    acl: ["@transaction"]),
        CommandSpec("discard", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    route: .server(.discard), group: "transactions", summary: "Discard all commands issued after MULTI",
                    since: "2.0.0", acl: ["@transaction"]),
        CommandSpec("watch", arity: -2, flags: [.noscript, .loading, .stale, .fast, .allowBusy], keys: (1, -1, 1),
                    route: .server(.watch), group: "transactions",
                    summary: "Watch the given keys to determine execution of the MULTI/EXEC block", since: "2.2.0",
                    acl: ["@transaction"]),
        CommandSpec("unwatch", arity: 1, flags: [.noscript, .loading, .stale, .fast, .allowBusy],
                    route: .server(.unwatch), group: "transactions", summary: "Forget about all watched keys",
                    since: "2.2.0", acl: ["@transaction"]),
        CommandSpec("eval", arity: -3, flags: [.noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.eval), group: "scripting", summary: "Execute a Lua script server side",
                    since: "2.6.0", acl: ["@scripting"]),
        CommandSpec("evalsha", arity: -3, flags: [.noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.evalsha), group: "scripting", summary: "Execute a Lua script server side",
                    since: "2.6.0", acl: ["@scripting"]),
        CommandSpec("eval_ro", arity: -3,
                    flags: [.readonly, .noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.evalRO), group: "scripting", summary: "Execute a read-only Lua script server side",
                    since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("evalsha_ro", arity: -3,
                    flags: [.readonly, .noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.evalshaRO), group: "scripting",
                    summary: "Execute a read-only Lua script server side", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("fcall", arity: -3, flags: [.noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.fcall), group: "scripting", summary: "Invoke a function", since: "7.0.0",
                    acl: ["@scripting"]),
        CommandSpec("fcall_ro", arity: -3,
                    flags: [.readonly, .noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys],
                    route: .server(.fcallRO), group: "scripting", summary: "Invoke a read-only function",
                    since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("function", arity: -2, flags: [], route: .server(.function), group: "scripting",
                    summary: "A container for function commands", since: "7.0.0", subcommands: functionSubcommands),
        CommandSpec("script", arity: -2, flags: [], route: .server(.script), group: "scripting",
                    summary: "A container for Lua scripts management commands", since: "2.6.0",
                    subcommands: scriptSubcommands),
        // SAVE and BGSAVE take SHUTDOWN's route: all three write the RDB file
        // (Server/Admin/ServerCommands.swift).
        CommandSpec("save", arity: 1, flags: [.admin, .noscript, .noAsyncLoading, .noMulti], route: .server(.shutdown),
                    group: "server", summary: "Synchronously save the dataset to disk"),
        CommandSpec("bgsave", arity: -1, flags: [.admin, .noscript, .noAsyncLoading], route: .server(.shutdown),
                    group: "server", summary: "Asynchronously save the dataset to disk"),
        CommandSpec("bgrewriteaof", arity: 1, flags: [.admin, .noscript, .noAsyncLoading], route: .server(.shutdown),
                    group: "server", summary: "Asynchronously rewrite the append-only file"),
        CommandSpec("lastsave", arity: 1, flags: [.loading, .stale, .fast], route: .server(.lastsave), group: "server",
                    summary: "Get the UNIX time stamp of the last successful save to disk",
                    acl: ["@admin", "@dangerous"]),
        // A master without replicas: neither needs connection or shard state.
        CommandSpec("role", arity: 1, flags: [.noscript, .loading, .stale, .fast], route: .local, group: "server",
                    summary: "Return the role of the instance in the context of replication", since: "2.8.12",
                    acl: ["@admin", "@dangerous"], handler: role),
        CommandSpec("wait", arity: 3, flags: [.noscript], route: .local, group: "generic",
                    summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
                    since: "3.0.0", acl: ["@connection"], handler: wait),
    ]

    static func role(_ x: inout Exec) {
        x.reply.array(3)
        x.reply.bulk(static: "master")
        x.reply.int(0)
        x.reply.array(0)
    }

    /// No replica can ever acknowledge, so the count is 0 at once. Redis
    /// would block for `timeout` first when numreplicas > 0 (forever for 0);
    /// answering now is the same count without the stall.
    static func wait(_ x: inout Exec) {
        guard parseStrictInt(x[1].ptr, x[1].count) != nil else { return x.error(Err.notInteger) }
        guard let timeout = parseStrictInt(x[2].ptr, x[2].count) else {
            return x.error("ERR timeout is not an integer or out of range")
        }
        if timeout < 0 { return x.error("ERR timeout is negative") }
        x.reply.int(0)
    }

    /// DEBUG OBJECT's shard step (key at argument 0): Redis's line, with
    /// its quicklist figures for a list. DEBUG is a server command; the
    /// entry lives on its key's shard.
    public static func debugObject(_ x: inout Exec) {
        // Redis looks up with LOOKUP_NOTOUCH, as OBJECT does.
        let s = x.readSlot(0, touch: false)
        if s < 0 { return x.error(Err.noSuchKey) }
        let e = x.keyspace.entry(at: s)
        let shared = e.payload == .int && !e.isUnsharedInt && e.intValue >= 0 && e.intValue < 10000
            && !KeyCommands.noSharedIntegers.load(ordering: .relaxed)
        let addr = String(UInt(bitPattern: e.raw), radix: 16)
        let line = "Value at:0x\(addr) refcount:\(shared ? Int(Int32.max) : 1) encoding:\(KeyCommands.encodingName(e)) serializedlength:\(serializedLength(e)) lru:\(e.lru) lru_seconds_idle:\(KeyCommands.idleSeconds(e.lru, now: x.lru))\(quicklistFields(e))"
        x.reply.simple(string: line)
    }

    /// Bytes the value would take in an RDB file (rdbSavedObjectLen).
    /// Redis LZF-compresses strings over 20 bytes when that saves space; no
    /// compressor is ported yet, so for compressible strings (and listpack
    /// blobs) this is the uncompressed size, larger than Redis's figure.
    static func serializedLength(_ e: Entry) -> Int {
        if e.type != .string { return collectionSerializedLength(e) }
        switch e.payload {
        case .int:
            return rdbIntLength(e.intValue) ?? rdbStringLength(decimalDigits(e.intValue))
        case .bytes:
            let b = e.bytes
            if b.count <= 11, let v = parseStrictInt(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count),
               let n = rdbIntLength(v) {
                return n
            }
            return rdbStringLength(b.count)
        case .object:
            return 0
        }
    }

    /// rdbEncodeInteger: a type byte and 1, 2 or 4 bytes, for 32-bit values.
    static func rdbIntLength(_ v: Int) -> Int? {
        if v >= -(1 << 7) && v <= (1 << 7) - 1 { return 2 }
        if v >= -(1 << 15) && v <= (1 << 15) - 1 { return 3 }
        if v >= -(1 << 31) && v <= (1 << 31) - 1 { return 5 }
        return nil
    }

    /// rdbSaveLen's prefix plus the bytes.
    static func rdbStringLength(_ n: Int) -> Int {
        let prefix = n < 64 ? 1 : n < 16384 ? 2 : n <= Int(UInt32.max) ? 5 : 9
        return prefix + n
    }

    static func decimalDigits(_ v: Int) -> Int {
        var n = v < 0 ? 2 : 1
        var m = v.magnitude
        while m >= 10 { m /= 10; n += 1 }
        return n
    }

    // Subcommands we implement, with Redis 7.0's arity and flags. They run
    // through their container's route; COMMAND INFO/DOCS list them as
    // `container|name`.

    static let clientSubcommands: [CommandSpec] = [
        CommandSpec("id", arity: 2, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Returns the client ID for the current connection", since: "5.0.0"),
        CommandSpec("setname", arity: 3, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Set the current connection name", since: "2.6.9"),
        CommandSpec("getname", arity: 2, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Get the current connection name", since: "2.6.9"),
        CommandSpec("info", arity: 2, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Returns information about the current client connection.",
                    since: "6.2.0"),
        CommandSpec("list", arity: -2, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Get the list of client connections", since: "2.4.0"),
        CommandSpec("kill", arity: -3, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Kill the connection of a client", since: "2.4.0"),
        CommandSpec("unblock", arity: -3, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection",
                    summary: "Unblock a client blocked in a blocking command from a different connection",
                    since: "5.0.0"),
        CommandSpec("reply", arity: 3, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Instruct the server whether to reply to commands", since: "3.2.0"),
        CommandSpec("no-evict", arity: 3, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Set client eviction mode for the current connection",
                    since: "7.0.0"),
        CommandSpec("pause", arity: -3, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Stop processing commands from clients for some time",
                    since: "2.9.50"),
        CommandSpec("unpause", arity: 2, flags: [.admin, .noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Resume processing of clients that were paused", since: "6.2.0"),
        CommandSpec("tracking", arity: -3, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Enable or disable server assisted client side caching support",
                    since: "6.0.0"),
        CommandSpec("caching", arity: 3, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Instruct the server about tracking or not keys in the next request",
                    since: "6.0.0"),
        CommandSpec("getredir", arity: 2, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection", summary: "Get tracking notifications redirection client ID if any",
                    since: "6.0.0"),
        CommandSpec("trackinginfo", arity: 2, flags: [.noscript, .loading, .stale], route: .server(.client),
                    group: "connection",
                    summary: "Return information about server assisted client side caching for the current connection",
                    since: "6.2.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.client),
                    group: "connection", summary: "Show helpful text about the different subcommands", since: "5.0.0"),
    ]

    static let configSubcommands: [CommandSpec] = [
        CommandSpec("get", arity: -3, flags: [.admin, .noscript, .loading, .stale], route: .server(.config),
                    group: "server", summary: "Get the values of configuration parameters", since: "2.0.0"),
        CommandSpec("set", arity: -4, flags: [.admin, .noscript, .loading, .stale], route: .server(.config),
                    group: "server", summary: "Set configuration parameters to the given values", since: "2.0.0"),
        CommandSpec("resetstat", arity: 2, flags: [.admin, .noscript, .loading, .stale], route: .server(.config),
                    group: "server", summary: "Reset the stats returned by INFO", since: "2.0.0"),
        CommandSpec("rewrite", arity: 2, flags: [.admin, .noscript, .loading, .stale], route: .server(.config),
                    group: "server", summary: "Rewrite the configuration file with the in memory configuration",
                    since: "2.8.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.config),
                    group: "server", summary: "Show helpful text about the different subcommands", since: "5.0.0"),
    ]

    static let commandSubcommands: [CommandSpec] = [
        CommandSpec("count", arity: 2, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Get total number of Redis commands", since: "2.8.13", acl: ["@connection"]),
        CommandSpec("docs", arity: -2, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Get array of specific Redis command documentation", since: "7.0.0", acl: ["@connection"]),
        CommandSpec("getkeys", arity: -4, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Extract keys given a full Redis command", since: "2.8.13", acl: ["@connection"]),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Show helpful text about the different subcommands", since: "5.0.0", acl: ["@connection"]),
        CommandSpec("info", arity: -2, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Get array of specific Redis command details, or all when no argument is given.",
                    since: "2.8.13", acl: ["@connection"]),
        CommandSpec("list", arity: -2, flags: [.loading, .stale], route: .server(.command), group: "server",
                    summary: "Get an array of Redis command names", since: "7.0.0", acl: ["@connection"]),
    ]

    static let functionSubcommands: [CommandSpec] = [
        CommandSpec("delete", arity: 3, flags: [.noscript, .write], route: .server(.function), group: "scripting",
                    summary: "Delete a function by name", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("dump", arity: 2, flags: [.noscript], route: .server(.function), group: "scripting",
                    summary: "Dump all functions into a serialized binary payload", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("flush", arity: -2, flags: [.noscript, .write], route: .server(.function), group: "scripting",
                    summary: "Deleting all functions", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.function), group: "scripting",
                    summary: "Show helpful text about the different subcommands", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("kill", arity: 2, flags: [.noscript, .allowBusy], route: .server(.function), group: "scripting",
                    summary: "Kill the function currently in execution.", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("list", arity: -2, flags: [.noscript], route: .server(.function), group: "scripting",
                    summary: "List information about all the functions", since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("load", arity: -3, flags: [.noscript, .write, .denyoom], route: .server(.function),
                    group: "scripting", summary: "Create a function with the given arguments (name, code, description)",
                    since: "7.0.0", acl: ["@scripting"]),
        CommandSpec("restore", arity: -3, flags: [.noscript, .write, .denyoom], route: .server(.function),
                    group: "scripting", summary: "Restore all the functions on the given payload", since: "7.0.0",
                    acl: ["@scripting"]),
        CommandSpec("stats", arity: 2, flags: [.noscript, .allowBusy], route: .server(.function), group: "scripting",
                    summary: "Return information about the function currently running (name, description, duration)",
                    since: "7.0.0", acl: ["@scripting"]),
    ]

    static let scriptSubcommands: [CommandSpec] = [
        CommandSpec("debug", arity: 3, flags: [.noscript], route: .server(.script), group: "scripting",
                    summary: "Set the debug mode for executed scripts", since: "3.2.0", acl: ["@scripting"]),
        CommandSpec("exists", arity: -3, flags: [.noscript], route: .server(.script), group: "scripting",
                    summary: "Check existence of scripts in the script cache", since: "2.6.0", acl: ["@scripting"]),
        CommandSpec("flush", arity: -2, flags: [.noscript], route: .server(.script), group: "scripting",
                    summary: "Remove all the scripts from the script cache", since: "2.6.0", acl: ["@scripting"]),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.script), group: "scripting",
                    summary: "Show helpful text about the different subcommands", since: "5.0.0", acl: ["@scripting"]),
        CommandSpec("kill", arity: 2, flags: [.noscript, .allowBusy], route: .server(.script), group: "scripting",
                    summary: "Kill the script currently in execution", since: "2.6.0", acl: ["@scripting"]),
        CommandSpec("load", arity: 3, flags: [.noscript, .stale], route: .server(.script), group: "scripting",
                    summary: "Load the specified Lua script into the script cache", since: "2.6.0",
                    acl: ["@scripting"]),
    ]

    static let slowlogSubcommands: [CommandSpec] = [
        CommandSpec("get", arity: -2, flags: [.admin, .loading, .stale], route: .server(.slowlog), group: "server",
                    summary: "Get the slow log's entries", since: "2.2.12"),
        CommandSpec("len", arity: 2, flags: [.admin, .loading, .stale], route: .server(.slowlog), group: "server",
                    summary: "Get the slow log's length", since: "2.2.12"),
        CommandSpec("reset", arity: 2, flags: [.admin, .loading, .stale], route: .server(.slowlog), group: "server",
                    summary: "Clear all entries from the slow log", since: "2.2.12"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.slowlog), group: "server",
                    summary: "Show helpful text about the different subcommands", since: "6.2.0"),
    ]

    static let latencySubcommands: [CommandSpec] = [
        CommandSpec("latest", arity: 2, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Return the latest latency samples for all events.", since: "2.8.13"),
        CommandSpec("history", arity: 3, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Return timestamp-latency samples for the event.", since: "2.8.13"),
        CommandSpec("reset", arity: -2, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Reset latency data for one or more events.", since: "2.8.13"),
        CommandSpec("doctor", arity: 2, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Return a human readable latency analysis report.", since: "2.8.13"),
        CommandSpec("graph", arity: 3, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Return a latency graph for the event.", since: "2.8.13"),
        CommandSpec("histogram", arity: -2, flags: [.admin, .noscript, .loading, .stale], route: .server(.latency),
                    group: "server", summary: "Return the cumulative distribution of latencies of a subset of commands or all commands.",
                    since: "7.0.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.latency), group: "server",
                    summary: "Show helpful text about the different subcommands.", since: "2.8.13"),
    ]
}
