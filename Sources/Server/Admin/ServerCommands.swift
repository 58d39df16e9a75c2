import Commands
import Config
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// CONFIG, SHUTDOWN, SAVE, BGSAVE, DEBUG, SLOWLOG, LATENCY and the merges of server fan-outs.
extension Worker {
    func mergeServerFanout(_ s: ReplyTicket, _ c: Client?, _ r: Reply) {
        switch s.merge {
        case .info:
            let sections = String(decoding: s.saved.bytes, as: UTF8.self)
            r.verbatim(buildInfo(s.parts, sections: sections))
        case .slowlog:
            mergeSlowlog(s, r)
        case .clientList:
            var text: [UInt8] = []
            for m in s.parts.sorted(by: { $0.target < $1.target }) {
                let rr = ReplyReader(m)
                let (len, start) = rr.lineInt(at: 0)
                if len > 0 { text.append(contentsOf: UnsafeBufferPointer(start: m.replies.base + start, count: len)) }
            }
            r.verbatim(String(decoding: text, as: UTF8.self))
        case .firstReply:
            var total = 0
            for m in s.parts { total += ReplyReader(m).lineInt(at: 0).0 }
            if total > 0 { r.ok() } else { r.error("ERR No such client") }
        default:
            break
        }
    }

    func configCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        let cfg = state.config
        if sub.equalsLower("get") {
            if args.count < 3 { return r.error("ERR wrong number of arguments for 'config|get' command") }
            var seen = Set<String>()
            var pairs: [(String, String)] = []
            for i in 2..<args.count {
                for (k, v) in cfg.getMatching(args[i].lossyString) where !seen.contains(k) {
                    seen.insert(k)
                    pairs.append((k, v))
                }
            }
            r.map(pairs.count)
            for (k, v) in pairs {
                r.bulk(string: k)
                r.bulk(string: v)
            }
        } else if sub.equalsLower("set") {
            if args.count < 4 || (args.count - 2) % 2 != 0 {
                return r.error("ERR wrong number of arguments for 'config|set' command")
            }
            var pairs: [(String, String)] = []
            var i = 2
            while i < args.count {
                pairs.append((args[i].lossyString, args[i + 1].lossyString))
                i += 2
            }
            if let err = cfg.set(pairs, fromLocalClient: c.isLocal) { return r.error(string: "ERR " + err) }
            refreshConfig()
            applyNotifyConfig()
            state.capture.apply(cfg)
            if aofConfigChanged() { return persistCommand(c, r, .aofStart) }
            r.ok()
        } else if sub.equalsLower("resetstat") {
            if args.count != 2 { return r.error("ERR wrong number of arguments for 'config|resetstat' command") }
            state.totalConnections.store(0)
            state.rejectedConnections.store(0)
            state.capture.resetStats()
            _ = fanoutInternal(c, .ok, .resetStats)
        } else if sub.equalsLower("rewrite") {
            if args.count != 2 { return r.error("ERR wrong number of arguments for 'config|rewrite' command") }
            if let err = cfg.rewrite() { return r.error(string: "ERR " + err) }
            r.ok()
        } else if sub.equalsLower("help") {
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                "RESETSTAT", "    Reset statistics reported by the INFO command.",
                "REWRITE", "    Rewrite the configuration file.",
                "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try CONFIG HELP.")
        }
    }

    /// SHUTDOWN, and SAVE and BGSAVE (routed here: they share its route so
    /// that they need no dispatch case of their own). SAVE and SHUTDOWN SAVE
    /// write the RDB file (Admin/Persistence.swift); BGSAVE takes a forkless
    /// snapshot (Persistence/BackgroundSave.swift).
    func shutdownCommand(_ c: Client, _ r: Reply) {
        if args[0].equalsLower("save") { return persistCommand(c, r, .save) }
        if args[0].equalsLower("bgrewriteaof") { return bgrewriteaofCommand(c, r) }
        if args[0].equalsLower("bgsave") { return bgsaveCommand(c, r) }
        var save = false, nosave = false, abort = false, other = false
        var i = 1
        while i < args.count {
            let a = args[i]
            if a.equalsLower("nosave") { nosave = true }
            else if a.equalsLower("save") { save = true }
            else if a.equalsLower("now") || a.equalsLower("force") { other = true }
            else if a.equalsLower("abort") { abort = true }
            else { return r.error(Err.syntax) }
            i += 1
        }
        // Redis's checks and their order (shutdownCommand in server.c).
        if (abort && (save || nosave || other)) || (save && nosave) { return r.error(Err.syntax) }
        if abort { return r.error("ERR No shutdown in progress.") }
        // Plain SHUTDOWN saves when save points are set, as Redis's.
        if save || (!nosave && !state.config.saveParams.isEmpty) { return persistCommand(c, r, .shutdown) }
        shutdownNow(c)
    }

    func shutdownNow(_ c: Client?) {
        state.logger.warning("User requested shutdown...")
        state.stopping.store(1)
        if let c { closeClient(c) }
    }

    func debugCommand(_ c: Client, _ r: Reply) {
        // enable-debug-command: Redis 7.0 refuses DEBUG unless it is yes, or
        // local and the client came over loopback.
        let mode = state.config.get("enable-debug-command") ?? "no"
        if mode == "no" || (mode == "local" && !c.isLocal) {
            return r.error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
        }
        let sub = args[1]
        if sub.equalsLower("error") && args.count == 3 {
            // Sent as given, without "ERR"; Redis also bypasses errorstats here.
            r.error(bytes: [UInt8](args[2].buffer))
        } else if sub.equalsLower("set-active-expire") && args.count == 3 {
            // atoi, as Redis: anything without leading digits is 0 (off).
            state.activeExpire.store(atoiPrefix(args[2]) != 0 ? 1 : 0)
            r.ok()
        } else if sub.equalsLower("reload") {
            var flags: UInt8 = 0
            for i in 2..<args.count {
                if args[i].equalsLower("merge") { flags |= PersistStep.merge }
                else if args[i].equalsLower("noflush") { flags |= PersistStep.noFlush }
                else if args[i].equalsLower("nosave") { flags |= PersistStep.noSave }
                else { return r.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.") }
            }
            persistCommand(c, r, .reload, flags: flags)
        } else if sub.equalsLower("digest") && args.count == 2 {
            _ = fanoutInternal(c, .digest, .debugDigest, saved: Array("d".utf8))
        } else if sub.equalsLower("digest-value") {
            _ = fanoutInternal(c, .digest, .debugDigestValue, saved: Array("v".utf8), argc: args.count - 2) { b in
                for i in 2..<args.count { appendBulkArg(b, args[i].ptr, args[i].count) }
            }
        } else if sub.equalsLower("object") && args.count == 3 {
            // The entry lives on its key's shard.
            let k = args[2]
            forwardStep(c, to: shardOf(k.ptr, k.count, shards: shardCount), .debugObject, key: k)
        } else if sub.equalsLower("sleep") && args.count == 3 {
            let secs = Double(args[2].lossyString) ?? 0
            // Clamped: usleep takes a 32-bit count, and a huge or NaN value must not trap.
            let us = secs.isFinite ? min(max(0, secs) * 1_000_000, 4_000_000_000) : 0
            usleep(UInt32(us))
            r.ok()
        } else if sub.equalsLower("help") {
            r.helpLines([
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "ERROR <string>",
                "    Return a Redis protocol error with <string> as message. Useful for clients",
                "    unit tests to simulate Redis errors.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "HELP",
                "    Prints this help.",
            ])
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try DEBUG HELP.")
        }
    }

    /// C's atoi on an argument: optional sign, leading digits, rest ignored.
    func atoiPrefix(_ a: Arg) -> Int {
        var i = 0
        while i < a.count && (a[i] == 32 || (a[i] >= 9 && a[i] <= 13)) { i += 1 }
        var neg = false
        if i < a.count && (a[i] == 43 || a[i] == 45) { neg = a[i] == 45; i += 1 }
        var v = 0
        while i < a.count && a[i] >= 48 && a[i] <= 57 && v < Int.max / 10 - 10 { v = v * 10 + Int(a[i] - 48); i += 1 }
        return neg ? -v : v
    }

    func slowlogCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("get") {
            var n = 10
            if args.count == 3 {
                guard let v = parseStrictInt(args[2].ptr, args[2].count), v >= -1 else {
                    return r.error("ERR count should be greater than or equal to -1")
                }
                n = v == -1 ? Int.max : v
            } else if args.count > 3 {
                return r.error("ERR wrong number of arguments for 'slowlog|get' command")
            }
            // Each shard sends its newest n; the merge keeps the newest n by id.
            _ = fanoutInternal(c, .slowlog, .slowlogGet(count: n), saved: Array(String(n).utf8))
        } else if sub.equalsLower("len") && args.count == 2 {
            _ = fanoutInternal(c, .sum, .slowlogLen)
        } else if sub.equalsLower("reset") && args.count == 2 {
            _ = fanoutInternal(c, .ok, .slowlogReset)
        } else if sub.equalsLower("help") {
            let lines = [
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
                "    Reset the slowlog.", "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try SLOWLOG HELP.")
        }
    }

    /// This shard's newest `count` entries.
    func slowlogShard(count: Int, _ r: Reply) {
        let n = min(count, slowlog.items.count)
        r.array(n)
        for item in slowlog.items.prefix(n) {
            r.array(6)
            r.int(item.id)
            r.int(Int(item.time))
            r.int(item.micros)
            r.array(item.args.count)
            for x in item.args { r.bulk(x) }
            r.bulk(string: item.addr)
            r.bulk(item.name)
        }
    }

    /// The latency monitor does not record, so the config refuses a nonzero
    /// latency-monitor-threshold and latency-tracking yes: these are Redis's
    /// answers with both off, not answers pretending that nothing was slow.
    func latencyCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("latest") && args.count == 2 { r.array(0) }
        else if sub.equalsLower("history") && args.count == 3 { r.array(0) }
        else if sub.equalsLower("reset") { r.int(0) }
        else if sub.equalsLower("graph") && args.count == 3 {
            r.error(string: "ERR No samples available for event '\(args[2].lossyString)'")
        } else if sub.equalsLower("histogram") {
            r.map(0)
        } else if sub.equalsLower("doctor") && args.count == 2 {
            r.verbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
        } else if sub.equalsLower("help") {
            let lines = [
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR", "    Return a human readable latency analysis report.",
                "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                "LATEST", "    Return the latest latency samples for all events.",
                "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.",
                "HELP", "    Prints this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try LATENCY HELP.")
        }
    }
}
