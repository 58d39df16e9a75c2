// Redis 7.0's documentation, key specs and tips for every command (and
// subcommand) we have, keyed by full name (`client|list`). COMMAND INFO and
// COMMAND DOCS read it through CommandSpec.meta. Transcribed from
// redis-server 7.0.15's COMMAND DOCS / COMMAND INFO replies, so that ours
// match them field for field (summary, since and group live in CommandSpec).
// Add an entry here with every new command.

extension CommandDocs {
    // One statement per command keeps the type checker fast.
    static func buildTable() -> [String: CommandMeta] {
        var t: [String: CommandMeta] = [:]
        // GET
        t["get"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // SET
        t["set"] = CommandMeta(
            complexity: "O(1)",
            history: [("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."), ("6.0.0", "Added the `KEEPTTL` option."), ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."), ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")],
            keySpecs: [
                KeySpec(notes: "RW and ACCESS due to the optional `GET` argument", flags: ["RW", "access", "update", "variable_flags"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("value", .string),
                A("condition", .oneof, since: "2.6.12", flags: [.optional], [
                    A("nx", .pureToken, token: "NX"),
                    A("xx", .pureToken, token: "XX"),
                ]),
                A("get", .pureToken, token: "GET", since: "6.2.0", flags: [.optional]),
                A("expiration", .oneof, flags: [.optional], [
                    A("seconds", .integer, token: "EX", since: "2.6.12"),
                    A("milliseconds", .integer, token: "PX", since: "2.6.12"),
                    A("unix-time-seconds", .unixTime, token: "EXAT", since: "6.2.0"),
                    A("unix-time-milliseconds", .unixTime, token: "PXAT", since: "6.2.0"),
                    A("keepttl", .pureToken, token: "KEEPTTL", since: "6.0.0"),
                ]),
            ])
        // SETNX
        t["setnx"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["OW", "insert"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("value", .string),
            ])
        // SETEX
        t["setex"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["OW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("seconds", .integer),
                A("value", .string),
            ])
        // PSETEX
        t["psetex"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["OW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("milliseconds", .integer),
                A("value", .string),
            ])
        // MGET
        t["mget"] = CommandMeta(
            complexity: "O(N) where N is the number of keys to retrieve.",
            tips: ["request_policy:multi_shard"],
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        // MSET
        t["mset"] = CommandMeta(
            complexity: "O(N) where N is the number of keys to set.",
            tips: ["request_policy:multi_shard", "response_policy:all_succeeded"],
            keySpecs: [
                KeySpec(flags: ["OW", "update"], begin: .index(1), find: .range(lastKey: -1, step: 2, limit: 0)),
            ],
            arguments: [
                A("key_value", .block, flags: [.multiple], [
                    A("key", .key, keySpec: 0),
                    A("value", .string),
                ]),
            ])
        // MSETNX
        t["msetnx"] = CommandMeta(
            complexity: "O(N) where N is the number of keys to set.",
            tips: ["request_policy:multi_shard", "response_policy:agg_min"],
            keySpecs: [
                KeySpec(flags: ["OW", "insert"], begin: .index(1), find: .range(lastKey: -1, step: 2, limit: 0)),
            ],
            arguments: [
                A("key_value", .block, flags: [.multiple], [
                    A("key", .key, keySpec: 0),
                    A("value", .string),
                ]),
            ])
        // GETSET
        t["getset"] = CommandMeta(
            complexity: "O(1)",
            docFlags: ["deprecated"],
            deprecatedSince: "6.2.0",
            replacedBy: "`SET` with the `!GET` argument",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("value", .string),
            ])
        // GETDEL
        t["getdel"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "delete"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // GETEX
        t["getex"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(notes: "RW and UPDATE because it changes the TTL", flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("expiration", .oneof, flags: [.optional], [
                    A("seconds", .integer, token: "EX"),
                    A("milliseconds", .integer, token: "PX"),
                    A("unix-time-seconds", .unixTime, token: "EXAT"),
                    A("unix-time-milliseconds", .unixTime, token: "PXAT"),
                    A("persist", .pureToken, token: "PERSIST"),
                ]),
            ])
        // APPEND
        t["append"] = CommandMeta(
            complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
            keySpecs: [
                KeySpec(flags: ["RW", "insert"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("value", .string),
            ])
        // STRLEN
        t["strlen"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // INCR
        t["incr"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // DECR
        t["decr"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // INCRBY
        t["incrby"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("increment", .integer),
            ])
        // DECRBY
        t["decrby"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("decrement", .integer),
            ])
        // INCRBYFLOAT
        t["incrbyfloat"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("increment", .double),
            ])
        // GETRANGE
        t["getrange"] = CommandMeta(
            complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("start", .integer),
                A("end", .integer),
            ])
        // SETRANGE
        t["setrange"] = CommandMeta(
            complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("offset", .integer),
                A("value", .string),
            ])
        // SUBSTR
        t["substr"] = CommandMeta(
            complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
            docFlags: ["deprecated"],
            deprecatedSince: "2.0.0",
            replacedBy: "`GETRANGE`",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("start", .integer),
                A("end", .integer),
            ])
        // LCS
        t["lcs"] = CommandMeta(
            complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key1", .key, keySpec: 0),
                A("key2", .key, keySpec: 0),
                A("len", .pureToken, token: "LEN", flags: [.optional]),
                A("idx", .pureToken, token: "IDX", flags: [.optional]),
                A("len", .integer, token: "MINMATCHLEN", flags: [.optional]),
                A("withmatchlen", .pureToken, token: "WITHMATCHLEN", flags: [.optional]),
            ])
        // DEL
        t["del"] = CommandMeta(
            complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(flags: ["RM", "delete"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        // UNLINK
        t["unlink"] = CommandMeta(
            complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(flags: ["RM", "delete"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        // EXISTS
        t["exists"] = CommandMeta(
            complexity: "O(N) where N is the number of keys to check.",
            history: [("3.0.3", "Accepts multiple `key` arguments.")],
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        // TOUCH
        t["touch"] = CommandMeta(
            complexity: "O(N) where N is the number of keys that will be touched.",
            tips: ["request_policy:multi_shard", "response_policy:agg_sum"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        // TYPE
        t["type"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // EXPIRE
        t["expire"] = CommandMeta(
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("seconds", .integer),
                A("condition", .oneof, since: "7.0.0", flags: [.optional], [
                    A("nx", .pureToken, token: "NX"),
                    A("xx", .pureToken, token: "XX"),
                    A("gt", .pureToken, token: "GT"),
                    A("lt", .pureToken, token: "LT"),
                ]),
            ])
        // PEXPIRE
        t["pexpire"] = CommandMeta(
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("milliseconds", .integer),
                A("condition", .oneof, since: "7.0.0", flags: [.optional], [
                    A("nx", .pureToken, token: "NX"),
                    A("xx", .pureToken, token: "XX"),
                    A("gt", .pureToken, token: "GT"),
                    A("lt", .pureToken, token: "LT"),
                ]),
            ])
        // EXPIREAT
        t["expireat"] = CommandMeta(
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("unix-time-seconds", .unixTime),
                A("condition", .oneof, since: "7.0.0", flags: [.optional], [
                    A("nx", .pureToken, token: "NX"),
                    A("xx", .pureToken, token: "XX"),
                    A("gt", .pureToken, token: "GT"),
                    A("lt", .pureToken, token: "LT"),
                ]),
            ])
        // PEXPIREAT
        t["pexpireat"] = CommandMeta(
            complexity: "O(1)",
            history: [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("unix-time-milliseconds", .unixTime),
                A("condition", .oneof, since: "7.0.0", flags: [.optional], [
                    A("nx", .pureToken, token: "NX"),
                    A("xx", .pureToken, token: "XX"),
                    A("gt", .pureToken, token: "GT"),
                    A("lt", .pureToken, token: "LT"),
                ]),
            ])
        // EXPIRETIME
        t["expiretime"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // PEXPIRETIME
        t["pexpiretime"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // TTL
        t["ttl"] = CommandMeta(
            complexity: "O(1)",
            history: [("2.8.0", "Added the -2 reply.")],
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // PTTL
        t["pttl"] = CommandMeta(
            complexity: "O(1)",
            history: [("2.8.0", "Added the -2 reply.")],
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // PERSIST
        t["persist"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // RENAME
        t["rename"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "delete"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
                KeySpec(flags: ["OW", "update"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("newkey", .key, keySpec: 1),
            ])
        // RENAMENX
        t["renamenx"] = CommandMeta(
            complexity: "O(1)",
            history: [("3.2.0", "The command no longer returns an error when source and destination names are the same.")],
            keySpecs: [
                KeySpec(flags: ["RW", "access", "delete"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
                KeySpec(flags: ["OW", "insert"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("newkey", .key, keySpec: 1),
            ])
        // COPY
        t["copy"] = CommandMeta(
            complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
            keySpecs: [
                KeySpec(flags: ["RO", "access"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
                KeySpec(flags: ["OW", "update"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("source", .key, keySpec: 0),
                A("destination", .key, keySpec: 1),
                A("destination-db", .integer, token: "DB", flags: [.optional]),
                A("replace", .pureToken, token: "REPLACE", flags: [.optional]),
            ])
        // MOVE
        t["move"] = CommandMeta(
            complexity: "O(1)",
            keySpecs: [
                KeySpec(flags: ["RW", "access", "update"], begin: .index(1), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
                A("db", .integer),
            ])
        // KEYS
        t["keys"] = CommandMeta(
            complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
            tips: ["request_policy:all_shards", "nondeterministic_output_order"],
            arguments: [
                A("pattern", .pattern),
            ])
        // SCAN
        t["scan"] = CommandMeta(
            complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            history: [("6.0.0", "Added the `TYPE` subcommand.")],
            tips: ["nondeterministic_output", "request_policy:special"],
            arguments: [
                A("cursor", .integer),
                A("pattern", .pattern, token: "MATCH", flags: [.optional]),
                A("count", .integer, token: "COUNT", flags: [.optional]),
                A("type", .string, token: "TYPE", since: "6.0.0", flags: [.optional]),
            ])
        // RANDOMKEY
        t["randomkey"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_shards", "nondeterministic_output"])
        // OBJECT
        t["object"] = CommandMeta(
            complexity: "Depends on subcommand.")
        // OBJECT ENCODING
        t["object|encoding"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // OBJECT FREQ
        t["object|freq"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // OBJECT HELP
        t["object|help"] = CommandMeta(
            complexity: "O(1)")
        // OBJECT IDLETIME
        t["object|idletime"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // OBJECT REFCOUNT
        t["object|refcount"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"],
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(2), find: .range(lastKey: 0, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0),
            ])
        // PING
        t["ping"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
            arguments: [
                A("message", .string, flags: [.optional]),
            ])
        // ECHO
        t["echo"] = CommandMeta(
            complexity: "O(1)",
            arguments: [
                A("message", .string),
            ])
        // QUIT
        t["quit"] = CommandMeta(
            complexity: "O(1)")
        // SELECT
        t["select"] = CommandMeta(
            complexity: "O(1)",
            arguments: [
                A("index", .integer),
            ])
        // HELLO
        t["hello"] = CommandMeta(
            complexity: "O(1)",
            history: [("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context.")],
            arguments: [
                A("arguments", .block, flags: [.optional], [
                    A("protover", .integer),
                    A("username_password", .block, token: "AUTH", flags: [.optional], [
                        A("username", .string),
                        A("password", .string),
                    ]),
                    A("clientname", .string, token: "SETNAME", flags: [.optional]),
                ]),
            ])
        // AUTH
        t["auth"] = CommandMeta(
            complexity: "O(N) where N is the number of passwords defined for the user",
            history: [("6.0.0", "Added ACL style (username and password).")],
            arguments: [
                A("username", .string, since: "6.0.0", flags: [.optional]),
                A("password", .string),
            ])
        // CLIENT
        t["client"] = CommandMeta(
            complexity: "Depends on subcommand.")
        // CLIENT ID
        t["client|id"] = CommandMeta(
            complexity: "O(1)")
        // CLIENT SETNAME
        t["client|setname"] = CommandMeta(
            complexity: "O(1)",
            arguments: [
                A("connection-name", .string),
            ])
        // CLIENT GETNAME
        t["client|getname"] = CommandMeta(
            complexity: "O(1)")
        // CLIENT INFO
        t["client|info"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"])
        // CLIENT LIST
        t["client|list"] = CommandMeta(
            complexity: "O(N) where N is the number of client connections",
            history: [("2.8.12", "Added unique client `id` field."), ("5.0.0", "Added optional `TYPE` filter."), ("6.0.0", "Added `user` field."), ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."), ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."), ("7.0.3", "Added `ssub` field.")],
            tips: ["nondeterministic_output"],
            arguments: [
                A("normal_master_replica_pubsub", .oneof, token: "TYPE", since: "5.0.0", flags: [.optional], [
                    A("normal", .pureToken, token: "NORMAL"),
                    A("master", .pureToken, token: "MASTER"),
                    A("replica", .pureToken, token: "REPLICA"),
                    A("pubsub", .pureToken, token: "PUBSUB"),
                ]),
                A("id", .block, token: "ID", since: "6.2.0", flags: [.optional], [
                    A("client-id", .integer, flags: [.multiple]),
                ]),
            ])
        // CLIENT KILL
        t["client|kill"] = CommandMeta(
            complexity: "O(N) where N is the number of client connections",
            history: [("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."), ("3.2.0", "Added `master` type in for `TYPE` option."), ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."), ("6.2.0", "`LADDR` option.")],
            arguments: [
                A("filter", .oneof, [
                    A("ip:port", .string, deprecatedSince: "2.8.12"),
                    A("new-format", .oneof, flags: [.multiple], [
                        A("client-id", .integer, token: "ID", since: "2.8.12", flags: [.optional]),
                        A("normal_master_slave_pubsub", .oneof, token: "TYPE", since: "2.8.12", flags: [.optional], [
                            A("normal", .pureToken, token: "NORMAL"),
                            A("master", .pureToken, token: "MASTER", since: "3.2.0"),
                            A("slave", .pureToken, token: "SLAVE"),
                            A("replica", .pureToken, token: "REPLICA", since: "5.0.0"),
                            A("pubsub", .pureToken, token: "PUBSUB"),
                        ]),
                        A("username", .string, token: "USER", flags: [.optional]),
                        A("ip:port", .string, token: "ADDR", flags: [.optional]),
                        A("ip:port", .string, token: "LADDR", since: "6.2.0", flags: [.optional]),
                        A("yes/no", .string, token: "SKIPME", flags: [.optional]),
                    ]),
                ]),
            ])
        // CLIENT UNBLOCK
        t["client|unblock"] = CommandMeta(
            complexity: "O(log N) where N is the number of client connections",
            arguments: [
                A("client-id", .integer),
                A("timeout_error", .oneof, flags: [.optional], [
                    A("timeout", .pureToken, token: "TIMEOUT"),
                    A("error", .pureToken, token: "ERROR"),
                ]),
            ])
        // CLIENT REPLY
        t["client|reply"] = CommandMeta(
            complexity: "O(1)",
            arguments: [
                A("on_off_skip", .oneof, [
                    A("on", .pureToken, token: "ON"),
                    A("off", .pureToken, token: "OFF"),
                    A("skip", .pureToken, token: "SKIP"),
                ]),
            ])
        // CLIENT NO-EVICT
        t["client|no-evict"] = CommandMeta(
            complexity: "O(1)",
            arguments: [
                A("enabled", .oneof, [
                    A("on", .pureToken, token: "ON"),
                    A("off", .pureToken, token: "OFF"),
                ]),
            ])
        // CLIENT HELP
        t["client|help"] = CommandMeta(
            complexity: "O(1)")
        // RESET
        t["reset"] = CommandMeta(
            complexity: "O(1)")
        // INFO
        t["info"] = CommandMeta(
            complexity: "O(1)",
            history: [("7.0.0", "Added support for taking multiple section arguments.")],
            tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
            arguments: [
                A("section", .string, flags: [.optional, .multiple]),
            ])
        // CONFIG
        t["config"] = CommandMeta(
            complexity: "Depends on subcommand.")
        // CONFIG GET
        t["config|get"] = CommandMeta(
            complexity: "O(N) when N is the number of configuration parameters provided",
            history: [("7.0.0", "Added the ability to pass multiple pattern parameters in one call")],
            arguments: [
                A("parameter", .block, flags: [.multiple], [
                    A("parameter", .string),
                ]),
            ])
        // CONFIG SET
        t["config|set"] = CommandMeta(
            complexity: "O(N) when N is the number of configuration parameters provided",
            history: [("7.0.0", "Added the ability to set multiple parameters in one call.")],
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
            arguments: [
                A("parameter_value", .block, flags: [.multiple], [
                    A("parameter", .string),
                    A("value", .string),
                ]),
            ])
        // CONFIG RESETSTAT
        t["config|resetstat"] = CommandMeta(
            complexity: "O(1)")
        // CONFIG REWRITE
        t["config|rewrite"] = CommandMeta(
            complexity: "O(1)")
        // CONFIG HELP
        t["config|help"] = CommandMeta(
            complexity: "O(1)")
        // COMMAND
        t["command"] = CommandMeta(
            complexity: "O(N) where N is the total number of Redis commands",
            tips: ["nondeterministic_output_order"])
        // COMMAND COUNT
        t["command|count"] = CommandMeta(
            complexity: "O(1)")
        // COMMAND DOCS
        t["command|docs"] = CommandMeta(
            complexity: "O(N) where N is the number of commands to look up",
            tips: ["nondeterministic_output_order"],
            arguments: [
                A("command-name", .string, flags: [.optional, .multiple]),
            ])
        // COMMAND GETKEYS
        t["command|getkeys"] = CommandMeta(
            complexity: "O(N) where N is the number of arguments to the command")
        // COMMAND HELP
        t["command|help"] = CommandMeta(
            complexity: "O(1)")
        // COMMAND INFO
        t["command|info"] = CommandMeta(
            complexity: "O(N) where N is the number of commands to look up",
            history: [("7.0.0", "Allowed to be called with no argument to get info on all commands.")],
            tips: ["nondeterministic_output_order"],
            arguments: [
                A("command-name", .string, flags: [.optional, .multiple]),
            ])
        // COMMAND LIST
        t["command|list"] = CommandMeta(
            complexity: "O(N) where N is the total number of Redis commands",
            tips: ["nondeterministic_output_order"],
            arguments: [
                A("filterby", .oneof, token: "FILTERBY", flags: [.optional], [
                    A("module-name", .string, token: "MODULE"),
                    A("category", .string, token: "ACLCAT"),
                    A("pattern", .pattern, token: "PATTERN"),
                ]),
            ])
        // TIME
        t["time"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"])
        // SHUTDOWN
        t["shutdown"] = CommandMeta(
            complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            history: [("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
            arguments: [
                A("nosave_save", .oneof, flags: [.optional], [
                    A("nosave", .pureToken, token: "NOSAVE"),
                    A("save", .pureToken, token: "SAVE"),
                ]),
                A("now", .pureToken, token: "NOW", since: "7.0.0", flags: [.optional]),
                A("force", .pureToken, token: "FORCE", since: "7.0.0", flags: [.optional]),
                A("abort", .pureToken, token: "ABORT", since: "7.0.0", flags: [.optional]),
            ])
        // DEBUG
        t["debug"] = CommandMeta(
            complexity: "Depends on subcommand.",
            docFlags: ["syscmd"])
        // SLOWLOG
        t["slowlog"] = CommandMeta(
            complexity: "Depends on subcommand.")
        // SLOWLOG GET
        t["slowlog|get"] = CommandMeta(
            complexity: "O(N) where N is the number of entries returned",
            history: [("4.0.0", "Added client IP address, port and name to the reply.")],
            tips: ["request_policy:all_nodes", "nondeterministic_output"],
            arguments: [
                A("count", .integer, flags: [.optional]),
            ])
        // SLOWLOG LEN
        t["slowlog|len"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"])
        // SLOWLOG RESET
        t["slowlog|reset"] = CommandMeta(
            complexity: "O(N) where N is the number of entries in the slowlog",
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"])
        // SLOWLOG HELP
        t["slowlog|help"] = CommandMeta(
            complexity: "O(1)")
        // LATENCY
        t["latency"] = CommandMeta(
            complexity: "Depends on subcommand.")
        // LATENCY LATEST
        t["latency|latest"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        // LATENCY HISTORY
        t["latency|history"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
            arguments: [
                A("event", .string),
            ])
        // LATENCY RESET
        t["latency|reset"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
            arguments: [
                A("event", .string, flags: [.optional, .multiple]),
            ])
        // LATENCY DOCTOR
        t["latency|doctor"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        // LATENCY HELP
        t["latency|help"] = CommandMeta(
            complexity: "O(1)")
        // SWAPDB
        t["swapdb"] = CommandMeta(
            complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            arguments: [
                A("index1", .integer),
                A("index2", .integer),
            ])
        // FLUSHALL
        t["flushall"] = CommandMeta(
            complexity: "O(N) where N is the total number of keys in all databases",
            history: [("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
            arguments: [
                A("async", .oneof, flags: [.optional], [
                    A("async", .pureToken, token: "ASYNC", since: "4.0.0"),
                    A("sync", .pureToken, token: "SYNC", since: "6.2.0"),
                ]),
            ])
        // FLUSHDB
        t["flushdb"] = CommandMeta(
            complexity: "O(N) where N is the number of keys in the selected database",
            history: [("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
            tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
            arguments: [
                A("async", .oneof, flags: [.optional], [
                    A("async", .pureToken, token: "ASYNC", since: "4.0.0"),
                    A("sync", .pureToken, token: "SYNC", since: "6.2.0"),
                ]),
            ])
        // DBSIZE
        t["multi"] = CommandMeta(complexity: "O(1)")
        t["exec"] = CommandMeta(complexity: "Depends on commands in the transaction")
        t["discard"] = CommandMeta(complexity: "O(N), when N is the number of queued commands")
        t["unwatch"] = CommandMeta(complexity: "O(1)")
        t["watch"] = CommandMeta(
            complexity: "O(1) for every key.",
            keySpecs: [
                KeySpec(flags: ["RO"], begin: .index(1), find: .range(lastKey: -1, step: 1, limit: 0)),
            ],
            arguments: [
                A("key", .key, keySpec: 0, flags: [.multiple]),
            ])
        t["dbsize"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_shards", "response_policy:agg_sum"])
        // LASTSAVE
        t["lastsave"] = CommandMeta(
            complexity: "O(1)",
            tips: ["nondeterministic_output"])
        // ROLE
        t["role"] = CommandMeta(
            complexity: "O(1)")
        // WAIT
        t["wait"] = CommandMeta(
            complexity: "O(1)",
            tips: ["request_policy:all_shards", "response_policy:agg_min"],
            arguments: [
                A("numreplicas", .integer),
                A("timeout", .integer),
            ])
        // Collections and SORT: generated by scripts/gen_command_docs.py.
        addLists(&t)
        addHashes(&t)
        addSets(&t)
        addSortedSets(&t)
        addSort(&t)
        addGeo(&t)
        addBitmaps(&t)
        addHyperLogLog(&t)
        addDumpRestore(&t)
        addPersistence(&t)
        addMigrate(&t)
        addStreams(&t)
        addMemory(&t)
        addPubSub(&t)
        addAof(&t)
        return t
    }
}
