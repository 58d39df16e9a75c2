import Commands
import Config
import RESP

/// COMMAND, from the same table the router uses, so hints and key
/// positions can never disagree with what the server does.
extension Worker {
    func commandCommand(_ c: Client, _ r: Reply) {
        let visible = table.specs.filter { !$0.name.hasPrefix("__") }
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
                if let s = lookupUserCommand(args[i]) { commandInfo(s, r) } else { r.nullArray() }
            }
        } else if sub.equalsLower("docs") {
            var list: [CommandSpec] = []
            if args.count == 2 { list = visible } else {
                for i in 2..<args.count { if let s = lookupUserCommand(args[i]) { list.append(s) } }
            }
            r.map(list.count)
            for s in list {
                r.bulk(string: s.name)
                commandDocs(s, r)
            }
        } else if sub.equalsLower("list") {
            var names = visible.map { $0.name }
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
                    names = []
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
            guard let s = lookupUserCommand(args[2]) else { return r.error("ERR Invalid command specified") }
            let argc = args.count - 2
            if !s.arityOK(argc) { return r.error("ERR Invalid number of arguments specified for command") }
            let pos = s.keyPositions(argc: argc)
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
            r.array(lines.count)
            for l in lines { r.simple(string: l) }
        } else {
            r.error(string: "ERR unknown subcommand or wrong number of arguments for '\(sub.lossyString)'. Try COMMAND HELP.")
        }
    }

    func commandInfo(_ s: CommandSpec, _ r: Reply, parent: String? = nil) {
        r.array(10)
        r.bulk(string: parent.map { "\($0)|\(s.name)" } ?? s.name)
        r.int(s.arity)
        let flags = s.flags.names
        r.set(flags.count)
        for f in flags { r.simple(string: f) }
        r.int(s.firstKey)
        r.int(s.lastKey)
        r.int(s.keyStep)
        r.set(0)
        r.set(0)
        r.array(0)
        r.array(s.subcommands.count)
        for sub in s.subcommands { commandInfo(sub, r, parent: s.name) }
    }

    func commandDocs(_ s: CommandSpec, _ r: Reply) {
        r.map(3 + (s.subcommands.isEmpty ? 0 : 1))
        r.bulk(static: "summary"); r.bulk(string: s.summary)
        r.bulk(static: "since"); r.bulk(string: s.since)
        r.bulk(static: "group"); r.bulk(string: s.group)
        if !s.subcommands.isEmpty {
            r.bulk(static: "subcommands")
            r.map(s.subcommands.count)
            for sub in s.subcommands {
                r.bulk(string: "\(s.name)|\(sub.name)")
                commandDocs(sub, r)
            }
        }
    }
}
