import Commands
import Config
import RESP

/// COMMAND, from the same table the router uses, so hints and key
/// positions can never disagree with what the server does.
extension Worker {
    func commandCommand(_ c: Client, _ r: Reply) {
        let visible = table.specs
        if args.count == 1 {
            r.array(visible.count)
            for s in visible { commandInfo(s, r) }
            return
        }
        let sub = args[1]
        if sub.equalsLower("count") && args.count == 2 {
            r.int(visible.count)
        } else if sub.equalsLower("info") {
            if args.count == 2 {
                r.array(visible.count)
                for s in visible { commandInfo(s, r) }
                return
            }
            r.array(args.count - 2)
            for i in 2..<args.count {
                if let s = lookupForCommand(args[i]) { commandInfo(s, r) } else { r.null() }
            }
        } else if sub.equalsLower("docs") {
            var list: [CommandSpec] = []
            if args.count == 2 { list = visible } else {
                for i in 2..<args.count { if let s = lookupForCommand(args[i]) { list.append(s) } }
            }
            r.map(list.count)
            for s in list {
                r.bulk(string: s.fullName)
                commandDocs(s, r)
            }
        } else if sub.equalsLower("list") {
            // Like Redis, LIST names subcommands too (`client|list`).
            var all: [CommandSpec] = []
            for s in visible { all.append(s); all.append(contentsOf: s.subcommands) }
            var names = all.map { $0.fullName }
            if args.count == 5 && args[2].equalsLower("filterby") {
                let v = args[4].lossyString.lowercased()
                if args[3].equalsLower("pattern") {
                    names = names.filter { n in
                        var p = Array(v.utf8), s = Array(n.utf8)
                        return p.withUnsafeMutableBufferPointer { pb in
                            s.withUnsafeMutableBufferPointer { sb in globMatch(UnsafeBufferPointer(pb), UnsafeBufferPointer(sb), nocase: true) }
                        }
                    }
                } else if args[3].equalsLower("aclcat") {
                    let cat = "@" + v
                    names = all.filter { $0.acl.contains(cat) }.map { $0.fullName }
                } else if args[3].equalsLower("module") {
                    names = []
                } else {
                    return r.error(Err.syntax)
                }
            } else if args.count != 2 {
                return r.error(Err.syntax)
            }
            r.array(names.count)
            for n in names { r.bulk(string: n) }
        } else if sub.equalsLower("getkeys") && args.count >= 3 {
            guard var s = table.lookup(args[2]) else { return r.error("ERR Invalid command specified") }
            let argc = args.count - 2
            // Containers (OBJECT ENCODING key): the subcommand knows the keys.
            if !s.subcommands.isEmpty && argc >= 2, let sub = s.subcommand(args[3]) { s = sub }
            if !s.arityOK(argc) { return r.error("ERR Invalid number of arguments specified for command") }
            var pos = s.keyPositions(argc: argc)
            if s.keysOf != nil {
                let a = innerArgs
                a.reset()
                for i in 2..<args.count { a.push(args[i]) }
                switch s.keySpan(a) {
                case .positions(let ps)?, .everywhere(let ps)?: pos = ps
                case nil: return r.error("ERR Invalid arguments specified for command")
                }
            }
            if pos.isEmpty { return r.error("ERR The command has no key arguments") }
            r.array(pos.count)
            for p in pos { r.bulk(args[p + 2]) }
        } else if sub.equalsLower("help") {
            let lines = [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)", "    Return details about all Redis commands.",
                "COUNT", "    Return the total number of commands in this Redis server.",
                "LIST", "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                "HELP", "    Print this help.",
            ]
            r.helpLines(lines)
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try COMMAND HELP.")
        }
    }

    /// A command, or a subcommand by its full name (`client|list`), as
    /// COMMAND INFO and DOCS accept them.
    func lookupForCommand(_ a: Arg) -> CommandSpec? {
        let n = a.lossyString
        guard let bar = n.firstIndex(of: "|") else { return table.lookup(a) }
        guard let parent = table.lookup(name: String(n[..<bar])) else { return nil }
        let sub = n[n.index(after: bar)...].lowercased()
        return parent.subcommands.first { $0.name == sub }
    }

    /// One COMMAND INFO entry, as Redis 7.0 builds it: name, arity, flags,
    /// first/last/step, ACL categories, tips, key specs, subcommands.
    func commandInfo(_ s: CommandSpec, _ r: Reply) {
        let meta = s.meta
        r.array(10)
        r.bulk(string: s.fullName)
        r.int(s.arity)
        let flags = s.flags.names
        r.set(flags.count)
        for f in flags { r.simple(string: f) }
        r.int(s.firstKey)
        r.int(s.lastKey)
        r.int(s.keyStep)
        r.set(s.acl.count)
        for a in s.acl { r.simple(string: a) }
        r.set(meta.tips.count)
        for t in meta.tips { r.bulk(string: t) }
        r.set(meta.keySpecs.count)
        for k in meta.keySpecs { keySpec(k, r) }
        if s.subcommands.isEmpty {
            r.set(0)
        } else {
            r.array(s.subcommands.count)
            for sub in s.subcommands { commandInfo(sub, r) }
        }
    }

    func keySpec(_ k: KeySpec, _ r: Reply) {
        r.map(k.notes == nil ? 3 : 4)
        if let n = k.notes { r.bulk(static: "notes"); r.bulk(string: n) }
        r.bulk(static: "flags")
        r.set(k.flags.count)
        for f in k.flags { r.simple(string: f) }
        r.bulk(static: "begin_search")
        r.map(2)
        r.bulk(static: "type")
        switch k.begin {
        case .index(let i):
            r.bulk(static: "index")
            r.bulk(static: "spec"); r.map(1)
            r.bulk(static: "index"); r.int(i)
        case .keyword(let word, let from):
            r.bulk(static: "keyword")
            r.bulk(static: "spec"); r.map(2)
            r.bulk(static: "keyword"); r.bulk(string: word)
            r.bulk(static: "startfrom"); r.int(from)
        case .unknown:
            r.bulk(static: "unknown")
            r.bulk(static: "spec"); r.map(0)
        }
        r.bulk(static: "find_keys")
        r.map(2)
        r.bulk(static: "type")
        switch k.find {
        case .range(let last, let step, let limit):
            r.bulk(static: "range")
            r.bulk(static: "spec"); r.map(3)
            r.bulk(static: "lastkey"); r.int(last)
            r.bulk(static: "keystep"); r.int(step)
            r.bulk(static: "limit"); r.int(limit)
        case .keynum(let idx, let first, let step):
            r.bulk(static: "keynum")
            r.bulk(static: "spec"); r.map(3)
            r.bulk(static: "keynumidx"); r.int(idx)
            r.bulk(static: "firstkey"); r.int(first)
            r.bulk(static: "keystep"); r.int(step)
        case .unknown:
            r.bulk(static: "unknown")
            r.bulk(static: "spec"); r.map(0)
        }
    }

    /// One COMMAND DOCS entry, fields in Redis's order.
    func commandDocs(_ s: CommandSpec, _ r: Reply) {
        let m = s.meta
        var n = 3
        if m.complexity != nil { n += 1 }
        if !m.docFlags.isEmpty { n += 1 }
        if m.deprecatedSince != nil { n += 1 }
        if m.replacedBy != nil { n += 1 }
        if !m.history.isEmpty { n += 1 }
        if !m.arguments.isEmpty { n += 1 }
        if !s.subcommands.isEmpty { n += 1 }
        r.map(n)
        r.bulk(static: "summary"); r.bulk(string: s.summary)
        r.bulk(static: "since"); r.bulk(string: s.since)
        r.bulk(static: "group"); r.bulk(string: s.group)
        if let c = m.complexity { r.bulk(static: "complexity"); r.bulk(string: c) }
        if !m.docFlags.isEmpty {
            r.bulk(static: "doc_flags")
            r.set(m.docFlags.count)
            for f in m.docFlags { r.simple(string: f) }
        }
        if let d = m.deprecatedSince { r.bulk(static: "deprecated_since"); r.bulk(string: d) }
        if let d = m.replacedBy { r.bulk(static: "replaced_by"); r.bulk(string: d) }
        if !m.history.isEmpty {
            r.bulk(static: "history")
            r.set(m.history.count)
            for (v, text) in m.history {
                r.array(2)
                r.bulk(string: v)
                r.bulk(string: text)
            }
        }
        if !m.arguments.isEmpty {
            r.bulk(static: "arguments")
            commandArgs(m.arguments, r)
        }
        if !s.subcommands.isEmpty {
            r.bulk(static: "subcommands")
            r.map(s.subcommands.count)
            for sub in s.subcommands {
                r.bulk(string: sub.fullName)
                commandDocs(sub, r)
            }
        }
    }

    func commandArgs(_ args: [CommandArg], _ r: Reply) {
        r.array(args.count)
        for a in args {
            var n = 2
            if a.keySpecIndex != nil { n += 1 }
            if a.token != nil { n += 1 }
            if a.summary != nil { n += 1 }
            if a.since != nil { n += 1 }
            if a.deprecatedSince != nil { n += 1 }
            if !a.flags.isEmpty { n += 1 }
            if !a.arguments.isEmpty { n += 1 }
            r.map(n)
            r.bulk(static: "name"); r.bulk(string: a.name)
            r.bulk(static: "type"); r.bulk(string: a.type.rawValue)
            if let k = a.keySpecIndex { r.bulk(static: "key_spec_index"); r.int(k) }
            if let t = a.token { r.bulk(static: "token"); r.bulk(string: t) }
            if let t = a.summary { r.bulk(static: "summary"); r.bulk(string: t) }
            if let t = a.since { r.bulk(static: "since"); r.bulk(string: t) }
            if let t = a.deprecatedSince { r.bulk(static: "deprecated_since"); r.bulk(string: t) }
            if !a.flags.isEmpty {
                let names = a.flags.names
                r.bulk(static: "flags")
                r.set(names.count)
                for f in names { r.simple(string: f) }
            }
            if !a.arguments.isEmpty {
                r.bulk(static: "arguments")
                commandArgs(a.arguments, r)
            }
        }
    }
}
