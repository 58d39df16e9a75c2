// ConfigStore: the loaded configuration, CONFIG GET/SET/REWRITE, and typed,
// thread-safe accessors for the rest of the server.

import RESP
import Glibc
import Synchronization

/// Which network backend `io-backend` selects.
public enum IOBackendChoice: String, Sendable {
    case auto, uring, epoll
}

/// A fatal start-up configuration error. `description` is the full text to
/// print on stderr before exiting with status 1.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A typed snapshot of every setting the server acts on.
public struct ConfigSettings: Sendable {
    public var port: Int = 6379
    public var bind: [String] = ["*", "-::*"]
    public var protectedMode: Bool = true
    public var requirepass: String? = nil
    public var maxclients: Int = 10000
    public var timeout: Int = 0
    public var tcpKeepalive: Int = 300
    public var tcpBacklog: Int = 511
    public var databases: Int = 16
    public var loglevel: String = "notice"
    public var logfile: String = ""
    public var dir: String = ""
    public var protoMaxBulkLen: Int = 512 * 1024 * 1024
    public var clientQueryBufferLimit: Int = 1024 * 1024 * 1024
    public var clientOutputBufferLimitNormal: (hard: Int, soft: Int, seconds: Int) = (0, 0, 0)
    public var clientOutputBufferLimitReplica: (hard: Int, soft: Int, seconds: Int) = (268435456, 67108864, 60)
    public var clientOutputBufferLimitPubsub: (hard: Int, soft: Int, seconds: Int) = (33554432, 8388608, 60)
    public var maxmemory: Int = 0
    public var maxmemoryPolicy: String = "noeviction"
    public var hz: Int = 10
    public var slowlogLogSlowerThan: Int = 10000
    public var slowlogMaxLen: Int = 128
    public var latencyMonitorThreshold: Int = 0
    /// Resolved: a configured 0 becomes the number of online CPUs.
    public var shards: Int = 1
    public var ioBackend: IOBackendChoice = .auto
    public var uringEntries: Int = 4096
    public var shardQueueCapacity: Int = 4096
    public var shardMaxOutstanding: Int = 64
    public var clientOutputPauseBytes: Int = 64 << 20
    public var recvBufferSize: Int = 16384
    public var recvBufferCount: Int = 1024
    public var captureInterface: String = "none"
    /// 0 means "the server's port".
    public var capturePort: Int = 0
    public var captureBlockSize: Int = 1048576
    public var captureBlockCount: Int = 8
    public var captureFrameSize: Int = 2048
    public var daemonize: Bool = false
    public var pidfile: String = ""
    public var save: String = defaultSave
    /// `save` as (seconds, changes) pairs.
    public var saveParams: [(seconds: Int, changes: Int)] = []
    public var appendonly: Bool = false
    public var appendfilename: String = "appendonly.aof"
    public var dbfilename: String = "dump.rdb"
    /// `notify-keyspace-events` as Redis's class bits.
    public var notifyKeyspaceEvents: Int = 0
    public var trackingTableMaxKeys: Int = 1_000_000

    public init() {}
}

/// Number of online CPUs (at least 1).
public func onlineCPUCount() -> Int {
    let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    return n > 0 ? n : 1
}

func currentWorkingDirectory() -> String {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buf, buf.count) != nil else { return "" }
    return buf.withUnsafeBufferPointer { stringFromCString($0.baseAddress!) }
}

/// A NUL-terminated C string as a Swift String.
func stringFromCString(_ p: UnsafePointer<CChar>) -> String {
    let n = strlen(p)
    return p.withMemoryRebound(to: UInt8.self, capacity: n) {
        String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
    }
}

func errnoString(_ e: Int32) -> String { stringFromCString(strerror(e)) }

public final class ConfigStore: @unchecked Sendable {
    struct State {
        var values: [String: String]
        var settings: ConfigSettings
    }

    private let state: Mutex<State>
    private let generationCounter = Atomic<Int>(0)
    private let configFilePath: String?

    /// Absolute path of the configuration file, or nil when started without one.
    public var configFile: String? { configFilePath }

    /// All defaults (dir is the current working directory).
    public convenience init() {
        self.init(values: ConfigStore.defaultValues(), configFile: nil)
    }

    init(values: [String: String], configFile: String?) {
        self.configFilePath = configFile
        self.state = Mutex(State(values: values, settings: ConfigStore.makeSettings(values)))
    }

    static func defaultValues() -> [String: String] {
        var v: [String: String] = [:]
        for d in directiveTable { v[d.name] = d.defaultValue }
        v["dir"] = currentWorkingDirectory()
        return v
    }

    // MARK: Loading

