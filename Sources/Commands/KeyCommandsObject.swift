import RESP
import Storage
import Synchronization

/// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP (Redis's object.c).
extension KeyCommands {
    static let objectSubcommands: [CommandSpec] = [
        CommandSpec("encoding", arity: 3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "generic",
                    summary: "Inspect the internal encoding of a Redis object", since: "2.2.3"),
        CommandSpec("freq", arity: 3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "generic",
                    summary: "Get the logarithmic access frequency counter of a Redis object", since: "4.0.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .key, group: "generic",
                    summary: "Show helpful text about the different subcommands", since: "6.2.0"),
        CommandSpec("idletime", arity: 3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "generic",
                    summary: "Get the time since a Redis object was last accessed", since: "2.2.3"),
        CommandSpec("refcount", arity: 3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "generic",
                    summary: "Get the number of references to the value of the key", since: "2.2.3"),
    ]

    /// Routed by the key at argument 2 (`routeKey`); OBJECT HELP has no key and
    /// may run on any shard. As in Redis, the container itself declares no
    /// keys (COMMAND INFO: 0 0 0); its subcommands do. Subcommand specs carry
    /// bare names: COMMAND INFO prefixes "object|".
    static let objectSpec = CommandSpec(
        "object", arity: -2, flags: [], keys: (0, 0, 0), routeKey: 2, route: .key, group: "generic",
        summary: "A container for object introspection commands", since: "2.2.3",
        subcommands: objectSubcommands, handler: object)

    /// Set by the server when maxmemory != 0 under an LRU or LFU policy:
    /// Redis then stops sharing the integers 0..9999 (OBJECT REFCOUNT).
    public static let noSharedIntegers = Atomic<Bool>(false)

    static let objectHelp: [StaticString] = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]

    enum ObjectSub { case encoding, freq, idletime, refcount }

    static func object(_ x: inout Exec) {
        let a = x[1]
        let sub: ObjectSub
        if a.equalsLower("help") {
            if x.argc != 2 { return x.error("ERR wrong number of arguments for 'object|help' command") }
            x.reply.array(objectHelp.count)
            for line in objectHelp { x.reply.simple(line) }
            return
        } else if a.equalsLower("encoding") { sub = .encoding }
        else if a.equalsLower("freq") { sub = .freq }
        else if a.equalsLower("idletime") { sub = .idletime }
        else if a.equalsLower("refcount") { sub = .refcount }
        else {
            // Redis prints the subcommand with %.128s: clipped, up to a NUL.
            let name = cString(a)
            return errorBytes(&x, Array("ERR unknown subcommand '".utf8), Array(name.prefix(128)),
                              Array("'. Try OBJECT HELP.".utf8))
        }
        if x.argc != 3 {
            var name = "object|"
            switch sub {
            case .encoding: name += "encoding"
            case .freq: name += "freq"
            case .idletime: name += "idletime"
            case .refcount: name += "refcount"
            }
            return x.error(string: wrongArityError(name))
        }

        // Redis looks up with LOOKUP_NOTOUCH: inspecting a key is no access.
        let s = x.readSlot(2, touch: false)
        if s < 0 { return x.reply.null() }
        let e = x.keyspace.entry(at: s)
        switch sub {
        case .encoding:
            x.reply.bulk(static: encodingName(e))
        case .refcount:
            let shared = e.payload == .int && !e.isUnsharedInt && e.intValue >= 0 && e.intValue < 10000
                && !noSharedIntegers.load(ordering: .relaxed)
            x.reply.int(shared ? Int(Int32.max) : 1)
        case .idletime:
            if AccessTracking.lfu.load(ordering: .relaxed) {
                return x.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            }
            x.reply.int(idleSeconds(e.lru, now: x.lru))
        case .freq:
            // OBJECT FREQ and IDLETIME answer or refuse by maxmemory-policy, as in Redis.
            guard AccessTracking.lfu.load(ordering: .relaxed) else {
                return x.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            }
            // The decayed counter, not stored: inspecting is no access.
            x.reply.int(Int(LFU.decayed(e.lru, nowMs: x.now,
                                        decayTime: AccessTracking.decayTime.load(ordering: .relaxed))))
        }
    }

    /// Strings: "int" for int payloads, else "embstr" up to 44 bytes (Redis's
    /// OBJ_ENCODING_EMBSTR_SIZE_LIMIT) and "raw" above or when APPEND or
    /// SETRANGE made the value (Redis turns those into raw sds strings).
    static func encodingName(_ e: Entry) -> StaticString {
        switch e.payload {
        case .int: return "int"
        case .bytes:
            // A collection's compact encoding lives inline in the entry.
            switch e.type {
            case .string: return e.isRawString || e.bytes.count > 44 ? "raw" : "embstr"
            case .set: return "intset"
            case .list: return "quicklist"
            default: return "listpack"
            }
        case .object: return e.object.encodingName
        }
    }

    /// Seconds since `lru` on Redis's 24-bit seconds clock, across its wrap.
    static func idleSeconds(_ lru: UInt32, now: UInt32) -> Int {
        let max: UInt32 = (1 << 24) - 1
        return Int(now >= lru ? now - lru : now + (max - lru))
    }
}
