import Commands
import Config
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// INFO: each worker reports its shard's counters (`__stats`); the worker
/// that owns the connection sums them and lays out Redis's sections.
extension Worker {
    func info(_ c: Client) {
        var sections: [UInt8] = []
        for i in 1..<args.count {
            sections.append(contentsOf: args[i].buffer.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 })
            sections.append(32)
        }
        _ = fanoutInternal(c, .info, .stats, saved: sections)
    }

    /// This shard's counters as `name:value` lines; values are integers or
    /// `k=v,...` lists of integers so the coordinator can sum them.
    func shardStatsText() -> String {
        var s = "keyspace_hits:\(stats.keyspaceHits)\n"
        s += "total_commands_processed:\(totalCommands)\n"
        s += "total_net_input_bytes:\(netInputBytes)\n"
        s += "total_net_output_bytes:\(netOutputBytes)\n"
        let rates = instantaneousRates
        s += "instantaneous_ops_per_sec:\(rates.ops)\n"
        s += "instantaneous_input_bps:\(rates.input)\n"
        s += "instantaneous_output_bps:\(rates.output)\n"
        // Successful write commands (rdb_changes_since_last_save is `dirty`, below).
        var writes = 0
        for spec in table.specs where spec.flags.contains(.write) {
            writes += cmdCalls[spec.id] - cmdFailed[spec.id]
        }
        s += "write_commands:\(writes)\n"
        s += "dirty:\(store.dirty)\n"
        s += "keyspace_misses:\(stats.keyspaceMisses)\n"
        var expired = 0
        var keys = 0
        var evicted = 0
        for ks in store.dbs { expired += ks.expiredKeys; evicted += ks.evictedKeys; keys += ks.count }
        s += "expired_keys:\(expired)\n"
        s += "evicted_keys:\(evicted)\n"
        s += "connected_clients:\(clients.reduce(0) { $0 + ($1 == nil ? 0 : 1) })\n"
        s += "shard_keys:\(keys)\n"
        var maxIn = 0, maxOut = 0
        for case let c? in clients {
            maxIn = max(maxIn, c.inbuf.count)
            maxOut = max(maxOut, c.outputBytes)
        }
        s += "client_recent_max_input_buffer:\(maxIn)\n"
        s += "client_recent_max_output_buffer:\(maxOut)\n"
        for (i, ks) in store.dbs.enumerated() where ks.count > 0 {
            s += "db\(i):keys=\(ks.count),expires=\(ks.expiringCount),avg_ttl=\(ks.averageTTL(now: now))\n"
        }
        for spec in table.specs where cmdCalls[spec.id] > 0 || cmdRejected[spec.id] > 0 {
            s += "cmdstat_\(spec.name):calls=\(cmdCalls[spec.id]),usec=\(cmdMicros[spec.id]),rejected_calls=\(cmdRejected[spec.id]),failed_calls=\(cmdFailed[spec.id])\n"
        }
        for (k, v) in errorCounts.sorted(by: { $0.key < $1.key }) {
            s += "errorstat_\(k):count=\(v)\n"
        }
        return s
    }

    func buildInfo(_ parts: [ShardMessage], sections: String) -> String {
        // Sum every shard's counters, field by field.
        var totals: [String: [(String, Int)]] = [:]
        var order: [String] = []
        var perShard: [(Int, Int)] = []
        for m in parts {
            let rr = ReplyReader(m)
            let (len, start) = rr.lineInt(at: 0)
            let text = String(decoding: UnsafeBufferPointer(start: m.replies.base + start, count: max(0, len)), as: UTF8.self)
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = String(line[..<colon])
                let val = line[line.index(after: colon)...]
                var fields: [(String, Int)] = []
                if val.contains("=") {
                    for f in val.split(separator: ",") {
                        let kv = f.split(separator: "=", maxSplits: 1)
                        if kv.count == 2 { fields.append((String(kv[0]), Int(kv[1]) ?? 0)) }
                    }
                } else {
                    fields = [("", Int(val) ?? 0)]
                }
                if key == "shard_keys" { perShard.append((m.target, fields[0].1)) }
                if var old = totals[key] {
                    for i in 0..<min(old.count, fields.count) {
                        if key.hasPrefix("client_recent") { old[i].1 = max(old[i].1, fields[i].1) }
                        else if old[i].0 == "avg_ttl" { old[i].1 = max(old[i].1, fields[i].1) }
                        else { old[i].1 += fields[i].1 }
                    }
                    totals[key] = old
                } else {
                    totals[key] = fields
                    order.append(key)
                }
            }
        }
        func v(_ k: String) -> Int { totals[k]?.first?.1 ?? 0 }

        let words = sections.split(separator: " ").map(String.init)
        let defaults = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                        "errorstats", "cluster", "keyspace"]
        var want: [String]
        if words.isEmpty || words == ["default"] {
            want = defaults
        } else if words.contains("all") || words.contains("everything") {
            // Redis's order for all/everything: commandstats sits before errorstats.
            want = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                    "commandstats", "errorstats", "cluster", "keyspace", "ringkv", "capture"]
        } else {
            want = words
        }

        let now = wallMicros()
        let cfg = state.config
        var out = ""
        func section(_ title: String, _ lines: [String]) {
            if !out.isEmpty { out += "\r\n" }
            out += "# \(title)\r\n"
            for l in lines { out += l + "\r\n" }
        }
        let rss = residentBytes()
        let used = max(1, usedMemory())
        let peak = max(used, usedMemoryPeak.load(ordering: .relaxed))
        for w in want {
            switch w {
            case "server":
                let up = (now / 1000 - state.startMillis) / 1000
                section("Server", [
                    "redis_version:\(redisCompatVersion)", "ringkv_version:\(ringkvVersion)",
                    "redis_git_sha1:00000000", "redis_git_dirty:0", "redis_build_id:0", "redis_mode:standalone",
                    "os:\(unameString())", "arch_bits:64", "monotonic_clock:POSIX clock_gettime",
                    "multiplexing_api:\(state.backendName == "uring" ? "io_uring" : "epoll")",
                    "io_backend:\(state.backendName)", "atomicvar_api:c11-builtin", "gcc_version:0.0.0",
                    "process_id:\(getpid())", "process_supervised:no", "run_id:\(state.runID)",
                    "tcp_port:\(state.port)", "server_time_usec:\(now)", "uptime_in_seconds:\(up)",
                    "uptime_in_days:\(up / 86400)", "hz:\(hz)", "configured_hz:\(cfg.hz)",
                    "lru_clock:\(lruClock(now / 1000))", "executable:\(executablePath())",
                    "config_file:\(cfg.configFile ?? "")", "io_threads_active:0", "shards:\(shardCount)",
                ])
            case "clients":
                section("Clients", [
                    "connected_clients:\(state.connectedClients.value)", "cluster_connections:0",
                    "maxclients:\(cfg.maxclients)",
                    "client_recent_max_input_buffer:\(v("client_recent_max_input_buffer"))",
                    "client_recent_max_output_buffer:\(v("client_recent_max_output_buffer"))",
                    "blocked_clients:\(state.blockedClients.value)", "tracking_clients:\(state.trackingClients.value)", "clients_in_timeout_table:0",
                ])
            case "memory":
                // used_memory is what malloc has handed out (CMalloc's counters), not the RSS.
                section("Memory", [
                    "used_memory:\(used)", "used_memory_human:\(humanBytes(used))", "used_memory_rss:\(rss)",
                    "used_memory_rss_human:\(humanBytes(rss))", "used_memory_peak:\(peak)",
                    "used_memory_peak_human:\(humanBytes(peak))",
                    "used_memory_peak_perc:\(fmt2(Double(used) * 100 / Double(peak)))%",
                    "maxmemory:\(cfg.maxmemory)", "maxmemory_human:\(humanBytes(cfg.maxmemory))",
                    "maxmemory_policy:\(cfg.get("maxmemory-policy") ?? "noeviction")",
                    "mem_fragmentation_ratio:\(fmt2(Double(rss) / Double(used)))",
                    "mem_fragmentation_bytes:\(rss - used)",
                    "mem_allocator:libc", "lazyfree_pending_objects:\(LazyFree.shared.pending)", "lazyfreed_objects:\(LazyFree.shared.freed)",
                    "number_of_cached_scripts:\(state.scripts.count)",
                ])
            case "persistence":
                // The RDB fields come from the background saves' state (Server/Persistence).
                section("Persistence", [
                    "loading:0", "async_loading:0", "current_cow_peak:0", "current_cow_size:0",
                    "current_cow_size_age:0",
                ] + rdbInfoFields(dirty: v("dirty") &- state.dirtyAtSave.value) + [
                    "rdb_last_load_keys_expired:0", "rdb_last_load_keys_loaded:0",
                ] + aofInfoFields() + ["module_fork_in_progress:0", "module_fork_last_cow_size:0"])
            case "stats":
                let pubsubCounts = state.pubsub.read { ($0.channels.count, $0.patterns.count, $0.shardChannels.count) }
                section("Stats", [
                    "total_connections_received:\(state.totalConnections.value)",
                    "total_commands_processed:\(v("total_commands_processed"))",
                    "instantaneous_ops_per_sec:\(v("instantaneous_ops_per_sec"))",
                    "total_net_input_bytes:\(v("total_net_input_bytes"))",
                    "total_net_output_bytes:\(v("total_net_output_bytes"))",
                    "instantaneous_input_kbps:\(fmt2(Double(v("instantaneous_input_bps")) / 1024))",
                    "instantaneous_output_kbps:\(fmt2(Double(v("instantaneous_output_bps")) / 1024))",
                    "rejected_connections:\(state.rejectedConnections.value)",
                    "expired_keys:\(v("expired_keys"))", "evicted_keys:\(v("evicted_keys"))",
                    "keyspace_hits:\(v("keyspace_hits"))", "keyspace_misses:\(v("keyspace_misses"))",
                    "pubsub_channels:\(pubsubCounts.0)", "pubsub_patterns:\(pubsubCounts.1)",
                    "pubsubshard_channels:\(pubsubCounts.2)",
                    // Scripts that ran with every shard locked (keys they had not declared).
                    "scripts_all_shards_runs:\(state.scripts.allShardRuns.value)",
                    "total_error_replies:\(order.filter { $0.hasPrefix("errorstat_") }.reduce(0) { $0 + (totals[$1]?.first?.1 ?? 0) })",
                ])
            case "replication":
                section("Replication", replicationInfoLines())
            case "cpu":
                var ru = rusage()
                getrusage(RUSAGE_SELF.rawValue, &ru)
                let sys = Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6
                let user = Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6
                section("CPU", ["used_cpu_sys:\(fmt6(sys))", "used_cpu_user:\(fmt6(user))",
                                "used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000"])
            case "modules":
                section("Modules", [])
            case "errorstats":
                section("Errorstats", order.filter { $0.hasPrefix("errorstat_") }.map { k in
                    "\(k):count=\(totals[k]!.first!.1)"
                })
            case "cluster":
                section("Cluster", ["cluster_enabled:0"])
            case "keyspace":
                section("Keyspace", order.filter { $0.hasPrefix("db") }
                    .sorted { Int($0.dropFirst(2)) ?? 0 < Int($1.dropFirst(2)) ?? 0 }
                    .map { k in
                        let f = totals[k]!
                        return "\(k):" + f.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                    })
            case "commandstats":
                section("Commandstats", order.filter { $0.hasPrefix("cmdstat_") }.map { k in
                    let f = Dictionary(totals[k]!, uniquingKeysWith: { a, _ in a })
                    let calls = f["calls"] ?? 0, usec = f["usec"] ?? 0
                    let per = calls > 0 ? Double(usec) / Double(calls) : 0
                    return "\(k):calls=\(calls),usec=\(usec),usec_per_call=\(fmt2(per)),rejected_calls=\(f["rejected_calls"] ?? 0),failed_calls=\(f["failed_calls"] ?? 0)"
                })
            case "ringkv":
                var lines = ["shards:\(shardCount)", "io_backend:\(state.backendName)",
                             "io_backend_detail:\(state.backendDetail)"]
                for (sh, k) in perShard.sorted(by: { $0.0 < $1.0 }) { lines.append("shard\(sh):keys=\(k)") }
                section("RingKV", lines)
            case "capture":
                if !out.isEmpty { out += "\r\n" }
                out += state.capture.infoSection()
            default:
                continue
            }
        }
        return out
    }
}

