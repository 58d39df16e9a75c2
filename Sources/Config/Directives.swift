// The directive table: every configuration directive RingKV knows, its
// default, its type and whether CONFIG SET may change it. Values are kept as
// canonical strings (exactly what CONFIG GET prints).

import Glibc

/// Extra validation for integer directives.
enum IntCheck: Sendable {
    case none
    case powerOfTwo
    case multipleOf16
    /// Redis's `hz`: stored clamped into 1...500.
    case clampHz
}

enum DirectiveKind: Sendable {
    case bool
    /// A plain integer (string2ll) or, with `memory`, a memory value (memtoull: 1gb, 512mb, 100k).
    case integer(min: Int, max: Int, memory: Bool, check: IntCheck)
    case enumeration([String])
    /// A free-form string. `pathCheck` names the directive in the
    /// "<name> can't be a path, just a filename" error.
    case string(pathCheck: String?)
    case dir
    case bind
    case save
    case clientOutputBufferLimit
    /// `notify-keyspace-events`: Redis's class letters, kept in Redis's canonical order.
    case keyspaceEvents
}

struct Directive: Sendable {
    let name: String
    let aliases: [String]
    let immutable: Bool
    let protected: Bool
    let kind: DirectiveKind
    let defaultValue: String
    /// Redis's HIDDEN_CONFIG: CONFIG GET answers it by its exact name only,
    /// never for a pattern (a debugging knob, not a setting to browse).
    var hidden = false

    /// Redis's MULTI_ARG_CONFIG: the value is a list of arguments.
    var multiArg: Bool {
        switch kind {
        case .bind, .save, .clientOutputBufferLimit: return true
        default: return false
        }
    }
}

let intMax32 = Int(Int32.max)
let intMin32 = Int(Int32.min)
let uintMax32 = Int(UInt32.max)

private func b(_ name: String, _ def: Bool, immutable: Bool = false, aliases: [String] = []) -> Directive {
    Directive(name: name, aliases: aliases, immutable: immutable, protected: false, kind: .bool, defaultValue: def ? "yes" : "no")
}

private func i(_ name: String, _ def: Int, _ min: Int, _ max: Int, immutable: Bool = false, memory: Bool = false,
               check: IntCheck = .none, aliases: [String] = []) -> Directive {
    Directive(name: name, aliases: aliases, immutable: immutable, protected: false,
              kind: .integer(min: min, max: max, memory: memory, check: check), defaultValue: String(def))
}

private func e(_ name: String, _ def: String, _ values: [String], immutable: Bool = false) -> Directive {
    Directive(name: name, aliases: [], immutable: immutable, protected: false, kind: .enumeration(values), defaultValue: def)
}

private func s(_ name: String, _ def: String, immutable: Bool = false, protected: Bool = false, pathCheck: String? = nil) -> Directive {
    Directive(name: name, aliases: [], immutable: immutable, protected: protected, kind: .string(pathCheck: pathCheck), defaultValue: def)
}

private func hidden(_ d: Directive) -> Directive {
    var d = d
    d.hidden = true
    return d
}

let defaultClientOutputBufferLimit = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
// Redis's default is "3600 1 300 100 60 10000"; RingKV has no persistence
// yet, and a default it would not honour is a silent no-op.
let defaultSave = ""
let defaultBind = "* -::*"