    /// Loads the configuration from redis-server style arguments (argv without
    /// the program name): `[path/to/file.conf] [--directive value ...]`.
    /// Command-line directives apply after the file, as in redis-server.
    public static func load(arguments: [String]) throws -> ConfigStore {
        var loader = ConfigLoader(values: defaultValues())
        var configFile: String? = nil
        var j = 0
        if let first = arguments.first, !first.hasPrefix("-") {
            configFile = absolutePath(first)
            j = 1
        }
        let options = buildOptionsText(Array(arguments[j...]))
        var fileNewlines = 0
        if let path = configFile {
            let content = try loader.readFile(path, shownAs: arguments[0])
            fileNewlines = content.reduce(0) { $0 + ($1 == 0x0a ? 1 : 0) }
            try loader.loadText(content, source: arguments[0], firstLine: 1, depth: 0)
        }
        // Redis appends "\n" + options to the file text: the first option line
        // is therefore numbered (newlines in the file) + 2.
        try loader.loadText(Array(options.utf8), source: nil, firstLine: fileNewlines + 2, depth: 0)
        try loader.finalChecks()
        return ConfigStore(values: loader.values, configFile: configFile)
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let cwd = currentWorkingDirectory()
        var rel = Substring(path)
        while rel.hasPrefix("./") { rel = rel.dropFirst(2) }
        return cwd.hasSuffix("/") ? cwd + rel : cwd + "/" + rel
    }

    /// redis-server's main(): turns `--name value ...` into config lines.
    static func buildOptionsText(_ argv: [String]) -> String {
        var options = ""
        var handledLastConfigArg = true
        var j = 0
        while j < argv.count {
            let a = argv[j]
            if handledLastConfigArg && a.hasPrefix("--") {
                if !options.isEmpty { options += "\n" }
                options += String(a.dropFirst(2)) + " "
                var tmp = a
                let count = tmp.withUTF8 { splitArgs($0)?.count ?? 0 }
                if count == 1 {
                    handledLastConfigArg = false
                    let isSave = a.lowercased() == "--save"
                    if j != argv.count - 1 && argv[j + 1].hasPrefix("--") && isSave {
                        // `--save --port 1` means `--save "" --port 1`.
                        options += "\"\""
                        handledLastConfigArg = true
                    } else if j == argv.count - 1 && isSave {
                        options += "\"\""
                    }
                } else {
                    handledLastConfigArg = true
                }
            } else {
                options += quotedRepr(a) + " "
                handledLastConfigArg = true
            }
            j += 1
        }
        return options
    }

    // MARK: CONFIG GET

    private func canonicalValue(_ d: Directive, _ values: [String: String]) -> String {
        if case .dir = d.kind { return currentWorkingDirectory() }
        return shownValue(d, values[d.name] ?? d.defaultValue)
    }

    /// The canonical value string of a directive (or alias), as CONFIG GET prints it.
    public func get(_ name: String) -> String? {
        guard let d = lookupDirective(name) else { return nil }
        return state.withLock { canonicalValue(d, $0.values) }
    }

    /// CONFIG GET for one pattern: an exact (case-insensitive) name returns
    /// the name as given; a glob matches all names case-insensitively, sorted.
    public func getMatching(_ pattern: String) -> [(String, String)] {
        if !hasGlobMetacharacters(pattern) {
            guard let d = lookupDirective(pattern) else { return [] }
            return [(pattern, state.withLock { canonicalValue(d, $0.values) })]
        }
        var p = pattern
        let names = p.withUTF8 { pb in
            allDirectiveNames.filter { name in
                if lookupDirective(name)?.hidden == true { return false }
                var n = name
                return n.withUTF8 { globMatch(pb, $0, nocase: true) }
            }
        }
        return state.withLock { st in
            names.map { ($0, canonicalValue(lookupDirective($0)!, st.values)) }
        }
    }

    /// True when a directive (or alias) with this name exists.
    public func isKnown(_ name: String) -> Bool { lookupDirective(name) != nil }

    // MARK: CONFIG SET

