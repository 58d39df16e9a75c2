import RESP
import Storage

/// MEMORY (Redis's object.c memoryCommand). The container is a server
/// command: STATS, DOCTOR, MALLOC-STATS and PURGE read the process and
/// every shard (Server/Admin/MemoryCommand.swift); USAGE runs on its key's
/// shard as a typed step (`memoryUsage`), as DEBUG OBJECT does.
extension ServerCommandSpecs {
    /// Redis 7.0's subcommand flags and key positions. COMMAND INFO and DOCS
    /// print them prefixed "memory|".
    static let memorySubcommands: [CommandSpec] = [
        CommandSpec("doctor", arity: 2, flags: [], route: .server(.memory), group: "server",
                    summary: "Outputs memory problems report", since: "4.0.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.memory), group: "server",
                    summary: "Show helpful text about the different subcommands", since: "4.0.0"),
        CommandSpec("malloc-stats", arity: 2, flags: [], route: .server(.memory), group: "server",
                    summary: "Show allocator internal stats", since: "4.0.0"),
        CommandSpec("purge", arity: 2, flags: [], route: .server(.memory), group: "server",
                    summary: "Ask the allocator to release memory", since: "4.0.0"),
        CommandSpec("stats", arity: 2, flags: [], route: .server(.memory), group: "server",
                    summary: "Show memory usage details", since: "4.0.0"),
        CommandSpec("usage", arity: -3, flags: [.readonly], keys: (2, 2, 1), route: .server(.memory),
                    group: "server", summary: "Estimate the memory usage of a key", since: "4.0.0"),
    ]

    static let memorySpec = CommandSpec(
        "memory", arity: -2, flags: [], route: .server(.memory), group: "server",
        summary: "A container for memory diagnostics commands", since: "4.0.0", subcommands: memorySubcommands)

    public static let memoryHelp = [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ]

    /// Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES.
    public static let memoryDefaultSamples = 5

    /// MEMORY USAGE's options from argument 3 on, checked before the key is
    /// looked up, in Redis's order: the sample count (Int.max for SAMPLES 0,
    /// "sample all"), or the error to reply.
    public static func memoryUsageSamples(_ a: ArgVector) -> (samples: Int, error: StaticString?) {
        var samples = memoryDefaultSamples
        var j = 3
        while j < a.count {
            guard a[j].equalsLower("samples") && j + 1 < a.count else { return (0, Err.syntax) }
            guard let v = parseStrictInt(a[j + 1].ptr, a[j + 1].count) else { return (0, Err.notInteger) }
            if v < 0 { return (0, Err.syntax) }
            samples = v == 0 ? Int.max : v
            j += 2
        }
        return (samples, nil)
    }

    /// MEMORY USAGE's shard step (key at argument `key`: 0 in a forwarded
    /// step, 2 in the command): the key's bytes, or null. Like Redis it is
    /// no access: no LRU touch, no hit/miss stats. A key past its expiry is
    /// removed here, as any lookup does.
    public static func memoryUsage(_ x: inout Exec, key: Int, samples: Int) {
        let k = x[key]
        let ks = x.keyspace
        let s = ks.find(k.ptr, k.count, hash: hashBytes(k.ptr, k.count), now: x.now)
        if s < 0 { return x.reply.null() }
        x.reply.int(ks.entry(at: s).memoryUsage(samples: samples))
    }
}
