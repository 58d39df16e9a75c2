import RESP
import Storage

/// XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP) and XACK.
extension StreamCommands {
    static let groupSubcommands: [CommandSpec] = [
        CommandSpec("create", arity: -5, flags: [.write, .denyoom], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "Create a consumer group.", since: "5.0.0", acl: ["@stream"]),
        CommandSpec("createconsumer", arity: 5, flags: [.write, .denyoom], keys: (2, 2, 1), route: .key,
                    group: "stream", summary: "Create a consumer in a consumer group.", since: "6.2.0",
                    acl: ["@stream"]),
        CommandSpec("delconsumer", arity: 5, flags: [.write], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "Delete a consumer from a consumer group.", since: "5.0.0", acl: ["@stream"]),
        CommandSpec("destroy", arity: 4, flags: [.write], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "Destroy a consumer group.", since: "5.0.0", acl: ["@stream"]),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .key, group: "stream",
                    summary: "Show helpful text about the different subcommands", since: "5.0.0",
                    acl: ["@stream"]),
        CommandSpec("setid", arity: -5, flags: [.write], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "Set a consumer group to an arbitrary last delivered ID value.", since: "5.0.0",
                    acl: ["@stream"]),
    ]

    static let groupSpecs: [CommandSpec] = [
        // Routed by the key at argument 2, as OBJECT; `keysOf` names it so
        // transactions lock it and XGROUP DESTROY wakes blocked readers.
        CommandSpec("xgroup", arity: -2, flags: [], keys: (0, 0, 0), routeKey: 2, route: .key, group: "stream",
                    summary: "A container for consumer groups commands", since: "5.0.0",
                    subcommands: groupSubcommands, keysOf: { subcommandKey($0) }, handler: xgroup),
        CommandSpec("xack", arity: -4, flags: [.write, .fast], keys: (1, 1, 1), route: .key, group: "stream",
                    summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
                    since: "5.0.0", acl: ["@stream"], handler: xack),
    ]

    static func subcommandKey(_ a: ArgVector) -> KeySpan? {
        a.count > 2 && !a[1].equalsLower("help") ? .positions([2]) : .positions([])
    }

    static let groupHelp: [StaticString] = [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]

    /// addReplySubcommandSyntaxError.
    static func subcommandSyntax(_ x: inout Exec, _ container: String) {
        var m = Array("ERR unknown subcommand or wrong number of arguments for '".utf8)
        m += KeyCommands.cString(x[1]).prefix(128)
        m += Array("'. Try \(container) HELP.".utf8)
        x.failed = true
        x.reply.error(bytes: m)
    }

    /// Redis checks a container's subcommand and its arity before the
    /// command runs; false after replying that error.
    static func checkSubcommand(_ x: inout Exec, _ container: String, _ subs: [CommandSpec]) -> Bool {
        let n = x[1].lossyString.lowercased()
        guard let sub = subs.first(where: { $0.name == n }) else {
            var m = Array("ERR unknown subcommand '".utf8)
            m += KeyCommands.cString(x[1]).prefix(128)
            m += Array("'. Try \(container.uppercased()) HELP.".utf8)
            x.failed = true
            x.reply.error(bytes: m)
            return false
        }
        if !sub.arityOK(x.argc) {
            x.error(string: wrongArityError("\(container)|\(sub.name)"))
            return false
        }
        return true
    }

    static func xgroup(_ x: inout Exec) {
        guard checkSubcommand(&x, "xgroup", groupSubcommands) else { return }
        let sub = x[1]
        var mkstream = false
        var entriesRead = Int(ConsumerGroup.invalidEntriesRead)
        var s: StreamValue? = nil
        var g: ConsumerGroup? = nil
        let create = sub.equalsLower("create"), setid = sub.equalsLower("setid")
        if x.argc >= 4 {
            var i = 5
            while i < x.argc {
                if create && x[i].equalsLower("mkstream") {
                    mkstream = true
                    i += 1
                } else if (create || setid) && x[i].equalsLower("entriesread") && i + 1 < x.argc {
                    guard let v = parseLong(&x, i + 1) else { return }
                    if v < 0 && v != -1 { return x.error("ERR value for ENTRIESREAD must be positive or -1") }
                    entriesRead = v
                    i += 2
                } else {
                    return subcommandSyntax(&x, "XGROUP")
                }
            }
            switch x.find(2, .stream, read: false) {
            case .wrongType: return
            case .missing: break
            case .found(let e, _): s = e.objectRef(StreamValue.self)
            }
            if !mkstream {
                guard let st = s else {
                    return x.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
                }
                g = st.group(x[3].buffer)
                if g == nil && (setid || sub.equalsLower("createconsumer") || sub.equalsLower("delconsumer")) {
                    var m = Array("NOGROUP No such consumer group '".utf8)
                    m += KeyCommands.cString(x[3])
                    m += Array("' for key name '".utf8)
                    m += KeyCommands.cString(x[2])
                    m += Array("'".utf8)
                    x.failed = true
                    return x.reply.error(bytes: m)
                }
            }
        }
        if x.argc == 2 && sub.equalsLower("help") {
            x.reply.array(groupHelp.count)
            for l in groupHelp { x.reply.simple(l) }
        } else if create && x.argc >= 5 && x.argc <= 8 {
            let id: StreamID
            if x[4].count == 1 && x[4][0] == 36 {
                id = s?.lastID ?? .zero
            } else {
                guard let v = parseID(&x, 4, strict: true) else { return }
                id = v
            }
            let st: StreamValue
            if let s { st = s } else {
                st = StreamValue()
                x.storeObject(2, slot: -1, type: .stream, st)
            }
            if st.createGroup(x[3].buffer, lastID: id, entriesRead: Int64(entriesRead)) != nil {
                // MKSTREAM's new key is the one change; else the group is.
                if s != nil { x.store.dirtyExtra &+= 1 }
                x.notify([.stream, .unsignalled], "xgroup-create", 2)
                x.reply.ok()
            } else {
                x.error("BUSYGROUP Consumer Group name already exists")
            }
        } else if setid && (x.argc == 5 || x.argc == 7) {
            let id: StreamID
            if x[4].count == 1 && x[4][0] == 36 {
                id = s!.lastID
            } else {
                guard let v = parseID(&x, 4, strict: false) else { return }
                id = v
            }
            g!.lastID = id
            g!.entriesRead = Int64(entriesRead)
            x.store.dirtyExtra &+= 1
            x.notify([.stream, .unsignalled], "xgroup-setid", 2)
            x.reply.ok()
        } else if sub.equalsLower("destroy") && x.argc == 4 {
            if g != nil {
                _ = s!.destroyGroup(x[3].buffer)
                x.store.dirtyExtra &+= 1
                x.notify([.stream, .unsignalled], "xgroup-destroy", 2)
                x.reply.int(1)
            } else {
                x.reply.int(0)
            }
        } else if sub.equalsLower("createconsumer") && x.argc == 5 {
            let (_, created) = g!.createConsumer(x[4].buffer, now: x.now)
            if created {
                x.store.dirtyExtra &+= 1
                x.notify([.stream, .unsignalled], "xgroup-createconsumer", 2)
            }
            x.reply.int(created ? 1 : 0)
        } else if sub.equalsLower("delconsumer") && x.argc == 5 {
            var pending = 0
            if let c = g!.consumer(x[4].buffer) {
                pending = g!.deleteConsumer(c)
                x.store.dirtyExtra &+= 1
                x.notify([.stream, .unsignalled], "xgroup-delconsumer", 2)
            }
            x.reply.int(pending)
        } else {
            subcommandSyntax(&x, "XGROUP")
        }
    }

    /// XACK key group id [id ...]
    static func xack(_ x: inout Exec) {
        var g: ConsumerGroup? = nil
        switch x.find(1, .stream, read: true) {
        case .wrongType: return
        case .missing: break
        case .found(let e, _): g = e.objectRef(StreamValue.self).group(x[2].buffer)
        }
        guard let g else { return x.reply.int(0) }
        // All or nothing: every ID is checked before any is acknowledged.
        for j in 3..<x.argc {
            let a = x[j]
            guard case .id? = StreamID.parse(a.ptr, a.count, missingSeq: 0, strict: true) else {
                return x.error(invalidID)
            }
        }
        var n = 0
        for j in 3..<x.argc {
            let a = x[j]
            guard case .id(let id)? = StreamID.parse(a.ptr, a.count, missingSeq: 0, strict: true) else { continue }
            if let p = g.pending.remove(id) {
                p.consumer.pending.remove(id)
                n += 1
            }
        }
        x.store.dirtyExtra &+= n
        x.reply.int(n)
    }
}
