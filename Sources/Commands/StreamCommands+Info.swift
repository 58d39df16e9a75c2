import RESP
import Storage

/// XINFO STREAM [FULL [COUNT n]], GROUPS, CONSUMERS, HELP.
extension StreamCommands {
    static let infoSubcommands: [CommandSpec] = [
        CommandSpec("consumers", arity: 4, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "List the consumers in a consumer group", since: "5.0.0", acl: ["@stream"]),
        CommandSpec("groups", arity: 3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "List the consumer groups of a stream", since: "5.0.0", acl: ["@stream"]),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .key, group: "stream",
                    summary: "Show helpful text about the different subcommands", since: "5.0.0",
                    acl: ["@stream"]),
        CommandSpec("stream", arity: -3, flags: [.readonly], keys: (2, 2, 1), route: .key, group: "stream",
                    summary: "Get information about a stream", since: "5.0.0", acl: ["@stream"]),
    ]

    static let infoSpec = CommandSpec(
        "xinfo", arity: -2, flags: [], keys: (0, 0, 0), routeKey: 2, route: .key, group: "stream",
        summary: "A container for stream introspection commands", since: "5.0.0",
        subcommands: infoSubcommands, keysOf: { subcommandKey($0) }, handler: xinfo)

    static let infoHelp: [StaticString] = [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]

    static func xinfo(_ x: inout Exec) {
        guard checkSubcommand(&x, "xinfo", infoSubcommands) else { return }
        let sub = x[1]
        if sub.equalsLower("help") {
            if x.argc != 2 { return subcommandSyntax(&x, "XINFO") }
            x.reply.array(infoHelp.count)
            for l in infoHelp { x.reply.simple(l) }
            return
        }
        if x.argc < 3 { return subcommandSyntax(&x, "XINFO") }
        let s: StreamValue
        switch x.find(2, .stream, read: true) {
        case .wrongType: return
        case .missing: return x.error(Err.noSuchKey)
        case .found(let e, _): s = e.objectRef(StreamValue.self)
        }
        let r = x.reply
        if sub.equalsLower("consumers") && x.argc == 4 {
            guard let g = s.group(x[3].buffer) else {
                var m = Array("NOGROUP No such consumer group '".utf8)
                m += KeyCommands.cString(x[3])
                m += Array("' for key name '".utf8)
                m += KeyCommands.cString(x[2])
                m += Array("'".utf8)
                x.failed = true
                return r.error(bytes: m)
            }
            r.array(g.consumers.count)
            for c in g.consumers {
                r.map(3)
                r.bulk(static: "name")
                r.bulk(c.name)
                r.bulk(static: "pending")
                r.int(c.pending.count)
                r.bulk(static: "idle")
                r.int(Int(max(x.now - c.seenTime, 0)))
            }
        } else if sub.equalsLower("groups") && x.argc == 3 {
            r.array(s.groups.count)
            for g in s.groups {
                r.map(6)
                r.bulk(static: "name")
                r.bulk(g.name)
                r.bulk(static: "consumers")
                r.int(g.consumers.count)
                r.bulk(static: "pending")
                r.int(g.pending.count)
                r.bulk(static: "last-delivered-id")
                replyID(r, g.lastID)
                replyGroupCounters(r, s, g)
            }
        } else if sub.equalsLower("stream") {
            streamInfo(&x, s)
        } else {
            subcommandSyntax(&x, "XINFO")
        }
    }

    /// entries-read and lag (null when unknown).
    static func replyGroupCounters(_ r: Reply, _ s: StreamValue, _ g: ConsumerGroup) {
        r.bulk(static: "entries-read")
        if g.entriesRead != ConsumerGroup.invalidEntriesRead { r.int(Int(g.entriesRead)) } else { r.null() }
        r.bulk(static: "lag")
        if let l = s.lag(g) { r.int(Int(l)) } else { r.null() }
    }

    static func streamInfo(_ x: inout Exec, _ s: StreamValue) {
        var full = true
        var count = 10
        let optc = x.argc - 3
        if optc == 0 {
            full = false
        } else {
            if optc != 1 && optc != 3 { return subcommandSyntax(&x, "XINFO") }
            if !x[3].equalsLower("full") { return subcommandSyntax(&x, "XINFO") }
            if optc == 3 {
                if !x[4].equalsLower("count") { return subcommandSyntax(&x, "XINFO") }
                guard let c = parseLong(&x, 5) else { return }
                count = c < 0 ? 10 : c
            }
        }
        let r = x.reply
        r.map(full ? 9 : 10)
        r.bulk(static: "length")
        r.int(s.length)
        r.bulk(static: "radix-tree-keys")
        r.int(s.nodeCount)
        r.bulk(static: "radix-tree-nodes")
        r.int(radixNodes(s.nodeCount))
        r.bulk(static: "last-generated-id")
        replyID(r, s.lastID)
        r.bulk(static: "max-deleted-entry-id")
        replyID(r, s.maxDeletedID)
        r.bulk(static: "entries-added")
        r.int(Int(s.entriesAdded))
        r.bulk(static: "recorded-first-entry-id")
        replyID(r, s.firstID)
        if !full {
            r.bulk(static: "groups")
            r.int(s.groups.count)
            r.bulk(static: "first-entry")
            var e: StreamEntry? = nil
            s.forEach(from: .zero, to: .max, reverse: false) { e = $0; return false }
            if let e { replyEntry(r, e) } else { r.null() }
            r.bulk(static: "last-entry")
            e = nil
            s.forEach(from: .zero, to: .max, reverse: true) { e = $0; return false }
            if let e { replyEntry(r, e) } else { r.null() }
            return
        }
        r.bulk(static: "entries")
        _ = replyRange(r, s, .zero, .max, count: count, reverse: false)
        r.bulk(static: "groups")
        r.array(s.groups.count)
        for g in s.groups {
            r.map(7)
            r.bulk(static: "name")
            r.bulk(g.name)
            r.bulk(static: "last-delivered-id")
            replyID(r, g.lastID)
            replyGroupCounters(r, s, g)
            r.bulk(static: "pel-count")
            r.int(g.pending.count)
            r.bulk(static: "pending")
            let pn = count == 0 ? g.pending.count : min(count, g.pending.count)
            r.array(pn)
            for i in 0..<pn {
                let p = g.pending.entry(i)
                r.array(4)
                replyID(r, g.pending.id(i))
                r.bulk(p.consumer.name)
                r.int(Int(p.deliveryTime))
                r.int(Int(p.deliveryCount))
            }
            r.bulk(static: "consumers")
            r.array(g.consumers.count)
            for c in g.consumers {
                r.map(4)
                r.bulk(static: "name")
                r.bulk(c.name)
                r.bulk(static: "seen-time")
                r.int(Int(c.seenTime))
                r.bulk(static: "pel-count")
                r.int(c.pending.count)
                r.bulk(static: "pending")
                let cn = count == 0 ? c.pending.count : min(count, c.pending.count)
                r.array(cn)
                for i in 0..<cn {
                    let p = c.pending.entry(i)
                    r.array(3)
                    replyID(r, c.pending.id(i))
                    r.int(Int(p.deliveryTime))
                    r.int(Int(p.deliveryCount))
                }
            }
        }
    }

    /// What Redis's rax would count as nodes for `keys` 16-byte keys. The
    /// structure here differs; this is rax's count for nodes whose first
    /// IDs are small consecutive numbers (a root and a leaf for one key,
    /// then two nodes a key), which tools only use as a rough size.
    static func radixNodes(_ keys: Int) -> Int { keys <= 1 ? keys + 1 : 2 * keys + 2 }
}