func fmt2(_ d: Double) -> String {
    let v = Int((d * 100).rounded())
    let frac = v % 100
    return "\(v / 100).\(frac < 10 ? "0" : "")\(frac)"
}

func fmt6(_ d: Double) -> String {
    let v = Int((d * 1_000_000).rounded())
    var f = String(v % 1_000_000)
    while f.count < 6 { f = "0" + f }
    return "\(v / 1_000_000).\(f)"
}

func humanBytes(_ n: Int) -> String {
    let d = Double(n)
    if d < 1024 { return "\(n)B" }
    if d < 1024 * 1024 { return fmt2(d / 1024) + "K" }
    if d < 1024 * 1024 * 1024 { return fmt2(d / 1024 / 1024) + "M" }
    return fmt2(d / 1024 / 1024 / 1024) + "G"
}

/// Resident set size from /proc/self/statm.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    if fd < 0 { return 0 }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 128)
    let n = read(fd, &buf, 127)
    if n <= 0 { return 0 }
    let fields = buf[0..<n].split(separator: 32)
    guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func unameString() -> String {
    var u = utsname()
    uname(&u)
    func s<T>(_ t: inout T) -> String {
        withUnsafeBytes(of: &t) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
    return "\(s(&u.sysname)) \(s(&u.release)) \(s(&u.machine))"
}

func executablePath() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, 4095)
    return n > 0 ? String(cString: buf) : ""
}
