// Values RingKV accepts only where it honours them. A directive a user sets
// believes it changes something; if the server would then ignore it (no
// persistence, no latency monitor yet), start-up and CONFIG SET
// must refuse the value instead, naming the directive. Values that only tune
// a feature which is itself refused here (dbfilename, appendfsync, ...) stay
// accepted: they promise nothing on their own. maxmemory, every
// maxmemory-policy, maxmemory-samples, maxmemory-eviction-tenacity,
// lfu-log-factor and lfu-decay-time are honoured (Server/Eviction.swift).

/// Why `value` (canonical) of `d` is refused, or nil when it is honoured.
func unsupportedReason(_ d: Directive, _ value: String) -> String? {
    func no(_ what: String, hint: String) -> String {
        "\(d.name) \(value.isEmpty ? "\"\"" : value): \(what) is not supported yet (\(hint))"
    }
    switch d.name {
    // save points are honoured: a forkless background save (Server/Persistence).
    // appendonly, appendfsync, appenddirname, appendfilename, aof-load-truncated,
    // aof-timestamp-enabled and the auto-aof-rewrite-* pair are honoured
    // (Server/Persistence/Aof*.swift). The base is always an RDB preamble.
    case "aof-use-rdb-preamble":
        return value == "yes" ? nil : no("a base file in AOF form", hint: "the AOF base is always an RDB preamble")
    case "no-appendfsync-on-rewrite":
        return value == "no" ? nil : no("skipping fsync during a rewrite", hint: "only no is accepted")
    case "latency-monitor-threshold":
        return value == "0" ? nil : no("the latency monitor", hint: "only 0 is accepted")
    case "latency-tracking":
        return value == "yes" ? no("per-command latency tracking", hint: "only no is accepted") : nil
    case "daemonize":
        return value == "yes" ? no("daemonizing", hint: "run ringkv-server in the foreground under a supervisor") : nil
    case "supervised":
        return value == "no" ? nil : no("notifying a supervisor", hint: "only supervised no is accepted")
    case "syslog-enabled":
        return value == "yes" ? no("logging to syslog", hint: "use logfile, or stdout") : nil
    case "always-show-logo":
        return value == "yes" ? no("the ASCII logo", hint: "only no is accepted") : nil
    case "set-proc-title":
        return value == "yes" ? no("setting the process title", hint: "only no is accepted") : nil
    case "enable-module-command":
        return value == "no" ? nil : no("the MODULE command", hint: "only no is accepted")
    // lazyfree-lazy-*: both values are honoured in effect. A value whose
    // free effort passes Redis's threshold is always freed in the background
    // (Storage/LazyFree.swift), since freeing it on the shard stalls every
    // client of that shard; smaller ones are freed at once, as Redis does
    // even with lazy freeing on. lazyfree-lazy-eviction included: an evicted
    // big value is freed in the background either way.
    case "list-compress-depth":
        return value == "0" ? nil : no("compressing quicklist nodes", hint: "only 0 is accepted")
    case "io-threads":
        return value == "1" ? nil : no("io-threads", hint: "use shards: every shard is its own I/O thread")
    case "io-threads-do-reads":
        return value == "yes" ? no("io-threads", hint: "use shards: every shard is its own I/O thread") : nil
    // tracking-table-max-keys is honoured per shard: each shard's tracking
    // table keeps at most max / shards keys (at least one), evicting with an
    // invalidation as Redis does (Server/PubSub/Tracking.swift).
    // sanitize-dump-payload: RESTORE payloads and RDB files are always
    // checked as Redis's deep sanitizer checks them (Storage/RDB/RdbReader):
    // the loader builds RingKV's own encodings from them and cannot trust an
    // unchecked blob. So yes is honoured, and clients too (every RESTORE
    // comes from a client: there is no replication; loading at start-up is
    // checked as well, where Redis would skip it); no would promise payloads
    // taken unchecked, and is refused.
    case "sanitize-dump-payload":
        return value == "no"
            ? no("taking RESTORE payloads and RDB files without deep sanitization",
                 hint: "RingKV always sanitizes them: use yes or clients")
            : nil
    case "active-expire-effort":
        return value == "1" ? nil : no("tuning the active expire cycle", hint: "only 1 is accepted")
    default:
        return nil
    }
}
