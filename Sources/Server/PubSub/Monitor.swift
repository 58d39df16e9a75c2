import Commands
import RESP
import Storage

/// MONITOR: every command any worker runs, as Redis's line
/// `+<sec>.<usec> [<db> <addr>] "arg" ...`. A worker builds the line where
/// the command was called and sends it to the workers that have monitors
/// in the `.publish` hop (kind "2"). With no monitor anywhere a command
/// pays one atomic load (`ServerState.monitors`).
extension Worker {
    func monitorCommand(_ c: Client, _ r: Reply) {
        // Redis: MULTI makes the client DENY_BLOCKING.
        if lentDepth > 0 { return r.error("ERR MONITOR isn't allowed for DENY BLOCKING client") }
        if c.monitoring { return }
        c.monitoring = true
        pubsub.monitors.append(c)
        handle.monitors.add(1)
        state.monitors.add(1)
        r.ok()
    }

    func stopMonitoring(_ c: Client) {
        guard c.monitoring else { return }
        c.monitoring = false
        if let i = pubsub.monitors.firstIndex(where: { $0 === c }) { pubsub.monitors.remove(at: i) }
        handle.monitors.add(-1)
        state.monitors.add(-1)
    }

    /// Whether MONITOR shows this command: not admin commands (nor admin
    /// subcommands), not those that feed it themselves (EVAL, FCALL).
    func monitorShows(_ spec: CommandSpec, _ a: ArgVector) -> Bool {
        if spec.flags.contains(.admin) || spec.flags.contains(.skipMonitor) { return false }
        if !spec.subcommands.isEmpty && a.count >= 2,
           let s = spec.subcommands.first(where: { a[1].equalsName($0.name) }), s.flags.contains(.admin) {
            return false
        }
        return true
    }

    /// The quoted arguments of the command in `args`, ending in CRLF; the
    /// header (time, db, client) is added when it is shown, after the
    /// command ran, as Redis shows the db a SELECT switched to.
    func monitorLine(_ c: Client) -> ByteBuf { monitorLine(c, args) }

    func monitorLine(_ c: Client, _ args: ArgVector) -> ByteBuf {
        let b = ByteBuf(capacity: 64)
        let redact = redactedArguments(args)
        for i in 0..<args.count {
            if i > 0 { b.append(32) }
            if redact.contains(i) {
                b.append(string: "\"(redacted)\"")
            } else {
                appendRepr(b, args[i])
            }
        }
        b.append(string: "\r\n")
        return b
    }

    /// AUTH's password (and user), HELLO's AUTH pair: Redis 7.0 replaces
    /// them before anything logs the command.
    func redactedArguments(_ args: ArgVector) -> [Int] {
        let name = args[0]
        if name.equalsLower("auth") && args.count <= 3 { return Array(1..<args.count) }
        if name.equalsLower("migrate") { return MigrateCommand.secretArguments(args) }
        if name.equalsLower("hello") {
            var out: [Int] = []
            var j = 2
            while j < args.count {
                if args[j].equalsLower("auth") && args.count - 1 - j >= 2 {
                    out += [j + 1, j + 2]
                    j += 3
                } else if args[j].equalsLower("setname") && args.count - 1 - j >= 1 {
                    j += 2
                } else {
                    break
                }
            }
            return out
        }
        return []
    }

    /// Redis's sdscatrepr: a quoted string with C escapes.
    func appendRepr(_ b: ByteBuf, _ a: Arg) {
        let hex: StaticString = "0123456789abcdef"
        b.append(34)
        for i in 0..<a.count {
            let ch = a[i]
            switch ch {
            case 92: b.append(string: "\\\\")
            case 34: b.append(string: "\\\"")
            case 10: b.append(string: "\\n")
            case 13: b.append(string: "\\r")
            case 9: b.append(string: "\\t")
            case 7: b.append(string: "\\a")
            case 8: b.append(string: "\\b")
            default:
                if ch >= 32 && ch < 127 {
                    b.append(ch)
                } else {
                    b.append(string: "\\x")
                    b.append(hex.utf8Start[Int(ch >> 4)])
                    b.append(hex.utf8Start[Int(ch & 15)])
                }
            }
        }
        b.append(34)
    }

    /// MONITOR decides per command where the command is called: the
    /// commands of a block are shown when EXEC starts (a block may run on
    /// another shard, never through `execute`), and not again as it runs.
    /// An aborted block shows only EXEC, as Redis's execCommandAbort.
    func feedQueuedCommands(_ c: Client, _ ms: MultiState) {
        if ms.aborted { return }
        let a = ArgVector(capacity: 8)
        let p = UnsafePointer(ms.queue.base)
        let n = ms.queue.count
        var off = 0
        while off < n, case .command(let used) = parseCommand(p + off, n - off, into: a, limits: trustedLimits) {
            off += used
            if let spec = table.lookup(a[0]), monitorShows(spec, a) { feedMonitors(c, monitorLine(c, a)) }
        }
    }

    /// Sends a command's line to every monitor of every worker.
    func feedMonitors(_ c: Client, _ argsLine: ByteBuf) {
        let line = ByteBuf(capacity: argsLine.count + 64)
        let us = Int(wallMicros())
        line.append(43)
        line.appendDecimal(us / 1_000_000)
        line.append(46)
        var frac = us % 1_000_000
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (48, 48, 48, 48, 48, 48)
        withUnsafeMutableBytes(of: &digits) { d in
            for i in stride(from: 5, through: 0, by: -1) {
                d[i] = UInt8(48 + frac % 10)
                frac /= 10
            }
            line.append(UnsafeRawBufferPointer(d))
        }
        line.append(string: " [")
        line.appendDecimal(c.db)
        if c === scriptClient { line.append(string: " lua] ") } else { line.append(string: " \(c.addr)] ") }
        line.append(argsLine)
        feedLine(line)
    }

    func feedLine(_ line: ByteBuf) {
        let p = UnsafeBufferPointer(start: UnsafePointer(line.base), count: line.count)
        showMonitorLine(p)
        let none = UnsafeBufferPointer<UInt8>(start: UnsafePointer(line.base), count: 0)
        for t in 0..<shardCount where t != id && state.handles[t].monitors.value > 0 {
            appendPublish(to: t, PubSubKind.monitor, p, none, waiter: nil)
        }
    }

    @discardableResult
    func showMonitorLine(_ line: UnsafeBufferPointer<UInt8>) -> Int {
        for m in pubsub.monitors where !m.closing {
            let out: ByteBuf
            if !m.hasPendingTickets {
                markDirty(m)
                out = m.out
            } else if let s = m.lastTicket, s.kind == .local {
                out = s.buf
            } else {
                let s = newTicket(.local)
                s.ready = true
                m.tickets.append(s)
                out = s.buf
            }
            out.append(line.baseAddress!, line.count)
            checkOutputLimits(m)
        }
        return 0
    }
}