/// All directives, in the order CONFIG REWRITE appends them.
let directiveTable: [Directive] = [
    // Network
    Directive(name: "bind", aliases: [], immutable: false, protected: false, kind: .bind, defaultValue: defaultBind),
    i("port", 6379, 0, 65535),
    b("protected-mode", true),
    i("tcp-backlog", 511, 0, intMax32, immutable: true),
    i("timeout", 0, 0, intMax32),
    i("tcp-keepalive", 300, 0, intMax32),
    // General
    b("daemonize", false, immutable: true),
    e("supervised", "no", ["upstart", "systemd", "auto", "no"], immutable: true),
    s("pidfile", "", immutable: true),
    e("loglevel", "notice", ["debug", "verbose", "notice", "warning"]),
    s("logfile", "", immutable: true),
    b("syslog-enabled", false, immutable: true),
    s("syslog-ident", "redis", immutable: true),
    i("databases", 16, 1, intMax32, immutable: true),
    b("always-show-logo", false, immutable: true),
    // Redis's default is yes; RingKV does not set a title (see Unsupported.swift).
    b("set-proc-title", false, immutable: true),
    b("crash-log-enabled", true),
    b("crash-memcheck-enabled", true),
    e("enable-protected-configs", "no", ["no", "yes", "local"], immutable: true),
    e("enable-debug-command", "no", ["no", "yes", "local"], immutable: true),
    e("enable-module-command", "no", ["no", "yes", "local"], immutable: true),
    // Snapshotting
    Directive(name: "save", aliases: [], immutable: false, protected: false, kind: .save, defaultValue: defaultSave),
    b("stop-writes-on-bgsave-error", true),
    b("rdbcompression", true),
    b("rdbchecksum", true),
    s("dbfilename", "dump.rdb", protected: true, pathCheck: "dbfilename"),
    b("rdb-del-sync-files", false),
    Directive(name: "dir", aliases: [], immutable: false, protected: true, kind: .dir, defaultValue: ""),
    // Security and clients
    s("requirepass", ""),
    i("maxclients", 10000, 1, uintMax32),
    // Memory management
    i("maxmemory", 0, 0, Int.max, memory: true),
    e("maxmemory-policy", "noeviction",
      ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
       "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]),
    i("maxmemory-samples", 5, 1, intMax32),
    i("maxmemory-eviction-tenacity", 10, 0, 100),
    i("active-expire-effort", 1, 1, 10),
    // Lazy freeing
    b("lazyfree-lazy-eviction", false),
    b("lazyfree-lazy-expire", false),
    b("lazyfree-lazy-server-del", false),
    b("lazyfree-lazy-user-del", false),
    b("lazyfree-lazy-user-flush", false),
    // Threads
    i("io-threads", 1, 1, 128, immutable: true),
    b("io-threads-do-reads", false, immutable: true),
    // Append only mode
    b("appendonly", false),
    s("appendfilename", "appendonly.aof", immutable: true, pathCheck: "appendfilename"),
    s("appenddirname", "appendonlydir", immutable: true),
    e("appendfsync", "everysec", ["everysec", "always", "no"]),
    b("no-appendfsync-on-rewrite", false),
    i("auto-aof-rewrite-percentage", 100, 0, intMax32),
    i("auto-aof-rewrite-min-size", 67108864, 0, Int.max, memory: true),
    b("aof-load-truncated", true),
    b("aof-use-rdb-preamble", true),
    b("aof-timestamp-enabled", false),
    // Scripting
    i("busy-reply-threshold", 5000, 0, Int.max, aliases: ["lua-time-limit"]),
    // Slow log and latency monitor
    i("slowlog-log-slower-than", 10000, -1, Int.max),
    i("slowlog-max-len", 128, 0, Int.max),
    i("latency-monitor-threshold", 0, 0, Int.max),
    // Redis's default is yes; RingKV has no INFO latencystats yet.
    b("latency-tracking", false),
    // Advanced config
    i("hash-max-listpack-entries", 512, 0, Int.max, aliases: ["hash-max-ziplist-entries"]),
    i("hash-max-listpack-value", 64, 0, Int.max, aliases: ["hash-max-ziplist-value"]),
    i("list-max-listpack-size", -2, intMin32, intMax32, aliases: ["list-max-ziplist-size"]),
    i("list-compress-depth", 0, 0, intMax32),
    i("set-max-intset-entries", 512, 0, Int.max),
    i("zset-max-listpack-entries", 128, 0, Int.max, aliases: ["zset-max-ziplist-entries"]),
    i("zset-max-listpack-value", 64, 0, Int.max, aliases: ["zset-max-ziplist-value"]),
    i("hll-sparse-max-bytes", 3000, 0, Int.max, memory: true),
    i("stream-node-max-bytes", 4096, 0, Int.max, memory: true),
    i("stream-node-max-entries", 100, 0, Int.max),
    b("activerehashing", true),
    Directive(name: "client-output-buffer-limit", aliases: [], immutable: false, protected: false,
              kind: .clientOutputBufferLimit, defaultValue: defaultClientOutputBufferLimit),
    i("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, Int.max, memory: true),
    i("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, Int.max, memory: true),
    i("hz", 10, 0, intMax32, check: .clampHz),
    b("dynamic-hz", true),
    b("aof-rewrite-incremental-fsync", true),
    b("rdb-save-incremental-fsync", true),
    i("lfu-log-factor", 10, 0, intMax32),
    i("lfu-decay-time", 1, 0, intMax32),
    hidden(i("rdb-key-save-delay", 0, intMin32, intMax32)),
    b("jemalloc-bg-thread", true),
    Directive(name: "notify-keyspace-events", aliases: [], immutable: false, protected: false,
              kind: .keyspaceEvents, defaultValue: ""),
    i("tracking-table-max-keys", 1_000_000, 0, Int.max),
    // Redis's default is no; RingKV's loader always checks deeply (Unsupported.swift).
    e("sanitize-dump-payload", "yes", ["no", "yes", "clients"]),
    // RingKV's own
    i("shards", 0, 0, 1024, immutable: true),
    e("io-backend", "auto", ["auto", "uring", "epoll"], immutable: true),
    i("uring-entries", 4096, 1, 32768, immutable: true, check: .powerOfTwo),
    i("recv-buffer-size", 16384, 1024, 16 * 1024 * 1024, immutable: true, memory: true),
    i("recv-buffer-count", 1024, 1, 32768, immutable: true, check: .powerOfTwo),
    i("shard-queue-capacity", 4096, 2, 1 << 20, immutable: true, check: .powerOfTwo),
    i("shard-max-outstanding", 64, 1, 1 << 20, immutable: true),
    i("client-output-pause-bytes", 64 << 20, 1, Int.max, immutable: true, memory: true),
    s("capture-interface", "none"),
    i("capture-port", 0, 0, 65535),
    i("capture-block-size", 1048576, 4096, 1024 * 1024 * 1024, immutable: true, memory: true, check: .powerOfTwo),
    i("capture-block-count", 8, 1, 1024, immutable: true),
    i("capture-frame-size", 2048, 64, 65536, immutable: true, check: .multipleOf16),
]

/// Directives Redis 7.0 still accepts in a config file and ignores.
let deprecatedDirectives: [String: Int] = [
    "list-max-ziplist-entries": 2,
    "list-max-ziplist-value": 2,
    "lua-replicate-commands": 2,
]

/// Lowercased name or alias -> index in `directiveTable`.
let directiveIndex: [String: Int] = {
    var d: [String: Int] = [:]
    for (n, dir) in directiveTable.enumerated() {
        d[dir.name] = n
        for a in dir.aliases { d[a] = n }
    }
    return d
}()

/// Every name CONFIG GET can list (canonical names and aliases), sorted.
let allDirectiveNames: [String] = directiveIndex.keys.sorted()

func lookupDirective(_ name: String) -> Directive? {
    lookupDirectiveName(name)?.directive
}

/// The directive and the lowercased name it was found under (its own name or
/// an alias: Redis reports errors under that name).
func lookupDirectiveName(_ name: String) -> (directive: Directive, name: String)? {
    if let n = directiveIndex[name] { return (directiveTable[n], name) }
    let lower = name.lowercased()
    if let n = directiveIndex[lower] { return (directiveTable[n], lower) }
    return nil
}

// MARK: - Number parsing, Redis style

/// Redis's string2ll: optional '-', no leading zeros, no spaces or '+'.
func parseStrictInt(_ s: String) -> Int? {
    let u = Array(s.utf8)
    if u.isEmpty || u.count > 20 { return nil }
    if u.count == 1 && u[0] == UInt8(ascii: "0") { return 0 }
    var i = 0
    var negative = false
    if u[0] == UInt8(ascii: "-") {
        negative = true
        i = 1
        if u.count == 1 { return nil }
    }
    guard u[i] >= UInt8(ascii: "1") && u[i] <= UInt8(ascii: "9") else { return nil }
    var v: UInt64 = 0
    while i < u.count {
        let c = u[i]
        guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        v = a
        i += 1
    }
    if negative {
        if v > UInt64(Int.max) + 1 { return nil }
        return v == UInt64(Int.max) + 1 ? Int.min : -Int(v)
    }
    if v > UInt64(Int.max) { return nil }
    return Int(v)
}

/// Redis's memtoull: digits followed by an optional unit b, k, kb, m, mb, g, gb
/// (case-insensitive); k/m/g are powers of 1000, kb/mb/gb powers of 1024.
public func parseMemory(_ s: String) -> UInt64? {
    let u = Array(s.utf8)
    if u.first == UInt8(ascii: "-") { return nil }
    var i = 0
    while i < u.count && u[i] >= UInt8(ascii: "0") && u[i] <= UInt8(ascii: "9") { i += 1 }
    let unit = String(decoding: u[i...], as: UTF8.self).lowercased()
    let mul: UInt64
    switch unit {
    case "", "b": mul = 1
    case "k": mul = 1000
    case "kb": mul = 1024
    case "m": mul = 1000 * 1000
    case "mb": mul = 1024 * 1024
    case "g": mul = 1000 * 1000 * 1000
    case "gb": mul = 1024 * 1024 * 1024
    default: return nil
    }
    var v: UInt64 = 0
    for c in u[..<i] {
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        v = a
    }
    let (r, o) = v.multipliedReportingOverflow(by: mul)
    return o ? nil : r
}

/// Redis's rewriteConfigFormatMemory: 1gb, 512mb, 16kb or plain bytes.
func formatMemory(_ bytes: Int) -> String {
    let gb = 1024 * 1024 * 1024, mb = 1024 * 1024, kb = 1024
    if bytes != 0 && bytes % gb == 0 { return "\(bytes / gb)gb" }
    if bytes != 0 && bytes % mb == 0 { return "\(bytes / mb)mb" }
    if bytes != 0 && bytes % kb == 0 { return "\(bytes / kb)kb" }
    return String(bytes)
}

// MARK: - Value parsing

/// Parsing context: loading a file keeps Redis's "first save line resets the
/// defaults, later ones append" rule.
struct ParseContext {
    var readingConfigFile: Bool
    var saveLoaded: Bool = false
}

/// Parses `args` for `d` given its current canonical value; returns the new
/// canonical value, or Redis's error reason.
func parseDirective(_ d: Directive, _ args: [String], current: String, context: inout ParseContext) -> Result<String, ConfigReason> {
    let parsed = parseDirectiveValue(d, args, current: current, context: &context)
    if case .success(let v) = parsed, let reason = unsupportedReason(d, v) {
        return .failure(ConfigReason(reason))
    }
    return parsed
}

private func parseDirectiveValue(_ d: Directive, _ args: [String], current: String, context: inout ParseContext) -> Result<String, ConfigReason> {
    func one() -> String { args[0] }
    switch d.kind {
    case .bool:
        switch one().lowercased() {
        case "yes": return .success("yes")
        case "no": return .success("no")
        default: return .failure("argument must be 'yes' or 'no'")
        }
    case let .integer(min, max, memory, check):
        var value: Int
        if memory {
            guard let m = parseMemory(one()) else { return .failure("argument must be a memory value") }
            if m > UInt64(Int.max) {
                return .failure("argument must be between \(min) and \(max) inclusive")
            }
            value = Int(m)
        } else {
            guard let v = parseStrictInt(one()) else { return .failure("argument couldn't be parsed into an integer") }
            value = v
        }
        if value < min || value > max {
            return .failure("argument must be between \(min) and \(max) inclusive")
        }
        switch check {
        case .none: break
        case .powerOfTwo:
            if value <= 0 || value & (value - 1) != 0 { return .failure("argument must be a power of two") }
        case .multipleOf16:
            if value % 16 != 0 { return .failure("argument must be a multiple of 16") }
        case .clampHz:
            if value < 1 { value = 1 }
            if value > 500 { value = 500 }
        }
        return .success(String(value))
    case let .enumeration(values):
        let v = one().lowercased()
        if values.contains(v) { return .success(v) }
        return .failure(ConfigReason("argument(s) must be one of the following: " + values.joined(separator: ", ")))
    case let .string(pathCheck):
        if let what = pathCheck, one().utf8.contains(UInt8(ascii: "/")) {
            return .failure(ConfigReason("\(what) can't be a path, just a filename"))
        }
        if d.name == "appenddirname", one().utf8.contains(UInt8(ascii: "/")) {
            return .failure("appenddirname can't be a path, just a dirname")
        }
        if d.name == "capture-interface" {
            if one().isEmpty { return .failure("argument can't be empty (use 'none' to disable capture)") }
            if one().utf8.count > 15 { return .failure("interface name too long") }
        }
        return .success(one())
    case .dir:
        return .success(one())
    case .bind:
        if args.count > 16 { return .failure("Too many bind addresses specified.") }
        return .success(args.joined(separator: " "))
    case .save:
        var argv = args
        var reset = false
        if argv.count == 1 && argv[0].isEmpty {
            argv = []
            reset = true
        }
        if argv.count % 2 == 1 { return .failure("Invalid save parameters") }
        var numbers: [Int] = []
        for (j, a) in argv.enumerated() {
            // strtoll with an end-pointer check: leading spaces and '+' are fine.
            guard let v = strtollFull(a), (j % 2 == 0 ? v >= 1 : v >= 0) else {
                return .failure("Invalid save parameters")
            }
            numbers.append(v)
        }
        let fresh = numbers.map(String.init).joined(separator: " ")
        // Redis: `save ""` resets; CONFIG SET replaces; in a file the first save
        // line replaces the defaults and later ones add to it.
        var base = reset ? "" : current
        if !context.readingConfigFile {
            base = ""
        } else if !context.saveLoaded {
            context.saveLoaded = true
            base = ""
        }
        if base.isEmpty { return .success(fresh) }
        return .success(fresh.isEmpty ? base : base + " " + fresh)
    case .clientOutputBufferLimit:
        if args.count % 4 != 0 {
            return .failure("Wrong number of arguments in buffer limit configuration.")
        }
        var limits = parseClientOutputBufferLimits(current)
        var j = 0
        while j < args.count {
            let cls: Int
            switch args[j].lowercased() {
            case "normal": cls = 0
            case "slave", "replica": cls = 1
            case "pubsub": cls = 2
            default: return .failure("Invalid client class specified in buffer limit configuration.")
            }
            guard let hard = parseMemory(args[j + 1]), let soft = parseMemory(args[j + 2]),
                  hard <= UInt64(Int.max), soft <= UInt64(Int.max) else {
                return .failure("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            guard let secs = strtollFull(args[j + 3]), secs >= 0 else {
                return .failure("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            limits[cls] = (Int(hard), Int(soft), secs)
            j += 4
        }
        return .success(formatClientOutputBufferLimits(limits))
    case .keyspaceEvents:
        guard let f = keyspaceEventFlags(one()) else {
            return .failure("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        }
        return .success(keyspaceEventLetters(f))
    }
}

/// The stored form: one letter per class, `n` included. Redis keeps the
/// bits and shows them with keyspaceEventString, which hides `n` next to
/// `A`; storing the shown form would lose it.
func keyspaceEventLetters(_ f: Int) -> String {
    var out: [UInt8] = []
    for (c, bit) in eventLetters where f & bit != 0 { out.append(c) }
    if f & (1 << 0) != 0 { out.append(UInt8(ascii: "K")) }
    if f & (1 << 1) != 0 { out.append(UInt8(ascii: "E")) }
    if f & (1 << 11) != 0 { out.append(UInt8(ascii: "m")) }
    return String(decoding: out, as: UTF8.self)
}

/// What CONFIG GET and CONFIG REWRITE show for a stored value.
func shownValue(_ d: Directive, _ v: String) -> String {
    if case .keyspaceEvents = d.kind { return keyspaceEventString(keyspaceEventFlags(v) ?? 0) }
    return v
}

// Redis's notify.c bit values (Storage.NotifyClass mirrors them).
private let eventLetters: [(UInt8, Int)] = [
    (UInt8(ascii: "g"), 1 << 2), (UInt8(ascii: "$"), 1 << 3), (UInt8(ascii: "l"), 1 << 4),
    (UInt8(ascii: "s"), 1 << 5), (UInt8(ascii: "h"), 1 << 6), (UInt8(ascii: "z"), 1 << 7),
    (UInt8(ascii: "x"), 1 << 8), (UInt8(ascii: "e"), 1 << 9), (UInt8(ascii: "t"), 1 << 10),
    (UInt8(ascii: "d"), 1 << 13), (UInt8(ascii: "n"), 1 << 14),
]
private let notifyAll = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9)
    | (1 << 10) | (1 << 13)

/// Redis's keyspaceEventsStringToFlags: nil for a letter it does not know.
public func keyspaceEventFlags(_ s: String) -> Int? {
    var f = 0
    for c in s.utf8 {
        switch c {
        case UInt8(ascii: "A"): f |= notifyAll
        case UInt8(ascii: "K"): f |= 1 << 0
        case UInt8(ascii: "E"): f |= 1 << 1
        case UInt8(ascii: "m"): f |= 1 << 11
        default:
            guard let l = eventLetters.first(where: { $0.0 == c }) else { return nil }
            f |= l.1
        }
    }
    return f
}

/// Redis's keyspaceEventsFlagsToString (with A, `n` is not shown, as in Redis).
func keyspaceEventString(_ f: Int) -> String {
    var out: [UInt8] = []
    if f & notifyAll == notifyAll {
        out.append(UInt8(ascii: "A"))
    } else {
        for (c, bit) in eventLetters where f & bit != 0 { out.append(c) }
    }
    if f & (1 << 0) != 0 { out.append(UInt8(ascii: "K")) }
    if f & (1 << 1) != 0 { out.append(UInt8(ascii: "E")) }
    if f & (1 << 11) != 0 { out.append(UInt8(ascii: "m")) }
    return String(decoding: out, as: UTF8.self)
}

/// strtoll(s, &end, 10) requiring the whole string to be consumed (Redis's save parsing).
func strtollFull(_ s: String) -> Int? {
    s.withCString { p -> Int? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let v = strtoll(p, &end, 10)
        guard let e = end, e.pointee == 0 else { return nil }
        return Int(v)
    }
}

typealias BufferLimit = (hard: Int, soft: Int, seconds: Int)

func parseClientOutputBufferLimits(_ canonical: String) -> [BufferLimit] {
    let f = canonical.split(separator: " ").map { Int($0) ?? 0 }
    var out: [BufferLimit] = [(0, 0, 0), (268435456, 67108864, 60), (33554432, 8388608, 60)]
    // "normal h s t slave h s t pubsub h s t": numbers at 1,2,3 / 5,6,7 / 9,10,11
    if f.count == 12 {
        for c in 0..<3 { out[c] = (f[c * 4 + 1], f[c * 4 + 2], f[c * 4 + 3]) }
    }
    return out
}

let clientClassNames = ["normal", "slave", "pubsub"]

func formatClientOutputBufferLimits(_ l: [BufferLimit]) -> String {
    (0..<3).map { "\(clientClassNames[$0]) \(l[$0].hard) \(l[$0].soft) \(l[$0].seconds)" }.joined(separator: " ")
}

/// A reason string for a rejected value, as Redis words it.
struct ConfigReason: Error, ExpressibleByStringInterpolation, Sendable {
    let text: String
    init(_ text: String) { self.text = text }
    init(stringLiteral value: String) { self.text = value }
    init(stringInterpolation: DefaultStringInterpolation) { self.text = String(stringInterpolation: stringInterpolation) }
}
