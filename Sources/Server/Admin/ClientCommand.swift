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
            r.verbatim(clientLine(c) + "\n")
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
            _ = fanoutInternal(c, .clientList, stage: c.proto) { b in
                b.append(42)
                b.appendDecimal(args.count - 1)
                b.append("\r\n")
                appendBulkArg(b, "__clientlist")
                for i in 2..<args.count { appendBulkArg(b, args[i].ptr, args[i].count) }
            }
        } else if sub.equalsLower("kill") {
            guard arity(3, exact: false) else { return }
            if args.count == 3 {
                // Old form: CLIENT KILL addr:port
                _ = fanoutInternal(c, .firstReply) { b in
                    header(b, 4, "__clientkill")
                    appendBulkArg(b, "addr")
                    appendBulkArg(b, args[2].ptr, args[2].count)
                    appendBulkArg(b, "old")
                }
                return
            }
            if (args.count - 2) % 2 != 0 { return r.error(Err.syntax) }
            var i = 2
            while i < args.count {
                let f = args[i]
                if !(f.equalsLower("id") || f.equalsLower("addr") || f.equalsLower("laddr") || f.equalsLower("type")
                     || f.equalsLower("user") || f.equalsLower("skipme")) {
                    return r.error(Err.syntax)
                }
                if f.equalsLower("id") && (parseStrictInt(args[i + 1].ptr, args[i + 1].count) ?? 0) <= 0 {
                    return r.error("ERR client-id should be greater than 0")
                }
                i += 2
            }
            _ = fanoutInternal(c, .sum) { b in
                b.append(42)
                b.appendDecimal(args.count)
                b.append("\r\n")
                appendBulkArg(b, "__clientkill")
                for i in 2..<args.count { appendBulkArg(b, args[i].ptr, args[i].count) }
                appendBulkArg(b, String(c.id))
            }
        } else if sub.equalsLower("reply") {
            guard arity(3) else { return }
            let m = args[2]
            if m.equalsLower("on") {
                c.replyMode = .on
                r.ok()
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
                "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
                "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try CLIENT HELP.")
        }
    }

    /// One CLIENT LIST line, with Redis 7.0's fields.
    func clientLine(_ c: Client) -> String {
        let age = (now - c.createdAt) / 1000
        let idle = (now - c.lastInteraction) / 1000
        let name = c.name.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let qbuf = c.inbuf.count
        let omem = c.outputBytes
        return "id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(name) age=\(age) idle=\(idle) flags=N db=\(c.db) sub=0 psub=0 ssub=0 multi=-1 qbuf=\(qbuf) qbuf-free=\(c.inbuf.capacity - qbuf) argv-mem=0 multi-mem=0 rbs=\(c.out.capacity) rbp=0 obl=\(c.out.count) oll=0 omem=\(omem) tot-mem=\(c.out.capacity + c.sending.capacity + c.inbuf.capacity) events=r cmd=\(c.lastCommandID < 0 ? "NULL" : table.specs[c.lastCommandID].fullName) user=default redir=-1 resp=\(c.proto)"
    }

    /// `__clientlist [TYPE t | ID id...]`: this worker's clients.
    func clientListText(_ a: ArgVector) -> String {
        var ids: Set<Int>? = nil
        var typeFilter: String? = nil
        if a.count >= 3 && a[1].equalsLower("id") {
            ids = Set((2..<a.count).compactMap { parseStrictInt(a[$0].ptr, a[$0].count) })
        } else if a.count >= 3 && a[1].equalsLower("type") {
            typeFilter = a[2].lossyString.lowercased()
        }
        var s = ""
        for case let c? in clients where !c.closing {
            if let ids = ids, !ids.contains(c.id) { continue }
            if let t = typeFilter, t != "normal" { continue }
            s += clientLine(c) + "\n"
        }
        return s
    }

    /// `__clientkill <filter value>... <caller id>`; old form `addr A old`.
    func clientKill(_ a: ArgVector) -> Int {
        if a.count == 4 && a[3].equalsLower("old") {
            let want = a[2].lossyString
            for case let c? in clients where c.addr == want && !c.closing {
                closeClient(c, flush: c.id == -1)
                return 1
            }
            return 0
        }
        let caller = parseStrictInt(a[a.count - 1].ptr, a[a.count - 1].count) ?? 0
        var killed = 0
        for case let c? in clients where !c.closing {
            var match = true
            var skipMe = true
            var i = 1
            while i + 1 < a.count - 0 && i < a.count - 1 {
                let f = a[i], v = a[i + 1].lossyString
                if f.equalsLower("id") { match = match && String(c.id) == v }
                else if f.equalsLower("addr") { match = match && c.addr == v }
                else if f.equalsLower("laddr") { match = match && c.laddr == v }
                else if f.equalsLower("type") { match = match && v.lowercased() == "normal" }
                else if f.equalsLower("user") { match = match && v == "default" }
                else if f.equalsLower("skipme") { skipMe = v.lowercased() != "no" }
                i += 2
            }
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
