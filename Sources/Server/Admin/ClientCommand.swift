import Commands
import RESP
import Storage

/// CLIENT subcommands. LIST and KILL reach every worker, since each worker
/// owns its own connections.
extension Worker {
    func clientCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        func arity(_ n: Int, exact: Bool = true) -> Bool {
            if exact ? args.count != n : args.count < n {
                r.error(string: wrongArityError("client|\(sub.lossyString.lowercased())"))
                return false
            }
            return true
        }
        if sub.equalsLower("id") {
            guard arity(2) else { return }
            r.int(c.id)
        } else if sub.equalsLower("setname") {
            guard arity(3) else { return }
            let n = args[2]
            if !validClientName(n) { return r.error("ERR Client names cannot contain spaces, newlines or special characters.") }
            c.name = n.count == 0 ? nil : n.bytes
            r.ok()
        } else if sub.equalsLower("getname") {
            guard arity(2) else { return }
            if let n = c.name { r.bulk(n) } else { r.null() }
        } else if sub.equalsLower("info") {
            guard arity(2) else { return }
            c.argvMem = argvBytes()
            r.verbatim(clientLine(c) + "\n")
            c.argvMem = 0
        } else if sub.equalsLower("list") {
            if args.count != 2 && args.count < 4 {
                if args.count == 3 { return r.error(Err.syntax) }
            }
            if args.count >= 3 && !(args[2].equalsLower("type") || args[2].equalsLower("id")) {
                return r.error(Err.syntax)
            }
            if args.count >= 4 && args[2].equalsLower("type") {
                let t = args[3]
                if !(t.equalsLower("normal") || t.equalsLower("master") || t.equalsLower("replica") || t.equalsLower("slave") || t.equalsLower("pubsub")) {
                    return r.error(string: "ERR Unknown client type '\(t.lossyString)'")
                }
            }
            if args.count >= 4 && args[2].equalsLower("id") {
                for i in 3..<args.count where (parseStrictInt(args[i].ptr, args[i].count) ?? 0) <= 0 {
                    return r.error(string: "ERR Invalid client ID")
                }
            }
            // This worker's part runs inside fanoutInternal, while argv-mem is set.
            c.argvMem = argvBytes()
            defer { c.argvMem = 0 }
            _ = fanoutInternal(c, .clientList, .clientList, stage: c.proto, argc: args.count - 2) { b in
                for i in 2..<args.count { appendBulkArg(b, args[i].ptr, args[i].count) }
            }
        } else if sub.equalsLower("kill") {
            guard arity(3, exact: false) else { return }
            if args.count == 3 {
                // Old form: CLIENT KILL addr:port
                _ = fanoutInternal(c, .firstReply, .clientKillAddr, argc: 1) { b in
                    appendBulkArg(b, args[2].ptr, args[2].count)
                }
                return
            }
            // Redis's checks, in its order: each filter as it comes, so the
            // first bad one names the error; a filter without a value is a syntax error.
            var i = 2
            while i < args.count {
                let f = args[i]
                guard i + 1 < args.count else { return r.error(Err.syntax) }
                let v = args[i + 1]
                if f.equalsLower("id") {
                    if (parseStrictInt(v.ptr, v.count) ?? 0) <= 0 {
                        return r.error("ERR client-id should be greater than 0")
                    }
                } else if f.equalsLower("type") {
                    if clientType(v) == nil {
                        return r.error(bytes: Array("ERR Unknown client type '".utf8) + cPrefix(v) + [39])
                    }
                } else if f.equalsLower("user") {
                    if !v.equals(Arg("default", 7)) {
                        return r.error(bytes: Array("ERR No such user '".utf8) + cPrefix(v) + [39])
                    }
                } else if f.equalsLower("skipme") {
                    if !(v.equalsLower("yes") || v.equalsLower("no")) { return r.error(Err.syntax) }
                } else if !(f.equalsLower("addr") || f.equalsLower("laddr")) {
                    return r.error(Err.syntax)
                }
                i += 2
            }
            _ = fanoutInternal(c, .sum, .clientKill(caller: c.id), argc: args.count - 2) { b in
                for i in 2..<args.count { appendBulkArg(b, args[i].ptr, args[i].count) }
            }
        } else if sub.equalsLower("unblock") && (args.count == 3 || args.count == 4) {
            guard let cid = parseStrictInt(args[2].ptr, args[2].count) else { return r.error(Err.notInteger) }
            var error = false
            if args.count == 4 {
                if args[3].equalsLower("error") {
                    error = true
                } else if !args[3].equalsLower("timeout") {
                    return r.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                }
            }
            _ = fanoutInternal(c, .sum, .clientUnblock(id: cid, error: error))
        } else if sub.equalsLower("reply") {
            guard arity(3) else { return }
            let m = args[2]
            if m.equalsLower("on") {
                // `r` may be the discard sink (OFF, or this command skipped):
                // ON's own +OK is sent whatever the mode was, as in Redis.
                c.replyMode = .on
                Reply(replyBuffer(c), proto: c.proto).ok()
            } else if m.equalsLower("off") {
                c.replyMode = .off
            } else if m.equalsLower("skip") {
                if c.replyMode == .on { c.replyMode = .skipNext }
            } else {
                r.error(Err.syntax)
            }
        } else if sub.equalsLower("no-evict") {
            guard arity(3) else { return }
            if args[2].equalsLower("on") { c.noEvict = true; r.ok() }
            else if args[2].equalsLower("off") { c.noEvict = false; r.ok() }
            else { r.error(Err.syntax) }
        } else if sub.equalsLower("tracking") {
            guard arity(3, exact: false) else { return }
            clientTracking(c, r)
        } else if sub.equalsLower("caching") {
            guard arity(3) else { return }
            clientCaching(c, r)
        } else if sub.equalsLower("getredir") {
            guard arity(2) else { return }
            r.int(c.tracking?.redirect ?? -1)
        } else if sub.equalsLower("trackinginfo") {
            guard arity(2) else { return }
            clientTrackingInfo(c, r)
        } else if sub.equalsLower("pause") {
            clientPause(c, r)
        } else if sub.equalsLower("unpause") {
            guard arity(2) else { return }
            clientUnpause(c, r)
        } else if sub.equalsLower("help") {
            let lines = [
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are:",
                "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
                "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
                "    * USER <username>", "      Kill connections authenticated by <username>.",
                "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
                "    * ID <client-id>", "      Kill connections by client id.",
                "LIST [options ...]", "    Return information about client connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
                "UNPAUSE", "    Stop the current client pause, resuming traffic.",
                "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
                "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
                "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
                "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else if sub.equalsLower("unblock") {
            r.error("ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.")
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try CLIENT HELP.")
        }
    }