    /// CONFIG SET with Redis 7.0 semantics: every pair is checked first and any
    /// error rejects them all. Returns the error message without "ERR ", or nil.
    /// `fromLocalClient` matters only for `enable-protected-configs local`.
    public func set(_ pairs: [(String, String)], fromLocalClient: Bool = false) -> String? {
        state.withLock { st -> String? in
            var invalidArgName: String? = nil
            var err: (arg: String, reason: String)? = nil
            var chosen: [(directive: Directive, name: String, value: String)] = []
            let protectedPolicy = st.values["enable-protected-configs"] ?? "no"
            let protectedAllowed = protectedPolicy == "yes" || (protectedPolicy == "local" && fromLocalClient)
            for (name, value) in pairs {
                guard let (d, matchedName) = lookupDirectiveName(name) else {
                    if invalidArgName == nil && err == nil { invalidArgName = name }
                    continue
                }
                if invalidArgName != nil || err != nil { continue }
                if d.immutable || (d.protected && !protectedAllowed) {
                    err = (name, d.immutable ? "can't set immutable config" : "can't set protected config")
                    continue
                }
                // Like Redis, an alias and its original count as different names.
                if chosen.contains(where: { $0.name == matchedName }) {
                    err = (name, "duplicate parameter")
                    continue
                }
                chosen.append((d, matchedName, value))
            }
            if let bad = invalidArgName {
                return "Unknown option or number of arguments for CONFIG SET - '\(bad)'"
            }
            if let e = err {
                return "CONFIG SET failed (possibly related to argument '\(e.arg)') - \(e.reason)"
            }
            // Validate every value before changing anything.
            var context = ParseContext(readingConfigFile: false)
            var newValues: [(Directive, String)] = []
            for (d, matchedName, value) in chosen {
                let args: [String]
                if d.multiArg {
                    args = value.isEmpty ? [] : value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                } else {
                    args = [value]
                }
                switch parseDirective(d, args, current: st.values[d.name] ?? d.defaultValue, context: &context) {
                case .success(let v): newValues.append((d, v))
                case .failure(let r):
                    return "CONFIG SET failed (possibly related to argument '\(matchedName)') - \(r.text)"
                }
            }
            // Side effects (only `dir` has one: chdir), then commit.
            for (n, (d, v)) in newValues.enumerated() {
                if case .dir = d.kind {
                    if chdir(v) != 0 {
                        let reason = errnoString(errno)
                        return "CONFIG SET failed (possibly related to argument '\(d.name)') - \(reason)"
                    }
                    newValues[n].1 = currentWorkingDirectory()
                }
            }
            for (d, v) in newValues { st.values[d.name] = v }
            st.settings = ConfigStore.makeSettings(st.values)
            generationCounter.add(1, ordering: .releasing)
            return nil
        }
    }

    /// Bumps on every successful CONFIG SET.
    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    // MARK: CONFIG REWRITE

    /// CONFIG REWRITE: rewrites the loaded file as Redis does. Returns the
    /// error message without "ERR ", or nil on success.
    public func rewrite() -> String? {
        guard let path = configFilePath else { return "The server is running without a config file" }
        let values = state.withLock { st -> [String: String] in
            var v = st.values
            v["dir"] = currentWorkingDirectory()
            return v
        }
        return rewriteConfigFile(path: path, values: values)
    }

    // MARK: Typed access

    /// A consistent typed snapshot of all settings.
    public var settings: ConfigSettings { state.withLock { $0.settings } }

    private func read<T>(_ f: (ConfigSettings) -> T) -> T { state.withLock { f($0.settings) } }

    public var port: Int { read { $0.port } }
    public var bind: [String] { read { $0.bind } }
    public var protectedMode: Bool { read { $0.protectedMode } }
    public var requirepass: String? { read { $0.requirepass } }
    public var maxclients: Int { read { $0.maxclients } }
    public var timeout: Int { read { $0.timeout } }
    public var tcpKeepalive: Int { read { $0.tcpKeepalive } }
    public var tcpBacklog: Int { read { $0.tcpBacklog } }
    public var databases: Int { read { $0.databases } }
    public var loglevel: String { read { $0.loglevel } }
    public var logfile: String { read { $0.logfile } }
    public var dir: String { currentWorkingDirectory() }
    public var protoMaxBulkLen: Int { read { $0.protoMaxBulkLen } }
    public var clientQueryBufferLimit: Int { read { $0.clientQueryBufferLimit } }
    public var clientOutputBufferLimitNormal: (hard: Int, soft: Int, seconds: Int) { read { $0.clientOutputBufferLimitNormal } }
    public var clientOutputBufferLimitReplica: (hard: Int, soft: Int, seconds: Int) { read { $0.clientOutputBufferLimitReplica } }
    public var clientOutputBufferLimitPubsub: (hard: Int, soft: Int, seconds: Int) { read { $0.clientOutputBufferLimitPubsub } }
    public var maxmemory: Int { read { $0.maxmemory } }
    public var maxmemoryPolicy: String { read { $0.maxmemoryPolicy } }
    public var hz: Int { read { $0.hz } }
    public var slowlogLogSlowerThan: Int { read { $0.slowlogLogSlowerThan } }
    public var slowlogMaxLen: Int { read { $0.slowlogMaxLen } }
    public var latencyMonitorThreshold: Int { read { $0.latencyMonitorThreshold } }
    public var shards: Int { read { $0.shards } }
    public var ioBackend: IOBackendChoice { read { $0.ioBackend } }
    public var uringEntries: Int { read { $0.uringEntries } }
    public var shardQueueCapacity: Int { read { $0.shardQueueCapacity } }
    public var shardMaxOutstanding: Int { read { $0.shardMaxOutstanding } }
    public var clientOutputPauseBytes: Int { read { $0.clientOutputPauseBytes } }
    public var recvBufferSize: Int { read { $0.recvBufferSize } }
    public var recvBufferCount: Int { read { $0.recvBufferCount } }
    public var captureInterface: String { read { $0.captureInterface } }
    public var capturePort: Int { read { $0.capturePort } }
    public var captureBlockSize: Int { read { $0.captureBlockSize } }
    public var captureBlockCount: Int { read { $0.captureBlockCount } }
    public var captureFrameSize: Int { read { $0.captureFrameSize } }
    public var daemonize: Bool { read { $0.daemonize } }
    public var pidfile: String { read { $0.pidfile } }
    public var save: String { read { $0.save } }
    public var saveParams: [(seconds: Int, changes: Int)] { read { $0.saveParams } }
    public var appendonly: Bool { read { $0.appendonly } }
    public var appendfilename: String { read { $0.appendfilename } }
    public var dbfilename: String { read { $0.dbfilename } }

