import Commands
import Config
import RESP

/// PUBSUB's introspection (from the server-wide `PubSubDirectory`) and
/// RESP2's subscribed mode.
extension Worker {
    func pubsubCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        let n = args.count
        if sub.equalsLower("help") && n == 2 {
            return r.helpLines([
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ])
        }
        guard let spec = table.lookup(args[0]), let subSpec = spec.subcommands.first(where: { sub.equalsName($0.name) }) else {
            return r.error(bytes: Array("ERR unknown subcommand '".utf8) + Array(sub.buffer.prefix(128))
                + Array("'. Try PUBSUB HELP.".utf8))
        }
        if !subSpec.arityOK(n) { return r.error(string: wrongArityError(subSpec.fullName)) }
        let shard = sub.equalsLower("shardchannels") || sub.equalsLower("shardnumsub")
        if sub.equalsLower("channels") || sub.equalsLower("shardchannels"), n == 2 || n == 3 {
            let pat: [UInt8]? = n == 3 ? args[2].bytes : nil
            let names: [[UInt8]] = state.pubsub.read { t in Array((shard ? t.shardChannels : t.channels).keys) }
            var hits: [[UInt8]] = []
            for ch in names {
                if let p = pat {
                    let ok = p.withUnsafeBufferPointer { pb in ch.withUnsafeBufferPointer { globMatch(pb, $0) } }
                    if !ok { continue }
                }
                hits.append(ch)
            }
            r.array(hits.count)
            for h in hits { r.bulk(h) }
        } else if sub.equalsLower("numsub") || sub.equalsLower("shardnumsub") {
            let keys = (2..<n).map { args[$0].bytes }
            let counts: [Int] = state.pubsub.read { t in
                keys.map { (shard ? t.shardChannels[$0] : t.channels[$0]) ?? 0 }
            }
            r.array((n - 2) * 2)
            for i in 2..<n {
                r.bulk(args[i])
                r.int(counts[i - 2])
            }
        } else if sub.equalsLower("numpat") && n == 2 {
            r.int(state.pubsub.read { $0.patterns.count })
        } else {
            r.error(bytes: Array("ERR unknown subcommand or wrong number of arguments for '".utf8)
                + Array(sub.buffer.prefix(128)) + Array("'. Try PUBSUB HELP.".utf8))
        }
    }

    /// RESP2 subscribed mode: only these commands, as Redis's processCommand.
    func allowedWhileSubscribed(_ spec: CommandSpec) -> Bool {
        if !spec.subcommands.isEmpty {
            // Redis finds an unknown subcommand or a wrong arity first: the
            // container's handler answers those.
            guard args.count >= 2, let s = spec.subcommands.first(where: { args[1].equalsName($0.name) }),
                  s.arityOK(args.count) else { return true }
        }
        guard case .server(let op) = spec.route else { return false }
        switch op {
        case .ping, .subscribe, .ssubscribe, .unsubscribe, .sunsubscribe, .psubscribe, .punsubscribe, .quit, .reset:
            return true
        default:
            return false
        }
    }

    /// Redis's error for any other command, naming `container|sub` as Redis's fullname.
    func subscribedModeError(_ spec: CommandSpec) -> [UInt8] {
        var name = spec.name
        if args.count >= 2, let s = spec.subcommands.first(where: { args[1].equalsName($0.name) }) {
            name = s.fullName
        }
        return Array("ERR Can't execute '\(name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context".utf8)
    }
}