    /// One CLIENT LIST line: Redis 7.0's fields in its order. Buffers map to
    /// Redis's as follows: qbuf/qbuf-free are the partial-command buffer
    /// (complete commands are parsed in place in the recv buffer, so an idle
    /// or running client usually shows 0); rbs is the reply buffer's size,
    /// and rbp the most it holds now, as no peak is tracked; obl is the
    /// reply buffer's bytes, oll the replies waiting on other shards or
    /// behind them, omem all output not yet sent, tot-mem every buffer the
    /// connection holds plus argv-mem.
    func clientLine(_ c: Client) -> String {
        let age = (now - c.createdAt) / 1000
        let idle = (now - c.lastInteraction) / 1000
        let name = c.name.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let qbuf = c.inbuf.count
        var ticketMem = 0
        for i in c.ticketHead..<c.tickets.count { ticketMem += c.tickets[i].buf.capacity }
        let totMem = c.inbuf.capacity + c.out.capacity + c.sending.capacity + ticketMem + c.argvMem
        var events = ""
        if c.recvArmed && !c.recvPaused && !c.closing { events += "r" }
        if c.sendInFlight { events += "w" }
        var s = "id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(name) age=\(age) idle=\(idle) flags=\(clientFlags(c))"
        s += " db=\(c.db) sub=\(c.subs?.channels.count ?? 0) psub=\(c.subs?.patterns.count ?? 0) ssub=\(c.subs?.shardChannels.count ?? 0) multi=\(c.multi?.count ?? -1) qbuf=\(qbuf) qbuf-free=\(c.inbuf.capacity - qbuf)"
        s += " argv-mem=\(c.argvMem) multi-mem=0 rbs=\(c.out.capacity) rbp=\(max(c.out.count, c.sending.count))"
        s += " obl=\(c.out.count) oll=\(c.tickets.count - c.ticketHead) omem=\(c.outputBytes) tot-mem=\(totMem)"
        s += " events=\(events) cmd=\(commandName(c)) user=default redir=-1 resp=\(c.proto)"
        return s
    }