    static func makeSettings(_ v: [String: String]) -> ConfigSettings {
        func int(_ k: String) -> Int { Int(v[k] ?? "") ?? Int(lookupDirective(k)!.defaultValue)! }
        func bool(_ k: String) -> Bool { (v[k] ?? lookupDirective(k)!.defaultValue) == "yes" }
        func str(_ k: String) -> String { v[k] ?? lookupDirective(k)!.defaultValue }
        var s = ConfigSettings()
        s.port = int("port")
        s.bind = str("bind").split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if str("bind").isEmpty { s.bind = [] }
        s.protectedMode = bool("protected-mode")
        let pass = str("requirepass")
        s.requirepass = pass.isEmpty ? nil : pass
        s.maxclients = int("maxclients")
        s.timeout = int("timeout")
        s.tcpKeepalive = int("tcp-keepalive")
        s.tcpBacklog = int("tcp-backlog")
        s.databases = int("databases")
        s.loglevel = str("loglevel")
        s.logfile = str("logfile")
        s.dir = str("dir")
        s.protoMaxBulkLen = int("proto-max-bulk-len")
        s.clientQueryBufferLimit = int("client-query-buffer-limit")
        let limits = parseClientOutputBufferLimits(str("client-output-buffer-limit"))
        s.clientOutputBufferLimitNormal = limits[0]
        s.clientOutputBufferLimitReplica = limits[1]
        s.clientOutputBufferLimitPubsub = limits[2]
        s.maxmemory = int("maxmemory")
        s.maxmemoryPolicy = str("maxmemory-policy")
        s.hz = int("hz")
        s.slowlogLogSlowerThan = int("slowlog-log-slower-than")
        s.slowlogMaxLen = int("slowlog-max-len")
        s.latencyMonitorThreshold = int("latency-monitor-threshold")
        let shards = int("shards")
        s.shards = shards == 0 ? onlineCPUCount() : shards
        s.ioBackend = IOBackendChoice(rawValue: str("io-backend")) ?? .auto
        s.uringEntries = int("uring-entries")
        s.shardQueueCapacity = int("shard-queue-capacity")
        s.shardMaxOutstanding = int("shard-max-outstanding")
        s.clientOutputPauseBytes = int("client-output-pause-bytes")
        s.recvBufferSize = int("recv-buffer-size")
        s.recvBufferCount = int("recv-buffer-count")
        s.captureInterface = str("capture-interface")
        s.capturePort = int("capture-port")
        s.captureBlockSize = int("capture-block-size")
        s.captureBlockCount = int("capture-block-count")
        s.captureFrameSize = int("capture-frame-size")
        s.daemonize = bool("daemonize")
        s.pidfile = str("pidfile")
        s.save = str("save")
        let nums = s.save.split(separator: " ").compactMap { Int($0) }
        s.saveParams = stride(from: 0, to: nums.count - 1, by: 2).map { (nums[$0], nums[$0 + 1]) }
        s.appendonly = bool("appendonly")
        s.appendfilename = str("appendfilename")
        s.dbfilename = str("dbfilename")
        s.notifyKeyspaceEvents = keyspaceEventFlags(str("notify-keyspace-events")) ?? 0
        s.trackingTableMaxKeys = int("tracking-table-max-keys")
        return s
    }
}
