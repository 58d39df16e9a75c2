import Commands
import Config
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// CONFIG, SHUTDOWN, DEBUG, SLOWLOG, LATENCY and the merges of server fan-outs.
extension Worker {
    func mergeServerFanout(_ s: Slot, _ c: Client?, _ r: Reply) {
        switch s.merge {
        case .info:
            let sections = String(decoding: s.saved.bytes, as: UTF8.self)
            r.verbatim(buildInfo(s.parts, sections: sections))
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
            if let err = cfg.set(pairs) { return r.error(string: "ERR " + err) }
            refreshConfig()
            state.capture.apply(cfg)
            r.ok()
        } else if sub.equalsLower("resetstat") {
            if args.count != 2 { return r.error("ERR wrong number of arguments for 'config|resetstat' command") }
            state.totalConnections.store(0)
            state.rejectedConnections.store(0)
            state.capture.resetStats()
            _ = fanoutInternal(c, .ok) { b in header(b, 1, "__resetstat") }
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

    func shutdownCommand(_ c: Client, _ r: Reply) {
        var i = 1
        while i < args.count {
            let a = args[i]
            if !(a.equalsLower("nosave") || a.equalsLower("save") || a.equalsLower("now") || a.equalsLower("force")
                 || a.equalsLower("abort")) {
                return r.error(Err.syntax)
            }
            if a.equalsLower("abort") { return r.error("ERR No shutdown in progress.") }
            i += 1
        }
        state.logger.warning("User requested shutdown...")
        state.stopping.store(1)
        closeClient(c)
    }

    func debugCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("sleep") && args.count == 3 {
            let secs = Double(args[2].lossyString) ?? 0
            // Clamped: usleep takes a 32-bit count, and a huge or NaN value must not trap.
            let us = secs.isFinite ? min(max(0, secs) * 1_000_000, 4_000_000_000) : 0
            usleep(UInt32(us))
            r.ok()
        } else if sub.equalsLower("help") {
            r.array(3)
            r.simple("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            r.simple("SLEEP <seconds>")
            r.simple("    Stop the server for <seconds>. Decimals allowed.")
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try DEBUG HELP.")
        }
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
            _ = fanoutInternal(c, .concatArrays) { b in
                header(b, 3, "__slowlog")
                appendBulkArg(b, "get")
                appendBulkArg(b, String(n))
            }
        } else if sub.equalsLower("len") && args.count == 2 {
            _ = fanoutInternal(c, .sum) { b in header(b, 2, "__slowlog"); appendBulkArg(b, "len") }
        } else if sub.equalsLower("reset") && args.count == 2 {
            _ = fanoutInternal(c, .ok) { b in header(b, 2, "__slowlog"); appendBulkArg(b, "reset") }
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

    func slowlogShard(_ a: ArgVector, _ r: Reply) {
        if a[1].equalsLower("len") {
            r.int(slowlog.items.count)
        } else if a[1].equalsLower("reset") {
            slowlog.items.removeAll()
            r.ok()
        } else {
            let n = min(parseStrictInt(a[2].ptr, a[2].count) ?? 10, slowlog.items.count)
            r.array(n)
            for item in slowlog.items.prefix(n) {
                r.array(6)
                r.int(item.id)
                r.int(Int(item.time))
                r.int(item.micros)
                r.array(item.args.count)
                for x in item.args { r.bulk(x) }
                r.bulk(static: "")
                r.bulk(static: "")
            }
        }
    }

    /// latency-monitor-threshold is 0 by default, which disables sampling in
    /// Redis too: there are no events to report.
    func latencyCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("latest") && args.count == 2 { r.array(0) }
        else if sub.equalsLower("history") && args.count == 3 { r.array(0) }
        else if sub.equalsLower("reset") { r.int(0) }
        else if sub.equalsLower("doctor") && args.count == 2 {
            r.verbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep better. You're the best! I'm really happy with that, Dave.\n")
        } else if sub.equalsLower("help") {
            let lines = [
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR", "    Return a human readable latency analysis report.",
                "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                "LATEST", "    Return the latest latency samples for all events.",
                "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try LATENCY HELP.")
        }
    }
}