    /// `get`, or `client|info` for a container's subcommand, as Redis prints cmd.
    func commandName(_ c: Client) -> String {
        if c.lastCommandID < 0 { return "NULL" }
        let spec = table.specs[c.lastCommandID]
        if c.subcommandOf == spec.id && c.lastSubcommand >= 0 && c.lastSubcommand < spec.subcommands.count {
            return spec.subcommands[c.lastSubcommand].fullName
        }
        return spec.fullName
    }

    /// Sum of the running command's argument lengths (Redis's argv_len_sum).
    func argvBytes() -> Int {
        var n = 0
        for i in 0..<args.count { n += args[i].count }
        return n
    }

    /// getClientTypeByName: which CLIENT LIST/KILL TYPE a name means.
    func clientType(_ a: Arg) -> String? {
        if a.equalsLower("normal") { return "normal" }
        if a.equalsLower("slave") || a.equalsLower("replica") { return "replica" }
        if a.equalsLower("pubsub") { return "pubsub" }
        if a.equalsLower("master") { return "master" }
        return nil
    }

    /// An argument as Redis's %s prints it: up to its first NUL.
    func cPrefix(_ a: Arg) -> [UInt8] {
        Array(a.buffer.prefix { $0 != 0 })
    }

    /// This worker's clients; `a` is empty, `ID id...` or `TYPE t`.
    func clientListText(_ a: ArgVector) -> String {
        var ids: Set<Int>? = nil
        var typeFilter: String? = nil
        if a.count >= 2 && a[0].equalsLower("id") {
            ids = Set((1..<a.count).compactMap { parseStrictInt(a[$0].ptr, a[$0].count) })
        } else if a.count >= 2 && a[0].equalsLower("type") {
            typeFilter = a[1].lossyString.lowercased()
        }
        var s = ""
        for case let c? in clients where !c.closing {
            if let ids = ids, !ids.contains(c.id) { continue }
            if let t = typeFilter, t != clientTypeName(c) { continue }
            s += clientLine(c) + "\n"
        }
        return s
    }

    /// CLIENT KILL addr:port, the old form: the first client at that address.
    func clientKillAddr(_ a: Arg) -> Int {
        let want = a.lossyString
        for case let c? in clients where c.addr == want && !c.closing {
            closeClient(c, flush: c.id == -1)
            return 1
        }
        return 0
    }

    /// CLIENT KILL with filter/value pairs in `a`, on this worker's clients.
    func clientKill(_ a: ArgVector, caller: Int) -> Int {
        // Redis keeps one value per filter: a repeated filter's last value wins.
        var id: Int? = nil, addr: String? = nil, laddr: String? = nil, type: String? = nil
        var skipMe = true
        var i = 0
        while i + 1 < a.count {
            let f = a[i], v = a[i + 1]
            if f.equalsLower("id") { id = parseStrictInt(v.ptr, v.count) }
            else if f.equalsLower("addr") { addr = v.lossyString }
            else if f.equalsLower("laddr") { laddr = v.lossyString }
            else if f.equalsLower("type") { type = clientType(v) }
            else if f.equalsLower("skipme") { skipMe = !v.equalsLower("no") }
            i += 2
        }
        var killed = 0
        for case let c? in clients where !c.closing {
            var match = true
            if let id { match = match && c.id == id }
            if let addr { match = match && c.addr == addr }
            if let laddr { match = match && c.laddr == laddr }
            if let type { match = match && type == clientTypeName(c) }
            if skipMe && c.id == caller { match = false }
            if match {
                killed += 1
                if c.id == caller {
                    // Redis replies first, then closes the caller.
                    closeClient(c, flush: true)
                } else {
                    closeClient(c)
                }
            }
        }
        return killed
    }
}

extension Worker {
    /// Redis's getClientType: a monitor counts as normal.
    func clientTypeName(_ c: Client) -> String {
        if let s = c.subs, s.total > 0 { return "pubsub" }
        return "normal"
    }

    /// CLIENT LIST's flags: O monitor, P subscribed, x in MULTI, d when a WATCHed key changed, N for none.
    func clientFlags(_ c: Client) -> String {
        var f = ""
        if c.monitoring { f += "O" }
        if let s = c.subs, s.total > 0 { f += "P" }
        if c.multi != nil { f += "x" }
        if let w = c.watch, w.token.dirty.value != 0 { f += "d" }
        return f.isEmpty ? "N" : f
    }
}
